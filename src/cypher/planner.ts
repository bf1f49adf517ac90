/**
 * The planner: turns an analysed query into operator pipelines. It extracts index hints from
 * WHERE (`n.p = v`, range comparisons) for the matcher's anchor choice, splits projections into
 * aggregation / projection / distinct / sort / skip / limit, and plans subqueries and unions.
 */
import type { Clause, Expr, Projection, Query, SingleQuery, SortItem } from './ast.js';
import type { GraphRead } from '../kernel/api.js';
import type { ExecContext, Row } from './context.js';
import type { Flow } from './execution-slice.js';
import { collectAggregates, containsAggregate, forEachChild, isAggregateExpr, mapChildren, type AggregateExpr } from './aggregate-slots.js';
import { Aggregate } from './aggregation.js';
import { Distinct, Filter, Limit, Project, Select, Skip, Sort, Unwind, runPipeline, type Operator } from './operators/basic.js';
import { CallInTransactions, CallProcedure, CallSubquery, UnionPlan, type SubPlan } from './operators/call.js';
import { Match } from './operators/match.js';
import { idHintKey, type PropertyHint } from './operators/pattern-match.js';
import { Create, Delete, Foreach, Merge, Remove, SetClause } from './operators/write.js';
import { sameExpression, type QueryAnalysis } from './semantic.js';
import { registerSubqueryPlan } from './expression-subqueries.js';

export function planQuery(q: Query, analysis: QueryAnalysis): SubPlan {
  planExpressionSubqueries(q.parts, analysis);
  const parts = q.parts.map((p) => planSingle(p, analysis));
  if (parts.length === 1) return parts[0]!;
  return new UnionPlan(parts[0]!.columns, parts, q.unionAll);
}

/**
 * Plans every `EXISTS { query }` / `COUNT { query }` in `node` (an AST fragment), without entering
 * other queries: those of CALL subqueries are planned with their clause, and each planned subquery
 * plans its own.
 */
function planExpressionSubqueries(node: unknown, analysis: QueryAnalysis): void {
  if (Array.isArray(node)) {
    for (const x of node) planExpressionSubqueries(x, analysis);
    return;
  }
  // AST nodes are plain objects; values inside literals never are.
  if (node === null || typeof node !== 'object' || Object.getPrototypeOf(node) !== Object.prototype) return;
  const n = node as { kind?: string; query?: Query | null };
  if (n.kind === 'Query' || n.kind === 'CallSubquery') return;
  if (n.kind === 'Subquery' && n.query) {
    registerSubqueryPlan(n.query, planQuery(n.query, analysis));
    return;
  }
  for (const v of Object.values(node)) planExpressionSubqueries(v, analysis);
}

class PartPlan implements SubPlan {
  constructor(readonly ops: Operator[], readonly columns: string[], readonly returns: boolean, private readonly eager: boolean) {}
  run(seed: Row, ctx: ExecContext): Iterable<Flow> {
    return runPipeline(this.ops, [seed], ctx, this.eager);
  }
  describe(graph: GraphRead): string[] {
    return this.ops.map((o) => o.describe(graph));
  }
}

/** A top-level query around CALL { ... } IN TRANSACTIONS: the operators before it, it, and those after. */
export interface InTransactionsPlan {
  before: Operator[];
  call: CallInTransactions;
  after: Operator[];
  returns: boolean;
}

/** The parts of a plan holding CALL { ... } IN TRANSACTIONS (semantic analysis allows it only at the top of a single query); null for any other plan. */
export function splitAtInTransactions(plan: SubPlan): InTransactionsPlan | null {
  if (!(plan instanceof PartPlan)) return null;
  const i = plan.ops.findIndex((o) => o instanceof CallInTransactions);
  if (i < 0) return null;
  return { before: plan.ops.slice(0, i), call: plan.ops[i] as CallInTransactions, after: plan.ops.slice(i + 1), returns: plan.returns };
}

function planSingle(q: SingleQuery, analysis: QueryAnalysis): PartPlan {
  const ops: Operator[] = [];
  let columns: string[] = [];
  let returns = false;
  for (const c of q.clauses) {
    const scope = analysis.scopeBefore.get(c) ?? [];
    ops.push(...planClause(c, scope, analysis));
    if (c.kind === 'Return') {
      columns = projectionNames(c.projection, scope);
      returns = true;
    }
  }
  const last = q.clauses[q.clauses.length - 1]!;
  if (last.kind === 'CallProcedure' && q.clauses.length === 1) {
    columns = analysis.columns;
    returns = true;
  }
  return new PartPlan(ops, columns, returns, analysis.updating);
}

function planClause(c: Clause, scope: readonly string[], analysis: QueryAnalysis): Operator[] {
  switch (c.kind) {
    case 'Match': {
      const introduced = new Set<string>();
      for (const p of c.patterns) {
        if (p.pathVariable) introduced.add(p.pathVariable);
        for (const n of p.nodes) if (n.variable && !scope.includes(n.variable)) introduced.add(n.variable);
        for (const r of p.rels) if (r.variable && !scope.includes(r.variable)) introduced.add(r.variable);
      }
      const hints = c.where ? extractHints(c.where, introduced) : [];
      return [new Match(c.patterns, c.where, c.optional, hints, scope, [...introduced])];
    }
    case 'Unwind':
      return [new Unwind(c.expr, c.variable)];
    case 'With':
      return planProjection(c.projection, scope, c.where);
    case 'Return':
      return planProjection(c.projection, scope);
    case 'Create':
      return [new Create(c.patterns)];
    case 'Merge':
      return [new Merge(c.pattern, c.onCreate, c.onMatch)];
    case 'Set':
      return [new SetClause(c.items)];
    case 'Remove':
      return [new Remove(c.items)];
    case 'Delete':
      return [new Delete(c.exprs, c.detach)];
    case 'Foreach': {
      const inner = [...scope, c.variable];
      return [new Foreach(c.variable, c.list, c.clauses.flatMap((ic) => planClause(ic, inner, analysis)))];
    }
    case 'CallSubquery': {
      const imports = Array.isArray(c.importing) ? c.importing : null;
      const plan = planQuery(c.query, analysis);
      return [c.inTransactions ? new CallInTransactions(plan, imports, c.inTransactions) : new CallSubquery(plan, imports)];
    }
    case 'CallProcedure':
      return [new CallProcedure(c.name, c.args ?? [], c.yields, c.where)];
  }
}

export function projectionItems(p: Projection, scope: readonly string[]): { name: string; expr: Expr }[] {
  const items: { name: string; expr: Expr }[] = [];
  if (p.star) {
    for (const v of [...scope].filter((s) => !s.startsWith('\u0000')).sort()) items.push({ name: v, expr: { kind: 'Var', pos: 0, name: v } });
  }
  for (const i of p.items) items.push({ name: i.name, expr: i.expr });
  return items;
}

function projectionNames(p: Projection, scope: readonly string[]): string[] {
  return projectionItems(p, scope).map((i) => i.name);
}

/**
 * The operators of a WITH or RETURN projection (also used by SHOW ... RETURN). The WHERE of a WITH
 * filters after SKIP and LIMIT but before the variables the WITH drops are gone, since it may
 * still refer to them.
 */
export function planProjection(p: Projection, scope: readonly string[], where: Expr | null = null): Operator[] {
  const items = projectionItems(p, scope);
  const names = items.map((i) => i.name);
  // ORDER BY may repeat a projected expression, whole or in part (`ORDER BY a.name + 'C'` after
  // `WITH a.name AS name, count(*)`): it sorts on the column, since after an aggregation or
  // DISTINCT the variables before the projection are gone.
  const orderBy: SortItem[] = p.orderBy.map((s) => ({ expr: toProjectedColumns(s.expr, items), descending: s.descending }));
  const ops: Operator[] = [];
  if (items.some((i) => containsAggregate(i.expr))) {
    const keys = items.filter((i) => !containsAggregate(i.expr));
    const aggregated = items.filter((i) => containsAggregate(i.expr));
    const aggregates: AggregateExpr[] = [];
    for (const i of aggregated) collectAggregates(i.expr, aggregates);
    for (const s of orderBy) collectAggregates(s.expr, aggregates);
    ops.push(new Aggregate(keys, aggregated, aggregates));
  } else {
    ops.push(new Project(items));
  }
  if (p.distinct) ops.push(new Distinct(names));
  if (orderBy.length) ops.push(new Sort(orderBy));
  if (p.skip) ops.push(new Skip(p.skip));
  if (p.limit) ops.push(new Limit(p.limit));
  if (where) ops.push(new Filter(toProjectedColumns(where, items)));
  ops.push(new Select(names));
  return ops;
}

/** `e` with every sub-expression that a projection item computes replaced by that item's column. */
function toProjectedColumns(e: Expr, items: readonly { name: string; expr: Expr }[]): Expr {
  const same = items.find((i) => sameExpression(i.expr, e));
  if (same) return { kind: 'Var', pos: e.pos, name: same.name };
  if (isAggregateExpr(e)) return e; // evaluated by the aggregation, before the projection
  return mapChildren(e, (c) => toProjectedColumns(c, items));
}

function conjuncts(e: Expr): Expr[] {
  return e.kind === 'Binary' && e.op === 'AND' ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e];
}

/**
 * Whether `e` may read one of `introduced`. Patterns and subqueries inside it (`COUNT { (b)-->() }`,
 * `[(b)-->() | 1]`) are taken to read every variable: forEachChild does not enter them.
 */
function dependsOn(e: Expr, introduced: ReadonlySet<string>): boolean {
  if (e.kind === 'Subquery' || e.kind === 'PatternComp') return true;
  if ((e.kind === 'Var' && introduced.has(e.name)) || (e.kind === 'MapProjection' && introduced.has(e.variable))) return true;
  let found = false;
  forEachChild(e, (c) => {
    found ||= dependsOn(c, introduced);
  });
  return found;
}

/** `v.key <op> expr` where `v` is introduced by this MATCH and `expr` does not depend on it. */
export function extractHints(where: Expr, introduced: ReadonlySet<string>): PropertyHint[] {
  const byProperty = new Map<string, PropertyHint>();
  const flip: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '=': '=' };
  for (const c of conjuncts(where)) {
    if (c.kind !== 'Binary' || !(c.op in flip)) continue;
    let prop = c.left;
    let other = c.right;
    let op: string = c.op;
    if (!(prop.kind === 'Prop' && prop.target.kind === 'Var')) {
      [prop, other] = [c.right, c.left];
      op = flip[op]!;
    }
    // id(n) = x and elementId(n) = x seek by id (hint keys that cannot be property names).
    const idCall = (e: Expr) => e.kind === 'Call' && ['id', 'elementid'].includes(e.name.toLowerCase()) && e.args.length === 1 && e.args[0]!.kind === 'Var';
    if (c.op === '=' && (idCall(c.left) || idCall(c.right))) {
      const call = (idCall(c.left) ? c.left : c.right) as Expr & { kind: 'Call' };
      const value = idCall(c.left) ? c.right : c.left;
      const variable = (call.args[0] as Expr & { kind: 'Var' }).name;
      if (introduced.has(variable) && !dependsOn(value, introduced)) {
        byProperty.set(`${variable}\u0000#id`, { variable, key: idHintKey, eq: value });
      }
      continue;
    }
    if (prop.kind !== 'Prop' || prop.target.kind !== 'Var' || !introduced.has(prop.target.name)) continue;
    if (dependsOn(other, introduced)) continue;
    const variable = prop.target.name;
    const id = `${variable}\u0000${prop.key}`;
    const hint = byProperty.get(id) ?? { variable, key: prop.key };
    if (op === '=') hint.eq = other;
    else if (op === '>' || op === '>=') hint.lower = { expr: other, inclusive: op === '>=' };
    else hint.upper = { expr: other, inclusive: op === '<=' };
    byProperty.set(id, hint);
  }
  return [...byProperty.values()];
}
