/**
 * A write transaction: a private change set (tx state) layered over a store snapshot. Reads see
 * the transaction's own writes; nothing is visible to others until commit turns the change set
 * into after-image commands, appends them to the log and applies them to the store.
 */
import { createHash } from 'node:crypto';
import type { StoreReader } from '../storage/store-reader.js';
import type { IndexRule } from '../storage/store.js';
import { IndexRank, indexKeyValue } from '../storage/records.js';
import type { Command } from '../txlog/commands.js';
import { QuiverError } from '../util/errors.js';
import type { Properties, PropertyValue } from '../values/value.js';
import type {
  Adjacent,
  ConstraintDescriptor,
  Direction,
  IndexDescriptor,
  NodeRecord,
  RangeBounds,
  RelRecord,
  WriteTransaction,
} from './api.js';
import type { TransactionMemoryTracker } from './transaction-memory.js';
import { indexValueKey, TxState } from './tx-state.js';

/**
 * The changes of one committed transaction (its frozen tx state). Transactions that are committed
 * but not yet applied to the store are layered under every new transaction, so it sees them
 * although its store snapshot does not.
 */
export type ChangeSet = TxState;

/** What a write transaction needs from its database. */
export interface CommitSink {
  readonly databaseName: string;
  allocateNodeId(): number;
  allocateRelId(): number;
  /** Appends, syncs and applies; releases the writer slot in every case. */
  commit(commands: Command[], changes: ChangeSet): Promise<number>;
  /** Releases the writer slot without committing. */
  abandon(): void;
  lastCommittedTxId(): number;
}

/**
 * Committed layers with at most this many records are merged with their small neighbours when a
 * transaction begins (a copy of their entries, as cheap as the layers are small); larger ones are
 * read in place, never copied.
 */
export const layerMergeEntriesMax = 1024;

/** Longest piece of a commit's own work (building the commands) between two turns of the event loop. */
const commitSliceMs = 10;

/** Changed entities turned into commands between two clock reads while building them. */
const commitClockEveryEntries = 256;

/** The layers a transaction reads, oldest first: runs of small layers merged into one. */
export function composeLayers(layers: readonly ChangeSet[]): ChangeSet[] {
  const out: ChangeSet[] = [];
  let run: ChangeSet[] = [];
  const flush = () => {
    if (run.length === 1) out.push(run[0]!);
    else if (run.length > 1) out.push(TxState.merge(run));
    run = [];
  };
  for (const l of layers) {
    if (l.entryCount <= layerMergeEntriesMax) run.push(l);
    else {
      flush();
      out.push(l);
    }
  }
  flush();
  return out;
}

export class KernelWriteTx implements WriteTransaction {
  readonly mode = 'write' as const;
  private readonly own: TxState;
  /** The transaction's own changes first, then the committed layers from newest to oldest. */
  private readonly stack: readonly TxState[];
  private schemaIndexes: IndexDescriptor[];
  private schemaConstraints: ConstraintDescriptor[];
  private state: 'open' | 'committing' | 'closed' = 'open';

  constructor(
    private readonly base: StoreReader,
    private readonly sink: CommitSink,
    inherited: readonly ChangeSet[] = [],
    memory: TransactionMemoryTracker | null = null,
  ) {
    this.own = new TxState(memory);
    this.stack = [this.own, ...composeLayers(inherited).reverse()];
    this.schemaIndexes = base.indexRules().map((r) => ({ name: r.name, label: r.label, property: r.property, unique: r.unique, constraintName: r.constraintName }));
    this.schemaConstraints = base.constraintRules().map((c) => ({ name: c.name, label: c.label, property: c.property, kind: 'UNIQUE' as const, indexName: c.indexName }));
    for (const cs of inherited) this.inheritSchema(cs.schema);
  }

  /** Schema changes of a committed-but-unapplied transaction (in commit order). */
  private inheritSchema(schema: readonly Command[]): void {
    for (const c of schema) {
      if (c.op === 'index.create') this.schemaIndexes.push({ name: c.name, label: c.label, property: c.property, unique: c.unique, constraintName: c.constraintName });
      else if (c.op === 'index.drop') this.schemaIndexes = this.schemaIndexes.filter((i) => i.name !== c.name);
      else if (c.op === 'constraint.create') this.schemaConstraints.push({ name: c.name, label: c.label, property: c.property, kind: 'UNIQUE', indexName: c.indexName });
      else if (c.op === 'constraint.drop') this.schemaConstraints = this.schemaConstraints.filter((x) => x.name !== c.name);
    }
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new QuiverError('TransactionClosed', 'the transaction has been committed or rolled back');
  }

  // ---- reads through the layers ----

  /** The newest record of a node among the layers from `top` down (undefined: no layer changed it). */
  private layeredNode(id: number, top = 0): NodeRecord | null | undefined {
    for (let i = top; i < this.stack.length; i++) {
      const n = this.stack[i]!.node(id);
      if (n !== undefined) return n;
    }
    return undefined;
  }

  private layeredRel(id: number, top = 0): RelRecord | null | undefined {
    for (let i = top; i < this.stack.length; i++) {
      const r = this.stack[i]!.rel(id);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** True when a layer newer than stack[i] changed the node: its record there wins over stack[i]'s. */
  private nodeChangedAbove(id: number, i: number): boolean {
    for (let j = 0; j < i; j++) if (this.stack[j]!.node(id) !== undefined) return true;
    return false;
  }

  getNode(id: number): NodeRecord | undefined {
    const n = this.layeredNode(id);
    if (n !== undefined) return n ?? undefined;
    return this.baseNode(id);
  }

  /** The last node read from the store snapshot, which never changes under this transaction. */
  private lastBaseNodeId = -1;
  private lastBaseNode: NodeRecord | undefined;

  /**
   * A node as the store snapshot holds it. A statement reads the same node several times in a row
   * (MERGE or MATCH finds it, SET checks it still exists, then copies it to change it): one decode
   * serves them. Records are never changed in place (adoptNode copies), so sharing one is safe.
   */
  private baseNode(id: number): NodeRecord | undefined {
    if (id !== this.lastBaseNodeId) {
      this.lastBaseNode = this.base.getNode(id);
      this.lastBaseNodeId = id;
    }
    return this.lastBaseNode;
  }

  getRelationship(id: number): RelRecord | undefined {
    const r = this.layeredRel(id);
    if (r !== undefined) return r ?? undefined;
    return this.base.getRelationship(id);
  }

  *allNodeIds(): Iterable<number> {
    for (const id of this.base.allNodeIds()) if (this.layeredNode(id) !== null) yield id;
    // Created ids are above every stored id, and older layers hold the lower ones.
    for (let i = this.stack.length - 1; i >= 0; i--) {
      for (const id of this.stack[i]!.createdNodeIds()) if (this.layeredNode(id)) yield id;
    }
  }

  *allRelationshipIds(): Iterable<number> {
    for (const id of this.base.allRelationshipIds()) if (this.layeredRel(id) !== null) yield id;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      for (const id of this.stack[i]!.createdRelIds()) if (this.layeredRel(id)) yield id;
    }
  }

  *nodeIdsByLabel(label: string): Iterable<number> {
    const depth = this.stack.length;
    for (const id of this.base.nodeIdsByLabel(label)) if (!this.nodeChangedAbove(id, depth)) yield id;
    // A node's newest record decides: each layer answers for the nodes no newer layer changed.
    for (let i = depth - 1; i >= 0; i--) {
      for (const id of this.stack[i]!.nodeIdsWithLabel(label)) if (!this.nodeChangedAbove(id, i)) yield id;
    }
  }

  *relationshipsOf(nodeId: number, direction: Direction, types?: readonly string[]): Iterable<Adjacent> {
    for (const a of this.base.relationshipsOf(nodeId, direction, types)) {
      if (this.layeredRel(a.relId) === null) continue;
      yield a;
    }
    for (let i = this.stack.length - 1; i >= 0; i--) {
      for (const relId of this.stack[i]!.createdRelIdsOf(nodeId)) {
        const r = this.layeredRel(relId);
        if (!r) continue;
        if (types && types.length > 0 && !types.includes(r.type)) continue;
        if (r.startId === nodeId && direction !== 'in') yield { relId, type: r.type, otherId: r.endId, direction: 'out' };
        if (r.endId === nodeId && direction !== 'out' && !(direction === 'both' && r.startId === nodeId)) {
          yield { relId, type: r.type, otherId: r.startId, direction: 'in' };
        }
      }
    }
  }

  /** The store's rule of an index this transaction may read (it exists in the store, and this transaction has not dropped it). */
  private committedIndex(label: string, property: string): IndexRule | undefined {
    // Only indexes that exist in the store can be read; ones created in this transaction are populated at commit.
    const rule = this.base.indexFor(label, property);
    return rule && this.schemaIndexes.some((i) => i.name === rule.name) ? rule : undefined;
  }

  indexSeek(label: string, property: string, value: PropertyValue): Iterable<number> | undefined {
    const rule = this.committedIndex(label, property);
    if (!rule) return undefined;
    const key = indexValueKey(value);
    const self = this;
    return (function* () {
      const depth = self.stack.length;
      for (const id of self.base.indexSeek(rule, value)) if (!self.nodeChangedAbove(id, depth)) yield id;
      for (let i = depth - 1; i >= 0; i--) {
        for (const id of self.stack[i]!.nodeIdsWithValue(label, property, key)) if (!self.nodeChangedAbove(id, i)) yield id;
      }
    })();
  }

  indexRange(label: string, property: string, bounds: RangeBounds): Iterable<number> | undefined {
    const rule = this.committedIndex(label, property);
    if (!rule) return undefined;
    const baseIds = this.base.indexRange(rule, bounds);
    if (!baseIds) return undefined;
    const self = this;
    return (function* () {
      const depth = self.stack.length;
      for (const id of baseIds) if (!self.nodeChangedAbove(id, depth)) yield id;
      // Changed nodes with the label are offered as candidates (callers re-check the predicate);
      // numbers outside the bounds are left out, as the store's index leaves them out.
      // TODO(#15): an ordered index over the tx state would make this O(log n) instead of O(nodes with the label changed).
      for (let i = depth - 1; i >= 0; i--) {
        const layer = self.stack[i]!;
        for (const id of layer.nodeIdsWithLabel(label)) {
          if (self.nodeChangedAbove(id, i)) continue;
          const v = layer.node(id)?.properties.get(property);
          if (v !== undefined && numberMayBeInRange(v, bounds)) yield id;
        }
      }
    })();
  }

  indexes(): IndexDescriptor[] {
    return [...this.schemaIndexes];
  }

  constraints(): ConstraintDescriptor[] {
    return [...this.schemaConstraints];
  }

  countNodes(label?: string): number {
    let n = this.base.countNodes(label);
    for (const layer of this.stack) n += layer.countDelta(label);
    return n;
  }

  labels(): string[] {
    const s = new Set(this.base.store.tokenNamesOf('L'));
    for (const layer of this.stack) for (const l of layer.labelNames) s.add(l);
    return [...s];
  }

  relationshipTypes(): string[] {
    const s = new Set(this.base.store.tokenNamesOf('T'));
    for (const layer of this.stack) for (const t of layer.relTypeNames) s.add(t);
    return [...s];
  }

  propertyKeys(): string[] {
    const s = new Set(this.base.store.tokenNamesOf('P'));
    for (const layer of this.stack) for (const k of layer.propertyKeyNames) s.add(k);
    return [...s];
  }

  // ---- writes ----

  /** Makes sure the transaction's own changes hold the node, copying it from below on first write. */
  private mutableNode(id: number): void {
    this.assertOpen();
    const mine = this.own.node(id);
    if (mine) return;
    // Copy on write: records below belong to committed transactions or the store and must not change.
    const n = mine === null ? undefined : (this.layeredNode(id, 1) ?? this.baseNode(id));
    if (!n) throw new QuiverError('NotFound', `node ${id} does not exist (it may have been deleted)`);
    this.own.adoptNode(n);
  }

  private mutableRel(id: number): RelRecord {
    this.assertOpen();
    const mine = this.own.rel(id);
    if (mine) return mine;
    const r = mine === null ? undefined : (this.layeredRel(id, 1) ?? this.base.getRelationship(id));
    if (!r) throw new QuiverError('NotFound', `relationship ${id} does not exist (it may have been deleted)`);
    return this.own.adoptRel(r);
  }

  createNode(labels: readonly string[], properties: Properties): number {
    this.assertOpen();
    const id = this.sink.allocateNodeId();
    this.own.createNode(id, labels, properties);
    return id;
  }

  setNodeProperty(id: number, key: string, value: PropertyValue | null): void {
    this.mutableNode(id);
    this.own.setNodeProperty(id, key, value);
  }

  replaceNodeProperties(id: number, properties: Properties): void {
    this.mutableNode(id);
    this.own.replaceNodeProperties(id, properties);
  }

  addLabels(id: number, labels: readonly string[]): void {
    this.mutableNode(id);
    this.own.addLabels(id, labels);
  }

  removeLabels(id: number, labels: readonly string[]): void {
    this.mutableNode(id);
    this.own.removeLabels(id, labels);
  }

  deleteNode(id: number, detach: boolean): void {
    this.mutableNode(id);
    const rels = [...this.relationshipsOf(id, 'both')];
    if (rels.length > 0) {
      if (!detach) {
        throw new QuiverError(
          'NodeHasRelationships',
          `Cannot delete node<${id}>, because it still has relationships. To delete this node, you must first delete its relationships.`,
        );
      }
      for (const r of rels) this.deleteRelationship(r.relId);
    }
    this.own.deleteNode(id);
  }

  createRelationship(type: string, startId: number, endId: number, properties: Properties): number {
    this.assertOpen();
    for (const n of [startId, endId]) {
      if (!this.getNode(n)) throw new QuiverError('NotFound', `cannot create a relationship to node ${n}: it does not exist (it may have been deleted)`);
    }
    const id = this.sink.allocateRelId();
    this.own.createRel(id, type, startId, endId, properties);
    return id;
  }

  setRelationshipProperty(id: number, key: string, value: PropertyValue | null): void {
    this.mutableRel(id);
    this.own.setRelProperty(id, key, value);
  }

  replaceRelationshipProperties(id: number, properties: Properties): void {
    this.mutableRel(id);
    this.own.replaceRelProperties(id, properties);
  }

  deleteRelationship(id: number): void {
    this.mutableRel(id);
    this.own.deleteRel(id);
  }

  createIndex(name: string | null, label: string, property: string, ifNotExists: boolean): void {
    this.assertOpen();
    const same = this.schemaIndexes.find((i) => i.label === label && i.property === property);
    const indexName = name ?? generatedName('index', label, property);
    if (same || this.schemaIndexes.some((i) => i.name === indexName) || this.schemaConstraints.some((c) => c.name === indexName)) {
      if (ifNotExists) return;
      const what = same ? `an index on (:${label} {${property}}) already exists: "${same.name}"` : `an index or constraint named "${indexName}" already exists`;
      throw new QuiverError('SchemaRuleExists', `cannot create index: ${what}`);
    }
    this.schemaIndexes.push({ name: indexName, label, property, unique: false, constraintName: null });
    this.own.addSchemaCommand({ op: 'index.create', name: indexName, label, property, unique: false, constraintName: null });
  }

  dropIndex(name: string, ifExists: boolean): void {
    this.assertOpen();
    const idx = this.schemaIndexes.find((i) => i.name === name);
    if (!idx) {
      if (ifExists) return;
      throw new QuiverError('SchemaRuleMissing', `Unable to drop index called \`${name}\`. There is no such index.`);
    }
    if (idx.constraintName) {
      throw new QuiverError('SchemaRuleMissing', `Unable to drop index \`${name}\`: it belongs to constraint \`${idx.constraintName}\`; drop the constraint instead.`);
    }
    this.schemaIndexes = this.schemaIndexes.filter((i) => i !== idx);
    this.own.addSchemaCommand({ op: 'index.drop', name });
  }

  createUniqueConstraint(name: string | null, label: string, property: string, ifNotExists: boolean): void {
    for (const _ of this.uniqueConstraintSteps(name, label, property, ifNotExists));
  }

  *uniqueConstraintSteps(name: string | null, label: string, property: string, ifNotExists: boolean): Generator<void> {
    this.assertOpen();
    const cname = name ?? generatedName('constraint', label, property);
    const same = this.schemaConstraints.find((c) => c.label === label && c.property === property);
    if (same || this.schemaConstraints.some((c) => c.name === cname) || this.schemaIndexes.some((i) => i.name === cname)) {
      if (ifNotExists) return;
      const what = same ? `a uniqueness constraint on (:${label} {${property}}) already exists: "${same.name}"` : `an index or constraint named "${cname}" already exists`;
      throw new QuiverError('SchemaRuleExists', `cannot create constraint: ${what}`);
    }
    const idx = this.schemaIndexes.find((i) => i.label === label && i.property === property);
    if (idx) {
      throw new QuiverError('SchemaRuleExists', `cannot create constraint "${cname}": index "${idx.name}" already covers (:${label} {${property}}); drop it first`);
    }
    // Existing data must already satisfy the constraint.
    const seen = new Map<string, number>();
    for (const id of this.nodeIdsByLabel(label)) {
      const v = this.getNode(id)?.properties.get(property);
      if (v === undefined) continue;
      const k = indexKeyValue(v).join('\u0000');
      const other = seen.get(k);
      if (other !== undefined) {
        throw new QuiverError('ConstraintViolation', `Unable to create constraint \`${cname}\`: Both Node(${other}) and Node(${id}) have the label \`${label}\` and property \`${property}\` = ${show(v)}`);
      }
      seen.set(k, id);
      yield;
    }
    // Nothing else uses this transaction between the steps (one statement at a time runs in it).
    this.assertOpen();
    this.schemaIndexes.push({ name: cname, label, property, unique: true, constraintName: cname });
    this.schemaConstraints.push({ name: cname, label, property, kind: 'UNIQUE', indexName: cname });
    this.own.addSchemaCommand({ op: 'index.create', name: cname, label, property, unique: true, constraintName: cname });
    this.own.addSchemaCommand({ op: 'constraint.create', name: cname, label, property, indexName: cname });
  }

  dropConstraint(name: string, ifExists: boolean): void {
    this.assertOpen();
    const c = this.schemaConstraints.find((x) => x.name === name);
    if (!c) {
      if (ifExists) return;
      throw new QuiverError('SchemaRuleMissing', `Unable to drop constraint \`${name}\`: No such constraint ${name}.`);
    }
    this.schemaConstraints = this.schemaConstraints.filter((x) => x !== c);
    this.schemaIndexes = this.schemaIndexes.filter((i) => i.name !== c.indexName);
    this.own.addSchemaCommand({ op: 'constraint.drop', name });
    this.own.addSchemaCommand({ op: 'index.drop', name: c.indexName });
  }

  // ---- commit ----

  /**
   * Every node this transaction wrote that carries a constrained label and property must be the
   * only one with its value: among the store's nodes (through its index, or a scan when the
   * constraint is not in the store yet), the committed layers and this transaction's own changes.
   * O(own changes) index lookups.
   */
  private checkUniqueness(): void {
    for (const c of this.schemaConstraints) {
      // Newest first, so that a collision names the node that held the value first.
      const mine = [...this.own.nodeIdsWithLabel(c.label)].sort((a, b) => b - a);
      if (mine.length === 0) continue;
      const rule = this.base.indexFor(c.label, c.property);
      let scanned: Map<string | number, number[]> | null = null;
      const storeIds = (value: PropertyValue, key: string | number): Iterable<number> => {
        if (rule) return this.base.indexSeek(rule, value);
        // The constraint is not in the store yet (created in a transaction not applied yet): scan once.
        if (!scanned) {
          scanned = new Map();
          for (const id of this.base.nodeIdsByLabel(c.label)) {
            const v = this.base.getNode(id)?.properties.get(c.property);
            if (v === undefined) continue;
            const k = indexValueKey(v);
            const list = scanned.get(k);
            if (list) list.push(id);
            else scanned.set(k, [id]);
          }
        }
        return scanned.get(key) ?? [];
      };
      for (const id of mine) {
        const v = this.own.node(id)?.properties.get(c.property);
        if (v === undefined) continue;
        const key = indexValueKey(v);
        let other: number | undefined;
        const consider = (candidate: number) => {
          if (candidate === id || (other !== undefined && candidate >= other)) return;
          // Through the layers: the candidate's newest record must still hold the value.
          const n = this.getNode(candidate);
          const ov = n?.labels.includes(c.label) ? n.properties.get(c.property) : undefined;
          if (ov !== undefined && indexValueKey(ov) === key) other = candidate;
        };
        for (const candidate of storeIds(v, key)) consider(candidate);
        for (const layer of this.stack) for (const candidate of layer.nodeIdsWithValue(c.label, c.property, key)) consider(candidate);
        if (other !== undefined) throw violation(other, c, v);
      }
    }
  }

  /**
   * After-images of what this transaction changed itself. Deletes are idempotent, so every deletion
   * is logged. Built in slices of `commitSliceMs` with the event loop run between them (a million
   * changes take a few hundred ms): the transaction is committing, nothing changes it meanwhile.
   */
  private async buildCommands(): Promise<Command[]> {
    const commands: Command[] = [];
    let deadline = performance.now() + commitSliceMs;
    let sinceClock = 0;
    const due = (): boolean => {
      if (++sinceClock < commitClockEveryEntries) return false;
      sinceClock = 0;
      return performance.now() >= deadline;
    };
    const pause = async (): Promise<void> => {
      await new Promise((resolve) => setImmediate(resolve));
      deadline = performance.now() + commitSliceMs;
    };
    for (const [id, n] of this.own.nodes) {
      if (n) commands.push({ op: 'node.put', id, labels: n.labels, properties: n.properties });
      if (due()) await pause();
    }
    for (const [id, r] of this.own.rels) {
      if (r) commands.push({ op: 'rel.put', id, type: r.type, startId: r.startId, endId: r.endId, properties: r.properties });
      if (due()) await pause();
    }
    for (const [id, r] of this.own.rels) if (r === null) commands.push({ op: 'rel.delete', id });
    for (const [id, n] of this.own.nodes) if (n === null) commands.push({ op: 'node.delete', id });
    for (const c of this.own.schema) commands.push(c);
    return commands;
  }

  async commit(): Promise<{ txId: number }> {
    this.assertOpen();
    this.state = 'committing';
    let commands: Command[];
    try {
      this.checkUniqueness();
      commands = await this.buildCommands();
    } catch (e) {
      this.finish();
      this.sink.abandon();
      throw e;
    }
    this.base.close();
    if (commands.length === 0) {
      this.state = 'closed';
      this.own.releaseMemory();
      this.sink.abandon();
      return { txId: this.sink.lastCommittedTxId() };
    }
    try {
      const committing = this.sink.commit(commands, this.own.freeze());
      // Appended (or failed) and the writer slot released: the change set no longer counts against
      // the limits, although the store applies it a few milliseconds later (transaction-memory.ts).
      this.own.releaseMemory();
      const txId = await committing;
      return { txId };
    } finally {
      this.own.releaseMemory();
      this.state = 'closed';
    }
  }

  rollback(): void {
    if (this.state !== 'open') return;
    this.finish();
    this.sink.abandon();
  }

  private finish(): void {
    this.state = 'closed';
    this.own.releaseMemory();
    this.base.close();
  }
}

/** False only for a number that is certainly outside numeric bounds. */
function numberMayBeInRange(v: PropertyValue, bounds: RangeBounds): boolean {
  const [rank, key] = indexKeyValue(v);
  if (rank !== IndexRank.Number) return true;
  const within = (bound: RangeBounds['lower'], lower: boolean): boolean => {
    if (!bound) return true;
    const [boundRank, boundKey] = indexKeyValue(bound.value);
    if (boundRank !== IndexRank.Number) return true;
    const k = key as number | bigint;
    const b = boundKey as number | bigint;
    // Loose equality: a bigint and a number that are the same value.
    if (k == b) return bound.inclusive;
    return lower ? k > b : k < b;
  };
  return within(bounds.lower, true) && within(bounds.upper, false);
}

function generatedName(kind: string, label: string, property: string): string {
  return `${kind}_${createHash('sha256').update(`${kind}:${label}:${property}`).digest('hex').slice(0, 8)}`;
}

function show(v: PropertyValue): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

function violation(otherId: number, c: ConstraintDescriptor, v: PropertyValue): QuiverError {
  return new QuiverError('ConstraintViolation', `Node(${otherId}) already exists with label \`${c.label}\` and property \`${c.property}\` = ${show(v)}`);
}
