/**
 * The kernel API: what Cypher (and every other caller) may do with a database.
 *
 * Entities are addressed by numeric ids (allocated monotonically, never reused within a database).
 * Tokens (labels, relationship types, property keys) are names at this level; the store maps them
 * to ids internally. Every read goes through a transaction so it sees one consistent snapshot;
 * a write transaction also sees its own uncommitted changes.
 */
import type { Properties, PropertyValue } from '../values/value.js';

export interface NodeRecord {
  id: number;
  labels: string[];
  properties: Properties;
}

export interface RelRecord {
  id: number;
  type: string;
  startId: number;
  endId: number;
  properties: Properties;
}

export type Direction = 'out' | 'in' | 'both';

/** One step from a node along a relationship, as seen from that node. */
export interface Adjacent {
  relId: number;
  type: string;
  otherId: number;
  /** 'out' when the relationship starts at the node it was expanded from. */
  direction: 'out' | 'in';
}

export interface IndexDescriptor {
  name: string;
  label: string;
  property: string;
  /** Backing a uniqueness constraint. */
  unique: boolean;
  /** Name of the owning constraint, when `unique`. */
  constraintName: string | null;
}

export interface ConstraintDescriptor {
  name: string;
  label: string;
  property: string;
  kind: 'UNIQUE';
  indexName: string;
}

/** Bounds for an index range seek; an absent bound is open. Values compare within one type family. */
export interface RangeBounds {
  lower?: { value: PropertyValue; inclusive: boolean };
  upper?: { value: PropertyValue; inclusive: boolean };
}

export interface GraphRead {
  getNode(id: number): NodeRecord | undefined;
  getRelationship(id: number): RelRecord | undefined;
  /** Every node id, ascending. Lazily produced: callers may stop early. */
  allNodeIds(): Iterable<number>;
  allRelationshipIds(): Iterable<number>;
  nodeIdsByLabel(label: string): Iterable<number>;
  /** Relationships of a node; `types` empty or absent means any type. */
  relationshipsOf(nodeId: number, direction: Direction, types?: readonly string[]): Iterable<Adjacent>;
  /** Node ids whose `property` equals `value` among nodes with `label`, using an index. Undefined when no index exists. */
  indexSeek(label: string, property: string, value: PropertyValue): Iterable<number> | undefined;
  /** Node ids in a range; undefined when no index exists. */
  indexRange(label: string, property: string, bounds: RangeBounds): Iterable<number> | undefined;
  indexes(): IndexDescriptor[];
  constraints(): ConstraintDescriptor[];
  countNodes(label?: string): number;
  /** Names known to the database (for SHOW / db.labels()). */
  labels(): string[];
  relationshipTypes(): string[];
  propertyKeys(): string[];
}

export interface GraphWrite extends GraphRead {
  createNode(labels: readonly string[], properties: Properties): number;
  /** `null` removes the property. */
  setNodeProperty(id: number, key: string, value: PropertyValue | null): void;
  /** Replace all properties. */
  replaceNodeProperties(id: number, properties: Properties): void;
  addLabels(id: number, labels: readonly string[]): void;
  removeLabels(id: number, labels: readonly string[]): void;
  /** Throws KernelError('NodeHasRelationships') unless `detach`, which deletes them first. */
  deleteNode(id: number, detach: boolean): void;
  createRelationship(type: string, startId: number, endId: number, properties: Properties): number;
  setRelationshipProperty(id: number, key: string, value: PropertyValue | null): void;
  replaceRelationshipProperties(id: number, properties: Properties): void;
  deleteRelationship(id: number): void;
  createIndex(name: string | null, label: string, property: string, ifNotExists: boolean): void;
  dropIndex(name: string, ifExists: boolean): void;
  createUniqueConstraint(name: string | null, label: string, property: string, ifNotExists: boolean): void;
  /**
   * createUniqueConstraint in steps: each step checks one existing node against the constraint, so a
   * caller can pause between them (a label of a million nodes takes about 2 s to check). The
   * constraint is added when the last step has run; nothing is added when a step throws.
   */
  uniqueConstraintSteps(name: string | null, label: string, property: string, ifNotExists: boolean): Iterable<void>;
  dropConstraint(name: string, ifExists: boolean): void;
}

export interface ReadTransaction extends GraphRead {
  readonly mode: 'read';
  /** Releases the snapshot. Idempotent. */
  close(): void;
}

export interface WriteTransaction extends GraphWrite {
  readonly mode: 'write';
  /** Makes the changes durable; resolves once fsynced and visible. A transaction with no changes commits without a log record. */
  commit(): Promise<{ txId: number }>;
  rollback(): void;
}

export type Transaction = ReadTransaction | WriteTransaction;

export interface DatabaseHandle {
  readonly name: string;
  readonly databaseId: string;
  beginRead(): ReadTransaction;
  /** Waits for the single writer slot, up to `timeoutMs`; then throws KernelError('LockTimeout'). */
  beginWrite(timeoutMs?: number): Promise<WriteTransaction>;
  lastCommittedTxId(): number;
}
