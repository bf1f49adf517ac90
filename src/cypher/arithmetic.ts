/**
 * Cypher arithmetic: integer (bigint, 64-bit with overflow errors, truncating division) versus
 * float semantics, string and list concatenation with `+`, and temporal ± duration.
 */
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { QDuration, isTemporal } from '../values/temporal.js';
import { addDuration, addDurations, divideDuration, multiplyDuration, negateDuration } from './temporal-arith.js';
import { checkInt64, stringOf, typeName } from './value-util.js';

function bad(op: string, a: Value, b: Value): QuiverError {
  return new QuiverError('TypeError', `Cannot apply '${op}' to ${typeName(a)} and ${typeName(b)}`);
}

export function add(a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') return checkInt64(a + b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) + Number(b);
  if (Array.isArray(a)) return Array.isArray(b) ? [...a, ...b] : [...a, b];
  if (Array.isArray(b)) return [a, ...b];
  if (typeof a === 'string' && isStringable(b)) return a + stringOf(b);
  if (typeof b === 'string' && isStringable(a)) return stringOf(a) + b;
  if (a instanceof QDuration && b instanceof QDuration) return addDurations(a, b);
  if (isTemporal(a) && b instanceof QDuration) return addDuration(a, b);
  if (a instanceof QDuration && isTemporal(b)) return addDuration(b, a);
  throw bad('+', a, b);
}

function isStringable(v: Value): boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || isTemporal(v);
}

export function subtract(a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') return checkInt64(a - b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) - Number(b);
  if (b instanceof QDuration && isTemporal(a)) return a instanceof QDuration ? addDurations(a, negateDuration(b)) : addDuration(a, negateDuration(b));
  throw bad('-', a, b);
}

export function multiply(a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') return checkInt64(a * b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) * Number(b);
  if (a instanceof QDuration && (typeof b === 'number' || typeof b === 'bigint')) return multiplyDuration(a, b);
  if (b instanceof QDuration && (typeof a === 'number' || typeof a === 'bigint')) return multiplyDuration(b, a);
  throw bad('*', a, b);
}

export function divide(a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (b === 0n) throw new QuiverError('ArithmeticError', '/ by zero');
    return checkInt64(a / b);
  }
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) / Number(b);
  if (a instanceof QDuration && (typeof b === 'number' || typeof b === 'bigint')) return divideDuration(a, b);
  throw bad('/', a, b);
}

export function modulo(a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (b === 0n) throw new QuiverError('ArithmeticError', '/ by zero');
    return a % b;
  }
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) % Number(b);
  throw bad('%', a, b);
}

export function power(a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Math.pow(Number(a), Number(b));
  throw bad('^', a, b);
}

export function negate(a: Value): Value {
  if (a === null) return null;
  if (typeof a === 'bigint') return checkInt64(-a);
  if (typeof a === 'number') return -a;
  if (a instanceof QDuration) return negateDuration(a);
  throw new QuiverError('TypeError', `Cannot negate ${typeName(a)}`);
}
