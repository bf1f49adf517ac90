/**
 * The secure graph: a decorator around a kernel transaction that applies one user's privileges on
 * one database. Reads are filtered (a node the user may not traverse does not exist for them: not
 * in scans, label scans, index seeks, expansions or counts; a property they may not read is
 * absent, so it reads as null); writes are checked per operation and refused with Forbidden,
 * except that a user every element write is allowed to (DatabasePermissions.fullWrite, decided once
 * per compiled permissions) skips the per-element decisions, and token names seen to exist are
 * remembered for the transaction.
 */
import type {
  Adjacent,
  ConstraintDescriptor,
  Direction,
  GraphRead,
  GraphWrite,
  IndexDescriptor,
  NodeRecord,
  RangeBounds,
  RelRecord,
} from '../kernel/api.js';
import type { Properties, PropertyValue } from '../values/value.js';
import type { DatabasePermissions } from './permissions.js';

function* filterIds(ids: Iterable<number>, keep: (id: number) => boolean): Iterable<number> {
  for (const id of ids) if (keep(id)) yield id;
}

class SecureGraphRead implements GraphRead {
  constructor(
    protected readonly inner: GraphRead,
    protected readonly perms: DatabasePermissions,
  ) {}

  protected nodeVisible = (id: number): boolean => {
    const r = this.inner.getNode(id);
    return r !== undefined && this.perms.canTraverseNode(r.labels);
  };

  protected relVisible = (id: number): boolean => this.getRelationship(id) !== undefined;

  getNode(id: number): NodeRecord | undefined {
    const r = this.inner.getNode(id);
    if (!r || this.perms.fullRead) return r;
    if (!this.perms.canTraverseNode(r.labels)) return undefined;
    let hidden = false;
    for (const k of r.properties.keys()) if (!this.perms.canReadNodeProperty(r.labels, k)) hidden = true;
    if (!hidden) return r;
    const properties: Properties = new Map();
    for (const [k, v] of r.properties) if (this.perms.canReadNodeProperty(r.labels, k)) properties.set(k, v);
    return { ...r, properties };
  }

  getRelationship(id: number): RelRecord | undefined {
    const r = this.inner.getRelationship(id);
    if (!r || this.perms.fullRead) return r;
    if (!this.perms.canTraverseRelationship(r.type) || !this.nodeVisible(r.startId) || !this.nodeVisible(r.endId)) return undefined;
    let hidden = false;
    for (const k of r.properties.keys()) if (!this.perms.canReadRelationshipProperty(r.type, k)) hidden = true;
    if (!hidden) return r;
    const properties: Properties = new Map();
    for (const [k, v] of r.properties) if (this.perms.canReadRelationshipProperty(r.type, k)) properties.set(k, v);
    return { ...r, properties };
  }

  allNodeIds(): Iterable<number> {
    return this.perms.fullRead ? this.inner.allNodeIds() : filterIds(this.inner.allNodeIds(), this.nodeVisible);
  }

  allRelationshipIds(): Iterable<number> {
    return this.perms.fullRead ? this.inner.allRelationshipIds() : filterIds(this.inner.allRelationshipIds(), this.relVisible);
  }

  nodeIdsByLabel(label: string): Iterable<number> {
    return this.perms.fullRead ? this.inner.nodeIdsByLabel(label) : filterIds(this.inner.nodeIdsByLabel(label), this.nodeVisible);
  }

  relationshipsOf(nodeId: number, direction: Direction, types?: readonly string[]): Iterable<Adjacent> {
    const all = this.inner.relationshipsOf(nodeId, direction, types);
    if (this.perms.fullRead) return all;
    const perms = this.perms;
    const nodeVisible = this.nodeVisible;
    return (function* () {
      for (const a of all) if (perms.canTraverseRelationship(a.type) && nodeVisible(a.otherId)) yield a;
    })();
  }

  /** Index lookups must not find a node through a property the user may not read. */
  private seekable(property: string): (id: number) => boolean {
    return (id) => {
      const r = this.inner.getNode(id);
      return r !== undefined && this.perms.canTraverseNode(r.labels) && this.perms.canReadNodeProperty(r.labels, property);
    };
  }

  indexSeek(label: string, property: string, value: PropertyValue): Iterable<number> | undefined {
    const ids = this.inner.indexSeek(label, property, value);
    return ids === undefined || this.perms.fullRead ? ids : filterIds(ids, this.seekable(property));
  }

  indexRange(label: string, property: string, bounds: RangeBounds): Iterable<number> | undefined {
    const ids = this.inner.indexRange(label, property, bounds);
    return ids === undefined || this.perms.fullRead ? ids : filterIds(ids, this.seekable(property));
  }

  indexes(): IndexDescriptor[] {
    return this.inner.indexes();
  }

  constraints(): ConstraintDescriptor[] {
    return this.inner.constraints();
  }

  countNodes(label?: string): number {
    if (this.perms.fullRead) return this.inner.countNodes(label);
    let n = 0;
    for (const _ of label === undefined ? this.allNodeIds() : this.nodeIdsByLabel(label)) n++;
    return n;
  }

  labels(): string[] {
    const all = this.inner.labels();
    return this.perms.fullRead ? all : all.filter((l) => this.perms.canTraverseNode([l]));
  }

  relationshipTypes(): string[] {
    const all = this.inner.relationshipTypes();
    return this.perms.fullRead ? all : all.filter((t) => this.perms.canTraverseRelationship(t));
  }

  propertyKeys(): string[] {
    return this.inner.propertyKeys();
  }
}

const quoteLabels = (labels: readonly string[]): string => `'${labels.join(':')}'`;

class SecureGraphWrite extends SecureGraphRead implements GraphWrite {
  /**
   * Token names this transaction has seen exist (a token, once created, is never removed), so that
   * only a name not seen yet asks the transaction for its tokens again; NAME MANAGEMENT decided once.
   */
  private readonly knownTokens = { label: new Set<string>(), type: new Set<string>(), property: new Set<string>() };
  private readonly mayCreate: { label: boolean; type: boolean; property: boolean };

  constructor(
    private readonly writer: GraphWrite,
    perms: DatabasePermissions,
  ) {
    super(writer, perms);
    this.mayCreate = { label: perms.allows('create_label'), type: perms.allows('create_reltype'), property: perms.allows('create_propertykey') };
  }

  // ------------------------------------------------------------ names (NAME MANAGEMENT)

  /** Whether `name` is an existing token of `kind`; refreshes the known names from the transaction once per miss. */
  private tokenExists(kind: 'label' | 'type' | 'property', name: string): boolean {
    const known = this.knownTokens[kind];
    if (known.has(name)) return true;
    const names = kind === 'label' ? this.writer.labels() : kind === 'type' ? this.writer.relationshipTypes() : this.writer.propertyKeys();
    for (const n of names) known.add(n);
    return known.has(name);
  }

  private requireLabelTokens(labels: readonly string[]): void {
    if (this.mayCreate.label) return;
    for (const l of labels) if (!this.tokenExists('label', l)) throw this.perms.forbidden(`Create new node label '${l}'`);
  }

  private requireTypeToken(type: string): void {
    if (!this.mayCreate.type && !this.tokenExists('type', type)) throw this.perms.forbidden(`Create new relationship type '${type}'`);
  }

  private requirePropertyTokens(keys: Iterable<string>): void {
    if (this.mayCreate.property) return;
    for (const k of keys) if (!this.tokenExists('property', k)) throw this.perms.forbidden(`Create new property name '${k}'`);
  }

  // ------------------------------------------------------------ element checks

  private nodeLabels(id: number): string[] {
    return this.writer.getNode(id)?.labels ?? [];
  }

  private relType(id: number): string {
    return this.writer.getRelationship(id)?.type ?? '';
  }

  private requireNodeProperties(labels: readonly string[], keys: Iterable<string>): void {
    if (this.perms.fullWrite) return;
    for (const k of keys) {
      if (!this.perms.allowsOnNode('set_property', labels, { property: k })) throw this.perms.forbidden(`Set property for property '${k}'`);
    }
  }

  private requireRelProperties(type: string, keys: Iterable<string>): void {
    if (this.perms.fullWrite) return;
    for (const k of keys) {
      if (!this.perms.allowsOnRelationship('set_property', type, { property: k })) throw this.perms.forbidden(`Set property for property '${k}'`);
    }
  }

  createNode(labels: readonly string[], properties: Properties): number {
    if (!this.perms.allowsOnNode('create_element', labels)) throw this.perms.forbidden(`Create node with labels ${quoteLabels(labels)}`);
    this.requireNodeProperties(labels, properties.keys());
    this.requireLabelTokens(labels);
    this.requirePropertyTokens(properties.keys());
    return this.writer.createNode(labels, properties);
  }

  setNodeProperty(id: number, key: string, value: PropertyValue | null): void {
    if (!this.perms.fullWrite) this.requireNodeProperties(this.nodeLabels(id), [key]);
    if (value !== null) this.requirePropertyTokens([key]);
    this.writer.setNodeProperty(id, key, value);
  }

  replaceNodeProperties(id: number, properties: Properties): void {
    if (this.perms.fullWrite) {
      this.requirePropertyTokens(properties.keys());
      this.writer.replaceNodeProperties(id, properties);
      return;
    }
    const before = this.writer.getNode(id)?.properties ?? new Map();
    this.requireNodeProperties(this.nodeLabels(id), new Set([...before.keys(), ...properties.keys()]));
    this.requirePropertyTokens(properties.keys());
    this.writer.replaceNodeProperties(id, properties);
  }

  addLabels(id: number, labels: readonly string[]): void {
    const current = this.nodeLabels(id);
    for (const l of labels) {
      if (!this.perms.allowsOnNode('set_label', current, { label: l })) throw this.perms.forbidden(`Set label for label '${l}'`);
    }
    this.requireLabelTokens(labels);
    this.writer.addLabels(id, labels);
  }

  removeLabels(id: number, labels: readonly string[]): void {
    const current = this.nodeLabels(id);
    for (const l of labels) {
      if (!this.perms.allowsOnNode('remove_label', current, { label: l })) throw this.perms.forbidden(`Remove label for label '${l}'`);
    }
    this.writer.removeLabels(id, labels);
  }

  deleteNode(id: number, detach: boolean): void {
    const labels = this.nodeLabels(id);
    if (!this.perms.allowsOnNode('delete_element', labels)) throw this.perms.forbidden(`Delete node with labels ${quoteLabels(labels)}`);
    if (detach) {
      // Relationships the user cannot see or delete keep the node alive, as in Neo4j.
      for (const a of this.writer.relationshipsOf(id, 'both')) {
        if (!this.perms.allowsOnRelationship('delete_element', a.type)) throw this.perms.forbidden(`Delete relationship with type '${a.type}'`);
      }
    }
    this.writer.deleteNode(id, detach);
  }

  createRelationship(type: string, startId: number, endId: number, properties: Properties): number {
    if (!this.perms.allowsOnRelationship('create_element', type)) throw this.perms.forbidden(`Create relationship with type '${type}'`);
    this.requireRelProperties(type, properties.keys());
    this.requireTypeToken(type);
    this.requirePropertyTokens(properties.keys());
    return this.writer.createRelationship(type, startId, endId, properties);
  }

  setRelationshipProperty(id: number, key: string, value: PropertyValue | null): void {
    if (!this.perms.fullWrite) this.requireRelProperties(this.relType(id), [key]);
    if (value !== null) this.requirePropertyTokens([key]);
    this.writer.setRelationshipProperty(id, key, value);
  }

  replaceRelationshipProperties(id: number, properties: Properties): void {
    if (this.perms.fullWrite) {
      this.requirePropertyTokens(properties.keys());
      this.writer.replaceRelationshipProperties(id, properties);
      return;
    }
    const before = this.writer.getRelationship(id)?.properties ?? new Map();
    this.requireRelProperties(this.relType(id), new Set([...before.keys(), ...properties.keys()]));
    this.requirePropertyTokens(properties.keys());
    this.writer.replaceRelationshipProperties(id, properties);
  }

  deleteRelationship(id: number): void {
    const type = this.relType(id);
    if (!this.perms.allowsOnRelationship('delete_element', type)) throw this.perms.forbidden(`Delete relationship with type '${type}'`);
    this.writer.deleteRelationship(id);
  }

  private requireSchema(action: string, what: string): void {
    if (!this.perms.allows(action)) throw this.perms.forbidden(`Schema operation '${what}'`);
  }

  createIndex(name: string | null, label: string, property: string, ifNotExists: boolean): void {
    this.requireSchema('create_index', 'create index');
    this.writer.createIndex(name, label, property, ifNotExists);
  }

  dropIndex(name: string, ifExists: boolean): void {
    this.requireSchema('drop_index', 'drop index');
    this.writer.dropIndex(name, ifExists);
  }

  createUniqueConstraint(name: string | null, label: string, property: string, ifNotExists: boolean): void {
    this.requireSchema('create_constraint', 'create constraint');
    this.writer.createUniqueConstraint(name, label, property, ifNotExists);
  }

  uniqueConstraintSteps(name: string | null, label: string, property: string, ifNotExists: boolean): Iterable<void> {
    this.requireSchema('create_constraint', 'create constraint');
    return this.writer.uniqueConstraintSteps(name, label, property, ifNotExists);
  }

  dropConstraint(name: string, ifExists: boolean): void {
    this.requireSchema('drop_constraint', 'drop constraint');
    this.writer.dropConstraint(name, ifExists);
  }
}

function isWritable(g: GraphRead | GraphWrite): g is GraphWrite {
  return typeof (g as Partial<GraphWrite>).createNode === 'function';
}

/**
 * Wraps a kernel transaction (or any GraphRead/GraphWrite) so that it applies `perms`. The result
 * is writable exactly when `inner` is, so Cypher's read/write detection keeps working.
 */
export function secureGraph(inner: GraphRead | GraphWrite, perms: DatabasePermissions): GraphRead | GraphWrite {
  return isWritable(inner) ? new SecureGraphWrite(inner, perms) : new SecureGraphRead(inner, perms);
}
