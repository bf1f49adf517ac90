/**
 * The temporal functions date(), localtime(), time(), localdatetime(), datetime(), duration():
 * from ISO strings, from component maps, from other temporals, and "now" from the statement
 * clock. Also the component accessors (`d.year`, `dt.epochMillis`, `dur.days` ...).
 */
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime, isTemporal } from '../values/temporal.js';
import { daysInMonth, durationFromParts, nanosPerSecond, zoneOffsetSeconds } from './temporal-arith.js';
import { typeMismatch } from './value-util.js';

export type TemporalKind = 'date' | 'localtime' | 'time' | 'localdatetime' | 'datetime';

function invalid(kind: string, text: string): QuiverError {
  return new QuiverError('SemanticError', `Text cannot be parsed to a ${kind === 'localdatetime' ? 'LocalDateTime' : kind === 'datetime' ? 'DateTime' : kind === 'localtime' ? 'LocalTime' : kind === 'time' ? 'Time' : kind === 'date' ? 'Date' : 'Duration'}: "${text}"`);
}

function checkDate(y: number, m: number, d: number, text: string): QDate {
  if (!(m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m))) throw new QuiverError('SemanticError', `Invalid date: ${text}`);
  return new QDate(y, m, d);
}

const dateRe = /^([+-]?\d{4,9})(?:-?(\d{2})(?:-?(\d{2}))?)?$/;
const timeRe = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?$/;
const offsetRe = /(Z|[+-]\d{2}(?::?\d{2})?)?(?:\[([^\]]+)\])?$/;

function parseDate(s: string): QDate {
  const m = dateRe.exec(s);
  if (!m) throw invalid('date', s);
  return checkDate(Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1), s);
}

function parseLocalTimeNanos(s: string, kind: TemporalKind): bigint {
  const m = timeRe.exec(s);
  if (!m) throw invalid(kind, s);
  const h = Number(m[1]);
  const min = Number(m[2] ?? 0);
  const sec = Number(m[3] ?? 0);
  if (h > 23 || min > 59 || sec > 59) throw invalid(kind, s);
  const frac = BigInt((m[4] ?? '').padEnd(9, '0') || '0');
  return (BigInt(h) * 3600n + BigInt(min) * 60n + BigInt(sec)) * nanosPerSecond + frac;
}

function parseOffset(s: string): number {
  if (s === 'Z') return 0;
  const sign = s[0] === '-' ? -1 : 1;
  const digits = s.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60);
}

/** Splits "…time…[+01:00][Europe/Paris]" into the time text, offset seconds and zone. */
function splitZone(s: string): { rest: string; offset: number | null; zone: string | null } {
  const m = offsetRe.exec(s);
  if (!m || (!m[1] && !m[2])) return { rest: s, offset: null, zone: null };
  return { rest: s.slice(0, m.index), offset: m[1] ? parseOffset(m[1]) : null, zone: m[2] ?? null };
}

function resolveOffset(localEpochSeconds: bigint, offset: number | null, zone: string | null): number {
  if (offset !== null) return offset;
  if (zone === null) return 0;
  // Offset for a local time: try the offset at the local instant read as UTC, then correct once.
  const guess = zoneOffsetSeconds(zone, Number(localEpochSeconds) * 1000);
  return zoneOffsetSeconds(zone, (Number(localEpochSeconds) - guess) * 1000);
}

function zoneOf(v: Value): { offset: number | null; zone: string | null } {
  if (typeof v !== 'string') throw typeMismatch('a time zone String', v);
  if (/^(Z|[+-]\d{2}(:?\d{2})?)$/.test(v)) return { offset: parseOffset(v), zone: null };
  zoneOffsetSeconds(v, 0); // validates the name
  return { offset: null, zone: v };
}

function num(map: Map<string, Value>, key: string, dflt: number): number {
  const v = map.get(key);
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'bigint' || typeof v === 'number') return Number(v);
  throw typeMismatch('a number', v);
}

function dateFromMap(map: Map<string, Value>): QDate {
  const base = map.get('date');
  if (base instanceof QDate || base instanceof QLocalDateTime || base instanceof QDateTime) {
    const d = datePart(base);
    return checkDate(num(map, 'year', d.year), num(map, 'month', d.month), num(map, 'day', d.day), 'map');
  }
  if (!map.has('year')) throw new QuiverError('SemanticError', 'A date requires at least the key "year"');
  return checkDate(num(map, 'year', 0), num(map, 'month', 1), num(map, 'day', 1), `{year: ${num(map, 'year', 0)}, month: ${num(map, 'month', 1)}, day: ${num(map, 'day', 1)}}`);
}

function nanosFromMap(map: Map<string, Value>): bigint {
  const base = map.get('time');
  const baseNanos = base instanceof QLocalTime || base instanceof QTime ? base.nanoOfDay : base instanceof QLocalDateTime || base instanceof QDateTime ? localNanoOfDay(base) : null;
  const h = num(map, 'hour', baseNanos === null ? 0 : Number(baseNanos / 3_600_000_000_000n));
  const m = num(map, 'minute', baseNanos === null ? 0 : Number((baseNanos / 60_000_000_000n) % 60n));
  const s = num(map, 'second', baseNanos === null ? 0 : Number((baseNanos / nanosPerSecond) % 60n));
  const frac = num(map, 'millisecond', 0) * 1_000_000 + num(map, 'microsecond', 0) * 1000 + num(map, 'nanosecond', baseNanos === null ? 0 : Number(baseNanos % nanosPerSecond));
  if (h > 23 || m > 59 || s > 59 || frac >= 1e9) throw new QuiverError('SemanticError', 'Invalid time components');
  return (BigInt(h) * 3600n + BigInt(m) * 60n + BigInt(s)) * nanosPerSecond + BigInt(frac);
}

function localNanoOfDay(v: QLocalDateTime | QDateTime): bigint {
  const local = v instanceof QDateTime ? v.epochSeconds + BigInt(v.offsetSeconds) : v.epochSeconds;
  return (((local % 86_400n) + 86_400n) % 86_400n) * nanosPerSecond + BigInt(v.nanos);
}

function datePart(v: QDate | QLocalDateTime | QDateTime): QDate {
  if (v instanceof QDate) return v;
  const local = v instanceof QDateTime ? v.epochSeconds + BigInt(v.offsetSeconds) : v.epochSeconds;
  return QDate.fromEpochDays(Number(local >= 0n ? local / 86_400n : (local - 86_399n) / 86_400n));
}

function localEpochSeconds(date: QDate, nanoOfDay: bigint): [bigint, number] {
  return [BigInt(date.epochDays()) * 86_400n + nanoOfDay / nanosPerSecond, Number(nanoOfDay % nanosPerSecond)];
}

function fromNow(kind: TemporalKind, now: Date, zoneArg: Value | undefined): Value {
  const ms = now.getTime();
  let offset = 0;
  let zone: string | null = null;
  if (zoneArg !== undefined && zoneArg !== null) {
    const z = zoneOf(zoneArg);
    zone = z.zone;
    offset = z.offset ?? zoneOffsetSeconds(z.zone!, ms);
  }
  const epochSeconds = BigInt(Math.floor(ms / 1000));
  const nanos = (ms - Math.floor(ms / 1000) * 1000) * 1_000_000;
  const dt = new QDateTime(epochSeconds, nanos, offset, zone);
  return convert(kind, dt);
}

/** Converts a datetime to the requested kind (dropping date, time or zone parts). */
function convert(kind: TemporalKind, dt: QDateTime): Value {
  switch (kind) {
    case 'datetime': return dt;
    case 'localdatetime': return new QLocalDateTime(dt.epochSeconds + BigInt(dt.offsetSeconds), dt.nanos);
    case 'date': return datePart(dt);
    case 'time': return new QTime(localNanoOfDay(dt), dt.offsetSeconds);
    case 'localtime': return new QLocalTime(localNanoOfDay(dt));
  }
}

/** date(x), datetime(x), ... with 0 or 1 argument. */
export function makeTemporal(kind: TemporalKind, arg: Value | undefined, now: Date): Value {
  if (arg === undefined) return fromNow(kind, now, undefined);
  if (arg === null) return null;
  if (typeof arg === 'string') return parseTemporal(kind, arg);
  if (arg instanceof Map) {
    if (arg.size === 1 && arg.has('timezone')) return fromNow(kind, now, arg.get('timezone'));
    return temporalFromMap(kind, arg);
  }
  if (isTemporal(arg) && !(arg instanceof QDuration)) return temporalFromMap(kind, new Map([[kind.includes('date') ? 'date' : 'time', arg as Value], ['time', arg as Value]]));
  throw typeMismatch('a String or Map', arg);
}

function parseTemporal(kind: TemporalKind, s: string): Value {
  switch (kind) {
    case 'date': return parseDate(s);
    case 'localtime': return new QLocalTime(parseLocalTimeNanos(s, kind));
    case 'time': {
      const z = splitZone(s);
      return new QTime(parseLocalTimeNanos(z.rest, kind), z.offset ?? 0);
    }
    case 'localdatetime': {
      const [d, t = '00:00'] = s.split('T');
      const [es, n] = localEpochSeconds(parseDate(d!), parseLocalTimeNanos(t, kind));
      return new QLocalDateTime(es, n);
    }
    case 'datetime': {
      const tIndex = s.indexOf('T');
      const datePart = tIndex < 0 ? s : s.slice(0, tIndex);
      const z = splitZone(tIndex < 0 ? '00:00' : s.slice(tIndex + 1));
      const [es, n] = localEpochSeconds(parseDate(datePart), parseLocalTimeNanos(z.rest, kind));
      if (z.zone) zoneOffsetSeconds(z.zone, 0);
      const offset = resolveOffset(es, z.offset, z.zone);
      return new QDateTime(es - BigInt(offset), n, offset, z.zone);
    }
  }
}

function temporalFromMap(kind: TemporalKind, map: Map<string, Value>): Value {
  if (kind === 'datetime' && (map.has('epochMillis') || map.has('epochSeconds'))) {
    const totalNanos = BigInt(Math.round(num(map, 'epochSeconds', 0))) * nanosPerSecond + BigInt(Math.round(num(map, 'epochMillis', 0))) * 1_000_000n + BigInt(num(map, 'nanosecond', 0));
    const es = totalNanos >= 0n ? totalNanos / nanosPerSecond : (totalNanos - nanosPerSecond + 1n) / nanosPerSecond;
    const tz = map.get('timezone');
    const z = tz === undefined || tz === null ? { offset: 0, zone: null } : zoneOf(tz);
    const offset = z.offset ?? zoneOffsetSeconds(z.zone!, Number(es) * 1000);
    return new QDateTime(es, Number(totalNanos - es * nanosPerSecond), offset, z.zone);
  }
  const tz = map.get('timezone');
  const baseTime = map.get('time') ?? map.get('datetime');
  let z: { offset: number | null; zone: string | null } = { offset: null, zone: null };
  if (tz !== undefined && tz !== null) z = zoneOf(tz);
  else if (baseTime instanceof QDateTime) z = { offset: baseTime.zoneId ? null : baseTime.offsetSeconds, zone: baseTime.zoneId };
  else if (baseTime instanceof QTime) z = { offset: baseTime.offsetSeconds, zone: null };
  switch (kind) {
    case 'date': return dateFromMap(map);
    case 'localtime': return new QLocalTime(nanosFromMap(map));
    case 'time': return new QTime(nanosFromMap(map), z.offset ?? 0);
    case 'localdatetime': {
      const [es, n] = localEpochSeconds(dateFromMap(map), nanosFromMap(map));
      return new QLocalDateTime(es, n);
    }
    case 'datetime': {
      const [es, n] = localEpochSeconds(dateFromMap(map), nanosFromMap(map));
      const offset = resolveOffset(es, z.offset, z.zone);
      return new QDateTime(es - BigInt(offset), n, offset, z.zone);
    }
  }
}

const durationRe = /^(-)?P(?:(-?[\d.]+)Y)?(?:(-?[\d.]+)M)?(?:(-?[\d.]+)W)?(?:(-?[\d.]+)D)?(?:T(?:(-?[\d.]+)H)?(?:(-?[\d.]+)M)?(?:(-?[\d.]+)S)?)?$/i;

export function makeDuration(arg: Value): Value {
  if (arg === null) return null;
  if (typeof arg === 'string') {
    const m = durationRe.exec(arg);
    if (!m || arg.endsWith('T') || arg.length < 3) throw invalid('duration', arg);
    const sign = m[1] ? -1 : 1;
    const n = (i: number): number => (m[i] ? Number(m[i]) : 0);
    return durationFromParts(sign * (n(2) * 12 + n(3)), sign * (n(4) * 7 + n(5)), sign * (n(6) * 3600 + n(7) * 60 + n(8)));
  }
  if (arg instanceof Map) {
    const months = num(arg, 'years', 0) * 12 + num(arg, 'quarters', 0) * 3 + num(arg, 'months', 0);
    const days = num(arg, 'weeks', 0) * 7 + num(arg, 'days', 0);
    const seconds = num(arg, 'hours', 0) * 3600 + num(arg, 'minutes', 0) * 60 + num(arg, 'seconds', 0) + num(arg, 'milliseconds', 0) / 1e3 + num(arg, 'microseconds', 0) / 1e6 + num(arg, 'nanoseconds', 0) / 1e9;
    return durationFromParts(months, days, seconds);
  }
  if (arg instanceof QDuration) return arg;
  throw typeMismatch('a String or Map', arg);
}

/** duration.between(a, b) for the common cases (same kind, or dates), in months, days and seconds. */
export function durationBetween(a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  const toLocal = (v: Value): [bigint, number] => {
    if (v instanceof QDate) return [BigInt(v.epochDays()) * 86_400n, 0];
    if (v instanceof QLocalDateTime) return [v.epochSeconds, v.nanos];
    if (v instanceof QDateTime) return [v.epochSeconds, v.nanos];
    if (v instanceof QLocalTime) return [v.nanoOfDay / nanosPerSecond, Number(v.nanoOfDay % nanosPerSecond)];
    if (v instanceof QTime) return [v.nanoOfDay / nanosPerSecond - BigInt(v.offsetSeconds), Number(v.nanoOfDay % nanosPerSecond)];
    throw typeMismatch('a temporal value', v);
  };
  const [sa, na] = toLocal(a);
  const [sb, nb] = toLocal(b);
  const totalNanos = (sb - sa) * nanosPerSecond + BigInt(nb - na);
  const days = totalNanos / (86_400n * nanosPerSecond);
  const rest = totalNanos - days * 86_400n * nanosPerSecond;
  const secs = rest / nanosPerSecond;
  return new QDuration(0n, days, secs, Number(rest - secs * nanosPerSecond));
}

/** `temporal.component`; undefined when the component does not exist for that type. */
export function temporalComponent(v: Value, key: string): Value | undefined {
  if (v instanceof QDuration) {
    const totalSeconds = v.seconds;
    switch (key) {
      case 'years': return v.months / 12n;
      case 'quarters': return v.months / 3n;
      case 'months': return v.months;
      case 'monthsOfYear': return v.months % 12n;
      case 'quartersOfYear': return (v.months % 12n) / 3n;
      case 'monthsOfQuarter': return v.months % 3n;
      case 'weeks': return v.days / 7n;
      case 'days': return v.days;
      case 'daysOfWeek': return v.days % 7n;
      case 'hours': return totalSeconds / 3600n;
      case 'minutes': return totalSeconds / 60n;
      case 'seconds': return totalSeconds;
      case 'minutesOfHour': return (totalSeconds / 60n) % 60n;
      case 'secondsOfMinute': return totalSeconds % 60n;
      case 'milliseconds': return totalSeconds * 1000n + BigInt(Math.floor(v.nanos / 1e6));
      case 'microseconds': return totalSeconds * 1_000_000n + BigInt(Math.floor(v.nanos / 1e3));
      case 'nanoseconds': return totalSeconds * nanosPerSecond + BigInt(v.nanos);
      case 'millisecondsOfSecond': return BigInt(Math.floor(v.nanos / 1e6));
      case 'microsecondsOfSecond': return BigInt(Math.floor(v.nanos / 1e3));
      case 'nanosecondsOfSecond': return BigInt(v.nanos);
      default: return undefined;
    }
  }
  let date: QDate | null = null;
  let nanoOfDay: bigint | null = null;
  if (v instanceof QDate) date = v;
  if (v instanceof QLocalTime || v instanceof QTime) nanoOfDay = v.nanoOfDay;
  if (v instanceof QLocalDateTime || v instanceof QDateTime) {
    date = datePart(v);
    nanoOfDay = localNanoOfDay(v);
  }
  if (date) {
    const dow = ((date.epochDays() % 7) + 7 + 3) % 7 + 1; // 1970-01-01 was a Thursday (4)
    const ordinal = date.epochDays() - new QDate(date.year, 1, 1).epochDays() + 1;
    switch (key) {
      case 'year': return BigInt(date.year);
      case 'month': return BigInt(date.month);
      case 'day': return BigInt(date.day);
      case 'quarter': return BigInt(Math.floor((date.month - 1) / 3) + 1);
      case 'dayOfWeek': case 'weekDay': return BigInt(dow);
      case 'ordinalDay': case 'dayOfYear': return BigInt(ordinal);
      case 'dayOfQuarter': return BigInt(date.epochDays() - new QDate(date.year, Math.floor((date.month - 1) / 3) * 3 + 1, 1).epochDays() + 1);
    }
  }
  if (nanoOfDay !== null) {
    switch (key) {
      case 'hour': return nanoOfDay / 3_600_000_000_000n;
      case 'minute': return (nanoOfDay / 60_000_000_000n) % 60n;
      case 'second': return (nanoOfDay / nanosPerSecond) % 60n;
      case 'millisecond': return (nanoOfDay % nanosPerSecond) / 1_000_000n;
      case 'microsecond': return (nanoOfDay % nanosPerSecond) / 1000n;
      case 'nanosecond': return nanoOfDay % nanosPerSecond;
    }
  }
  if (v instanceof QDateTime || v instanceof QTime) {
    const off = v.offsetSeconds;
    const sign = off < 0 ? '-' : '+';
    const offText = off === 0 ? 'Z' : `${sign}${String(Math.floor(Math.abs(off) / 3600)).padStart(2, '0')}:${String(Math.floor((Math.abs(off) % 3600) / 60)).padStart(2, '0')}`;
    switch (key) {
      case 'offset': return offText;
      case 'offsetSeconds': return BigInt(off);
      case 'offsetMinutes': return BigInt(Math.trunc(off / 60));
      case 'timezone': return v instanceof QDateTime && v.zoneId ? v.zoneId : offText;
    }
  }
  if (v instanceof QDateTime) {
    switch (key) {
      case 'epochSeconds': return v.epochSeconds;
      case 'epochMillis': return v.epochSeconds * 1000n + BigInt(Math.floor(v.nanos / 1e6));
    }
  }
  return undefined;
}
