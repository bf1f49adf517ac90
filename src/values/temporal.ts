/**
 * Temporal value types (Cypher date/time/duration). They are plain immutable classes so that the
 * store codec, the Cypher runtime and the Bolt PackStream codec agree on one representation.
 * Nanosecond precision everywhere; epoch values are UTC. Dates span Neo4j's years ±999,999,999
 * (era arithmetic, not JS Date), and toString() renders what Neo4j renders (java.time's ISO forms).
 */
import { civilFromEpochDays, epochDaysFromCivil } from '../bolt/calendar.js';

export class QDate {
  constructor(readonly year: number, readonly month: number, readonly day: number) {}
  /** Days since 1970-01-01 (proleptic Gregorian). */
  epochDays(): number {
    return epochDaysFromCivil(this.year, this.month, this.day);
  }
  static fromEpochDays(days: number): QDate {
    const c = civilFromEpochDays(days);
    return new QDate(c.year, c.month, c.day);
  }
  toString(): string {
    // java.time: four digits, a sign and more digits beyond 9999.
    const y = this.year > 9999 ? `+${this.year}` : pad(this.year, 4);
    return `${y}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }
}

/** Time of day without zone. */
export class QLocalTime {
  constructor(readonly nanoOfDay: bigint) {}
  toString(): string {
    return formatNanoOfDay(this.nanoOfDay);
  }
}

/** Time of day with a UTC offset. */
export class QTime {
  constructor(readonly nanoOfDay: bigint, readonly offsetSeconds: number) {}
  toString(): string {
    return formatNanoOfDay(this.nanoOfDay) + formatOffset(this.offsetSeconds);
  }
}

/** Date and time without zone: seconds since the local epoch plus nanoseconds. */
export class QLocalDateTime {
  constructor(readonly epochSeconds: bigint, readonly nanos: number) {}
  toString(): string {
    return formatEpoch(this.epochSeconds, this.nanos);
  }
}

/**
 * An instant with either a fixed offset or a named zone. `epochSeconds` is UTC.
 * When `zoneId` is set, `offsetSeconds` is the offset in force at that instant.
 */
export class QDateTime {
  constructor(
    readonly epochSeconds: bigint,
    readonly nanos: number,
    readonly offsetSeconds: number,
    readonly zoneId: string | null = null,
  ) {}
  epochMillis(): number {
    return Number(this.epochSeconds) * 1000 + Math.floor(this.nanos / 1e6);
  }
  toString(): string {
    const local = formatEpoch(this.epochSeconds + BigInt(this.offsetSeconds), this.nanos);
    const off = this.offsetSeconds === 0 && !this.zoneId ? 'Z' : formatOffset(this.offsetSeconds);
    return local + off + (this.zoneId ? `[${this.zoneId}]` : '');
  }
}

/** months, days, seconds and nanoseconds kept apart (Neo4j's model); 0 <= nanos < 1e9. */
export class QDuration {
  constructor(readonly months: bigint, readonly days: bigint, readonly seconds: bigint, readonly nanos: number) {}
  /** Neo4j's rendering: a negative fraction reads 'PT-1.999S' (seconds -2, nanos 1_000_000). */
  toString(): string {
    if (this.months === 0n && this.days === 0n && this.seconds === 0n && this.nanos === 0) return 'PT0S';
    let str = 'P';
    if (this.months / 12n !== 0n) str += `${this.months / 12n}Y`;
    if (this.months % 12n !== 0n) str += `${this.months % 12n}M`;
    if (this.days !== 0n) str += `${this.days}D`;
    if (this.seconds !== 0n || this.nanos !== 0) {
      let s = this.seconds;
      let n = this.nanos;
      if (s < 0n && n > 0) {
        s += 1n;
        n -= 1_000_000_000;
      }
      str += 'T';
      if (s / 3600n !== 0n) str += `${s / 3600n}H`;
      s %= 3600n;
      if (s / 60n !== 0n) str += `${s / 60n}M`;
      s %= 60n;
      if (s !== 0n || n !== 0) {
        const negative = s < 0n || n < 0;
        const frac = n === 0 ? '' : '.' + String(Math.abs(n)).padStart(9, '0').replace(/0+$/, '');
        str += `${negative ? '-' : ''}${s < 0n ? -s : s}${frac}S`;
      }
    }
    return str;
  }
}

export type TemporalValue = QDate | QLocalTime | QTime | QLocalDateTime | QDateTime | QDuration;

export function isTemporal(v: unknown): v is TemporalValue {
  return (
    v instanceof QDate ||
    v instanceof QLocalTime ||
    v instanceof QTime ||
    v instanceof QLocalDateTime ||
    v instanceof QDateTime ||
    v instanceof QDuration
  );
}

function pad(n: number | bigint, width: number): string {
  const neg = n < 0;
  const s = String(neg ? -n : n).padStart(width, '0');
  return neg ? `-${s}` : s;
}

/** java.time LocalTime: HH:mm, then :ss only when seconds or nanos are set, fractions in 3, 6 or 9 digits. */
function formatNanoOfDay(nanoOfDay: bigint): string {
  const totalSeconds = nanoOfDay / 1_000_000_000n;
  const nanos = Number(nanoOfDay % 1_000_000_000n);
  const h = totalSeconds / 3600n;
  const m = (totalSeconds % 3600n) / 60n;
  const s = totalSeconds % 60n;
  return `${pad(h, 2)}:${pad(m, 2)}` + (s !== 0n || nanos !== 0 ? `:${pad(s, 2)}${fraction(nanos)}` : '');
}

function fraction(nanos: number): string {
  if (nanos === 0) return '';
  if (nanos % 1_000_000 === 0) return '.' + String(nanos / 1_000_000).padStart(3, '0');
  if (nanos % 1000 === 0) return '.' + String(nanos / 1000).padStart(6, '0');
  return '.' + String(nanos).padStart(9, '0');
}

/** java.time ZoneOffset: Z, +HH:MM, or +HH:MM:SS when the offset has seconds. */
export function formatOffset(offsetSeconds: number): string {
  if (offsetSeconds === 0) return 'Z';
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  const secs = abs % 60;
  return `${sign}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor((abs % 3600) / 60), 2)}${secs ? ':' + pad(secs, 2) : ''}`;
}

function formatEpoch(epochSeconds: bigint, nanos: number): string {
  const days = Number(epochSeconds >= 0n ? epochSeconds / 86400n : (epochSeconds - 86399n) / 86400n);
  const secOfDay = epochSeconds - BigInt(days) * 86400n;
  const date = QDate.fromEpochDays(days);
  return `${date.toString()}T${formatNanoOfDay(secOfDay * 1_000_000_000n + BigInt(nanos))}`;
}
