/**
 * Fills a new property index from the nodes already in the store, resumably: each `continue` runs
 * inside the caller's LMDB write transaction until a deadline and remembers the next node id, so a
 * store apply in slices (store.ts applyBatchSliced) indexes a large label over many LMDB transactions
 * with the event loop run between them. While it runs, the store names the index as populating (a
 * `["populating", name]` schema entry, written with the rule and removed with the last entry): a store
 * opened with that entry never uses the index, and recovery rebuilds it from the log's `index.create`.
 */
import type { Database } from 'lmdb';
import type { PropertyIndexEntries } from './property-index.js';
import { decodeNode, indexKeyValue } from './records.js';
import type { IndexRule } from './store.js';

/** Nodes indexed between two clock reads (a node costs a record read, a decode and a put: 2-5 µs). */
const populationClockEveryNodes = 64;

/** The schema key that marks `indexName` as half built. */
export function populatingKey(indexName: string): [string, string] {
  return ['populating', indexName];
}

export class IndexPopulation {
  /** Nodes below this id are indexed; the label index is keyed [labelId, nodeId], so the scan resumes here. */
  private nextNodeId = 0;

  constructor(
    private readonly db: { labels: Database<Buffer, any>; nodes: Database<Buffer, any>; schema: Database<Buffer, any> },
    private readonly entries: PropertyIndexEntries,
    readonly rule: IndexRule,
    private readonly labelId: number,
    private readonly propId: number,
  ) {}

  /**
   * Indexes nodes of the rule's label until `deadlineMs` (performance.now(); Infinity: all of them).
   * Returns true once every node is indexed and the populating mark is gone, in this LMDB transaction.
   */
  continue(deadlineMs: number): boolean {
    let sinceClock = 0;
    for (const key of this.db.labels.getKeys({ start: [this.labelId, this.nextNodeId] as any, end: [this.labelId + 1] as any })) {
      const nodeId = (key as unknown as [number, number])[1];
      this.nextNodeId = nodeId + 1;
      const bytes = this.db.nodes.getBinary(nodeId);
      const v = bytes ? decodeNode(bytes).props.get(this.propId) : undefined;
      if (v !== undefined) this.entries.add(this.rule.id, indexKeyValue(v), nodeId);
      if (++sinceClock >= populationClockEveryNodes) {
        sinceClock = 0;
        if (performance.now() >= deadlineMs) return false;
      }
    }
    this.db.schema.remove(populatingKey(this.rule.name) as any);
    return true;
  }
}
