/**
 * The execution context shared by every operator and expression of one statement run (graph,
 * parameters, statement clock, counters), and entity loading from the kernel, which is where a
 * read of a deleted node or relationship becomes an error.
 */
import type { GraphRead, GraphWrite, NodeRecord, RelRecord } from '../kernel/api.js';
import { QuiverError } from '../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, type Value } from '../values/value.js';
import type { ExecutionSlice } from './execution-slice.js';

/** One row of variable bindings flowing between operators. */
export type Row = Map<string, Value>;

export interface QueryStats {
  nodesCreated: number;
  nodesDeleted: number;
  relationshipsCreated: number;
  relationshipsDeleted: number;
  propertiesSet: number;
  labelsAdded: number;
  labelsRemoved: number;
  indexesAdded: number;
  indexesRemoved: number;
  constraintsAdded: number;
  constraintsRemoved: number;
}

export function emptyStats(): QueryStats {
  return { nodesCreated: 0, nodesDeleted: 0, relationshipsCreated: 0, relationshipsDeleted: 0, propertiesSet: 0, labelsAdded: 0, labelsRemoved: 0, indexesAdded: 0, indexesRemoved: 0, constraintsAdded: 0, constraintsRemoved: 0 };
}

export interface ExecContext {
  readonly graph: GraphRead;
  /** Null for read-only runs. */
  readonly writer: GraphWrite | null;
  readonly params: Map<string, Value>;
  /** The statement's clock reading: date()/datetime() without arguments return this instant throughout a statement. */
  readonly statementTime: Date;
  readonly stats: QueryStats;
  /** Entities deleted by this statement (reads of them fail with a clear message). */
  readonly deletedNodes: Set<number>;
  readonly deletedRels: Set<number>;
  /** When row-producing loops should pause (execution-slice.ts). */
  readonly slice: ExecutionSlice;
}

export function writerOf(ctx: ExecContext): GraphWrite {
  if (!ctx.writer) throw new QuiverError('ReadOnly', 'Writing in a read access mode is not allowed: this statement was run in a read-only transaction');
  return ctx.writer;
}

export function nodeFromRecord(r: NodeRecord): NodeValue {
  return new NodeValue(r.id, r.labels, r.properties);
}

export function relFromRecord(r: RelRecord): RelationshipValue {
  return new RelationshipValue(r.id, r.type, r.startId, r.endId, r.properties);
}

export function loadNode(ctx: ExecContext, id: number): NodeRecord {
  const r = ctx.graph.getNode(id);
  if (!r) throw new QuiverError('NotFound', `Node with id ${id} has been deleted in this transaction`);
  return r;
}

export function loadRel(ctx: ExecContext, id: number): RelRecord {
  const r = ctx.graph.getRelationship(id);
  if (!r) throw new QuiverError('NotFound', `Relationship with id ${id} has been deleted in this transaction`);
  return r;
}

/** Re-reads entities so that a result shows the state after this statement's writes. */
export function refreshValue(ctx: ExecContext, v: Value): Value {
  if (v instanceof NodeValue) {
    const r = ctx.graph.getNode(v.id);
    return r ? nodeFromRecord(r) : new NodeValue(v.id, [], new Map());
  }
  if (v instanceof RelationshipValue) {
    const r = ctx.graph.getRelationship(v.id);
    return r ? relFromRecord(r) : new RelationshipValue(v.id, v.type, v.startId, v.endId, new Map());
  }
  if (v instanceof PathValue) {
    return new PathValue(v.nodes.map((n) => refreshValue(ctx, n) as NodeValue), v.relationships.map((r) => refreshValue(ctx, r) as RelationshipValue));
  }
  if (Array.isArray(v)) return v.map((x) => refreshValue(ctx, x));
  if (v instanceof Map) {
    const m = new Map<string, Value>();
    for (const [k, x] of v) m.set(k, refreshValue(ctx, x));
    return m;
  }
  return v;
}
