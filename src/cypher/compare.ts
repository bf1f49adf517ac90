/**
 * Cypher equality, comparability and orderability over the value model: `=` and `<` with null
 * propagation (incomparable types give null), the total order used by ORDER BY / min / max, and
 * grouping keys under which 1 and 1.0 are the same value.
 */
import { NodeValue, PathValue, RelationshipValue, type Value } from '../values/value.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime } from '../values/temporal.js';

export function isNumber(v: Value): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

export function isMap(v: Value): v is Map<string, Value> {
  return v instanceof Map;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // Mixed: compare exactly when the float is integral and large, otherwise as floats.
  const f = typeof a === 'number' ? a : (b as number);
  const i = typeof a === 'bigint' ? a : (b as bigint);
  let r: number;
  if (Number.isInteger(f)) {
    const fi = BigInt(f);
    r = i < fi ? -1 : i > fi ? 1 : 0;
  } else {
    const n = Number(i);
    r = n < f ? -1 : n > f ? 1 : 0;
  }
  return typeof a === 'bigint' ? r : -r;
}

/** Cypher `=`: true, false, or null when the answer is unknown (null involved). */
export function equals(a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  if (isNumber(a) && isNumber(b)) {
    if (Number.isNaN(a) || Number.isNaN(b)) return false;
    return compareNumbers(a, b) === 0;
  }
  if (typeof a === 'string' || typeof a === 'boolean') return a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    let unknown = false;
    for (let i = 0; i < a.length; i++) {
      const r = equals(a[i]!, b[i]!);
      if (r === false) return false;
      if (r === null) unknown = true;
    }
    return unknown ? null : true;
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    let unknown = false;
    for (const [k, v] of a) {
      if (!b.has(k)) return false;
      const r = equals(v, b.get(k)!);
      if (r === false) return false;
      if (r === null) unknown = true;
    }
    return unknown ? null : true;
  }
  if (a instanceof NodeValue) return b instanceof NodeValue && a.id === b.id;
  if (a instanceof RelationshipValue) return b instanceof RelationshipValue && a.id === b.id;
  if (a instanceof PathValue) {
    if (!(b instanceof PathValue) || a.nodes.length !== b.nodes.length) return false;
    return a.nodes.every((n, i) => n.id === b.nodes[i]!.id) && a.relationships.every((r, i) => r.id === b.relationships[i]!.id);
  }
  if (a instanceof Uint8Array) return b instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
  if (a instanceof QDuration) return b instanceof QDuration && a.months === b.months && a.days === b.days && a.seconds === b.seconds && a.nanos === b.nanos;
  const ta = temporalKey(a);
  const tb = temporalKey(b);
  if (ta && tb) return ta.type === tb.type && ta.major === tb.major && ta.minor === tb.minor;
  return false;
}

interface TemporalKey {
  type: string;
  major: bigint;
  minor: number;
}

function temporalKey(v: Value): TemporalKey | null {
  if (v instanceof QDate) return { type: 'date', major: BigInt(v.epochDays()), minor: 0 };
  if (v instanceof QLocalTime) return { type: 'localtime', major: v.nanoOfDay, minor: 0 };
  if (v instanceof QTime) return { type: 'time', major: v.nanoOfDay - BigInt(v.offsetSeconds) * 1_000_000_000n, minor: 0 };
  if (v instanceof QLocalDateTime) return { type: 'localdatetime', major: v.epochSeconds, minor: v.nanos };
  if (v instanceof QDateTime) return { type: 'datetime', major: v.epochSeconds, minor: v.nanos };
  return null;
}

/**
 * Cypher `<`-style comparison: a number, or null when the values are not comparable. NaN against a
 * number gives NaN, for which every `<`, `<=`, `>`, `>=` test is false (Neo4j: `0.0/0.0 > 1` is false).
 */
export function compareValues(a: Value, b: Value): number | null {
  if (a === null || b === null) return null;
  if (isNumber(a) && isNumber(b)) {
    if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
    return compareNumbers(a, b);
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const r = compareValues(a[i]!, b[i]!);
      if (r === null) return null;
      if (r !== 0) return r;
    }
    return a.length - b.length;
  }
  const ta = temporalKey(a);
  const tb = temporalKey(b);
  if (ta && tb && ta.type === tb.type) return ta.major < tb.major ? -1 : ta.major > tb.major ? 1 : ta.minor - tb.minor;
  return null;
}

/** Rank of each type in ORDER BY's ascending order (null is last). */
function typeRank(v: Value): number {
  if (v instanceof Map) return 0;
  if (v instanceof NodeValue) return 1;
  if (v instanceof RelationshipValue) return 2;
  if (Array.isArray(v)) return 3;
  if (v instanceof PathValue) return 4;
  if (v instanceof QDateTime) return 5;
  if (v instanceof QLocalDateTime) return 6;
  if (v instanceof QDate) return 7;
  if (v instanceof QTime) return 8;
  if (v instanceof QLocalTime) return 9;
  if (v instanceof QDuration) return 10;
  if (typeof v === 'string') return 11;
  if (typeof v === 'boolean') return 12;
  if (typeof v === 'number' || typeof v === 'bigint') return 13;
  if (v instanceof Uint8Array) return 14;
  return 15; // null
}

/** Total order for ORDER BY, min() and max(): never null. */
export function orderCompare(a: Value, b: Value): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (a === null || b === null) return 0;
  if (isNumber(a) && isNumber(b)) {
    const an = Number.isNaN(a);
    const bn = Number.isNaN(b);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return compareNumbers(a, b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const r = orderCompare(a[i]!, b[i]!);
      if (r !== 0) return r;
    }
    return a.length - b.length;
  }
  if (a instanceof Map && b instanceof Map) {
    const ka = [...a.keys()].sort();
    const kb = [...b.keys()].sort();
    const r = orderCompare(ka, kb);
    if (r !== 0) return r;
    for (const k of ka) {
      const c = orderCompare(a.get(k)!, b.get(k)!);
      if (c !== 0) return c;
    }
    return 0;
  }
  if (a instanceof NodeValue && b instanceof NodeValue) return a.id - b.id;
  if (a instanceof RelationshipValue && b instanceof RelationshipValue) return a.id - b.id;
  if (a instanceof PathValue && b instanceof PathValue) {
    return orderCompare(a.nodes.map((n) => BigInt(n.id)), b.nodes.map((n) => BigInt(n.id))) || orderCompare(a.relationships.map((n) => BigInt(n.id)), b.relationships.map((n) => BigInt(n.id)));
  }
  if (a instanceof QDuration && b instanceof QDuration) {
    return cmpBig(a.months, b.months) || cmpBig(a.days, b.days) || cmpBig(a.seconds, b.seconds) || a.nanos - b.nanos;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return orderCompare([...a].map(BigInt), [...b].map(BigInt));
  return compareValues(a, b) ?? 0;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A string that is equal for values DISTINCT and grouping treat as the same (1 and 1.0 included). */
export function valueKey(v: Value): string {
  if (v === null) return 'n';
  if (typeof v === 'bigint') return `i${v}`;
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return `i${BigInt(v)}`;
    return `f${v}`;
  }
  if (typeof v === 'string') return `s${JSON.stringify(v)}`;
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  if (v instanceof Map) return `{${[...v.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => `${JSON.stringify(k)}:${valueKey(x)}`).join(',')}}`;
  if (v instanceof NodeValue) return `N${v.id}`;
  if (v instanceof RelationshipValue) return `R${v.id}`;
  if (v instanceof PathValue) return `P${v.nodes.map((n) => n.id).join('.')}/${v.relationships.map((r) => r.id).join('.')}`;
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
  if (v instanceof QDuration) return `D${v.months},${v.days},${v.seconds},${v.nanos}`;
  const t = temporalKey(v);
  if (t) return `t${t.type}:${t.major}:${t.minor}`;
  return `?${String(v)}`;
}
