/**
 * Calendar arithmetic on the temporal value classes: adding a duration (months, then days, then
 * seconds and nanoseconds, as Neo4j does), negating and scaling durations, zone offsets by name.
 */
import { QuiverError } from '../util/errors.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime, type TemporalValue } from '../values/temporal.js';

export const nanosPerSecond = 1_000_000_000n;
export const nanosPerDay = 86_400n * nanosPerSecond;

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function epochDaysOf(year: number, month: number, day: number): number {
  return new QDate(year, month, day).epochDays();
}

function plusMonths(date: QDate, months: bigint): QDate {
  if (months === 0n) return date;
  const total = BigInt(date.year) * 12n + BigInt(date.month - 1) + months;
  const year = Number(total >= 0n ? total / 12n : (total - 11n) / 12n);
  const month = Number(total - BigInt(year) * 12n) + 1;
  return new QDate(year, month, Math.min(date.day, daysInMonth(year, month)));
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function mod(a: bigint, b: bigint): bigint {
  return ((a % b) + b) % b;
}

/** Local epoch seconds + nanos plus a duration, calendar-aware. */
function plusLocal(epochSeconds: bigint, nanos: number, d: QDuration): [bigint, number] {
  const days = floorDiv(epochSeconds, 86_400n);
  const secOfDay = epochSeconds - days * 86_400n;
  const date = plusMonths(QDate.fromEpochDays(Number(days)), d.months);
  const newDays = BigInt(date.epochDays()) + d.days;
  const totalNanos = BigInt(nanos) + BigInt(d.nanos);
  const secs = newDays * 86_400n + secOfDay + d.seconds + floorDiv(totalNanos, nanosPerSecond);
  return [secs, Number(mod(totalNanos, nanosPerSecond))];
}

export function addDuration(t: TemporalValue, d: QDuration): TemporalValue {
  if (t instanceof QDate) {
    const date = plusMonths(t, d.months);
    const extraDays = d.days + floorDiv(d.seconds, 86_400n);
    return QDate.fromEpochDays(date.epochDays() + Number(extraDays));
  }
  if (t instanceof QLocalTime) return new QLocalTime(mod(t.nanoOfDay + d.seconds * nanosPerSecond + BigInt(d.nanos), nanosPerDay));
  if (t instanceof QTime) return new QTime(mod(t.nanoOfDay + d.seconds * nanosPerSecond + BigInt(d.nanos), nanosPerDay), t.offsetSeconds);
  if (t instanceof QLocalDateTime) {
    const [s, n] = plusLocal(t.epochSeconds, t.nanos, d);
    return new QLocalDateTime(s, n);
  }
  if (t instanceof QDateTime) {
    const [s, n] = plusLocal(t.epochSeconds + BigInt(t.offsetSeconds), t.nanos, d);
    let offset = t.offsetSeconds;
    if (t.zoneId) offset = zoneOffsetSeconds(t.zoneId, Number(s - BigInt(offset)) * 1000);
    return new QDateTime(s - BigInt(offset), n, offset, t.zoneId);
  }
  throw new QuiverError('TypeError', 'Cannot add a duration to a duration this way');
}

export function negateDuration(d: QDuration): QDuration {
  const totalNanos = -(d.seconds * nanosPerSecond + BigInt(d.nanos));
  return new QDuration(-d.months, -d.days, floorDiv(totalNanos, nanosPerSecond), Number(mod(totalNanos, nanosPerSecond)));
}

/** Duration times a factor; fractional months and days cascade into smaller units as Neo4j does. */
export function durationBetweenScale(d: QDuration, factor: number): QDuration {
  return durationFromParts(Number(d.months) * factor, Number(d.days) * factor, (Number(d.seconds) + d.nanos / 1e9) * factor);
}

/** Builds a normalised duration from possibly fractional months, days and seconds. */
export function durationFromParts(months: number, days: number, seconds: number): QDuration {
  const wholeMonths = Math.trunc(months);
  days += (months - wholeMonths) * 30.436875;
  const wholeDays = Math.trunc(days);
  seconds += (days - wholeDays) * 86_400;
  const totalNanos = BigInt(Math.round(seconds * 1e9));
  return new QDuration(BigInt(wholeMonths), BigInt(wholeDays), floorDiv(totalNanos, nanosPerSecond), Number(mod(totalNanos, nanosPerSecond)));
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** The UTC offset in force in `zoneId` at `epochMillis`, from the platform's time zone database. */
export function zoneOffsetSeconds(zoneId: string, epochMillis: number): number {
  let f = offsetFormatters.get(zoneId);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zoneId, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new QuiverError('SemanticError', `Invalid value for TimeZone: Text '${zoneId}'`);
    }
    offsetFormatters.set(zoneId, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(epochMillis)).map((p) => [p.type, p.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((local - Math.floor(epochMillis / 1000) * 1000) / 1000);
}
