/**
 * Reads a store through one LMDB read transaction: a consistent snapshot that never blocks the
 * writer. Records come back with token ids resolved to names (the kernel API's view).
 */
import type { Adjacent, Direction, NodeRecord, RangeBounds, RelRecord } from '../kernel/api.js';
import type { Properties, PropertyValue } from '../values/value.js';
import { decodeNodeAs, decodeRel, IndexRank, indexKeyValue } from './records.js';
import { type ConstraintRule, type GraphStore, indexRuleFor, type IndexRule, schemaRules, type SchemaRules } from './store.js';

type ReadTxn = { done(): void; isDone?: boolean };

export class StoreReader {
  private closed = false;
  constructor(
    readonly store: GraphStore,
    private readonly txn: ReadTxn,
  ) {
    this.pointReadOpts = { transaction: txn };
  }

  static begin(store: GraphStore): StoreReader {
    return new StoreReader(store, store.env.useReadTransaction() as unknown as ReadTxn);
  }

  /** A reader of a snapshot someone else holds open (`useReadTransaction`): it takes its own reference. */
  static share(store: GraphStore, txn: { use(): void }): StoreReader {
    txn.use();
    return new StoreReader(store, txn as unknown as ReadTxn);
  }

  private get opts(): any {
    return { transaction: this.txn };
  }

  private rules: SchemaRules | undefined;

  /**
   * The index and constraint rules of this snapshot, read from it on first use. Not the store's
   * current rules: an index created after the snapshot has no entries in it (a seek through it would
   * find nothing), and one dropped after it still has them.
   */
  private schema(): SchemaRules {
    return (this.rules ??= schemaRules(this.store.db.schema, this.opts));
  }

  indexRules(): IndexRule[] {
    return [...this.schema().indexes.values()];
  }

  constraintRules(): ConstraintRule[] {
    return [...this.schema().constraints.values()];
  }

  indexFor(label: string, property: string): IndexRule | undefined {
    return indexRuleFor(this.schema().indexes.values(), label, property);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.txn.done();
  }

  /** Options of point reads, made once (range reads get their own: lmdb-js may keep state on them). */
  private readonly pointReadOpts: { transaction: ReadTxn };
  private readonly labelName = (id: number): string => this.store.tokenName('L', id);
  private readonly propertyName = (id: number): string => this.store.tokenName('P', id);

  getNode(id: number): NodeRecord | undefined {
    const b = (this.store.db.nodes as any).getBinary(id, this.pointReadOpts) as Buffer | undefined;
    if (b === undefined) return undefined;
    const n = decodeNodeAs(b, this.labelName, this.propertyName);
    return { id, labels: n.labels, properties: n.props };
  }

  getRelationship(id: number): RelRecord | undefined {
    const b = (this.store.db.rels as any).getBinary(id, this.opts) as Buffer | undefined;
    if (b === undefined) return undefined;
    const r = decodeRel(b);
    return { id, type: this.store.tokenName('T', r.typeId), startId: r.startId, endId: r.endId, properties: this.props(r.props) };
  }

  private props(p: Map<number, PropertyValue>): Properties {
    const out: Properties = new Map();
    for (const [k, v] of p) out.set(this.store.tokenName('P', k), v);
    return out;
  }

  *allNodeIds(): Iterable<number> {
    for (const k of this.store.db.nodes.getKeys(this.opts)) yield k as unknown as number;
  }

  *allRelationshipIds(): Iterable<number> {
    for (const k of this.store.db.rels.getKeys(this.opts)) yield k as unknown as number;
  }

  *nodeIdsByLabel(label: string): Iterable<number> {
    const l = this.store.tokenId('L', label);
    if (l === undefined) return;
    for (const k of this.store.db.labels.getKeys({ ...this.opts, start: [l], end: [l + 1] })) {
      yield (k as unknown as [number, number])[1];
    }
  }

  *relationshipsOf(nodeId: number, direction: Direction, types?: readonly string[]): Iterable<Adjacent> {
    const dirs: Array<0 | 1> = direction === 'out' ? [0] : direction === 'in' ? [1] : [0, 1];
    let typeIds: number[] | undefined;
    if (types && types.length > 0) {
      typeIds = [];
      // A type named twice (`[:T|:T]`) is scanned once: each range yields every relationship of its type.
      for (const t of new Set(types)) {
        const id = this.store.tokenId('T', t);
        if (id !== undefined) typeIds.push(id);
      }
      if (typeIds.length === 0) return;
    }
    for (const d of dirs) {
      const ranges = typeIds ? typeIds.map((t) => [[nodeId, d, t], [nodeId, d, t + 1]]) : [[[nodeId, d], [nodeId, d + 1]]];
      for (const [start, end] of ranges) {
        for (const k of this.store.db.adj.getKeys({ ...this.opts, start, end })) {
          const [, , typeId, relId, otherId] = k as unknown as [number, number, number, number, number];
          // A self-loop appears in both directions; report it once for 'both'.
          if (direction === 'both' && d === 1 && otherId === nodeId) continue;
          yield { relId, otherId, type: this.store.tokenName('T', typeId), direction: d === 0 ? 'out' : 'in' };
        }
      }
    }
  }

  indexSeek(rule: IndexRule, value: PropertyValue): Iterable<number> {
    return this.store.propertyIndex.seek(rule.id, indexKeyValue(value), this.pointReadOpts);
  }

  /** Candidates for a range; undefined when the bound types cannot use the index. Callers re-check. */
  indexRange(rule: IndexRule, bounds: RangeBounds): Iterable<number> | undefined {
    const lo = bounds.lower?.value;
    const hi = bounds.upper?.value;
    const family = (v: PropertyValue | undefined) =>
      v === undefined ? undefined : typeof v === 'string' ? 'string' : typeof v === 'number' || typeof v === 'bigint' ? 'number' : 'other';
    const fl = family(lo);
    const fh = family(hi);
    const fam = fl ?? fh;
    if (fam === undefined || fam === 'other' || (fl && fh && fl !== fh)) return undefined;
    const rank = fam === 'string' ? IndexRank.String : IndexRank.Number;
    const start = lo === undefined ? [rule.id, rank] : [rule.id, rank, indexKeyValue(lo)[1]];
    const end = hi === undefined ? [rule.id, rank + 1] : [rule.id, rank, indexKeyValue(hi)[1], Number.MAX_SAFE_INTEGER + 1];
    const self = this;
    return (function* () {
      for (const k of self.store.db.pidx.getKeys({ ...self.opts, start, end })) yield (k as unknown as [number, number, unknown, number])[3];
      if (fam === 'string') {
        // Long strings are indexed by hash: offer them all as candidates.
        for (const k of self.store.db.pidx.getKeys({ ...self.opts, start: [rule.id, IndexRank.LongString], end: [rule.id, IndexRank.LongString + 1] })) {
          yield (k as unknown as [number, number, unknown, number])[3];
        }
      }
    })();
  }

  countNodes(label?: string): number {
    if (label === undefined) return this.store.db.nodes.getKeysCount(this.opts);
    const l = this.store.tokenId('L', label);
    if (l === undefined) return 0;
    return this.store.db.labels.getKeysCount({ ...this.opts, start: [l], end: [l + 1] });
  }
}
