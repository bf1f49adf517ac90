/**
 * The calendar and time-zone rules the temporal functions share: proleptic Gregorian days, ISO
 * week dates, quarters, and the offset of a named zone for an instant or for a local date-time
 * (java.time's rules: in an overlap the earlier offset, in a gap the local time moves forward by
 * the gap), from the IANA data Node's Intl ships. Pure functions over numbers and bigints.
 */
import { QuiverError } from '../util/errors.js';
import { civilFromEpochDays, epochDaysFromCivil } from '../bolt/calendar.js';
import { zoneOffsetSeconds as intlZoneOffsetSeconds } from '../bolt/zones.js';

export const nanosPerSecond = 1_000_000_000n;
export const secondsPerDay = 86_400n;
export const nanosPerDay = secondsPerDay * nanosPerSecond;
/** Neo4j's range of years for dates. */
export const yearMax = 999_999_999;

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

export function floorMod(a: bigint, b: bigint): bigint {
  return ((a % b) + b) % b;
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

export function epochDay(year: number, month: number, day: number): number {
  return epochDaysFromCivil(year, month, day);
}

export function civil(epochDayValue: number): { year: number; month: number; day: number } {
  return civilFromEpochDays(epochDayValue);
}

/** ISO day of week, Monday = 1 … Sunday = 7 (1970-01-01 was a Thursday). */
export function dayOfWeek(epochDayValue: number): number {
  return (((epochDayValue + 3) % 7) + 7) % 7 + 1;
}

/** Epoch day of the Monday that starts ISO week 1 of `weekYear` (the week holding 4 January). */
export function weekOneMonday(weekYear: number): number {
  const jan4 = epochDay(weekYear, 1, 4);
  return jan4 - (dayOfWeek(jan4) - 1);
}

export function weeksInWeekYear(weekYear: number): number {
  return (weekOneMonday(weekYear + 1) - weekOneMonday(weekYear)) / 7;
}

export function isoWeek(epochDayValue: number): { weekYear: number; week: number; dayOfWeek: number } {
  const dow = dayOfWeek(epochDayValue);
  const thursday = epochDayValue - dow + 4;
  const weekYear = civil(thursday).year;
  return { weekYear, week: Math.floor((thursday - epochDay(weekYear, 1, 1)) / 7) + 1, dayOfWeek: dow };
}

export function quarterStart(year: number, quarter: number): number {
  return epochDay(year, (quarter - 1) * 3 + 1, 1);
}

export function quarterOf(month: number): number {
  return Math.floor((month - 1) / 3) + 1;
}

// ---- zones ------------------------------------------------------------------------------------

export function invalidZone(zone: string): QuiverError {
  return new QuiverError('SemanticError', `Invalid value for TimeZone: Text '${zone}'`);
}

/** The offset of `zone` at the UTC instant `epochSeconds`; instants beyond JS Date use the nearest edge. */
export function zoneOffsetAt(zone: string, epochSeconds: bigint): number {
  const edge = 8_640_000_000_000n;
  const clamped = epochSeconds > edge ? edge : epochSeconds < -edge ? -edge : epochSeconds;
  const off = intlZoneOffsetSeconds(zone, clamped);
  if (off === undefined) throw invalidZone(zone);
  return off;
}

/** Throws the Neo4j-style error for a name the zone database does not know. */
export function checkZone(zone: string): void {
  zoneOffsetAt(zone, 0n);
}

/**
 * The instant of a local date-time (seconds since the local epoch) in `zone`: java.time's
 * ZonedDateTime.ofLocal. `preferred` picks between the two offsets of an overlap when valid.
 */
export function resolveLocal(zone: string, localSeconds: bigint, preferred: number | null = null): { epochSeconds: bigint; offset: number } {
  const before = zoneOffsetAt(zone, localSeconds - 43_200n);
  const after = zoneOffsetAt(zone, localSeconds + 43_200n);
  const valid = [before, after].filter((o) => zoneOffsetAt(zone, localSeconds - BigInt(o)) === o);
  if (valid.length > 0) {
    const offset = preferred !== null && valid.includes(preferred) ? preferred : valid[0]!;
    return { epochSeconds: localSeconds - BigInt(offset), offset };
  }
  // A gap: the wall clock skips forward; the local time moves later by the gap's length.
  const epochSeconds = localSeconds - BigInt(before);
  return { epochSeconds, offset: zoneOffsetAt(zone, epochSeconds) };
}

const offsetTextRe = /^([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?$/;

/** '+01:00', '-0530', '+02:05:00', 'Z' → seconds; null when the text is not an offset. */
export function parseOffset(text: string): number | null {
  if (text === 'Z' || text === 'z') return 0;
  const m = offsetTextRe.exec(text);
  if (!m) return null;
  const h = Number(m[2]);
  const min = Number(m[3] ?? 0);
  const s = Number(m[4] ?? 0);
  if (h > 18 || min > 59 || s > 59 || h * 3600 + min * 60 + s > 18 * 3600) return null;
  const total = h * 3600 + min * 60 + s;
  return m[1] === '-' ? -total : total;
}
