/**
 * A read transaction: the kernel API over one store snapshot. Never waits for writers.
 */
import type { StoreReader } from '../storage/store-reader.js';
import type { PropertyValue } from '../values/value.js';
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
    const rule = this.base.store.indexFor(label, property);
    return rule ? this.base.indexSeek(rule, value) : undefined;
  }
  indexRange(label: string, property: string, bounds: RangeBounds): Iterable<number> | undefined {
    const rule = this.base.store.indexFor(label, property);
    return rule ? this.base.indexRange(rule, bounds) : undefined;
  }
  indexes(): IndexDescriptor[] {
    return this.base.store.indexes().map((r) => ({ name: r.name, label: r.label, property: r.property, unique: r.unique, constraintName: r.constraintName }));
  }
  constraints(): ConstraintDescriptor[] {
    return this.base.store.constraints().map((c) => ({ name: c.name, label: c.label, property: c.property, kind: 'UNIQUE' as const, indexName: c.indexName }));
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
