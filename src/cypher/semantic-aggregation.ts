/**
 * Neo4j's rule against implicit grouping keys: in a projection that aggregates, an expression
 * around an aggregate (`me.age + count(*)`) may use, outside the aggregate, only grouping keys that
 * are a variable or a variable's property (`RETURN me.age, me.age + count(*)`), variables that are
 * grouping keys, and constants. Anything else would be a grouping key nobody asked for
 * (`RETURN me.age + count(you.age)` groups by what?), so the query is refused as ambiguous.
 */
import type { Expr } from './ast.js';
import { forEachChild, isAggregateExpr } from './aggregate-slots.js';
import { sameExpression } from './semantic.js';

/** The first sub-expression of `e` that is an implicit grouping key, or null. */
export function implicitGroupingKey(e: Expr, groupingKeys: readonly Expr[], visible: ReadonlySet<string>): Expr | null {
  const simpleKeys = groupingKeys.filter((k) => k.kind === 'Var' || (k.kind === 'Prop' && k.target.kind === 'Var'));
  const keyVariables = new Set(groupingKeys.flatMap((k) => (k.kind === 'Var' ? [k.name] : [])));
  const find = (x: Expr, locals: ReadonlySet<string>): Expr | null => {
    if (isAggregateExpr(x) || simpleKeys.some((k) => sameExpression(k, x))) return null;
    switch (x.kind) {
      case 'Var':
        return locals.has(x.name) || keyVariables.has(x.name) || visible.has(x.name) ? null : x;
      case 'Prop':
        // Report `me.age` rather than `me` when the property's variable is not a key.
        return x.target.kind === 'Var' && find(x.target, locals) ? x : find(x.target, locals);
      case 'ListComp':
      case 'Quantifier': {
        const inner = new Set(locals).add(x.variable);
        return find(x.list, locals) ?? (x.where && find(x.where, inner)) ?? (x.kind === 'ListComp' && x.map ? find(x.map, inner) : null);
      }
      case 'Reduce': {
        const inner = new Set(locals).add(x.accumulator).add(x.variable);
        return find(x.init, locals) ?? find(x.list, locals) ?? find(x.body, inner);
      }
      case 'PatternComp':
      case 'Subquery':
        return null;
      default: {
        let found: Expr | null = null;
        forEachChild(x, (c) => {
          found ??= find(c, locals);
        });
        return found;
      }
    }
  };
  return find(e, new Set());
}

/** `e` as written, for the simple expressions implicitGroupingKey reports. */
export function showKey(e: Expr): string {
  if (e.kind === 'Var') return e.name;
  if (e.kind === 'Prop' && e.target.kind === 'Var') return `${e.target.name}.${e.key}`;
  return 'an expression';
}
