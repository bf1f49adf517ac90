/**
 * A write transaction: a private change set (tx state) layered over a store snapshot. Reads see
 * the transaction's own writes; nothing is visible to others until commit turns the change set
 * into after-image commands, appends them to the log and applies them to the store.
 */
import { createHash } from 'node:crypto';
import type { StoreReader } from '../storage/store-reader.js';
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

/**
 * The changes of one committed transaction, as after-images (null = deleted). Transactions that
 * are committed but not yet applied to the store are layered under every new write transaction,
 * so it sees them although its store snapshot does not.
 */
export interface ChangeSet {
  nodes: Map<number, NodeRecord | null>;
  rels: Map<number, RelRecord | null>;
  schema: Command[];
}

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

export class KernelWriteTx implements WriteTransaction {
  readonly mode = 'write' as const;
  private readonly nodes = new Map<number, NodeRecord | null>();
  private readonly rels = new Map<number, RelRecord | null>();
  private readonly createdRelsByNode = new Map<number, Set<number>>();
  /** Ids this transaction changed itself (the rest of the maps is inherited from pending transactions). */
  private readonly ownNodes = new Set<number>();
  private readonly ownRels = new Set<number>();
  private readonly schemaCommands: Command[] = [];
  private schemaIndexes: IndexDescriptor[];
  private schemaConstraints: ConstraintDescriptor[];
  private state: 'open' | 'committing' | 'closed' = 'open';

  constructor(
    private readonly base: StoreReader,
    private readonly sink: CommitSink,
    inherited: readonly ChangeSet[] = [],
  ) {
    this.schemaIndexes = base.store.indexes().map((r) => ({ name: r.name, label: r.label, property: r.property, unique: r.unique, constraintName: r.constraintName }));
    this.schemaConstraints = base.store.constraints().map((c) => ({ name: c.name, label: c.label, property: c.property, kind: 'UNIQUE' as const, indexName: c.indexName }));
    for (const cs of inherited) this.inherit(cs);
  }

  /** Layers a committed-but-unapplied transaction under this one (in commit order). */
  private inherit(cs: ChangeSet): void {
    for (const [id, n] of cs.nodes) this.nodes.set(id, n);
    for (const [id, r] of cs.rels) {
      this.rels.set(id, r);
      if (r && this.base.getRelationship(id) === undefined) {
        for (const n of [r.startId, r.endId]) {
          let set = this.createdRelsByNode.get(n);
          if (!set) this.createdRelsByNode.set(n, (set = new Set()));
          set.add(id);
        }
      }
    }
    for (const c of cs.schema) {
      if (c.op === 'index.create') this.schemaIndexes.push({ name: c.name, label: c.label, property: c.property, unique: c.unique, constraintName: c.constraintName });
      else if (c.op === 'index.drop') this.schemaIndexes = this.schemaIndexes.filter((i) => i.name !== c.name);
      else if (c.op === 'constraint.create') this.schemaConstraints.push({ name: c.name, label: c.label, property: c.property, kind: 'UNIQUE', indexName: c.indexName });
      else if (c.op === 'constraint.drop') this.schemaConstraints = this.schemaConstraints.filter((x) => x.name !== c.name);
    }
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new QuiverError('TransactionClosed', 'the transaction has been committed or rolled back');
  }

  // ---- reads ----

  getNode(id: number): NodeRecord | undefined {
    const o = this.nodes.get(id);
    if (o !== undefined) return o ?? undefined;
    return this.base.getNode(id);
  }

  getRelationship(id: number): RelRecord | undefined {
    const o = this.rels.get(id);
    if (o !== undefined) return o ?? undefined;
    return this.base.getRelationship(id);
  }

  *allNodeIds(): Iterable<number> {
    for (const id of this.base.allNodeIds()) if (this.nodes.get(id) !== null) yield id;
    const created = [...this.nodes.entries()].filter(([id, n]) => n !== null && this.base.getNode(id) === undefined).map(([id]) => id);
    yield* created.sort((a, b) => a - b);
  }

  *allRelationshipIds(): Iterable<number> {
    for (const id of this.base.allRelationshipIds()) if (this.rels.get(id) !== null) yield id;
    const created = [...this.rels.entries()].filter(([id, r]) => r !== null && this.base.getRelationship(id) === undefined).map(([id]) => id);
    yield* created.sort((a, b) => a - b);
  }

  *nodeIdsByLabel(label: string): Iterable<number> {
    for (const id of this.base.nodeIdsByLabel(label)) if (!this.nodes.has(id)) yield id;
    for (const [id, n] of [...this.nodes]) if (n && n.labels.includes(label)) yield id;
  }

  *relationshipsOf(nodeId: number, direction: Direction, types?: readonly string[]): Iterable<Adjacent> {
    for (const a of this.base.relationshipsOf(nodeId, direction, types)) {
      if (this.rels.get(a.relId) === null) continue;
      yield a;
    }
    const created = this.createdRelsByNode.get(nodeId);
    if (!created) return;
    for (const relId of [...created]) {
      const r = this.rels.get(relId);
      if (!r) continue;
      if (types && types.length > 0 && !types.includes(r.type)) continue;
      if (r.startId === nodeId && direction !== 'in') yield { relId, type: r.type, otherId: r.endId, direction: 'out' };
      if (r.endId === nodeId && direction !== 'out' && !(direction === 'both' && r.startId === nodeId)) {
        yield { relId, type: r.type, otherId: r.startId, direction: 'in' };
      }
    }
  }

  private committedIndex(label: string, property: string): IndexDescriptor | undefined {
    // Only indexes that exist in the store can be read; ones created in this transaction are populated at commit.
    const rule = this.base.store.indexFor(label, property);
    return rule && this.schemaIndexes.some((i) => i.name === rule.name) ? rule : undefined;
  }

  indexSeek(label: string, property: string, value: PropertyValue): Iterable<number> | undefined {
    const rule = this.base.store.indexFor(label, property);
    if (!rule || !this.committedIndex(label, property)) return undefined;
    const key = indexKeyValue(value);
    const self = this;
    return (function* () {
      for (const id of self.base.indexSeek(rule, value)) if (!self.nodes.has(id)) yield id;
      for (const [id, n] of [...self.nodes]) {
        if (!n || !n.labels.includes(label)) continue;
        const v = n.properties.get(property);
        if (v === undefined) continue;
        const k = indexKeyValue(v);
        if (k[0] === key[0] && k[1] === key[1]) yield id;
      }
    })();
  }

  indexRange(label: string, property: string, bounds: RangeBounds): Iterable<number> | undefined {
    const rule = this.base.store.indexFor(label, property);
    if (!rule || !this.committedIndex(label, property)) return undefined;
    const baseIds = this.base.indexRange(rule, bounds);
    if (!baseIds) return undefined;
    const self = this;
    return (function* () {
      for (const id of baseIds) if (!self.nodes.has(id)) yield id;
      // Changed nodes are offered as candidates (callers re-check the predicate); numbers outside the
      // bounds are left out, as the store's index leaves them out.
      for (const [id, n] of [...self.nodes]) {
        const v = n && n.labels.includes(label) ? n.properties.get(property) : undefined;
        if (v !== undefined && numberMayBeInRange(v, bounds)) yield id;
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
    if (label === undefined) {
      let n = this.base.countNodes();
      for (const [id, rec] of this.nodes) {
        const inBase = this.base.getNode(id) !== undefined;
        if (rec && !inBase) n++;
        if (!rec && inBase) n--;
      }
      return n;
    }
    let n = this.base.countNodes(label);
    for (const [id, rec] of this.nodes) {
      const before = this.base.getNode(id)?.labels.includes(label) ?? false;
      const after = rec?.labels.includes(label) ?? false;
      if (after && !before) n++;
      if (before && !after) n--;
    }
    return n;
  }

  labels(): string[] {
    const s = new Set(this.base.store.tokenNamesOf('L'));
    for (const n of this.nodes.values()) if (n) for (const l of n.labels) s.add(l);
    return [...s];
  }

  relationshipTypes(): string[] {
    const s = new Set(this.base.store.tokenNamesOf('T'));
    for (const r of this.rels.values()) if (r) s.add(r.type);
    return [...s];
  }

  propertyKeys(): string[] {
    const s = new Set(this.base.store.tokenNamesOf('P'));
    for (const n of this.nodes.values()) if (n) for (const k of n.properties.keys()) s.add(k);
    for (const r of this.rels.values()) if (r) for (const k of r.properties.keys()) s.add(k);
    return [...s];
  }

  // ---- writes ----

  private mutableNode(id: number): NodeRecord {
    this.assertOpen();
    const o = this.nodes.get(id);
    if (o && this.ownNodes.has(id)) return o;
    // Copy on write: inherited records belong to pending transactions and must not change.
    const n = o === null ? undefined : (o ?? this.base.getNode(id));
    if (!n) throw new QuiverError('NotFound', `node ${id} does not exist (it may have been deleted)`);
    const copy: NodeRecord = { id, labels: [...n.labels], properties: new Map(n.properties) };
    this.nodes.set(id, copy);
    this.ownNodes.add(id);
    return copy;
  }

  private mutableRel(id: number): RelRecord {
    this.assertOpen();
    const o = this.rels.get(id);
    if (o && this.ownRels.has(id)) return o;
    const r = o === null ? undefined : (o ?? this.base.getRelationship(id));
    if (!r) throw new QuiverError('NotFound', `relationship ${id} does not exist (it may have been deleted)`);
    const copy: RelRecord = { ...r, properties: new Map(r.properties) };
    this.rels.set(id, copy);
    this.ownRels.add(id);
    return copy;
  }

  createNode(labels: readonly string[], properties: Properties): number {
    this.assertOpen();
    const id = this.sink.allocateNodeId();
    this.nodes.set(id, { id, labels: [...new Set(labels)], properties: new Map(properties) });
    this.ownNodes.add(id);
    return id;
  }

  setNodeProperty(id: number, key: string, value: PropertyValue | null): void {
    const n = this.mutableNode(id);
    if (value === null) n.properties.delete(key);
    else n.properties.set(key, value);
  }

  replaceNodeProperties(id: number, properties: Properties): void {
    this.mutableNode(id).properties = new Map(properties);
  }

  addLabels(id: number, labels: readonly string[]): void {
    const n = this.mutableNode(id);
    for (const l of labels) if (!n.labels.includes(l)) n.labels.push(l);
  }

  removeLabels(id: number, labels: readonly string[]): void {
    const n = this.mutableNode(id);
    n.labels = n.labels.filter((l) => !labels.includes(l));
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
    this.nodes.set(id, null);
    this.ownNodes.add(id);
  }

  createRelationship(type: string, startId: number, endId: number, properties: Properties): number {
    this.assertOpen();
    for (const n of [startId, endId]) {
      if (!this.getNode(n)) throw new QuiverError('NotFound', `cannot create a relationship to node ${n}: it does not exist (it may have been deleted)`);
    }
    const id = this.sink.allocateRelId();
    this.rels.set(id, { id, type, startId, endId, properties: new Map(properties) });
    this.ownRels.add(id);
    for (const n of [startId, endId]) {
      let s = this.createdRelsByNode.get(n);
      if (!s) this.createdRelsByNode.set(n, (s = new Set()));
      s.add(id);
    }
    return id;
  }

  setRelationshipProperty(id: number, key: string, value: PropertyValue | null): void {
    const r = this.mutableRel(id);
    if (value === null) r.properties.delete(key);
    else r.properties.set(key, value);
  }

  replaceRelationshipProperties(id: number, properties: Properties): void {
    this.mutableRel(id).properties = new Map(properties);
  }

  deleteRelationship(id: number): void {
    const r = this.mutableRel(id);
    this.createdRelsByNode.get(r.startId)?.delete(id);
    this.createdRelsByNode.get(r.endId)?.delete(id);
    this.rels.set(id, null);
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
    this.schemaCommands.push({ op: 'index.create', name: indexName, label, property, unique: false, constraintName: null });
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
    this.schemaCommands.push({ op: 'index.drop', name });
  }

  createUniqueConstraint(name: string | null, label: string, property: string, ifNotExists: boolean): void {
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
    }
    this.schemaIndexes.push({ name: cname, label, property, unique: true, constraintName: cname });
    this.schemaConstraints.push({ name: cname, label, property, kind: 'UNIQUE', indexName: cname });
    this.schemaCommands.push({ op: 'index.create', name: cname, label, property, unique: true, constraintName: cname });
    this.schemaCommands.push({ op: 'constraint.create', name: cname, label, property, indexName: cname });
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
    this.schemaCommands.push({ op: 'constraint.drop', name });
    this.schemaCommands.push({ op: 'index.drop', name: c.indexName });
  }

  // ---- commit ----

  private checkUniqueness(): void {
    for (const c of this.schemaConstraints) {
      const claimed = new Map<string, number>();
      for (const [id, n] of this.nodes) {
        if (!n || !n.labels.includes(c.label)) continue;
        const v = n.properties.get(c.property);
        if (v === undefined) continue;
        const k = indexKeyValue(v).join('\u0000');
        const other = claimed.get(k);
        if (other !== undefined) throw violation(other, c, v);
        claimed.set(k, id);
        const rule = this.base.store.indexFor(c.label, c.property);
        if (!rule) continue; // constraint created in this transaction: checked at creation
        for (const otherId of this.base.indexSeek(rule, v)) {
          if (otherId === id) continue;
          const o = this.getNode(otherId); // through tx state: it may have changed
          const ov = o?.labels.includes(c.label) ? o.properties.get(c.property) : undefined;
          if (ov !== undefined && indexKeyValue(ov).join('\u0000') === k) throw violation(otherId, c, v);
        }
      }
    }
  }

  /** After-images of what this transaction changed itself. Deletes are idempotent, so every deletion is logged. */
  private buildCommands(): Command[] {
    const commands: Command[] = [];
    for (const id of this.ownNodes) {
      const n = this.nodes.get(id);
      if (n) commands.push({ op: 'node.put', id, labels: n.labels, properties: n.properties });
    }
    for (const id of this.ownRels) {
      const r = this.rels.get(id);
      if (r) commands.push({ op: 'rel.put', id, type: r.type, startId: r.startId, endId: r.endId, properties: r.properties });
    }
    for (const id of this.ownRels) if (this.rels.get(id) === null) commands.push({ op: 'rel.delete', id });
    for (const id of this.ownNodes) if (this.nodes.get(id) === null) commands.push({ op: 'node.delete', id });
    commands.push(...this.schemaCommands);
    return commands;
  }

  private ownChanges(): ChangeSet {
    const nodes = new Map<number, NodeRecord | null>();
    const rels = new Map<number, RelRecord | null>();
    for (const id of this.ownNodes) nodes.set(id, this.nodes.get(id) ?? null);
    for (const id of this.ownRels) rels.set(id, this.rels.get(id) ?? null);
    return { nodes, rels, schema: [...this.schemaCommands] };
  }

  async commit(): Promise<{ txId: number }> {
    this.assertOpen();
    this.state = 'committing';
    let commands: Command[];
    try {
      this.checkUniqueness();
      commands = this.buildCommands();
    } catch (e) {
      this.finish();
      this.sink.abandon();
      throw e;
    }
    this.base.close();
    if (commands.length === 0) {
      this.state = 'closed';
      this.sink.abandon();
      return { txId: this.sink.lastCommittedTxId() };
    }
    try {
      const txId = await this.sink.commit(commands, this.ownChanges());
      return { txId };
    } finally {
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
