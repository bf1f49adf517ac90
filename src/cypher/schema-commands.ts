/**
 * Schema commands against the kernel: CREATE/DROP INDEX, CREATE/DROP CONSTRAINT (uniqueness), and
 * SHOW INDEXES / SHOW CONSTRAINTS with Neo4j's columns and optional YIELD / WHERE / RETURN.
 */
import type { SchemaCommand, ShowModifiers } from './ast.js';
import type { GraphRead } from '../kernel/api.js';
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { writerOf, type ExecContext, type Row } from './context.js';
import { evaluate } from './evaluate.js';
import { slicePause, withoutPauses, type Flow } from './execution-slice.js';
import { runPipeline } from './operators/basic.js';
import { planProjection, projectionItems } from './planner.js';

export const showIndexColumns = ['id', 'name', 'state', 'populationPercent', 'type', 'entityType', 'labelsOrTypes', 'properties', 'indexProvider', 'owningConstraint'];
export const showConstraintColumns = ['id', 'name', 'type', 'entityType', 'labelsOrTypes', 'properties', 'ownedIndex'];

/** The result columns of a schema command. */
export function schemaColumns(cmd: SchemaCommand): string[] {
  if (cmd.kind !== 'ShowIndexes' && cmd.kind !== 'ShowConstraints') return [];
  const all = cmd.kind === 'ShowIndexes' ? showIndexColumns : showConstraintColumns;
  return modifierColumns(cmd.modifiers, all);
}

export function modifierColumns(m: ShowModifiers, all: string[]): string[] {
  const yielded = m.yields ? m.yields.map((y) => y.alias) : all;
  if (m.returnProjection) return projectionItems(m.returnProjection, yielded).map((i) => i.name);
  return yielded;
}

function indexRows(graph: GraphRead): Row[] {
  return graph.indexes().map((ix, i) => new Map<string, Value>([
    ['id', BigInt(i + 1)],
    ['name', ix.name],
    ['state', 'ONLINE'],
    ['populationPercent', 100.0],
    ['type', 'RANGE'],
    ['entityType', 'NODE'],
    ['labelsOrTypes', [ix.label]],
    ['properties', [ix.property]],
    ['indexProvider', 'range-1.0'],
    ['owningConstraint', ix.unique ? ix.constraintName : null],
  ]));
}

function constraintRows(graph: GraphRead): Row[] {
  return graph.constraints().map((c, i) => new Map<string, Value>([
    ['id', BigInt(i + 1)],
    ['name', c.name],
    ['type', 'UNIQUENESS'],
    ['entityType', 'NODE'],
    ['labelsOrTypes', [c.label]],
    ['properties', [c.property]],
    ['ownedIndex', c.indexName],
  ]));
}

/** Applies YIELD, WHERE and RETURN to the rows of a SHOW command. */
export function applyShowModifiers(rows: Row[], m: ShowModifiers, all: string[], ctx: ExecContext): Iterable<Row> {
  let out: Iterable<Row> = rows.map((r) => {
    if (!m.yields) return r;
    const y = new Map<string, Value>();
    for (const item of m.yields) {
      if (!all.includes(item.name)) throw new QuiverError('SemanticError', `Trying to YIELD non-existing column: \`${item.name}\``);
      y.set(item.alias, r.get(item.name) ?? null);
    }
    return y;
  });
  if (m.where) {
    const where = m.where;
    out = [...out].filter((r) => evaluate(where, r, ctx) === true);
  }
  if (m.returnProjection) {
    const scope = m.yields ? m.yields.map((y) => y.alias) : all;
    // SHOW results are small and their context never pauses.
    out = withoutPauses(runPipeline(planProjection(m.returnProjection, scope), out, ctx, false));
  }
  return out;
}

/**
 * Runs a schema command; its rows come last. Creating a uniqueness constraint checks the existing
 * nodes in steps and pauses between them when the slice is used up.
 */
export function* runSchemaCommand(cmd: SchemaCommand, ctx: ExecContext): Generator<Flow> {
  switch (cmd.kind) {
    case 'ShowIndexes':
      yield* applyShowModifiers(indexRows(ctx.graph), cmd.modifiers, showIndexColumns, ctx);
      return;
    case 'ShowConstraints':
      yield* applyShowModifiers(constraintRows(ctx.graph), cmd.modifiers, showConstraintColumns, ctx);
      return;
    default:
      break;
  }
  const w = writerOf(ctx);
  const indexCount = () => w.indexes().length;
  const constraintCount = () => w.constraints().length;
  const [i0, c0] = [indexCount(), constraintCount()];
  switch (cmd.kind) {
    case 'CreateIndex':
      if (cmd.properties.length !== 1) throw new QuiverError('SemanticError', 'Composite indexes are not supported: index one property at a time');
      w.createIndex(cmd.name, cmd.label, cmd.properties[0]!, cmd.ifNotExists);
      break;
    case 'DropIndex':
      w.dropIndex(cmd.name, cmd.ifExists);
      break;
    case 'CreateConstraint':
      if (cmd.properties.length !== 1) throw new QuiverError('SemanticError', 'Composite uniqueness constraints are not supported: constrain one property at a time');
      for (const _ of w.uniqueConstraintSteps(cmd.name, cmd.label, cmd.properties[0]!, cmd.ifNotExists)) if (ctx.slice.due()) yield slicePause;
      break;
    case 'DropConstraint':
      w.dropConstraint(cmd.name, cmd.ifExists);
      break;
  }
  const [i1, c1] = [indexCount(), constraintCount()];
  // A constraint owns an index; Neo4j counts only the constraint.
  if (c1 > c0) ctx.stats.constraintsAdded += c1 - c0;
  else if (c1 < c0) ctx.stats.constraintsRemoved += c0 - c1;
  else if (i1 > i0) ctx.stats.indexesAdded += i1 - i0;
  else if (i1 < i0) ctx.stats.indexesRemoved += i0 - i1;
}
