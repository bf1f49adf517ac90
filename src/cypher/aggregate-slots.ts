/**
 * Which expressions are aggregations, and the hidden row slot where the aggregation operator
 * leaves each one's result for the evaluator to pick up.
 */
import type { Expr } from './ast.js';

export const aggregateFunctionNames = new Set(['count', 'sum', 'avg', 'min', 'max', 'collect', 'stdev', 'stdevp', 'percentilecont', 'percentiledisc']);

export type AggregateExpr = (Expr & { kind: 'Call' }) | (Expr & { kind: 'CountStar' });

export function isAggregateExpr(e: Expr): e is AggregateExpr {
  return e.kind === 'CountStar' || (e.kind === 'Call' && aggregateFunctionNames.has(e.name.toLowerCase()));
}

const slots = new WeakMap<Expr, string>();
let slotCounter = 0;

/** The slot name of an aggregate expression, assigned on first request. */
export function slotFor(e: AggregateExpr): string {
  let s = slots.get(e);
  if (s === undefined) {
    s = `\u0000agg${++slotCounter}`;
    slots.set(e, s);
  }
  return s;
}

/** The slot of `e` if it is an aggregate expression, else undefined. */
export function aggregateSlot(e: Expr): string | undefined {
  return isAggregateExpr(e) ? slotFor(e) : undefined;
}

/** Aggregate expressions inside `e` (not descending into aggregates, which cannot nest). */
export function collectAggregates(e: Expr, out: AggregateExpr[] = []): AggregateExpr[] {
  if (isAggregateExpr(e)) {
    out.push(e);
    return out;
  }
  forEachChild(e, (c) => collectAggregates(c, out));
  return out;
}

export function containsAggregate(e: Expr): boolean {
  return collectAggregates(e).length > 0;
}

/** Calls `f` on each direct sub-expression of `e` (not into patterns' property maps). */
export function forEachChild(e: Expr, f: (c: Expr) => void): void {
  switch (e.kind) {
    case 'Literal': case 'Param': case 'Var': case 'CountStar':
      return;
    case 'Prop': case 'HasLabels':
      return f(e.target);
    case 'ListLit':
      return e.items.forEach(f);
    case 'MapLit':
      return e.entries.forEach(([, v]) => f(v));
    case 'Binary':
      f(e.left);
      return f(e.right);
    case 'Not': case 'Neg': case 'IsNull':
      return f(e.operand);
    case 'Index':
      f(e.target);
      return f(e.index);
    case 'Slice':
      f(e.target);
      if (e.from) f(e.from);
      if (e.to) f(e.to);
      return;
    case 'Call':
      return e.args.forEach(f);
    case 'Case':
      if (e.test) f(e.test);
      e.whens.forEach(([w, t]) => (f(w), f(t)));
      if (e.otherwise) f(e.otherwise);
      return;
    case 'ListComp':
      f(e.list);
      if (e.where) f(e.where);
      if (e.map) f(e.map);
      return;
    case 'Quantifier':
      f(e.list);
      return f(e.where);
    case 'Reduce':
      f(e.init);
      f(e.list);
      return f(e.body);
    case 'MapProjection':
      for (const i of e.items) if (i.kind === 'literal') f(i.value);
      return;
    case 'PatternComp':
      if (e.where) f(e.where);
      return f(e.map);
    case 'Subquery':
      if (e.where) f(e.where);
      return;
  }
}

/** A copy of `e` with each direct sub-expression replaced by `f(child)` (the same children forEachChild visits). */
export function mapChildren(e: Expr, f: (c: Expr) => Expr): Expr {
  switch (e.kind) {
    case 'Literal': case 'Param': case 'Var': case 'CountStar':
      return e;
    case 'Prop': case 'HasLabels':
      return { ...e, target: f(e.target) };
    case 'ListLit':
      return { ...e, items: e.items.map(f) };
    case 'MapLit':
      return { ...e, entries: e.entries.map(([k, v]) => [k, f(v)] as [string, Expr]) };
    case 'Binary':
      return { ...e, left: f(e.left), right: f(e.right) };
    case 'Not': case 'Neg': case 'IsNull':
      return { ...e, operand: f(e.operand) };
    case 'Index':
      return { ...e, target: f(e.target), index: f(e.index) };
    case 'Slice':
      return { ...e, target: f(e.target), from: e.from && f(e.from), to: e.to && f(e.to) };
    case 'Call':
      return { ...e, args: e.args.map(f) };
    case 'Case':
      return { ...e, test: e.test && f(e.test), whens: e.whens.map(([w, t]) => [f(w), f(t)] as [Expr, Expr]), otherwise: e.otherwise && f(e.otherwise) };
    case 'ListComp':
      return { ...e, list: f(e.list), where: e.where && f(e.where), map: e.map && f(e.map) };
    case 'Quantifier':
      return { ...e, list: f(e.list), where: f(e.where) };
    case 'Reduce':
      return { ...e, init: f(e.init), list: f(e.list), body: f(e.body) };
    case 'MapProjection':
      return { ...e, items: e.items.map((i) => (i.kind === 'literal' ? { ...i, value: f(i.value) } : i)) };
    case 'PatternComp':
      return { ...e, where: e.where && f(e.where), map: f(e.map) };
    case 'Subquery':
      return { ...e, where: e.where && f(e.where) };
  }
}
