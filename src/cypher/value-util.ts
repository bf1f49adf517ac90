/**
 * Small helpers over runtime values shared by the evaluator and the functions: Cypher type names
 * for messages, Java-compatible float formatting, 64-bit overflow checks and integer coercion.
 */
import { QuiverError } from '../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, type Value } from '../values/value.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime } from '../values/temporal.js';
import { truncateCodePoints } from './code-points.js';

export const int64Min = -(1n << 63n);
export const int64Max = (1n << 63n) - 1n;

export function typeName(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return 'Integer';
  if (typeof v === 'number') return 'Float';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'boolean') return 'Boolean';
  if (Array.isArray(v)) return 'List';
  if (v instanceof Map) return 'Map';
  if (v instanceof NodeValue) return 'Node';
  if (v instanceof RelationshipValue) return 'Relationship';
  if (v instanceof PathValue) return 'Path';
  if (v instanceof Uint8Array) return 'ByteArray';
  if (v instanceof QDate) return 'Date';
  if (v instanceof QDateTime) return 'DateTime';
  if (v instanceof QLocalDateTime) return 'LocalDateTime';
  if (v instanceof QTime) return 'Time';
  if (v instanceof QLocalTime) return 'LocalTime';
  if (v instanceof QDuration) return 'Duration';
  return 'Unknown';
}

export function typeMismatch(expected: string, v: Value): QuiverError {
  return new QuiverError('TypeError', `Type mismatch: expected ${expected} but was ${typeName(v)}${v === null ? '' : ` (${describe(v)})`}`);
}

export function describe(v: Value): string {
  if (typeof v === 'string') return JSON.stringify(truncateCodePoints(v, 40));
  if (typeof v === 'number') return formatFloat(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return typeName(v);
}

/**
 * Why a SKIP or LIMIT value is refused (Neo4j's wording), or null: it takes a non-negative integer.
 * An integral Float passes, since JavaScript drivers send every number parameter as a Float.
 */
export function rowCountProblem(v: Value, what: 'SKIP' | 'LIMIT'): string | null {
  if ((typeof v === 'bigint' && v >= 0n) || (typeof v === 'number' && Number.isInteger(v) && v >= 0)) return null;
  const shown = typeof v === 'number' ? formatFloat(v) : typeof v === 'bigint' ? String(v) : describe(v);
  return `Invalid input. '${shown}' is not a valid value for ${what}. Must be a non-negative integer.`;
}

export function checkInt64(v: bigint, what = 'long'): bigint {
  if (v < int64Min || v > int64Max) throw new QuiverError('ArithmeticError', `${what} overflow`);
  return v;
}

/**
 * An integer where Cypher requires one (LIMIT, SKIP, indexes, range bounds). Integral floats are
 * accepted because the JavaScript driver sends plain numbers as floats.
 */
export function asInteger(v: Value, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new QuiverError('TypeError', `${what}: expected an integer but was ${typeName(v)}${v === null ? '' : ` (${describe(v)})`}`);
}

/** Formats a float as Java's Double.toString does (Neo4j's toString and string concatenation). */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') || s.includes('e') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${exponent.replace('+', '')}`;
}

/** String form used by toString() and string concatenation. */
export function stringOf(v: Value): string {
  if (typeof v === 'number') return formatFloat(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return String(v);
}
