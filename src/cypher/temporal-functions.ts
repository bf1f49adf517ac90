/**
 * The temporal functions date(), localtime(), time(), localdatetime(), datetime() and their
 * .statement/.transaction/.realtime/.truncate variants, following Neo4j: ISO strings (calendar,
 * week and ordinal dates, compact forms, offsets with seconds, [Zone/Name]), component maps
 * (year/month/day, week/dayOfWeek, ordinalDay, quarter/dayOfQuarter, time fields, timezone)
 * selecting from other temporals (date:, time:, datetime:), conversion between zones for the
 * same instant, and the component accessors (`d.week`, `dt.epochMillis`, `dur.days` …).
 * Durations live in temporal-duration.ts.
 */
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime, formatOffset } from '../values/temporal.js';
import {
  checkZone, civil, dayOfWeek, daysInMonth, epochDay, floorDiv, floorMod, isLeapYear, isoWeek, nanosPerDay, nanosPerSecond,
  parseOffset, quarterOf, quarterStart, resolveLocal, weekOneMonday, weeksInWeekYear, yearMax, zoneOffsetAt,
} from './temporal-calendar.js';
import { typeMismatch } from './value-util.js';

export type TemporalKind = 'date' | 'localtime' | 'time' | 'localdatetime' | 'datetime';

const kindName: Record<TemporalKind, string> = { date: 'Date', localtime: 'LocalTime', time: 'Time', localdatetime: 'LocalDateTime', datetime: 'DateTime' };

function cannotParse(kind: TemporalKind, text: string): QuiverError {
  return new QuiverError('SemanticError', `Text cannot be parsed to a ${kindName[kind]}: "${text}"`);
}

function invalidArg(message: string): QuiverError {
  return new QuiverError('SemanticError', message);
}

/** A zone: a fixed offset or a name (whose offset depends on the instant). */
type Zone = { offset: number; name: null } | { offset: null; name: string };

/** Any temporal seen as its parts: a local date, a local time of day, and a zone. */
interface Parts {
  day: number | null;
  nano: bigint | null;
  /** The offset in force (for time and datetime values). */
  offset: number | null;
  zone: Zone | null;
}

export function partsOf(v: Value): Parts | null {
  if (v instanceof QDate) return { day: v.epochDays(), nano: null, offset: null, zone: null };
  if (v instanceof QLocalTime) return { day: null, nano: v.nanoOfDay, offset: null, zone: null };
  if (v instanceof QTime) return { day: null, nano: v.nanoOfDay, offset: v.offsetSeconds, zone: { offset: v.offsetSeconds, name: null } };
  if (v instanceof QLocalDateTime) {
    return { day: Number(floorDiv(v.epochSeconds, 86_400n)), nano: floorMod(v.epochSeconds, 86_400n) * nanosPerSecond + BigInt(v.nanos), offset: null, zone: null };
  }
  if (v instanceof QDateTime) {
    const local = v.epochSeconds + BigInt(v.offsetSeconds);
    const zone: Zone = v.zoneId ? { offset: null, name: v.zoneId } : { offset: v.offsetSeconds, name: null };
    return { day: Number(floorDiv(local, 86_400n)), nano: floorMod(local, 86_400n) * nanosPerSecond + BigInt(v.nanos), offset: v.offsetSeconds, zone };
  }
  return null;
}

function checkDay(year: number, month: number, day: number): number {
  if (!(Math.abs(year) <= yearMax)) throw invalidArg(`Invalid value for Year (valid values -${yearMax} - ${yearMax}): ${year}`);
  if (!(month >= 1 && month <= 12)) throw invalidArg(`Invalid value for MonthOfYear (valid values 1 - 12): ${month}`);
  if (!(day >= 1 && day <= daysInMonth(year, month))) throw invalidArg(`Invalid date: ${year}-${month}-${day}`);
  return epochDay(year, month, day);
}

function dayFromWeek(weekYear: number, week: number, dow: number): number {
  if (!(week >= 1 && week <= weeksInWeekYear(weekYear))) throw invalidArg(`Invalid value for WeekOfWeekBasedYear (valid values 1 - ${weeksInWeekYear(weekYear)}): ${week}`);
  if (!(dow >= 1 && dow <= 7)) throw invalidArg(`Invalid value for DayOfWeek (valid values 1 - 7): ${dow}`);
  return weekOneMonday(weekYear) + (week - 1) * 7 + (dow - 1);
}

function dayFromOrdinal(year: number, ordinal: number): number {
  if (!(ordinal >= 1 && ordinal <= (isLeapYear(year) ? 366 : 365))) throw invalidArg(`Invalid value for DayOfYear (valid values 1 - 365/366): ${ordinal}`);
  return epochDay(year, 1, 1) + ordinal - 1;
}

function dayFromQuarter(year: number, quarter: number, dayOfQuarter: number): number {
  if (!(quarter >= 1 && quarter <= 4)) throw invalidArg(`Invalid value for QuarterOfYear (valid values 1 - 4): ${quarter}`);
  const start = quarterStart(year, quarter);
  const length = (quarter === 4 ? epochDay(year + 1, 1, 1) : quarterStart(year, quarter + 1)) - start;
  if (!(dayOfQuarter >= 1 && dayOfQuarter <= length)) throw invalidArg(`Invalid value for DayOfQuarter (valid values 1 - ${length}): ${dayOfQuarter}`);
  return start + dayOfQuarter - 1;
}

function nanoOf(h: number, m: number, s: number, n: number): bigint {
  if (!(h >= 0 && h <= 23)) throw invalidArg(`Invalid value for HourOfDay (valid values 0 - 23): ${h}`);
  if (!(m >= 0 && m <= 59)) throw invalidArg(`Invalid value for MinuteOfHour (valid values 0 - 59): ${m}`);
  if (!(s >= 0 && s <= 59)) throw invalidArg(`Invalid value for SecondOfMinute (valid values 0 - 59): ${s}`);
  if (!(n >= 0 && n <= 999_999_999)) throw invalidArg(`Invalid value for NanoOfSecond (valid values 0 - 999999999): ${n}`);
  return (BigInt(h) * 3600n + BigInt(m) * 60n + BigInt(s)) * nanosPerSecond + BigInt(n);
}

// ---- building values --------------------------------------------------------------------------

function zoneFromValue(v: Value): Zone {
  if (typeof v !== 'string') throw typeMismatch('a time zone String', v);
  const off = parseOffset(v);
  if (off !== null) return { offset: off, name: null };
  checkZone(v);
  return { offset: null, name: v };
}

/** The offset a zone has for a local date-time (or, without a date, today's date at `nowDay`). */
function offsetForLocal(zone: Zone, day: number, nano: bigint, preferred: number | null = null): number {
  if (zone.name === null) return zone.offset;
  return resolveLocal(zone.name, BigInt(day) * 86_400n + nano / nanosPerSecond, preferred).offset;
}

function makeDateTime(day: number, nano: bigint, zone: Zone, preferred: number | null = null): QDateTime {
  const local = BigInt(day) * 86_400n + nano / nanosPerSecond;
  const nanos = Number(nano % nanosPerSecond);
  if (zone.name === null) return new QDateTime(local - BigInt(zone.offset), nanos, zone.offset, null);
  const r = resolveLocal(zone.name, local, preferred);
  return new QDateTime(r.epochSeconds, nanos, r.offset, zone.name);
}

function build(kind: TemporalKind, day: number | null, nano: bigint | null, zone: Zone | null, nowDay: number): Value {
  switch (kind) {
    case 'date': return QDate.fromEpochDays(day!);
    case 'localtime': return new QLocalTime(nano ?? 0n);
    case 'time': {
      const z = zone ?? { offset: 0, name: null };
      return new QTime(nano ?? 0n, offsetForLocal(z, day ?? nowDay, nano ?? 0n));
    }
    case 'localdatetime': return new QLocalDateTime(BigInt(day!) * 86_400n + (nano ?? 0n) / nanosPerSecond, Number((nano ?? 0n) % nanosPerSecond));
    case 'datetime': return makeDateTime(day!, nano ?? 0n, zone ?? { offset: 0, name: null });
  }
}

function nowParts(now: Date, zone: Zone | null): Parts {
  const ms = now.getTime();
  const epochSeconds = BigInt(Math.floor(ms / 1000));
  const z = zone ?? { offset: 0, name: null };
  const offset = z.name === null ? z.offset : zoneOffsetAt(z.name, epochSeconds);
  const local = epochSeconds + BigInt(offset);
  const nano = floorMod(local, 86_400n) * nanosPerSecond + BigInt((ms - Math.floor(ms / 1000) * 1000) * 1_000_000);
  return { day: Number(floorDiv(local, 86_400n)), nano, offset, zone: z };
}

function fromParts(kind: TemporalKind, p: Parts, now: Date): Value {
  const nowDay = nowParts(now, null).day!;
  if ((kind === 'date' || kind === 'localdatetime' || kind === 'datetime') && p.day === null) {
    throw invalidArg(`Cannot construct ${kindName[kind]} from a temporal without a date`);
  }
  if (kind === 'datetime' && p.zone && p.zone.name !== null && p.offset !== null) return makeDateTime(p.day!, p.nano ?? 0n, p.zone, p.offset);
  if (kind === 'time' && p.offset !== null) return new QTime(p.nano ?? 0n, p.offset);
  return build(kind, p.day, p.nano, p.zone, nowDay);
}

/** date(x), datetime(x), ... with 0 or 1 argument; `now` is the clock of the variant called. */
export function makeTemporal(kind: TemporalKind, arg: Value | undefined, now: Date): Value {
  if (arg === undefined) return fromParts(kind, nowParts(now, null), now);
  if (arg === null) return null;
  if (typeof arg === 'string') return parseTemporal(kind, arg, now);
  if (arg instanceof Map) {
    const tz = arg.get('timezone');
    if (arg.size === 1 && tz !== undefined) return fromParts(kind, nowParts(now, tz === null ? null : zoneFromValue(tz)), now);
    return temporalFromMap(kind, arg, now);
  }
  const p = partsOf(arg);
  if (p) return fromParts(kind, p, now);
  throw typeMismatch('a String or Map', arg);
}

// ---- strings ----------------------------------------------------------------------------------

const dateRe = /^([0-9]{4}|[+-][0-9]{1,9})(?:-([0-9]{2})(?:-([0-9]{2}))?|([0-9]{2})([0-9]{2})?|-?W([0-9]{2})(?:-?([0-9]))?|-?([0-9]{3}))?$/;
const timeRe = /^([0-9]{2})(?::([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?|([0-9]{2})(?:([0-9]{2})(?:[.,]([0-9]{1,9}))?)?)?$/;
const zoneRe = /(Z|[+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2})?)?)?(?:\[([^\]]+)\])?$/i;

function parseDay(text: string, kind: TemporalKind, whole: string): number {
  const m = dateRe.exec(text);
  if (!m) throw cannotParse(kind, whole);
  const year = Number(m[1]);
  if (m[6] !== undefined) return dayFromWeek(year, Number(m[6]), Number(m[7] ?? 1));
  if (m[8] !== undefined) return dayFromOrdinal(year, Number(m[8]));
  const month = Number(m[2] ?? m[4] ?? 1);
  const day = Number(m[3] ?? m[5] ?? 1);
  return checkDay(year, month, day);
}

function parseNano(text: string, kind: TemporalKind, whole: string): bigint {
  const m = timeRe.exec(text);
  if (!m) throw cannotParse(kind, whole);
  const frac = m[4] ?? m[7] ?? '';
  return nanoOf(Number(m[1]), Number(m[2] ?? m[5] ?? 0), Number(m[3] ?? m[6] ?? 0), Number(frac.padEnd(9, '0') || '0'));
}

function splitZone(text: string, kind: TemporalKind): { rest: string; zone: Zone | null; offset: number | null } {
  const m = zoneRe.exec(text);
  if (!m || (!m[1] && !m[2])) return { rest: text, zone: null, offset: null };
  const offset = m[1] ? parseOffset(m[1].toUpperCase()) : null;
  if (m[1] && offset === null) throw cannotParse(kind, text);
  if (m[2]) {
    checkZone(m[2]);
    return { rest: text.slice(0, m.index), zone: { offset: null, name: m[2] }, offset };
  }
  return { rest: text.slice(0, m.index), zone: { offset: offset!, name: null }, offset };
}

function parseTemporal(kind: TemporalKind, s: string, now: Date): Value {
  switch (kind) {
    case 'date': return QDate.fromEpochDays(parseDay(s, kind, s));
    case 'localtime': return new QLocalTime(parseNano(s, kind, s));
    case 'time': {
      const z = splitZone(s, kind);
      return build('time', null, parseNano(z.rest, kind, s), z.zone, nowParts(now, null).day!);
    }
    case 'localdatetime':
    case 'datetime': {
      const t = s.indexOf('T');
      const day = parseDay(t < 0 ? s : s.slice(0, t), kind, s);
      if (kind === 'localdatetime') return build(kind, day, t < 0 ? 0n : parseNano(s.slice(t + 1), kind, s), null, day);
      const z = splitZone(t < 0 ? '' : s.slice(t + 1), kind);
      const nano = t < 0 || z.rest === '' ? 0n : parseNano(z.rest, kind, s);
      if (t >= 0 && z.rest === '') throw cannotParse(kind, s);
      return makeDateTime(day, nano, z.zone ?? { offset: 0, name: null }, z.offset);
    }
  }
}

// ---- maps -------------------------------------------------------------------------------------

const dateKeys = ['year', 'month', 'day', 'week', 'dayOfWeek', 'ordinalDay', 'quarter', 'dayOfQuarter'];
const timeKeys = ['hour', 'minute', 'second', 'millisecond', 'microsecond', 'nanosecond'];

function intField(map: Map<string, Value>, key: string): number | null {
  const v = map.get(key);
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw typeMismatch(`an Integer for ${key}`, v);
}

/** The date part of a map: an epoch day, or null when the map names no date at all. */
function dayFromMap(map: Map<string, Value>, base: Parts | null): number | null {
  const f = (k: string) => intField(map, k);
  const has = (k: string) => f(k) !== null;
  const baseDay = base?.day ?? null;
  if (!dateKeys.some(has)) return baseDay;
  const baseCivil = baseDay === null ? null : civil(baseDay);
  if (has('week') || (has('dayOfWeek') && !has('month') && !has('day') && !has('ordinalDay') && !has('quarter'))) {
    const bw = baseDay === null ? null : isoWeek(baseDay);
    const weekYear = f('year') ?? bw?.weekYear;
    if (weekYear === undefined) throw invalidArg('year must be specified');
    return dayFromWeek(weekYear, f('week') ?? bw?.week ?? 1, f('dayOfWeek') ?? bw?.dayOfWeek ?? 1);
  }
  const year = f('year') ?? baseCivil?.year;
  if (year === undefined) throw invalidArg('year must be specified');
  if (has('ordinalDay')) return dayFromOrdinal(year, f('ordinalDay')!);
  if (has('quarter') || has('dayOfQuarter')) {
    const baseQuarter = baseCivil ? quarterOf(baseCivil.month) : null;
    const baseDoq = baseDay !== null && baseCivil ? baseDay - quarterStart(baseCivil.year, baseQuarter!) + 1 : null;
    return dayFromQuarter(year, f('quarter') ?? baseQuarter ?? 1, f('dayOfQuarter') ?? baseDoq ?? 1);
  }
  if (has('day') && !has('month') && !baseCivil) throw invalidArg('day cannot be specified without month');
  return checkDay(year, f('month') ?? baseCivil?.month ?? 1, f('day') ?? baseCivil?.day ?? 1);
}

function nanoFromMap(map: Map<string, Value>, base: bigint | null): bigint | null {
  const f = (k: string) => intField(map, k);
  if (!timeKeys.some((k) => f(k) !== null)) return base;
  if (base === null && f('hour') === null && (f('minute') !== null || f('second') !== null)) throw invalidArg('hour must be specified');
  const b = base ?? 0n;
  const h = f('hour') ?? Number(b / 3_600_000_000_000n);
  const m = f('minute') ?? Number((b / 60_000_000_000n) % 60n);
  const s = f('second') ?? Number((b / nanosPerSecond) % 60n);
  const ms = f('millisecond');
  const us = f('microsecond');
  const ns = f('nanosecond');
  // Each sub-second field replaces its own digits and keeps the base's others
  // (.645876123 with {nanosecond: 2} after truncating to milliseconds gives .645000002).
  const bn = Number(b % nanosPerSecond);
  if (ms !== null && !(ms >= 0 && ms <= 999)) throw invalidArg(`Invalid value for MilliOfSecond (valid values 0 - 999): ${ms}`);
  if (us !== null && !(us >= 0 && us <= (ms === null ? 999_999 : 999))) throw invalidArg(`Invalid value for MicroOfSecond: ${us}`);
  if (ns !== null && !(ns >= 0 && ns <= (ms === null && us === null ? 999_999_999 : 999))) throw invalidArg(`Invalid value for NanoOfSecond: ${ns}`);
  let n = bn;
  if (ms !== null) n = ms * 1_000_000 + (n % 1_000_000);
  if (us !== null) n = us > 999 ? us * 1000 + (n % 1000) : Math.floor(n / 1_000_000) * 1_000_000 + us * 1000 + (n % 1000);
  if (ns !== null) n = ns > 999 ? ns : Math.floor(n / 1000) * 1000 + ns;
  return nanoOf(h, m, s, n);
}

function temporalBase(map: Map<string, Value>, key: string): Parts | null {
  const v = map.get(key);
  if (v === undefined || v === null) return null;
  const p = partsOf(v);
  if (!p) throw typeMismatch(`a temporal value for ${key}`, v);
  return p;
}

function temporalFromMap(kind: TemporalKind, map: Map<string, Value>, now: Date): Value {
  for (const k of map.keys()) {
    if (![...dateKeys, ...timeKeys, 'timezone', 'date', 'time', 'datetime', 'epochSeconds', 'epochMillis'].includes(k)) throw invalidArg(`No such field: ${k}`);
  }
  const tzValue = map.get('timezone');
  const tz = tzValue === undefined || tzValue === null ? null : zoneFromValue(tzValue);
  if (kind === 'datetime' && (map.has('epochMillis') || map.has('epochSeconds'))) return fromEpoch(map, tz);
  const both = temporalBase(map, 'datetime');
  const dateBase = temporalBase(map, 'date') ?? both;
  const timeBase = temporalBase(map, 'time') ?? both;
  if (dateBase && dateBase.day === null) throw invalidArg('date must be a temporal value with a date');
  const hasDate = kind === 'date' || kind === 'localdatetime' || kind === 'datetime';
  const hasTime = kind !== 'date';
  const nowDay = nowParts(now, null).day!;
  let day = hasDate ? dayFromMap(map, dateBase) : null;
  if (hasDate && day === null) throw invalidArg('year must be specified');
  let nano = hasTime ? nanoFromMap(map, timeBase?.nano ?? (timeBase && timeBase.day !== null ? 0n : null)) : null;
  if (kind === 'localtime' || kind === 'localdatetime' || kind === 'date') return build(kind, day, nano, null, nowDay);
  // time and datetime: the zone is the map's, else the time source's, else UTC. A time source with
  // a zone of its own is moved to the map's zone at the same instant.
  const sourceZone = timeBase?.zone ?? null;
  if (tz && sourceZone && nano !== null) {
    const sourceDay = kind === 'datetime' && both ? day! : (day ?? timeBase!.day ?? nowDay);
    const sourceOffset = sourceZone.name === null ? sourceZone.offset : offsetForLocal(sourceZone, sourceDay, nano, timeBase!.offset);
    const instantNanos = (BigInt(sourceDay) * 86_400n - BigInt(sourceOffset)) * nanosPerSecond + nano;
    const targetOffset = tz.name === null ? tz.offset : zoneOffsetAt(tz.name, floorDiv(instantNanos, nanosPerSecond));
    const localNanos = instantNanos + BigInt(targetOffset) * nanosPerSecond;
    nano = floorMod(localNanos, nanosPerDay);
    if (kind === 'datetime' && both) day = Number(floorDiv(localNanos, nanosPerDay));
  }
  const zone = tz ?? sourceZone;
  if (kind === 'time') return build('time', day, nano, zone, nowDay);
  const preferred = !tz && timeBase && timeBase.zone === zone ? timeBase.offset : null;
  return makeDateTime(day!, nano ?? 0n, zone ?? { offset: 0, name: null }, preferred);
}

function fromEpoch(map: Map<string, Value>, tz: Zone | null): Value {
  const num = (k: string): bigint => {
    const v = map.get(k);
    if (v === undefined || v === null) return 0n;
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number') return BigInt(Math.trunc(v));
    throw typeMismatch(`a number for ${k}`, v);
  };
  const total = num('epochSeconds') * nanosPerSecond + num('epochMillis') * 1_000_000n + num('millisecond') * 1_000_000n + num('microsecond') * 1000n + num('nanosecond');
  const es = floorDiv(total, nanosPerSecond);
  const z = tz ?? { offset: 0, name: null };
  const offset = z.name === null ? z.offset : zoneOffsetAt(z.name, es);
  return new QDateTime(es, Number(floorMod(total, nanosPerSecond)), offset, z.name);
}

// ---- truncate ---------------------------------------------------------------------------------

const dateUnits = ['millennium', 'century', 'decade', 'year', 'weekyear', 'quarter', 'month', 'week', 'day'];
const timeUnitNanos: Record<string, bigint> = { day: nanosPerDay, hour: 3_600_000_000_000n, minute: 60_000_000_000n, second: nanosPerSecond, millisecond: 1_000_000n, microsecond: 1000n };

function truncateDay(unit: string, day: number): number {
  const c = civil(day);
  const floorYear = (n: number) => c.year - (((c.year % n) + n) % n);
  switch (unit) {
    case 'millennium': return epochDay(floorYear(1000), 1, 1);
    case 'century': return epochDay(floorYear(100), 1, 1);
    case 'decade': return epochDay(floorYear(10), 1, 1);
    case 'year': return epochDay(c.year, 1, 1);
    case 'weekyear': return weekOneMonday(isoWeek(day).weekYear);
    case 'quarter': return quarterStart(c.year, quarterOf(c.month));
    case 'month': return epochDay(c.year, c.month, 1);
    case 'week': return day - (dayOfWeek(day) - 1);
    default: return day;
  }
}

/** date.truncate(unit, temporal[, map]) and the others: truncate, then set the map's fields. */
export function truncateTemporal(kind: TemporalKind, unitValue: Value, temporal: Value, fields: Value | undefined, now: Date): Value {
  if (unitValue === null || temporal === null) return null;
  if (typeof unitValue !== 'string') throw typeMismatch('a String unit', unitValue);
  const unit = unitValue.toLowerCase();
  const p = partsOf(temporal);
  if (!p) throw typeMismatch('a temporal value', temporal);
  const isDateUnit = dateUnits.includes(unit);
  if (!isDateUnit && timeUnitNanos[unit] === undefined) throw invalidArg(`Unsupported unit: ${unitValue}`);
  const wantsDate = kind === 'date' || kind === 'localdatetime' || kind === 'datetime';
  if (kind === 'date' && !isDateUnit) throw invalidArg(`Unit too small for truncating a Date: ${unitValue}`);
  if ((kind === 'time' || kind === 'localtime') && isDateUnit && unit !== 'day') throw invalidArg(`Unit too large for truncating a time: ${unitValue}`);
  if (wantsDate && p.day === null) throw invalidArg(`Cannot truncate a temporal without a date to a ${kindName[kind]}`);
  const day = p.day === null ? null : isDateUnit ? truncateDay(unit, p.day) : p.day;
  const nano = isDateUnit ? 0n : (p.nano ?? 0n) - ((p.nano ?? 0n) % timeUnitNanos[unit]!);
  const map = fields instanceof Map ? fields : new Map<string, Value>();
  if (fields !== undefined && fields !== null && !(fields instanceof Map)) throw typeMismatch('a Map of fields', fields);
  const tz = map.get('timezone');
  const zone = tz !== undefined && tz !== null ? zoneFromValue(tz) : p.zone;
  const truncatedParts: Parts = { day, nano, offset: null, zone };
  const baseValue = kind === 'time' || kind === 'localtime' ? build('localtime', null, nano, null, 0) : build('localdatetime', day, nano, null, 0);
  const m = new Map<string, Value>(map);
  m.delete('timezone');
  if (m.size === 0) return fromParts(kind, truncatedParts, now);
  if (wantsDate) m.set('date', baseValue);
  if (kind !== 'date') m.set('time', baseValue);
  if (zone && kind !== 'localtime' && kind !== 'localdatetime' && kind !== 'date') m.set('timezone', zone.name ?? formatOffset(zone.offset));
  return temporalFromMap(kind, m, now);
}

// ---- accessors --------------------------------------------------------------------------------

/** `temporal.component`; undefined when the component does not exist for that type. */
export function temporalComponent(v: Value, key: string): Value | undefined {
  if (v instanceof QDuration) return durationComponent(v, key);
  const p = partsOf(v);
  if (!p) return undefined;
  if (p.day !== null) {
    const c = civil(p.day);
    switch (key) {
      case 'year': return BigInt(c.year);
      case 'month': return BigInt(c.month);
      case 'day': return BigInt(c.day);
      case 'quarter': return BigInt(quarterOf(c.month));
      case 'week': return BigInt(isoWeek(p.day).week);
      case 'weekYear': return BigInt(isoWeek(p.day).weekYear);
      case 'dayOfWeek': case 'weekDay': return BigInt(dayOfWeek(p.day));
      case 'ordinalDay': return BigInt(p.day - epochDay(c.year, 1, 1) + 1);
      case 'dayOfQuarter': return BigInt(p.day - quarterStart(c.year, quarterOf(c.month)) + 1);
    }
  }
  if (p.nano !== null) {
    switch (key) {
      case 'hour': return p.nano / 3_600_000_000_000n;
      case 'minute': return (p.nano / 60_000_000_000n) % 60n;
      case 'second': return (p.nano / nanosPerSecond) % 60n;
      case 'millisecond': return (p.nano % nanosPerSecond) / 1_000_000n;
      case 'microsecond': return (p.nano % nanosPerSecond) / 1000n;
      case 'nanosecond': return p.nano % nanosPerSecond;
    }
  }
  if (p.offset !== null) {
    switch (key) {
      case 'offset': return formatOffset(p.offset);
      case 'offsetSeconds': return BigInt(p.offset);
      case 'offsetMinutes': return BigInt(Math.trunc(p.offset / 60));
      case 'timezone': return p.zone?.name ?? formatOffset(p.offset);
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

function durationComponent(v: QDuration, key: string): Value | undefined {
  const s = v.seconds;
  switch (key) {
    case 'years': return v.months / 12n;
    case 'quarters': return v.months / 3n;
    case 'months': return v.months;
    case 'monthsOfYear': return v.months % 12n;
    case 'quartersOfYear': return (v.months / 3n) % 4n;
    case 'monthsOfQuarter': return v.months % 3n;
    case 'weeks': return v.days / 7n;
    case 'days': return v.days;
    case 'daysOfWeek': return v.days % 7n;
    case 'hours': return s / 3600n;
    case 'minutesOfHour': return (s / 60n) % 60n;
    case 'minutes': return s / 60n;
    case 'secondsOfMinute': return s % 60n;
    case 'seconds': return s;
    case 'milliseconds': return s * 1000n + BigInt(Math.floor(v.nanos / 1e6));
    case 'microseconds': return s * 1_000_000n + BigInt(Math.floor(v.nanos / 1e3));
    case 'nanoseconds': return s * nanosPerSecond + BigInt(v.nanos);
    case 'millisecondsOfSecond': return BigInt(Math.floor(v.nanos / 1e6));
    case 'microsecondsOfSecond': return BigInt(Math.floor(v.nanos / 1e3));
    case 'nanosecondsOfSecond': return BigInt(v.nanos);
    default: return undefined;
  }
}
