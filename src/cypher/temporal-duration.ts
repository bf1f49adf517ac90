/**
 * Durations as Neo4j models them: months, days, seconds and nanoseconds kept apart (a month is not a
 * number of days, a day is not 86,400 seconds across a DST change). duration() from ISO strings
 * (PnYnMnWnDTnHnMnS with fractions, and the PYYYY-MM-DDThh:mm:ss form) and maps, fractional
 * amounts cascading into smaller units (Neo4j's `approximate`), and duration.between / inMonths /
 * inDays / inSeconds with Neo4j's rules for values of different kinds: a value without a date
 * takes the other's date, a value without a zone takes the other's zone.
 */
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { QDuration } from '../values/temporal.js';
import { civil, daysInMonth, epochDay, floorDiv, floorMod, nanosPerSecond, resolveLocal, zoneOffsetAt } from './temporal-calendar.js';
import { partsOf } from './temporal-functions.js';
import { typeMismatch } from './value-util.js';

/** Average Gregorian month (365.2425 / 12 days), in nanoseconds: Neo4j's AVG_NANOS_PER_MONTH. */
const avgNanosPerMonth = 2_629_746_000_000_000;
const nanosPerDayNumber = 86_400_000_000_000;

/** A duration from exact parts; nanoseconds beyond a second carry into seconds. */
export function durationOf(months: bigint, days: bigint, seconds: bigint, nanos: bigint): QDuration {
  const total = seconds * nanosPerSecond + nanos;
  return new QDuration(months, days, floorDiv(total, nanosPerSecond), Number(floorMod(total, nanosPerSecond)));
}

function toLong(x: number): bigint {
  if (!Number.isFinite(x) || Math.abs(x) >= 9.223372036854776e18) throw new QuiverError('ArithmeticError', `Duration overflow: ${x}`);
  return BigInt(Math.trunc(x));
}

/** Neo4j's DurationValue.approximate: whole units, the remainder recalculated into smaller units. */
export function approximate(months: number, days: number, seconds: number, nanos: number): QDuration {
  const m = toLong(months);
  days += (avgNanosPerMonth * months - avgNanosPerMonth * Number(m)) / nanosPerDayNumber;
  const d = toLong(days);
  seconds += (nanosPerDayNumber * days - nanosPerDayNumber * Number(d)) / 1e9;
  const s = toLong(seconds);
  nanos += 1e9 * seconds - 1e9 * Number(s);
  return durationOf(m, d, s, toLong(nanos));
}

function invalidDuration(text: string): QuiverError {
  return new QuiverError('SemanticError', `Text cannot be parsed to a Duration: "${text}"`);
}

const unitRe = /^(?:([-+]?[0-9]+(?:[.,][0-9]+)?)Y)?(?:([-+]?[0-9]+(?:[.,][0-9]+)?)M)?(?:([-+]?[0-9]+(?:[.,][0-9]+)?)W)?(?:([-+]?[0-9]+(?:[.,][0-9]+)?)D)?(?:T(?:([-+]?[0-9]+(?:[.,][0-9]+)?)H)?(?:([-+]?[0-9]+(?:[.,][0-9]+)?)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{1,9}))?S)?)?$/i;
const dateFormRe = /^([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:T([0-9]{2}):?([0-9]{2}):?([0-9]{2})(?:[.,]([0-9]{1,9}))?)?$/i;

function parseDuration(text: string): QDuration {
  const m0 = /^([-+]?)P(.*)$/i.exec(text);
  if (!m0 || m0[2] === '' || /T$/i.test(m0[2]!)) throw invalidDuration(text);
  const sign = m0[1] === '-' ? -1n : 1n;
  const body = m0[2]!;
  const df = dateFormRe.exec(body);
  if (df) {
    const n = (i: number) => BigInt(df[i] ?? '0');
    const frac = BigInt((df[7] ?? '').padEnd(9, '0') || '0');
    const d = durationOf(n(1) * 12n + n(2), n(3), n(4) * 3600n + n(5) * 60n + n(6), frac);
    return sign < 0n ? durationOf(-d.months, -d.days, -d.seconds, -BigInt(d.nanos)) : d;
  }
  const m = unitRe.exec(body);
  if (!m || m.slice(1).every((x) => x === undefined)) throw invalidDuration(text);
  const num = (i: number) => Number((m[i] ?? '0').replace(',', '.'));
  const exact = [1, 2, 3, 4, 5, 6].every((i) => m[i] === undefined || /^[-+]?[0-9]+$/.test(m[i]!));
  const secondsWhole = BigInt(m[7] ?? '0');
  const secondsNeg = (m[7] ?? '').startsWith('-');
  let fracNanos = BigInt((m[8] ?? '').padEnd(9, '0') || '0');
  if (secondsNeg) fracNanos = -fracNanos;
  let d: QDuration;
  if (exact) {
    const big = (i: number) => BigInt(m[i] ?? '0');
    d = durationOf(big(1) * 12n + big(2), big(3) * 7n + big(4), big(5) * 3600n + big(6) * 60n + secondsWhole, fracNanos);
  } else {
    d = approximate(num(1) * 12 + num(2), num(3) * 7 + num(4), num(5) * 3600 + num(6) * 60 + Number(secondsWhole), Number(fracNanos));
  }
  return sign < 0n ? durationOf(-d.months, -d.days, -d.seconds, -BigInt(d.nanos)) : d;
}

const durationKeys = ['years', 'quarters', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds', 'milliseconds', 'microseconds', 'nanoseconds'];

export function makeDuration(arg: Value): Value {
  if (arg === null) return null;
  if (typeof arg === 'string') return parseDuration(arg);
  if (arg instanceof QDuration) return arg;
  if (arg instanceof Map) {
    for (const k of arg.keys()) if (!durationKeys.includes(k)) throw new QuiverError('SemanticError', `No such field: ${k}`);
    let integral = true;
    const get = (k: string): number => {
      const v = arg.get(k);
      if (v === undefined || v === null) return 0;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'number') {
        if (!Number.isInteger(v)) integral = false;
        return v;
      }
      throw typeMismatch(`a number for ${k}`, v);
    };
    const big = (k: string): bigint => {
      const v = arg.get(k);
      return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;
    };
    const months = get('years') * 12 + get('quarters') * 3 + get('months');
    const days = get('weeks') * 7 + get('days');
    const seconds = get('hours') * 3600 + get('minutes') * 60 + get('seconds');
    const nanos = get('milliseconds') * 1e6 + get('microseconds') * 1e3 + get('nanoseconds');
    if (integral) {
      return durationOf(big('years') * 12n + big('quarters') * 3n + big('months'), big('weeks') * 7n + big('days'), big('hours') * 3600n + big('minutes') * 60n + big('seconds'), big('milliseconds') * 1_000_000n + big('microseconds') * 1000n + big('nanoseconds'));
    }
    return approximate(months, days, seconds, nanos);
  }
  throw typeMismatch('a String or Map', arg);
}

// ---- between ----------------------------------------------------------------------------------

export type BetweenUnit = 'all' | 'months' | 'days' | 'seconds';

/** Months from local date-time a to b as java.time's LocalDateTime.until(…, MONTHS) counts them. */
function monthsUntil(dayA: number, nanoA: bigint, dayB: number, nanoB: bigint): bigint {
  let endDay = dayB;
  if (dayB > dayA && nanoB < nanoA) endDay--;
  else if (dayB < dayA && nanoB > nanoA) endDay++;
  const a = civil(dayA);
  const b = civil(endDay);
  const packed = (c: { year: number; month: number; day: number }) => (BigInt(c.year) * 12n + BigInt(c.month - 1)) * 32n + BigInt(c.day);
  const diff = packed(b) - packed(a);
  return diff / 32n; // truncates toward zero, as Java's long division
}

function daysUntil(dayA: number, nanoA: bigint, dayB: number, nanoB: bigint): bigint {
  let endDay = dayB;
  if (dayB > dayA && nanoB < nanoA) endDay--;
  else if (dayB < dayA && nanoB > nanoA) endDay++;
  return BigInt(endDay - dayA);
}

function plusMonthsDay(day: number, months: bigint): number {
  if (months === 0n) return day;
  const c = civil(day);
  const total = BigInt(c.year) * 12n + BigInt(c.month - 1) + months;
  const year = Number(floorDiv(total, 12n));
  const month = Number(floorMod(total, 12n)) + 1;
  return epochDay(year, month, Math.min(c.day, daysInMonth(year, month)));
}

/** duration.between(a, b) and its inMonths / inDays / inSeconds variants. */
export function durationBetween(a: Value, b: Value, unit: BetweenUnit = 'all'): Value {
  if (a === null || b === null) return null;
  const pa = partsOf(a);
  const pb = partsOf(b);
  if (!pa) throw typeMismatch('a temporal value', a);
  if (!pb) throw typeMismatch('a temporal value', b);
  const bothDates = pa.day !== null && pb.day !== null;
  if ((unit === 'months' || unit === 'days') && !bothDates) return new QDuration(0n, 0n, 0n, 0);
  // A value without a date takes the other's; without a zone, the other's zone.
  const dayA = pa.day ?? pb.day ?? 0;
  const dayB = pb.day ?? pa.day ?? 0;
  const nanoA = pa.nano ?? 0n;
  const nanoB = pb.nano ?? 0n;
  const zoneA = pa.zone ?? pb.zone;
  const zoneB = pb.zone ?? pa.zone;
  const instant = (day: number, nano: bigint, zone: typeof zoneA, offset: number | null): bigint => {
    const local = BigInt(day) * 86_400n * nanosPerSecond + nano;
    if (!zone) return local;
    const off = offset !== null && zone.name === null ? offset : zone.name === null ? zone.offset : resolveLocal(zone.name, BigInt(day) * 86_400n + nano / nanosPerSecond, offset).offset;
    return local - BigInt(off) * nanosPerSecond;
  };
  const offA = pa.zone ? pa.offset : null;
  const offB = pb.zone ? pb.offset : null;
  const iA = instant(dayA, nanoA, zoneA, offA);
  const iB = instant(dayB, nanoB, zoneB, offB);
  if (unit === 'seconds' || !bothDates) return durationOf(0n, 0n, 0n, iB - iA);
  // Calendar units compare local date-times, b seen in a's zone (the same instant).
  let localB = BigInt(dayB) * 86_400n * nanosPerSecond + nanoB;
  if (zoneA) {
    const offsetAtB = zoneA.name === null ? zoneA.offset : zoneOffsetAt(zoneA.name, floorDiv(iB, nanosPerSecond));
    localB = iB + BigInt(offsetAtB) * nanosPerSecond;
  }
  const dB = Number(floorDiv(localB, 86_400n * nanosPerSecond));
  const nB = floorMod(localB, 86_400n * nanosPerSecond);
  const months = monthsUntil(dayA, nanoA, dB, nB);
  if (unit === 'months') return new QDuration(months, 0n, 0n, 0);
  const dayAfterMonths = plusMonthsDay(dayA, months);
  const days = daysUntil(dayAfterMonths, nanoA, dB, nB);
  if (unit === 'days') return new QDuration(0n, daysUntil(dayA, nanoA, dB, nB), 0n, 0);
  const fromDay = dayAfterMonths + Number(days);
  const iFrom = instant(fromDay, nanoA, zoneA, offA);
  return durationOf(months, days, 0n, zoneA ? iB - iFrom : localB - (BigInt(fromDay) * 86_400n * nanosPerSecond + nanoA));
}
