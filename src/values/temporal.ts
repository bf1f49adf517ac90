/**
 * Temporal value types (Cypher date/time/duration). They are plain immutable classes so that the
 * store codec, the Cypher runtime and the Bolt PackStream codec agree on one representation.
 * Nanosecond precision everywhere; epoch values are UTC.
 */

export class QDate {
  constructor(readonly year: number, readonly month: number, readonly day: number) {}
  /** Days since 1970-01-01 (proleptic Gregorian). */
  epochDays(): number {
    // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
    const d = new Date(0);
    d.setUTCFullYear(this.year, this.month - 1, this.day);
    return Math.floor(d.getTime() / 86_400_000);
  }
  static fromEpochDays(days: number): QDate {
    const d = new Date(days * 86_400_000);
    return new QDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  }
  toString(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
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

export class QDuration {
  constructor(readonly months: bigint, readonly days: bigint, readonly seconds: bigint, readonly nanos: number) {}
  toString(): string {
    let s = 'P';
    if (this.months !== 0n) {
      const y = this.months / 12n;
      const m = this.months % 12n;
      if (y !== 0n) s += `${y}Y`;
      if (m !== 0n) s += `${m}M`;
    }
    if (this.days !== 0n) s += `${this.days}D`;
    if (this.seconds !== 0n || this.nanos !== 0) {
      s += 'T';
      let secs = this.seconds;
      const h = secs / 3600n;
      secs %= 3600n;
      const min = secs / 60n;
      secs %= 60n;
      if (h !== 0n) s += `${h}H`;
      if (min !== 0n) s += `${min}M`;
      if (secs !== 0n || this.nanos !== 0) {
        s += this.nanos ? `${secs}.${String(this.nanos).padStart(9, '0').replace(/0+$/, '')}S` : `${secs}S`;
      }
    }
    return s === 'P' ? 'PT0S' : s;
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

function formatNanoOfDay(nanoOfDay: bigint): string {
  const totalSeconds = nanoOfDay / 1_000_000_000n;
  const nanos = Number(nanoOfDay % 1_000_000_000n);
  const h = totalSeconds / 3600n;
  const m = (totalSeconds % 3600n) / 60n;
  const s = totalSeconds % 60n;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${fraction(nanos)}`;
}

function fraction(nanos: number): string {
  return nanos ? '.' + String(nanos).padStart(9, '0').replace(/0+$/, '') : '';
}

function formatOffset(offsetSeconds: number): string {
  if (offsetSeconds === 0) return 'Z';
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  return `${sign}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor((abs % 3600) / 60), 2)}`;
}

function formatEpoch(epochSeconds: bigint, nanos: number): string {
  const days = Number(epochSeconds >= 0n ? epochSeconds / 86400n : (epochSeconds - 86399n) / 86400n);
  const secOfDay = epochSeconds - BigInt(days) * 86400n;
  const date = QDate.fromEpochDays(days);
  return `${date.toString()}T${formatNanoOfDay(secOfDay * 1_000_000_000n)}${fraction(nanos)}`;
}
