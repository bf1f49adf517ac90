/**
 * The expression evaluator: one Expr, one row of bindings, one context in; one Value out. It
 * implements Cypher's three-valued logic and null propagation; functions live in functions.ts,
 * arithmetic in arithmetic.ts, comparisons in compare.ts.
 */
import type { Expr } from './ast.js';
import { QuiverError } from '../util/errors.js';
import { NodeValue, RelationshipValue, type Value } from '../values/value.js';
import { isTemporal } from '../values/temporal.js';
import { add, divide, modulo, multiply, negate, power, subtract } from './arithmetic.js';
import { compareValues, equals } from './compare.js';
import { loadNode, loadRel, type ExecContext, type Row } from './context.js';
import { callFunction } from './functions.js';
import { aggregateSlot } from './aggregate-slots.js';
import { matchPatterns } from './operators/pattern-match.js';
import { temporalComponent } from './temporal-functions.js';
import { subqueryPlan } from './expression-subqueries.js';
import { slicePause } from './execution-slice.js';
import { asInteger, typeMismatch, typeName } from './value-util.js';

export function evaluate(e: Expr, row: Row, ctx: ExecContext): Value {
  switch (e.kind) {
    case 'Literal':
      return e.value;
    case 'Param': {
      const v = ctx.params.get(e.name);
      if (v === undefined) throw new QuiverError('ParameterMissing', `Expected parameter(s): ${e.name}`);
      return v;
    }
    case 'Var': {
      const v = row.get(e.name);
      return v === undefined ? null : v;
    }
    case 'Prop':
      return propertyOf(evaluate(e.target, row, ctx), e.key, ctx);
    case 'HasLabels': {
      const t = evaluate(e.target, row, ctx);
      if (t === null) return null;
      // `r:T` tests a relationship's type, as in Neo4j 5: `r:A|B` one of them, `r:A:B` only when A = B.
      if (t instanceof RelationshipValue) return e.mode === 'all' ? e.labels.every((l) => l === t.type) : e.labels.includes(t.type);
      if (!(t instanceof NodeValue)) throw typeMismatch('Node or Relationship', t);
      const labels = loadNode(ctx, t.id).labels;
      return e.mode === 'all' ? e.labels.every((l) => labels.includes(l)) : e.labels.some((l) => labels.includes(l));
    }
    case 'ListLit':
      return e.items.map((i) => evaluate(i, row, ctx));
    case 'MapLit': {
      const m = new Map<string, Value>();
      for (const [k, v] of e.entries) m.set(k, evaluate(v, row, ctx));
      return m;
    }
    case 'Binary':
      return evaluateBinary(e, row, ctx);
    case 'Not': {
      const v = evaluate(e.operand, row, ctx);
      if (v === null) return null;
      if (typeof v !== 'boolean') throw typeMismatch('Boolean', v);
      return !v;
    }
    case 'Neg':
      return negate(evaluate(e.operand, row, ctx));
    case 'IsNull': {
      const v = evaluate(e.operand, row, ctx);
      return e.negated ? v !== null : v === null;
    }
    case 'Index':
      return indexValue(evaluate(e.target, row, ctx), evaluate(e.index, row, ctx), ctx);
    case 'Slice':
      return sliceValue(evaluate(e.target, row, ctx), e.from ? evaluate(e.from, row, ctx) : undefined, e.to ? evaluate(e.to, row, ctx) : undefined);
    case 'Call': {
      const slot = aggregateSlot(e);
      if (slot !== undefined) return aggregateResult(row, slot);
      return callFunction(e, e.args.map((a) => evaluate(a, row, ctx)), ctx);
    }
    case 'CountStar':
      return aggregateResult(row, aggregateSlot(e));
    case 'Case':
      return evaluateCase(e, row, ctx);
    case 'ListComp': {
      const list = evaluate(e.list, row, ctx);
      if (list === null) return null;
      if (!Array.isArray(list)) throw typeMismatch('List', list);
      const out: Value[] = [];
      const inner = new Map(row);
      for (const item of list) {
        inner.set(e.variable, item);
        if (e.where && evaluate(e.where, inner, ctx) !== true) continue;
        out.push(e.map ? evaluate(e.map, inner, ctx) : item);
      }
      return out;
    }
    case 'Quantifier':
      return evaluateQuantifier(e, row, ctx);
    case 'Reduce': {
      const list = evaluate(e.list, row, ctx);
      if (list === null) return null;
      if (!Array.isArray(list)) throw typeMismatch('List', list);
      const inner = new Map(row);
      let acc = evaluate(e.init, row, ctx);
      for (const item of list) {
        inner.set(e.accumulator, acc);
        inner.set(e.variable, item);
        acc = evaluate(e.body, inner, ctx);
      }
      return acc;
    }
    case 'MapProjection':
      return evaluateMapProjection(e, row, ctx);
    case 'PatternComp': {
      const out: Value[] = [];
      for (const r of matchPatterns([e.pattern], row, ctx)) {
        if (e.where && evaluate(e.where, r, ctx) !== true) continue;
        out.push(evaluate(e.map, r, ctx));
      }
      return out;
    }
    case 'Subquery': {
      let count = 0n;
      if (e.query) {
        // A whole query, run with the row's variables in scope; pauses cannot be taken mid-expression.
        for (const r of subqueryPlan(e.query).run(row, ctx)) {
          if (r === slicePause) continue;
          if (e.mode === 'exists') return true;
          count++;
        }
        return e.mode === 'exists' ? false : count;
      }
      for (const r of matchPatterns(e.patterns, row, ctx)) {
        if (e.where && evaluate(e.where, r, ctx) !== true) continue;
        if (e.mode === 'exists') return true;
        count++;
      }
      return e.mode === 'exists' ? false : count;
    }
  }
}

function aggregateResult(row: Row, slot: string | undefined): Value {
  const v = slot === undefined ? undefined : row.get(slot);
  if (v === undefined) throw new QuiverError('SemanticError', 'Invalid use of aggregating function in this context');
  return v;
}

/** `value.key` for nodes, relationships, maps and temporals. */
export function propertyOf(target: Value, key: string, ctx: ExecContext): Value {
  if (target === null) return null;
  if (target instanceof NodeValue) return loadNode(ctx, target.id).properties.get(key) ?? null;
  if (target instanceof RelationshipValue) return loadRel(ctx, target.id).properties.get(key) ?? null;
  if (target instanceof Map) return target.get(key) ?? null;
  if (isTemporal(target)) {
    const v = temporalComponent(target, key);
    if (v === undefined) throw new QuiverError('SemanticError', `No such field: ${key} on ${typeName(target)}`);
    return v;
  }
  throw typeMismatch('a Map, Node or Relationship', target);
}

function indexValue(target: Value, index: Value, ctx: ExecContext): Value {
  if (target === null || index === null) return null;
  if (Array.isArray(target)) {
    let i = asInteger(index, 'List index');
    if (i < 0n) i += BigInt(target.length);
    if (i < 0n || i >= BigInt(target.length)) return null;
    return target[Number(i)]!;
  }
  if (typeof index === 'string') return propertyOf(target, index, ctx);
  throw typeMismatch('a List (with an Integer index) or a Map (with a String key)', target);
}

function sliceValue(target: Value, from: Value | undefined, to: Value | undefined): Value {
  if (target === null || from === null || to === null) return null;
  if (!Array.isArray(target)) throw typeMismatch('List', target);
  const n = target.length;
  const norm = (v: Value | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    let i = Number(asInteger(v, 'List slice bound'));
    if (i < 0) i += n;
    return Math.max(0, Math.min(n, i));
  };
  const a = norm(from, 0);
  const b = norm(to, n);
  return a >= b ? [] : target.slice(a, b);
}

function toBool(v: Value): boolean | null {
  if (v === null || typeof v === 'boolean') return v;
  throw typeMismatch('Boolean', v);
}

function evaluateBinary(e: Expr & { kind: 'Binary' }, row: Row, ctx: ExecContext): Value {
  switch (e.op) {
    case 'AND': {
      const l = toBool(evaluate(e.left, row, ctx));
      if (l === false) return false;
      const r = toBool(evaluate(e.right, row, ctx));
      if (r === false) return false;
      return l === null || r === null ? null : true;
    }
    case 'OR': {
      const l = toBool(evaluate(e.left, row, ctx));
      if (l === true) return true;
      const r = toBool(evaluate(e.right, row, ctx));
      if (r === true) return true;
      return l === null || r === null ? null : false;
    }
    case 'XOR': {
      const l = toBool(evaluate(e.left, row, ctx));
      const r = toBool(evaluate(e.right, row, ctx));
      return l === null || r === null ? null : l !== r;
    }
    default:
      break;
  }
  const l = evaluate(e.left, row, ctx);
  const r = evaluate(e.right, row, ctx);
  switch (e.op) {
    case '+': return add(l, r);
    case '-': return subtract(l, r);
    case '*': return multiply(l, r);
    case '/': return divide(l, r);
    case '%': return modulo(l, r);
    case '^': return power(l, r);
    case '=': return equals(l, r);
    case '<>': {
      const eq = equals(l, r);
      return eq === null ? null : !eq;
    }
    case '<': return cmp(l, r, (c) => c < 0);
    case '>': return cmp(l, r, (c) => c > 0);
    case '<=': return cmp(l, r, (c) => c <= 0);
    case '>=': return cmp(l, r, (c) => c >= 0);
    case 'IN': return inList(l, r);
    case 'STARTS WITH': return stringOp(l, r, (a, b) => a.startsWith(b));
    case 'ENDS WITH': return stringOp(l, r, (a, b) => a.endsWith(b));
    case 'CONTAINS': return stringOp(l, r, (a, b) => a.includes(b));
    case '=~': return regexMatch(l, r);
  }
}

function cmp(l: Value, r: Value, test: (c: number) => boolean): Value {
  const c = compareValues(l, r);
  return c === null ? null : test(c);
}

export function inList(item: Value, list: Value): Value {
  if (list === null) return null;
  if (!Array.isArray(list)) throw typeMismatch('List', list);
  let unknown = false;
  for (const x of list) {
    const eq = equals(item, x);
    if (eq === true) return true;
    if (eq === null) unknown = true;
  }
  return unknown ? null : false;
}

function stringOp(l: Value, r: Value, f: (a: string, b: string) => boolean): Value {
  if (typeof l !== 'string' || typeof r !== 'string') return null;
  return f(l, r);
}

const regexCache = new Map<string, RegExp>();

/** Java-style regular expressions matched against the whole string; leading (?i)(?s)(?m) flags are honoured. */
function regexMatch(l: Value, r: Value): Value {
  if (typeof l !== 'string' || typeof r !== 'string') return null;
  let re = regexCache.get(r);
  if (!re) {
    let src = r;
    let flags = 'u';
    for (let m = /^\(\?([ismu]+)\)/.exec(src); m; m = /^\(\?([ismu]+)\)/.exec(src)) {
      for (const f of m[1]!) if (f !== 'u' && !flags.includes(f)) flags += f;
      src = src.slice(m[0].length);
    }
    try {
      re = new RegExp(`^(?:${src})$`, flags);
    } catch (err) {
      throw new QuiverError('SemanticError', `Invalid Regex: ${(err as Error).message}`);
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(r, re);
  }
  return re.test(l);
}

function evaluateCase(e: Expr & { kind: 'Case' }, row: Row, ctx: ExecContext): Value {
  if (e.test) {
    const t = evaluate(e.test, row, ctx);
    for (const [w, then] of e.whens) if (equals(t, evaluate(w, row, ctx)) === true) return evaluate(then, row, ctx);
  } else {
    for (const [w, then] of e.whens) if (evaluate(w, row, ctx) === true) return evaluate(then, row, ctx);
  }
  return e.otherwise ? evaluate(e.otherwise, row, ctx) : null;
}

function evaluateQuantifier(e: Expr & { kind: 'Quantifier' }, row: Row, ctx: ExecContext): Value {
  const list = evaluate(e.list, row, ctx);
  if (list === null) return null;
  if (!Array.isArray(list)) throw typeMismatch('List', list);
  const inner = new Map(row);
  let trues = 0;
  let nulls = 0;
  for (const item of list) {
    inner.set(e.variable, item);
    const v = toBool(evaluate(e.where, inner, ctx));
    if (v === true) trues++;
    else if (v === null) nulls++;
  }
  const falses = list.length - trues - nulls;
  switch (e.quantifier) {
    case 'all': return falses > 0 ? false : nulls > 0 ? null : true;
    case 'any': return trues > 0 ? true : nulls > 0 ? null : false;
    case 'none': return trues > 0 ? false : nulls > 0 ? null : true;
    case 'single': return trues > 1 ? false : nulls > 0 ? null : trues === 1;
  }
}

function evaluateMapProjection(e: Expr & { kind: 'MapProjection' }, row: Row, ctx: ExecContext): Value {
  const base = row.get(e.variable) ?? null;
  if (base === null) return null;
  const props = (): Map<string, Value> => {
    if (base instanceof NodeValue) return loadNode(ctx, base.id).properties as Map<string, Value>;
    if (base instanceof RelationshipValue) return loadRel(ctx, base.id).properties as Map<string, Value>;
    if (base instanceof Map) return base;
    throw typeMismatch('a Map, Node or Relationship', base);
  };
  const out = new Map<string, Value>();
  for (const item of e.items) {
    switch (item.kind) {
      case 'allProperties':
        for (const [k, v] of props()) out.set(k, v);
        break;
      case 'property':
        out.set(item.key, props().get(item.key) ?? null);
        break;
      case 'literal':
        out.set(item.key, evaluate(item.value, row, ctx));
        break;
      case 'variable':
        out.set(item.name, row.get(item.name) ?? null);
        break;
    }
  }
  return out;
}
