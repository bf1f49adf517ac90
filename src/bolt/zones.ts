/**
 * UTC offsets of named (IANA) time zones at an instant, from the runtime's Intl data. Needed to turn a
 * DateTimeZoneId structure (UTC seconds + zone name) into our QDateTime, which also carries the offset.
 */

/** One formatter per zone spelling; only valid names are cached. */
const formatters = new Map<string, Intl.DateTimeFormat>();
/** There are a few hundred zones, but Intl accepts any letter case, so bound the spellings we keep. */
const formattersMax = 2000;

/** JS Date spans ±8.64e15 ms around the epoch. */
const epochSecondsMax = 8_640_000_000_000n;

/** The offset of `zone` in force at `epochSeconds` (UTC), or undefined for an unknown zone or instant. */
export function zoneOffsetSeconds(zone: string, epochSeconds: bigint): number | undefined {
  if (epochSeconds < -epochSecondsMax || epochSeconds > epochSecondsMax) return undefined;
  const fmt = formatterFor(zone);
  if (fmt === undefined) return undefined;
  const name = fmt.formatToParts(new Date(Number(epochSeconds) * 1000)).find((p) => p.type === 'timeZoneName')?.value;
  // 'longOffset' renders "GMT" for zero, else "GMT+05:30" (seconds appear only for historic LMT offsets).
  if (name === undefined) return undefined;
  if (name === 'GMT') return 0;
  const m = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(name);
  if (!m) return undefined;
  const seconds = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -seconds : seconds;
}

function formatterFor(zone: string): Intl.DateTimeFormat | undefined {
  let fmt = formatters.get(zone);
  if (fmt === undefined) {
    try {
      fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    } catch {
      return undefined; // RangeError: not a zone the runtime knows
    }
    if (formatters.size >= formattersMax) formatters.clear();
    formatters.set(zone, fmt);
  }
  return fmt;
}
