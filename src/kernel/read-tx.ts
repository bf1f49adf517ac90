/**
 * Read transactions: the kernel API over one store snapshot, plus (LayeredReadTx) the transactions
 * that are committed but not yet applied to the store. Never wait for writers.
 */
import type { StoreReader } from '../storage/store-reader.js';
import type { PropertyValue } from '../values/value.js';
import { type ChangeSet, type CommitSink, KernelWriteTx } from './write-tx.js';
import type {
  Adjacent,
  ConstraintDescriptor,
  Direction,
  IndexDescriptor,
  NodeRecord,
  RangeBounds,
  ReadTransaction,
  RelRecord,
} from './api.js';

export class KernelReadTx implements ReadTransaction {
  readonly mode = 'read' as const;
  constructor(protected readonly base: StoreReader) {}

  close(): void {
    this.base.close();
  }
  getNode(id: number): NodeRecord | undefined {
    return this.base.getNode(id);
  }
  getRelationship(id: number): RelRecord | undefined {
    return this.base.getRelationship(id);
  }
  allNodeIds(): Iterable<number> {
    return this.base.allNodeIds();
  }
  allRelationshipIds(): Iterable<number> {
    return this.base.allRelationshipIds();
  }
  nodeIdsByLabel(label: string): Iterable<number> {
    return this.base.nodeIdsByLabel(label);
  }
  relationshipsOf(nodeId: number, direction: Direction, types?: readonly string[]): Iterable<Adjacent> {
    return this.base.relationshipsOf(nodeId, direction, types);
  }
  indexSeek(label: string, property: string, value: PropertyValue): Iterable<number> | undefined {
    const rule = this.base.indexFor(label, property);
    return rule ? this.base.indexSeek(rule, value) : undefined;
  }
  indexRange(label: string, property: string, bounds: RangeBounds): Iterable<number> | undefined {
    const rule = this.base.indexFor(label, property);
    return rule ? this.base.indexRange(rule, bounds) : undefined;
  }
  indexes(): IndexDescriptor[] {
    return this.base.indexRules().map((r) => ({ name: r.name, label: r.label, property: r.property, unique: r.unique, constraintName: r.constraintName }));
  }
  constraints(): ConstraintDescriptor[] {
    return this.base.constraintRules().map((c) => ({ name: c.name, label: c.label, property: c.property, kind: 'UNIQUE' as const, indexName: c.indexName }));
  }
  countNodes(label?: string): number {
    return this.base.countNodes(label);
  }
  labels(): string[] {
    return this.base.store.tokenNamesOf('L');
  }
  relationshipTypes(): string[] {
    return this.base.store.tokenNamesOf('T');
  }
  propertyKeys(): string[] {
    return this.base.store.tokenNamesOf('P');
  }
}

/** A commit sink for views that never write: nothing to allocate, commit or release. */
const readOnlySink: CommitSink = {
  databaseName: '',
  allocateNodeId: () => {
    throw new Error('assertion: a read transaction allocated a node id');
  },
  allocateRelId: () => {
    throw new Error('assertion: a read transaction allocated a relationship id');
  },
  commit: () => Promise.reject(new Error('assertion: a read transaction committed')),
  abandon: () => undefined,
  lastCommittedTxId: () => 0,
};

/**
 * A read transaction over a store snapshot with committed, not yet applied transactions layered on
 * top (Database.beginRead). It reads through the same layering write transactions use, and offers
 * no writes.
 */
export class LayeredReadTx implements ReadTransaction {
  readonly mode = 'read' as const;
  private readonly view: KernelWriteTx;

  constructor(base: StoreReader, layers: readonly ChangeSet[]) {
    this.view = new KernelWriteTx(base, readOnlySink, layers);
  }

  close(): void {
    this.view.rollback();
  }
  getNode(id: number): NodeRecord | undefined {
    return this.view.getNode(id);
  }
  getRelationship(id: number): RelRecord | undefined {
    return this.view.getRelationship(id);
  }
  allNodeIds(): Iterable<number> {
    return this.view.allNodeIds();
  }
  allRelationshipIds(): Iterable<number> {
    return this.view.allRelationshipIds();
  }
  nodeIdsByLabel(label: string): Iterable<number> {
    return this.view.nodeIdsByLabel(label);
  }
  relationshipsOf(nodeId: number, direction: Direction, types?: readonly string[]): Iterable<Adjacent> {
    return this.view.relationshipsOf(nodeId, direction, types);
  }
  indexSeek(label: string, property: string, value: PropertyValue): Iterable<number> | undefined {
    return this.view.indexSeek(label, property, value);
  }
  indexRange(label: string, property: string, bounds: RangeBounds): Iterable<number> | undefined {
    return this.view.indexRange(label, property, bounds);
  }
  indexes(): IndexDescriptor[] {
    return this.view.indexes();
  }
  constraints(): ConstraintDescriptor[] {
    return this.view.constraints();
  }
  countNodes(label?: string): number {
    return this.view.countNodes(label);
  }
  labels(): string[] {
    return this.view.labels();
  }
  relationshipTypes(): string[] {
    return this.view.relationshipTypes();
  }
  propertyKeys(): string[] {
    return this.view.propertyKeys();
  }
}
