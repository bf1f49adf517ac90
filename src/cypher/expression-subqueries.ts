/**
 * The plans of whole queries inside `EXISTS { ... }` and `COUNT { ... }` expressions: the planner
 * registers each one, the evaluator runs it once per row. Keyed by the subquery's Query node, which
 * copies of the expression (ORDER BY rewriting) share.
 */
import type { Query } from './ast.js';
import type { SubPlan } from './operators/call.js';

const plans = new WeakMap<Query, SubPlan>();

export function registerSubqueryPlan(q: Query, plan: SubPlan): void {
  plans.set(q, plan);
}

export function subqueryPlan(q: Query): SubPlan {
  const plan = plans.get(q);
  if (!plan) throw new Error('assertion failed: an EXISTS/COUNT subquery was evaluated without being planned');
  return plan;
}
