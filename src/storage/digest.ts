/**
 * A logical digest of a database: SHA-256 over a canonical listing of every node, relationship,
 * index and constraint. Two databases with equal digests hold the same graph with the same ids,
 * whatever their physical layout. Tests and `check` compare restored databases with it.
 */
import { createHash } from 'node:crypto';
import type { GraphRead } from '../kernel/api.js';
import { isTemporal } from '../values/temporal.js';
import type { Properties, PropertyValue } from '../values/value.js';
import { GraphStore } from './store.js';
import { StoreReader } from './store-reader.js';
import { KernelReadTx } from '../kernel/read-tx.js';

function canonicalValue(v: PropertyValue): string {
  if (typeof v === 'bigint') return `i:${v}`;
  if (typeof v === 'number') return `f:${Object.is(v, -0) ? '-0' : String(v)}`;
  if (typeof v === 'string') return `s:${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return `b:${v}`;
  if (v instanceof Uint8Array) return `x:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map((e) => canonicalValue(e)).join(',')}]`;
  if (isTemporal(v)) return `t:${v.constructor.name}:${v.toString()}`;
  return `?:${String(v)}`;
}

export function canonicalProperties(p: Properties): string {
  return [...p.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${JSON.stringify(k)}=${canonicalValue(v)}`)
    .join(';');
}

/** Canonical lines of the whole graph, sorted (small graphs: for diffs in test failures). */
export function canonicalLines(g: GraphRead): string[] {
  const lines: string[] = [];
  for (const id of g.allNodeIds()) {
    const n = g.getNode(id)!;
    lines.push(`N ${id} ${[...n.labels].sort().join(':')} ${canonicalProperties(n.properties)}`);
  }
  for (const id of g.allRelationshipIds()) {
    const r = g.getRelationship(id)!;
    lines.push(`R ${id} ${r.type} ${r.startId}->${r.endId} ${canonicalProperties(r.properties)}`);
  }
  for (const i of g.indexes()) lines.push(`I ${i.name} ${i.label} ${i.property} ${i.unique}`);
  for (const c of g.constraints()) lines.push(`C ${c.name} ${c.label} ${c.property} ${c.kind}`);
  return lines.sort();
}

export function logicalDigest(g: GraphRead): string {
  const h = createHash('sha256');
  for (const line of canonicalLines(g)) h.update(line).update('\n');
  return h.digest('hex');
}

/** Digest of a store folder that no server has open for writing. */
export function logicalDigestOfStore(storeDir: string): { digest: string; lastTxId: number } {
  const store = GraphStore.open(storeDir, { readOnly: true });
  try {
    const tx = new KernelReadTx(StoreReader.begin(store));
    try {
      return { digest: logicalDigest(tx), lastTxId: store.meta().lastTxId };
    } finally {
      tx.close();
    }
  } finally {
    store.close();
  }
}
