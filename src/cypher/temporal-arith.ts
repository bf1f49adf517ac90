/**
 * Arithmetic on temporal values as Neo4j does it: a duration is added unit by unit, months, then
 * days, then seconds and nanoseconds, and each temporal type takes only the units it has (a date
 * takes the seconds only as whole days, a time ignores the months and days); months and days move a zoned date-time's wall
 * clock, seconds move its instant; a date takes whole days of the seconds. Durations add component-wise, and multiply or divide exactly
 * by integers and through Neo4j's `approximate` by floats.
 */
import { QuiverError } from '../util/errors.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime, type TemporalValue } from '../values/temporal.js';
import { civil, daysInMonth, epochDay, floorDiv, floorMod, nanosPerDay, nanosPerSecond, resolveLocal, zoneOffsetAt } from './temporal-calendar.js';
import { approximate, durationOf } from './temporal-duration.js';
import { checkInt64 } from './value-util.js';

function plusMonths(day: number, months: bigint): number {
  if (months === 0n) return day;
  const c = civil(day);
  const total = BigInt(c.year) * 12n + BigInt(c.month - 1) + months;
  const year = Number(floorDiv(total, 12n));
  const month = Number(floorMod(total, 12n)) + 1;
  return epochDay(year, month, Math.min(c.day, daysInMonth(year, month)));
}

function plusCalendar(day: number, d: QDuration): number {
  return plusMonths(day, d.months) + Number(d.days);
}

const durationNanos = (d: QDuration): bigint => d.seconds * nanosPerSecond + BigInt(d.nanos);

export function addDuration(t: TemporalValue, d: QDuration): TemporalValue {
  // A date takes the duration's seconds only as whole days (truncated toward zero, as Neo4j).
  if (t instanceof QDate) return QDate.fromEpochDays(plusCalendar(t.epochDays(), d) + Number(d.seconds / 86_400n));
  if (t instanceof QLocalTime) return new QLocalTime(floorMod(t.nanoOfDay + durationNanos(d), nanosPerDay));
  if (t instanceof QTime) return new QTime(floorMod(t.nanoOfDay + durationNanos(d), nanosPerDay), t.offsetSeconds);
  if (t instanceof QLocalDateTime) {
    const day = Number(floorDiv(t.epochSeconds, 86_400n));
    const local = BigInt(plusCalendar(day, d)) * nanosPerDay + floorMod(t.epochSeconds, 86_400n) * nanosPerSecond + BigInt(t.nanos) + durationNanos(d);
    return new QLocalDateTime(floorDiv(local, nanosPerSecond), Number(floorMod(local, nanosPerSecond)));
  }
  if (t instanceof QDateTime) {
    const localSeconds = t.epochSeconds + BigInt(t.offsetSeconds);
    const day = Number(floorDiv(localSeconds, 86_400n));
    const newLocal = BigInt(plusCalendar(day, d)) * 86_400n + floorMod(localSeconds, 86_400n);
    let epochSeconds: bigint;
    let offset = t.offsetSeconds;
    if (t.zoneId) {
      const r = resolveLocal(t.zoneId, newLocal, t.offsetSeconds);
      epochSeconds = r.epochSeconds;
    } else epochSeconds = newLocal - BigInt(offset);
    const instant = epochSeconds * nanosPerSecond + BigInt(t.nanos) + durationNanos(d);
    epochSeconds = floorDiv(instant, nanosPerSecond);
    if (t.zoneId) offset = zoneOffsetAt(t.zoneId, epochSeconds);
    return new QDateTime(epochSeconds, Number(floorMod(instant, nanosPerSecond)), offset, t.zoneId);
  }
  throw new QuiverError('TypeError', 'Cannot add a duration to a duration this way');
}

export function negateDuration(d: QDuration): QDuration {
  return durationOf(-d.months, -d.days, -d.seconds, -BigInt(d.nanos));
}

export function addDurations(a: QDuration, b: QDuration): QDuration {
  return durationOf(checkInt64(a.months + b.months), checkInt64(a.days + b.days), checkInt64(a.seconds + b.seconds), BigInt(a.nanos + b.nanos));
}

/** duration * factor: exact for integers, Neo4j's approximation for floats. */
export function multiplyDuration(d: QDuration, factor: number | bigint): QDuration {
  if (typeof factor === 'bigint') return durationOf(checkInt64(d.months * factor), checkInt64(d.days * factor), checkInt64(d.seconds * factor), BigInt(d.nanos) * factor);
  return approximate(Number(d.months) * factor, Number(d.days) * factor, Number(d.seconds) * factor, d.nanos * factor);
}

/** duration / divisor: always through doubles, as Neo4j does. */
export function divideDuration(d: QDuration, divisor: number | bigint): QDuration {
  const x = Number(divisor);
  if (x === 0) throw new QuiverError('ArithmeticError', '/ by zero');
  return approximate(Number(d.months) / x, Number(d.days) / x, Number(d.seconds) / x, d.nanos / x);
}
