/**
 * The entries of the property indexes, in two sub-databases kept in step (store format 2):
 * - `pidx`: one key `[indexId, rank, keyValue, nodeId]` per indexed node: ordered, for range seeks;
 * - `pidxValues`: one key `[indexId, rank, keyValue]` per distinct value, holding how many nodes
 *   carry it and one of them: an equality seek is a point read (about 0.3 µs in lmdb-js) instead of
 *   a range cursor (6-8 µs, even when nothing matches), and most equality seeks, a MERGE's in
 *   particular, find no node or one (docs/store-format.md, docs/performance.md).
 * Every write runs inside the store's LMDB write transaction, so the two never disagree on disk.
 * Writes are idempotent (recovery replays after-images over their own partial result).
 */
import type { Database } from 'lmdb';
import { presentMarker, type IndexKeyValue } from './records.js';

type Db = Database<Buffer, any>;

/** lmdb-js's putSync with noOverwrite returns whether it wrote; its typings say void. */
interface PutSyncReportingWrite {
  putSync(key: unknown, value: Buffer, options: { noOverwrite: true }): boolean;
}
type ReadOptions = { transaction?: unknown };

/** Entries removed between two clock reads when a dropped index is removed in slices (about 1 µs each). */
const removalClockEveryEntries = 256;

/** Node ids are below 2^53: written as two little-endian u32 halves. */
const twoTo32 = 2 ** 32;

/** A `pidxValues` value: u32 count, then one node id (u64) that carries the value. */
function encodeValueHead(count: number, nodeId: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32LE(count, 0);
  b.writeUInt32LE(nodeId % twoTo32, 4);
  b.writeUInt32LE(Math.floor(nodeId / twoTo32), 8);
  return b;
}

function headCount(b: Buffer): number {
  return b.readUInt32LE(0);
}

function headNodeId(b: Buffer): number {
  return b.readUInt32LE(4) + b.readUInt32LE(8) * twoTo32;
}

export class PropertyIndexEntries {
  constructor(
    private readonly pidx: Db,
    /** Absent only in a format 1 store opened read-only (nothing may write the missing sub-database). */
    private readonly values: Db | undefined,
  ) {}

  /** Records that `nodeId` carries `key` in index `indexId`. No change when it already does. */
  add(indexId: number, key: IndexKeyValue, nodeId: number): void {
    const wrote = (this.pidx as unknown as PutSyncReportingWrite).putSync([indexId, key[0], key[1], nodeId], presentMarker, { noOverwrite: true });
    if (!wrote) return;
    const valueKey = [indexId, key[0], key[1]] as any;
    const head = this.values!.getBinary(valueKey);
    this.values!.putSync(valueKey, head === undefined ? encodeValueHead(1, nodeId) : encodeValueHead(headCount(head) + 1, headNodeId(head)));
  }

  /** Records that `nodeId` no longer carries `key`. No change when it did not. */
  remove(indexId: number, key: IndexKeyValue, nodeId: number): void {
    if (!this.pidx.removeSync([indexId, key[0], key[1], nodeId] as any)) return;
    const valueKey = [indexId, key[0], key[1]] as any;
    const head = this.values!.getBinary(valueKey);
    if (head === undefined) return;
    const count = headCount(head);
    if (count <= 1) {
      this.values!.removeSync(valueKey);
      return;
    }
    // The head named the node that left: name another that carries the value (one short range read).
    const other = headNodeId(head) === nodeId ? this.rangeSeek(indexId, key, {}).next().value : headNodeId(head);
    this.values!.putSync(valueKey, encodeValueHead(count - 1, other ?? nodeId));
  }

  /** Removes every entry of index `indexId` (the index was dropped). */
  removeAll(indexId: number): void {
    this.removeUntil(indexId, Infinity);
  }

  /**
   * Removes entries of index `indexId` until `deadlineMs` (performance.now()); true once none is left.
   * Resumable: each call starts over at what is left.
   */
  removeUntil(indexId: number, deadlineMs: number): boolean {
    let sinceClock = 0;
    for (const db of [this.pidx, this.values!]) {
      for (const key of db.getKeys({ start: [indexId] as any, end: [indexId + 1] as any })) {
        db.removeSync(key);
        if (++sinceClock >= removalClockEveryEntries) {
          sinceClock = 0;
          if (performance.now() >= deadlineMs) return false;
        }
      }
    }
    return true;
  }

  /** Ids of the nodes carrying `key` in index `indexId`, as of the read transaction in `opts`. */
  seek(indexId: number, key: IndexKeyValue, opts: ReadOptions): Iterable<number> {
    if (this.values === undefined) return this.rangeSeek(indexId, key, opts);
    const head = (this.values as any).getBinary([indexId, key[0], key[1]], opts) as Buffer | undefined;
    if (head === undefined) return [];
    if (headCount(head) === 1) return [headNodeId(head)];
    return this.rangeSeek(indexId, key, opts);
  }

  private *rangeSeek(indexId: number, key: IndexKeyValue, opts: ReadOptions): Generator<number> {
    for (const k of this.pidx.getKeys({ ...opts, start: [indexId, key[0], key[1]], end: [indexId, key[0], key[1], Number.MAX_SAFE_INTEGER + 1] } as any)) {
      yield (k as unknown as [number, number, unknown, number])[3];
    }
  }

  /**
   * Disagreements between `pidxValues` of index `indexId` and what the node records say it must
   * hold (`expected`: each distinct value with the nodes carrying it), as of the read transaction
   * in `opts`. Empty for a format 1 store read-only, which has no `pidxValues`.
   */
  valueCountProblems(indexId: number, expected: ReadonlyMap<string, { key: IndexKeyValue; nodes: number[] }>, opts: () => ReadOptions): string[] {
    const values = this.values;
    if (values === undefined) return [];
    const problems: string[] = [];
    for (const { key, nodes } of expected.values()) {
      const head = (values as any).getBinary([indexId, key[0], key[1]], opts()) as Buffer | undefined;
      const what = `value ${describe(key[1])}`;
      if (head === undefined) problems.push(`${what} of ${nodes.length} node(s) has no count`);
      else if (headCount(head) !== nodes.length) problems.push(`${what} has a count of ${headCount(head)} for ${nodes.length} node(s)`);
      else if (!nodes.includes(headNodeId(head))) problems.push(`${what} names node ${headNodeId(head)}, which does not carry it`);
    }
    const stored = values.getKeysCount({ ...opts(), start: [indexId], end: [indexId + 1] } as any);
    if (stored > expected.size) problems.push(`${stored - expected.size} value count(s) for values no node carries`);
    return problems;
  }
}

/** One distinct index key value, as a map key. */
export function indexValueIdentity(key: IndexKeyValue): string {
  return `${key[0]}\u0000${typeof key[1]}\u0000${String(key[1])}`;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
}
