/**
 * Consistency checker for a store: records, tokens, adjacency, the label index, property indexes
 * and uniqueness constraints must all agree. Reports every problem it finds (up to a bound), never
 * stops at the first. Reads one snapshot; the store may be open elsewhere read-only.
 */
import { indexValueIdentity } from './property-index.js';
import { decodeNode, decodeRel, indexKeyValue, type IndexKeyValue } from './records.js';
import type { GraphStore } from './store.js';

/** Problems listed in full before the checker only counts them. */
const problemsListedMax = 1000;

export interface ConsistencyReport {
  nodes: number;
  relationships: number;
  problems: string[];
  problemCount: number;
}

export function checkStoreConsistency(store: GraphStore): ConsistencyReport {
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (m: string) => {
    problemCount++;
    if (problems.length < problemsListedMax) problems.push(m);
  };
  const txn = store.env.useReadTransaction();
  const db = store.db;
  // lmdb-js may keep state on an options object: give every call its own.
  const opts = (): any => ({ transaction: txn });
  const tokenName = (kind: 'L' | 'T' | 'P', id: number): string | undefined => {
    try {
      return store.tokenName(kind, id);
    } catch {
      return undefined;
    }
  };
  let nodes = 0;
  let rels = 0;
  let maxNode = -1;
  let maxRel = -1;
  // Property indexes: expected entries come from the node records (the truth), not from the label
  // index, so that a damaged label index is not reported a second time as index damage.
  const rules = store.indexes().map((rule) => ({
    rule,
    labelId: store.tokenId('L', rule.label),
    propId: store.tokenId('P', rule.property),
    /** Nodes whose expected entry is present. */
    present: new Set<number>(),
    /** Index value → the nodes holding it (what the index's value counts must say). */
    values: new Map<string, { key: IndexKeyValue; nodes: number[] }>(),
  }));
  try {
    const meta = store.meta();
    // Nodes, the label index and the property index entries each node needs.
    for (const { key, value } of db.nodes.getRange(opts())) {
      const id = key as unknown as number;
      nodes++;
      maxNode = Math.max(maxNode, id);
      let n;
      try {
        n = decodeNode(value as Buffer);
      } catch (e) {
        problem(`node ${id}: record cannot be decoded (${(e as Error).message})`);
        continue;
      }
      for (const l of n.labelIds) {
        if (tokenName('L', l) === undefined) problem(`node ${id}: label token ${l} does not resolve`);
        if ((db.labels as any).getBinary([l, id], opts()) === undefined) problem(`node ${id}: label index lacks label ${tokenName('L', l) ?? l}`);
      }
      for (const k of n.props.keys()) if (tokenName('P', k) === undefined) problem(`node ${id}: property key token ${k} does not resolve`);
      for (const r of rules) {
        if (r.labelId === undefined || r.propId === undefined || !n.labelIds.includes(r.labelId)) continue;
        const v = n.props.get(r.propId);
        if (v === undefined) continue;
        const k = indexKeyValue(v);
        const vk = indexValueIdentity(k);
        const holders = r.values.get(vk);
        if (holders === undefined) r.values.set(vk, { key: k, nodes: [id] });
        else {
          if (r.rule.unique) problem(`constraint "${r.rule.constraintName}": nodes ${holders.nodes[0]} and ${id} share the value of (:${r.rule.label} {${r.rule.property}})`);
          holders.nodes.push(id);
        }
        // Looked up by key rather than compared with decoded keys: not every value survives the
        // key decoder (±Infinity comes back as null), but each encodes to the key the store wrote.
        if ((db.pidx as any).getBinary([r.rule.id, k[0], k[1], id], opts()) === undefined) problem(`index "${r.rule.name}": entry for node ${id} is missing`);
        else r.present.add(id);
      }
    }
    for (const key of db.labels.getKeys(opts())) {
      const [l, id] = key as unknown as [number, number];
      const b = (db.nodes as any).getBinary(id, opts()) as Buffer | undefined;
      if (!b) problem(`label index entry (${tokenName('L', l) ?? l}, ${id}) points to a missing node`);
      else if (!decodeNode(b).labelIds.includes(l)) problem(`label index entry (${tokenName('L', l) ?? l}, ${id}): the node does not have that label`);
    }
    // Relationships and adjacency.
    for (const { key, value } of db.rels.getRange(opts())) {
      const id = key as unknown as number;
      rels++;
      maxRel = Math.max(maxRel, id);
      let r;
      try {
        r = decodeRel(value as Buffer);
      } catch (e) {
        problem(`relationship ${id}: record cannot be decoded (${(e as Error).message})`);
        continue;
      }
      if (tokenName('T', r.typeId) === undefined) problem(`relationship ${id}: type token ${r.typeId} does not resolve`);
      for (const n of [r.startId, r.endId]) if ((db.nodes as any).getBinary(n, opts()) === undefined) problem(`relationship ${id}: points to missing node ${n}`);
      if ((db.adj as any).getBinary([r.startId, 0, r.typeId, id, r.endId], opts()) === undefined) problem(`relationship ${id}: outgoing adjacency entry of node ${r.startId} is missing`);
      if ((db.adj as any).getBinary([r.endId, 1, r.typeId, id, r.startId], opts()) === undefined) problem(`relationship ${id}: incoming adjacency entry of node ${r.endId} is missing`);
    }
    for (const key of db.adj.getKeys(opts())) {
      const [n, d, t, relId, other] = key as unknown as [number, number, number, number, number];
      const b = (db.rels as any).getBinary(relId, opts()) as Buffer | undefined;
      if (!b) {
        problem(`adjacency entry of node ${n} points to missing relationship ${relId}`);
        continue;
      }
      const r = decodeRel(b);
      const ok = r.typeId === t && (d === 0 ? r.startId === n && r.endId === other : r.endId === n && r.startId === other);
      if (!ok) problem(`adjacency entry of node ${n} disagrees with relationship ${relId}`);
    }
    // Property index entries no node needs: every entry of a node beyond its one expected entry.
    for (const r of rules) {
      const entries = new Map<number, number>();
      for (const key of db.pidx.getKeys({ ...opts(), start: [r.rule.id], end: [r.rule.id + 1] })) {
        const nodeId = (key as unknown as [number, number, unknown, number])[3];
        const count = (entries.get(nodeId) ?? 0) + 1;
        entries.set(nodeId, count);
        if (count > (r.present.has(nodeId) ? 1 : 0)) problem(`index "${r.rule.name}": stale entry for node ${nodeId}`);
      }
      for (const p of store.propertyIndex.valueCountProblems(r.rule.id, r.values, opts)) problem(`index "${r.rule.name}": ${p}`);
    }
    for (const c of store.constraints()) {
      if (!store.indexes().some((i) => i.name === c.indexName)) problem(`constraint "${c.name}": its index "${c.indexName}" is missing`);
    }
    if (meta.nextNodeId <= maxNode) problem(`meta: next node id ${meta.nextNodeId} is not above the highest node id ${maxNode}`);
    if (meta.nextRelId <= maxRel) problem(`meta: next relationship id ${meta.nextRelId} is not above the highest relationship id ${maxRel}`);
  } finally {
    txn.done();
  }
  return { nodes, relationships: rels, problems, problemCount };
}
