/**
 * Record encodings of the store: node and relationship records refer to tokens by id, which keeps
 * them small; index keys order values within a type family so range seeks work. Version 1, see
 * docs/store-format.md.
 */
import { createHash } from 'node:crypto';
import { ByteReader, ByteWriter, encodeValue } from '../values/codec.js';
import type { PropertyValue } from '../values/value.js';

export interface StoredNode {
  labelIds: number[];
  props: Map<number, PropertyValue>;
}

export interface StoredRel {
  typeId: number;
  startId: number;
  endId: number;
  props: Map<number, PropertyValue>;
}

export function encodeNode(n: StoredNode): Buffer {
  const w = new ByteWriter(32);
  w.u32(n.labelIds.length);
  for (const l of n.labelIds) w.u32(l);
  writeProps(w, n.props);
  return w.finish();
}

export function decodeNode(b: Buffer): StoredNode {
  const { labels, props } = decodeNodeAs(b, tokenIdItself, tokenIdItself);
  return { labelIds: labels, props };
}

function tokenIdItself(id: number): number {
  return id;
}

/** A node record with its token ids mapped on the way (to names, for readers): one pass, no copies. */
export function decodeNodeAs<L, P>(b: Buffer, label: (id: number) => L, property: (id: number) => P): { labels: L[]; props: Map<P, PropertyValue> } {
  const r = new ByteReader(b);
  const nl = r.u32();
  const labels: L[] = [];
  for (let i = 0; i < nl; i++) labels.push(label(r.u32()));
  return { labels, props: readProps(r, property) };
}

export function encodeRel(rel: StoredRel): Buffer {
  const w = new ByteWriter(48);
  w.u32(rel.typeId);
  w.id(rel.startId);
  w.id(rel.endId);
  writeProps(w, rel.props);
  return w.finish();
}

export function decodeRel(b: Buffer): StoredRel {
  const r = new ByteReader(b);
  const typeId = r.u32();
  const startId = r.id();
  const endId = r.id();
  return { typeId, startId, endId, props: readProps(r, tokenIdItself) };
}

function writeProps(w: ByteWriter, props: Map<number, PropertyValue>): void {
  w.u32(props.size);
  for (const [k, v] of props) {
    w.u32(k);
    w.value(v);
  }
}

function readProps<P>(r: ByteReader, property: (id: number) => P): Map<P, PropertyValue> {
  const n = r.u32();
  const props = new Map<P, PropertyValue>();
  for (let i = 0; i < n; i++) props.set(property(r.u32()), r.value() as PropertyValue);
  return props;
}

/** Index value ranks: values of different families never compare equal and sort apart. */
export const IndexRank = { Boolean: 1, Number: 2, String: 3, LongString: 8, Other: 9 } as const;

/** Strings longer than this are indexed by hash (equality only): LMDB keys are limited to 1978 bytes. */
const indexStringCharsMax = 400;

/** An integer beyond float precision stays a bigint: the key encoder orders it exactly among the numbers. */
export type IndexKeyValue = [rank: number, value: number | bigint | string];

export function indexKeyValue(v: PropertyValue): IndexKeyValue {
  if (typeof v === 'boolean') return [IndexRank.Boolean, v ? 1 : 0];
  if (typeof v === 'bigint') {
    // As a float when that is exact (so 2^60 = 2.0^60, as in Cypher); otherwise rounding would
    // make 2^53 + 1 share 2^53's key, and a unique index report a false violation.
    const asFloat = Number(v);
    return [IndexRank.Number, BigInt(asFloat) === v ? asFloat : v];
  }
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return [IndexRank.Other, 'NaN'];
    // The key encoder writes -0 as a malformed key that sorts after every number and decodes to
    // garbage; -0.0 = 0.0 in Cypher, so both take the key of 0.
    return [IndexRank.Number, v === 0 ? 0 : v];
  }
  if (typeof v === 'string') {
    return v.length <= indexStringCharsMax ? [IndexRank.String, v] : [IndexRank.LongString, sha256Hex(Buffer.from(v))];
  }
  return [IndexRank.Other, sha256Hex(encodeValue(v))];
}

function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The 1-byte value stored under keys whose key alone carries the information. */
export const presentMarker = Buffer.from([1]);
