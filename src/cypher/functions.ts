/**
 * Scalar functions by lower-cased name: entity, list, string, numeric, conversion and temporal
 * functions. Arguments arrive evaluated; null in usually means null out.
 */
import type { Expr } from './ast.js';
import { QuiverError } from '../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, type Value } from '../values/value.js';
import { isTemporal } from '../values/temporal.js';
import { loadNode, loadRel, nodeFromRecord, type ExecContext } from './context.js';
import { rangeListElementsMax } from './limits.js';
import { temporalFunctionSpecs } from './temporal-specs.js';
import { asInteger, checkInt64, describe, formatFloat, stringOf, typeMismatch, typeName } from './value-util.js';
import { codePointCount, codePointRight, codePointSubstring, replaceAll, reverseCodePoints, trimCodePoints, type TrimSide } from './code-points.js';
import { randomUUID } from 'node:crypto';

type Fn = (args: Value[], ctx: ExecContext) => Value;

interface FunctionSpec {
  minArgs: number;
  maxArgs: number;
  fn: Fn;
}

function str(v: Value, fn: string): string {
  if (typeof v !== 'string') throw typeMismatch(`String for ${fn}()`, v);
  return v;
}

function numeric(v: Value, fn: string): number | bigint {
  if (typeof v !== 'number' && typeof v !== 'bigint') throw typeMismatch(`a number for ${fn}()`, v);
  return v;
}

function list(v: Value, fn: string): Value[] {
  if (!Array.isArray(v)) throw typeMismatch(`List for ${fn}()`, v);
  return v;
}

/** A length argument of a string function, in code points. */
function lengthArg(v: Value, fn: string): number {
  const len = Number(asInteger(v, `${fn}() length`));
  if (len < 0) throw new QuiverError('ArithmeticError', `${fn}() length must not be negative: ${len}`);
  return len;
}

/** trim/btrim/ltrim/rtrim: whitespace, or each code point of an optional trim character string. */
function trimFn(name: string, side: TrimSide, maxArgs: number): FunctionSpec {
  return { minArgs: 1, maxArgs, fn: (args) => {
    if (args[0] === null || args[1] === null) return null;
    const chars = args[1] === undefined ? undefined : str(args[1], name);
    return trimCodePoints(str(args[0]!, name), side, chars);
  } };
}

/** Wraps a function so that a null first argument returns null. */
function nullIn(f: Fn): Fn {
  return (args, ctx) => (args[0] === null ? null : f(args, ctx));
}

function floatFn(name: string, f: (x: number) => number): FunctionSpec {
  return { minArgs: 1, maxArgs: 1, fn: nullIn(([x]) => f(Number(numeric(x!, name)))) };
}

export function rangeBounds(args: Value[]): { start: bigint; end: bigint; step: bigint } {
  const start = rangeArgument(args[0]!, 'start');
  const end = rangeArgument(args[1]!, 'end');
  const step = args.length > 2 ? rangeArgument(args[2]!, 'step') : 1n;
  if (step === 0n) throw new QuiverError('ArgumentError', 'Step argument to range() cannot be zero');
  return { start, end, step };
}

/**
 * range() takes Integers. Semantic analysis refuses every other type it can see, an integral Float
 * literal (`0.0`) included; at run time an integral Float passes, as JavaScript drivers send every
 * number parameter as a Float.
 */
function rangeArgument(v: Value, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new QuiverError('ArgumentError', `Invalid argument for range(): ${what} must be an Integer but was ${typeName(v)}${v === null ? '' : ` (${describe(v)})`}`);
}

export function* rangeValues(start: bigint, end: bigint, step: bigint): Generator<bigint> {
  if (step > 0n) for (let i = start; i <= end; i += step) yield i;
  else for (let i = start; i >= end; i += step) yield i;
}

function toInteger(v: Value): Value {
  if (v === null) return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? checkInt64(BigInt(Math.trunc(v))) : null;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^[+-]?\d+$/.test(s)) return checkInt64(BigInt(s));
    if (/^0x[0-9a-f]+$/i.test(s)) return checkInt64(BigInt(s));
    const f = Number(s);
    return s !== '' && Number.isFinite(f) ? checkInt64(BigInt(Math.trunc(f))) : null;
  }
  throw typeMismatch('a String, Float, Integer or Boolean for toInteger()', v);
}

function toFloat(v: Value): Value {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const s = v.trim();
    const f = Number(s);
    return s !== '' && !Number.isNaN(f) && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$|^[+-]?(Infinity|NaN)$/i.test(s) ? f : null;
  }
  throw typeMismatch('a String, Float or Integer for toFloat()', v);
}

function toBoolean(v: Value): Value {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    return s === 'true' ? true : s === 'false' ? false : null;
  }
  if (typeof v === 'bigint') return v !== 0n;
  throw typeMismatch('a String, Integer or Boolean for toBoolean()', v);
}

function toStringValue(v: Value): Value {
  if (v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || isTemporal(v)) return stringOf(v);
  throw typeMismatch('a String, number, Boolean or temporal value for toString()', v);
}

/** Java's Math.round(double) and BigDecimal HALF_UP for a precision. */
function round(args: Value[]): Value {
  const x = Number(numeric(args[0]!, 'round'));
  if (args.length === 1) return Number.isFinite(x) ? Math.floor(x + 0.5) : x;
  const precision = Number(asInteger(args[1]!, 'round() precision'));
  const mode = args.length > 2 ? str(args[2]!, 'round').toUpperCase() : 'HALF_UP';
  const factor = 10 ** precision;
  const scaled = x * factor;
  let r: number;
  switch (mode) {
    case 'HALF_UP': r = Math.sign(scaled) * Math.round(Math.abs(scaled)); break;
    case 'HALF_DOWN': r = Math.sign(scaled) * Math.ceil(Math.abs(scaled) - 0.5); break;
    case 'HALF_EVEN': {
      const f = Math.floor(scaled);
      const diff = scaled - f;
      r = diff > 0.5 ? f + 1 : diff < 0.5 ? f : f % 2 === 0 ? f : f + 1;
      break;
    }
    case 'CEILING': r = Math.ceil(scaled); break;
    case 'FLOOR': r = Math.floor(scaled); break;
    case 'UP': r = Math.sign(scaled) * Math.ceil(Math.abs(scaled)); break;
    case 'DOWN': r = Math.trunc(scaled); break;
    default: throw new QuiverError('SemanticError', `Unknown rounding mode: ${mode}`);
  }
  return r / factor;
}

function propertiesOf(v: Value, ctx: ExecContext, fn: string): Map<string, Value> {
  if (v instanceof NodeValue) return new Map(loadNode(ctx, v.id).properties);
  if (v instanceof RelationshipValue) return new Map(loadRel(ctx, v.id).properties);
  if (v instanceof Map) return v;
  throw typeMismatch(`a Node, Relationship or Map for ${fn}()`, v);
}

const functions = new Map<string, FunctionSpec>([
  // entities and paths
  ['id', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (v instanceof NodeValue || v instanceof RelationshipValue) return BigInt(v.id);
    throw typeMismatch('a Node or Relationship for id()', v!);
  }) }],
  ['elementid', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (v instanceof NodeValue || v instanceof RelationshipValue) return v.elementId;
    throw typeMismatch('a Node or Relationship for elementId()', v!);
  }) }],
  ['labels', { minArgs: 1, maxArgs: 1, fn: nullIn(([v], ctx) => {
    if (v instanceof NodeValue) return [...loadNode(ctx, v.id).labels];
    throw typeMismatch('a Node for labels()', v!);
  }) }],
  ['type', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (v instanceof RelationshipValue) return v.type;
    throw typeMismatch('a Relationship for type()', v!);
  }) }],
  ['properties', { minArgs: 1, maxArgs: 1, fn: nullIn(([v], ctx) => new Map(propertiesOf(v!, ctx, 'properties'))) }],
  ['keys', { minArgs: 1, maxArgs: 1, fn: nullIn(([v], ctx) => [...propertiesOf(v!, ctx, 'keys').keys()]) }],
  ['startnode', { minArgs: 1, maxArgs: 1, fn: nullIn(([v], ctx) => {
    if (v instanceof RelationshipValue) return nodeFromRecord(loadNode(ctx, v.startId));
    throw typeMismatch('a Relationship for startNode()', v!);
  }) }],
  ['endnode', { minArgs: 1, maxArgs: 1, fn: nullIn(([v], ctx) => {
    if (v instanceof RelationshipValue) return nodeFromRecord(loadNode(ctx, v.endId));
    throw typeMismatch('a Relationship for endNode()', v!);
  }) }],
  ['nodes', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (v instanceof PathValue) return [...v.nodes];
    throw typeMismatch('a Path for nodes()', v!);
  }) }],
  ['relationships', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (v instanceof PathValue) return [...v.relationships];
    throw typeMismatch('a Path for relationships()', v!);
  }) }],
  ['length', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (v instanceof PathValue) return BigInt(v.relationships.length);
    if (typeof v === 'string') return BigInt(codePointCount(v));
    if (Array.isArray(v)) return BigInt(v.length);
    throw typeMismatch('a Path for length()', v!);
  }) }],
  ['size', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (typeof v === 'string') return BigInt(codePointCount(v));
    if (Array.isArray(v)) return BigInt(v.length);
    throw typeMismatch('a String or List for size()', v!);
  }) }],
  ['char_length', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => BigInt(codePointCount(str(v!, 'char_length')))) }],
  ['character_length', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => BigInt(codePointCount(str(v!, 'character_length')))) }],
  ['isempty', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
    if (v instanceof Map) return v.size === 0;
    throw typeMismatch('a String, List or Map for isEmpty()', v!);
  }) }],
  // lists
  ['coalesce', { minArgs: 1, maxArgs: Infinity, fn: (args) => args.find((a) => a !== null) ?? null }],
  ['head', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => list(v!, 'head')[0] ?? null) }],
  ['last', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => { const l = list(v!, 'last'); return l[l.length - 1] ?? null; }) }],
  ['tail', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => list(v!, 'tail').slice(1)) }],
  ['reverse', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => (typeof v === 'string' ? reverseCodePoints(v) : [...list(v!, 'reverse')].reverse())) }],
  ['range', { minArgs: 2, maxArgs: 3, fn: (args) => {
    const { start, end, step } = rangeBounds(args);
    const count = step > 0n ? (end - start) / step + 1n : (start - end) / -step + 1n;
    if (count > BigInt(rangeListElementsMax)) throw new QuiverError('SemanticError', `range() would produce ${count} elements, more than the limit of ${rangeListElementsMax}: use UNWIND range(...) to stream it`);
    return [...rangeValues(start, end, step)];
  } }],
  // strings
  ['tostring', { minArgs: 1, maxArgs: 1, fn: ([v]) => toStringValue(v!) }],
  ['tostringornull', { minArgs: 1, maxArgs: 1, fn: ([v]) => { try { return toStringValue(v!); } catch { return null; } } }],
  ['tolower', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => str(v!, 'toLower').toLowerCase()) }],
  ['toupper', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => str(v!, 'toUpper').toUpperCase()) }],
  // trim(LEADING|TRAILING|BOTH c FROM s) is parsed into ltrim/rtrim/btrim(s, c).
  ['trim', trimFn('trim', 'both', 1)],
  ['btrim', trimFn('btrim', 'both', 2)],
  ['ltrim', trimFn('ltrim', 'leading', 2)],
  ['rtrim', trimFn('rtrim', 'trailing', 2)],
  ['split', { minArgs: 2, maxArgs: 2, fn: ([s, d]) => {
    if (s === null || d === null) return null;
    const text = str(s!, 'split');
    if (Array.isArray(d)) {
      const delims = d.map((x) => str(x, 'split')).filter((x) => x !== '');
      if (delims.length === 0) return [...text];
      return text.split(new RegExp(delims.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')));
    }
    const delim = str(d!, 'split');
    return delim === '' ? [...text] : text.split(delim);
  } }],
  ['substring', { minArgs: 2, maxArgs: 3, fn: (args) => {
    if (args[0] === null) return null;
    const s = str(args[0]!, 'substring');
    const start = Number(asInteger(args[1]!, 'substring() start'));
    if (start < 0) throw new QuiverError('ArithmeticError', `substring() start must not be negative: ${start}`);
    if (args.length < 3) return codePointSubstring(s, start);
    return codePointSubstring(s, start, lengthArg(args[2]!, 'substring'));
  } }],
  ['left', { minArgs: 2, maxArgs: 2, fn: nullIn(([s, n]) => (n === null ? null : codePointSubstring(str(s!, 'left'), 0, lengthArg(n!, 'left')))) }],
  ['right', { minArgs: 2, maxArgs: 2, fn: nullIn(([s, n]) => (n === null ? null : codePointRight(str(s!, 'right'), lengthArg(n!, 'right')))) }],
  ['replace', { minArgs: 3, maxArgs: 3, fn: ([s, a, b]) => (s === null || a === null || b === null ? null : replaceAll(str(s!, 'replace'), str(a!, 'replace'), str(b!, 'replace'))) }],
  ['randomuuid', { minArgs: 0, maxArgs: 0, fn: () => randomUUID() }],
  // conversion
  ['tointeger', { minArgs: 1, maxArgs: 1, fn: ([v]) => toInteger(v!) }],
  ['tointegerornull', { minArgs: 1, maxArgs: 1, fn: ([v]) => { try { return toInteger(v!); } catch { return null; } } }],
  ['tofloat', { minArgs: 1, maxArgs: 1, fn: ([v]) => toFloat(v!) }],
  ['tofloatornull', { minArgs: 1, maxArgs: 1, fn: ([v]) => { try { return toFloat(v!); } catch { return null; } } }],
  ['toboolean', { minArgs: 1, maxArgs: 1, fn: ([v]) => toBoolean(v!) }],
  ['tobooleanornull', { minArgs: 1, maxArgs: 1, fn: ([v]) => { try { return toBoolean(v!); } catch { return null; } } }],
  // numbers
  ['abs', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => { const x = numeric(v!, 'abs'); return typeof x === 'bigint' ? checkInt64(x < 0n ? -x : x) : Math.abs(x); }) }],
  ['sign', { minArgs: 1, maxArgs: 1, fn: nullIn(([v]) => { const x = numeric(v!, 'sign'); return typeof x === 'bigint' ? (x > 0n ? 1n : x < 0n ? -1n : 0n) : BigInt(Math.sign(x)); }) }],
  ['round', { minArgs: 1, maxArgs: 3, fn: nullIn((args) => round(args)) }],
  ['floor', floatFn('floor', Math.floor)],
  ['ceil', floatFn('ceil', Math.ceil)],
  ['sqrt', floatFn('sqrt', Math.sqrt)],
  ['exp', floatFn('exp', Math.exp)],
  ['log', floatFn('log', Math.log)],
  ['log10', floatFn('log10', Math.log10)],
  ['sin', floatFn('sin', Math.sin)],
  ['cos', floatFn('cos', Math.cos)],
  ['tan', floatFn('tan', Math.tan)],
  ['asin', floatFn('asin', Math.asin)],
  ['acos', floatFn('acos', Math.acos)],
  ['atan', floatFn('atan', Math.atan)],
  ['atan2', { minArgs: 2, maxArgs: 2, fn: ([a, b]) => (a === null || b === null ? null : Math.atan2(Number(numeric(a!, 'atan2')), Number(numeric(b!, 'atan2')))) }],
  ['degrees', floatFn('degrees', (x) => (x * 180) / Math.PI)],
  ['radians', floatFn('radians', (x) => (x * Math.PI) / 180)],
  ['pi', { minArgs: 0, maxArgs: 0, fn: () => Math.PI }],
  ['e', { minArgs: 0, maxArgs: 0, fn: () => Math.E }],
  ['rand', { minArgs: 0, maxArgs: 0, fn: () => Math.random() }],
  // time
  ['timestamp', { minArgs: 0, maxArgs: 0, fn: (_a, ctx) => BigInt(ctx.statementTime.getTime()) }],
  ...temporalFunctionSpecs,
  ['valuetype', { minArgs: 1, maxArgs: 1, fn: ([v]) => (v === null ? 'NULL' : typeof v === 'number' ? 'FLOAT NOT NULL' : typeof v === 'bigint' ? 'INTEGER NOT NULL' : typeof v === 'string' ? 'STRING NOT NULL' : typeof v === 'boolean' ? 'BOOLEAN NOT NULL' : 'ANY') }],
]);

export function isKnownFunction(name: string): boolean {
  return functions.has(name.toLowerCase());
}

/** Checks the argument count at plan time. */
export function checkArity(name: string, count: number): string | null {
  const spec = functions.get(name.toLowerCase());
  if (!spec) return `Unknown function '${name}'`;
  if (count < spec.minArgs || count > spec.maxArgs) {
    return `Function ${name}() takes ${spec.minArgs === spec.maxArgs ? spec.minArgs : `${spec.minArgs} to ${spec.maxArgs}`} argument(s), ${count} given`;
  }
  return null;
}

export function callFunction(e: Expr & { kind: 'Call' }, args: Value[], ctx: ExecContext): Value {
  const spec = functions.get(e.name.toLowerCase());
  if (!spec) throw new QuiverError('SemanticError', `Unknown function '${e.name}'`);
  return spec.fn(args, ctx);
}

export { formatFloat };
