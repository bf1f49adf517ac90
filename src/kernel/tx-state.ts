/**
 * Tx state: the changes of one write transaction, kept with the indexes its own reads need, so that
 * a transaction of a million writes still looks up each of them in O(1): records by id, node ids
 * by label, node ids by (label, property, value) for the property indexes statements seek, the
 * relationships it created by node, and how it changed the node counts.
 *
 * Once committed a tx state is frozen and becomes a change layer: transactions begun before the
 * store applied it read it as a layer over their store snapshot. A frozen tx state never changes
 * again, except for property-value indexes built on first use, which every reader shares.
 */
import { IndexRank, indexKeyValue } from '../storage/records.js';
import type { Command } from '../txlog/commands.js';
import type { Properties, PropertyValue } from '../values/value.js';
import type { NodeRecord, RelRecord } from './api.js';
import { indexEntryBytes, nodeRecordBytes, propertiesBytes, propertyBytes, relRecordBytes, type TransactionMemoryTracker } from './transaction-memory.js';

/**
 * Equality key of a property value in an index: two values share a key exactly when the store's
 * index gives them the same key (so 1 and 1.0 match, as in Cypher; a bigint too large for a float
 * keeps its own key).
 */
export function indexValueKey(v: PropertyValue): string | number {
  const [rank, key] = indexKeyValue(v);
  // A number is its own key (no string per node: an import's keys are mostly numbers); every other
  // key is a string, so the two never collide.
  if (rank === IndexRank.Number && typeof key === 'number') return key;
  return typeof key === 'bigint' ? `${rank}:b${key}` : `${rank}:${key}`;
}

/**
 * Ids of the nodes in one change layer with one (label, property) value: the layer's part of an
 * index. Most values belong to one node (an import's keys): kept as the bare id until a second
 * node shares the value, which saves a Set per node.
 */
interface ValueIndex {
  label: string;
  property: string;
  ids: Map<string | number, number | Set<number>>;
}

/** The empty result of a lookup that finds nothing (never mutated). */
const none: readonly number[] = [];

export class TxState {
  /** After-images: null = deleted in this transaction. */
  readonly nodes = new Map<number, NodeRecord | null>();
  readonly rels = new Map<number, RelRecord | null>();
  readonly schema: Command[] = [];
  /** In creation order, which is id order: ids are allocated monotonically. */
  private readonly createdNodes: number[] = [];
  private readonly createdRels: number[] = [];
  private readonly createdRelsByNode = new Map<number, number[]>();
  /** Nodes whose record here carries the label. */
  private readonly byLabel = new Map<string, Set<number>>();
  /** Built on first use per (label, property), then kept up to date by every change. */
  private readonly byValue = new Map<string, ValueIndex>();
  private nodeCountDelta_ = 0;
  private readonly labelCountDelta = new Map<string, number>();
  /** Token names used here (token names stay known once used, as the store's tokens do). */
  readonly labelNames = new Set<string>();
  readonly relTypeNames = new Set<string>();
  readonly propertyKeyNames = new Set<string>();
  private frozen = false;

  constructor(private readonly memory: TransactionMemoryTracker | null = null) {}

  /** Merges consecutive committed layers (oldest first) into one frozen layer that reads the same. */
  static merge(layers: readonly TxState[]): TxState {
    const m = new TxState();
    for (const l of layers) {
      for (const [id, n] of l.nodes) m.nodes.set(id, n);
      for (const [id, r] of l.rels) m.rels.set(id, r);
      for (const id of l.createdNodes) m.createdNodes.push(id);
      for (const id of l.createdRels) m.createdRels.push(id);
      for (const [node, rels] of l.createdRelsByNode) {
        const list = m.createdRelsByNode.get(node);
        if (!list) m.createdRelsByNode.set(node, rels.slice());
        else for (const id of rels) list.push(id);
      }
      m.nodeCountDelta_ += l.nodeCountDelta_;
      for (const [label, d] of l.labelCountDelta) m.labelCountDelta.set(label, (m.labelCountDelta.get(label) ?? 0) + d);
      for (const s of l.labelNames) m.labelNames.add(s);
      for (const s of l.relTypeNames) m.relTypeNames.add(s);
      for (const s of l.propertyKeyNames) m.propertyKeyNames.add(s);
      for (const c of l.schema) m.schema.push(c);
    }
    for (const [id, n] of m.nodes) if (n) for (const label of n.labels) m.labelSet(label).add(id);
    m.frozen = true;
    return m;
  }

  /** Ends the changes: the state is now a layer others read. */
  freeze(): this {
    this.frozen = true;
    return this;
  }

  /** Gives this transaction's bytes back to the database's pool (rolled back or committed). Idempotent. */
  releaseMemory(): void {
    this.memory?.releaseAll();
  }

  get entryCount(): number {
    return this.nodes.size + this.rels.size;
  }

  get isEmpty(): boolean {
    return this.nodes.size === 0 && this.rels.size === 0 && this.schema.length === 0;
  }

  // ---- reads (a change layer) ----

  /** The record here; null when deleted here; undefined when this layer did not change it. */
  node(id: number): NodeRecord | null | undefined {
    return this.nodes.get(id);
  }

  rel(id: number): RelRecord | null | undefined {
    return this.rels.get(id);
  }

  /** Nodes whose record here carries `label`: a copy, so callers may write while they iterate. */
  nodeIdsWithLabel(label: string): readonly number[] {
    const s = this.byLabel.get(label);
    return s && s.size > 0 ? [...s] : none;
  }

  /** Nodes whose record here carries `label` and a `property` value with index key `valueKey` (indexValueKey). */
  nodeIdsWithValue(label: string, property: string, valueKey: string | number): readonly number[] {
    if (!this.byLabel.get(label)?.size) return none;
    const s = this.valueIndex(label, property).ids.get(valueKey);
    return s === undefined ? none : typeof s === 'number' ? [s] : [...s];
  }

  /** Created here, in id order (a copy). Some may be deleted again: read their record. */
  createdNodeIds(): readonly number[] {
    return this.createdNodes.length ? this.createdNodes.slice() : none;
  }

  createdRelIds(): readonly number[] {
    return this.createdRels.length ? this.createdRels.slice() : none;
  }

  /** Relationships created here that start or end at `nodeId` (a copy). */
  createdRelIdsOf(nodeId: number): readonly number[] {
    const list = this.createdRelsByNode.get(nodeId);
    return list ? list.slice() : none;
  }

  /** How this layer changed the count of nodes (with `label`, when given). */
  countDelta(label?: string): number {
    return label === undefined ? this.nodeCountDelta_ : (this.labelCountDelta.get(label) ?? 0);
  }

  /** One array per distinct label list among the nodes created here (an import creates millions alike). */
  private readonly labelLists = new Map<string, string[]>();

  private sharedLabels(labels: readonly string[]): string[] {
    const key = JSON.stringify(labels);
    let list = this.labelLists.get(key);
    if (!list) this.labelLists.set(key, (list = labels.length < 2 ? [...labels] : [...new Set(labels)]));
    return list;
  }

  private labelSet(label: string): Set<number> {
    let s = this.byLabel.get(label);
    if (!s) this.byLabel.set(label, (s = new Set()));
    return s;
  }

  private valueIndex(label: string, property: string): ValueIndex {
    const pair = `${label}\u0000${property}`;
    let index = this.byValue.get(pair);
    if (!index) {
      index = { label, property, ids: new Map() };
      for (const id of this.byLabel.get(label) ?? []) {
        const v = this.nodes.get(id)?.properties.get(property);
        if (v !== undefined) addTo(index.ids, indexValueKey(v), id);
      }
      this.byValue.set(pair, index);
    }
    return index;
  }

  // ---- changes (each charged to the memory tracker before it is made) ----

  private assertOpen(): void {
    if (this.frozen) throw new Error('assertion: a committed change set was changed');
  }

  private charge(deltaBytes: number): void {
    this.memory?.charge(deltaBytes);
  }

  /** A node of this transaction's own, never null: the caller checked (assertion otherwise). */
  private own(id: number): NodeRecord {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`assertion: node ${id} is not in the transaction's changes`);
    return n;
  }

  private ownRel(id: number): RelRecord {
    const r = this.rels.get(id);
    if (!r) throw new Error(`assertion: relationship ${id} is not in the transaction's changes`);
    return r;
  }

  /** Adds `n` to the value indexes (of `property` only, when given). */
  private addValues(n: NodeRecord, property?: string): void {
    for (const index of this.byValue.values()) {
      if (property !== undefined && index.property !== property) continue;
      if (!n.labels.includes(index.label)) continue;
      const v = n.properties.get(index.property);
      if (v !== undefined) addTo(index.ids, indexValueKey(v), n.id);
    }
  }

  private removeValues(n: NodeRecord, property?: string): void {
    for (const index of this.byValue.values()) {
      if (property !== undefined && index.property !== property) continue;
      if (!n.labels.includes(index.label)) continue;
      const v = n.properties.get(index.property);
      if (v !== undefined) removeFrom(index.ids, indexValueKey(v), n.id);
    }
  }

  private countLabels(labels: readonly string[], by: number): void {
    for (const l of labels) this.labelCountDelta.set(l, (this.labelCountDelta.get(l) ?? 0) + by);
  }

  createNode(id: number, labels: readonly string[], properties: Properties): NodeRecord {
    this.assertOpen();
    const unique = this.sharedLabels(labels);
    this.charge(nodeRecordBytes(unique, properties) + indexEntryBytes);
    const n: NodeRecord = { id, labels: unique, properties: new Map(properties) };
    this.nodes.set(id, n);
    this.createdNodes.push(id);
    for (const l of unique) {
      this.labelSet(l).add(id);
      this.labelNames.add(l);
    }
    for (const k of properties.keys()) this.propertyKeyNames.add(k);
    this.addValues(n);
    this.nodeCountDelta_++;
    this.countLabels(unique, 1);
    return n;
  }

  /** Takes a copy of a record from below (a committed layer or the store) to change it here. */
  adoptNode(from: NodeRecord): NodeRecord {
    this.assertOpen();
    this.charge(nodeRecordBytes(from.labels, from.properties));
    const n: NodeRecord = { id: from.id, labels: [...from.labels], properties: new Map(from.properties) };
    this.nodes.set(n.id, n);
    for (const l of n.labels) this.labelSet(l).add(n.id);
    this.addValues(n);
    return n;
  }

  setNodeProperty(id: number, key: string, value: PropertyValue | null): void {
    this.assertOpen();
    const n = this.own(id);
    const old = n.properties.get(key);
    this.charge((value === null ? 0 : propertyBytes(value)) - (old === undefined ? 0 : propertyBytes(old)));
    // Only the indexes of this property can change.
    this.removeValues(n, key);
    if (value === null) n.properties.delete(key);
    else {
      n.properties.set(key, value);
      this.propertyKeyNames.add(key);
    }
    this.addValues(n, key);
  }

  replaceNodeProperties(id: number, properties: Properties): void {
    this.assertOpen();
    const n = this.own(id);
    this.charge(propertiesBytes(properties) - propertiesBytes(n.properties));
    this.removeValues(n);
    n.properties = new Map(properties);
    for (const k of properties.keys()) this.propertyKeyNames.add(k);
    this.addValues(n);
  }

  addLabels(id: number, labels: readonly string[]): void {
    this.assertOpen();
    const n = this.own(id);
    const added = [...new Set(labels)].filter((l) => !n.labels.includes(l));
    if (added.length === 0) return;
    this.charge(2 * indexEntryBytes * added.length);
    this.removeValues(n);
    // A new array: label arrays are shared between records (sharedLabels), never changed in place.
    n.labels = [...n.labels, ...added];
    for (const l of added) {
      this.labelSet(l).add(id);
      this.labelNames.add(l);
    }
    this.countLabels(added, 1);
    this.addValues(n);
  }

  removeLabels(id: number, labels: readonly string[]): void {
    this.assertOpen();
    const n = this.own(id);
    const removed = n.labels.filter((l) => labels.includes(l));
    if (removed.length === 0) return;
    this.charge(-2 * indexEntryBytes * removed.length);
    this.removeValues(n);
    n.labels = n.labels.filter((l) => !labels.includes(l));
    for (const l of removed) this.byLabel.get(l)?.delete(id);
    this.countLabels(removed, -1);
    this.addValues(n);
  }

  /** Marks an adopted or created node deleted (its relationships are the caller's business). */
  deleteNode(id: number): void {
    this.assertOpen();
    const n = this.own(id);
    this.charge(-(2 * indexEntryBytes * n.labels.length + propertiesBytes(n.properties)));
    this.removeValues(n);
    for (const l of n.labels) this.byLabel.get(l)?.delete(id);
    this.countLabels(n.labels, -1);
    this.nodeCountDelta_--;
    this.nodes.set(id, null);
  }

  createRel(id: number, type: string, startId: number, endId: number, properties: Properties): RelRecord {
    this.assertOpen();
    this.charge(relRecordBytes(properties) + (startId === endId ? 2 : 3) * indexEntryBytes);
    const r: RelRecord = { id, type, startId, endId, properties: new Map(properties) };
    this.rels.set(id, r);
    this.createdRels.push(id);
    for (const n of startId === endId ? [startId] : [startId, endId]) {
      const list = this.createdRelsByNode.get(n);
      if (list) list.push(id);
      else this.createdRelsByNode.set(n, [id]);
    }
    this.relTypeNames.add(type);
    for (const k of properties.keys()) this.propertyKeyNames.add(k);
    return r;
  }

  adoptRel(from: RelRecord): RelRecord {
    this.assertOpen();
    this.charge(relRecordBytes(from.properties));
    const r: RelRecord = { ...from, properties: new Map(from.properties) };
    this.rels.set(r.id, r);
    return r;
  }

  setRelProperty(id: number, key: string, value: PropertyValue | null): void {
    this.assertOpen();
    const r = this.ownRel(id);
    const old = r.properties.get(key);
    this.charge((value === null ? 0 : propertyBytes(value)) - (old === undefined ? 0 : propertyBytes(old)));
    if (value === null) r.properties.delete(key);
    else {
      r.properties.set(key, value);
      this.propertyKeyNames.add(key);
    }
  }

  replaceRelProperties(id: number, properties: Properties): void {
    this.assertOpen();
    const r = this.ownRel(id);
    this.charge(propertiesBytes(properties) - propertiesBytes(r.properties));
    r.properties = new Map(properties);
    for (const k of properties.keys()) this.propertyKeyNames.add(k);
  }

  deleteRel(id: number): void {
    this.assertOpen();
    const r = this.ownRel(id);
    this.charge(-propertiesBytes(r.properties));
    this.rels.set(id, null);
  }

  addSchemaCommand(c: Command): void {
    this.assertOpen();
    this.schema.push(c);
  }
}

function addTo(map: Map<string | number, number | Set<number>>, key: string | number, id: number): void {
  const s = map.get(key);
  if (s === undefined) map.set(key, id);
  else if (typeof s === 'number') {
    if (s !== id) map.set(key, new Set([s, id]));
  } else s.add(id);
}

function removeFrom(map: Map<string | number, number | Set<number>>, key: string | number, id: number): void {
  const s = map.get(key);
  if (s === undefined) return;
  if (typeof s === 'number') {
    if (s === id) map.delete(key);
    return;
  }
  s.delete(id);
  if (s.size === 0) map.delete(key);
}
