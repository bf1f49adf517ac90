/**
 * Parsers for the two unit-bearing value forms of settings: byte sizes (binary units, k = 1024) and
 * durations (milliseconds out; a bare number means seconds, as in Neo4j). Pure: they return
 * `undefined` for anything they do not accept, and the caller says which setting was wrong.
 */

const byteUnitPowers: ReadonlyMap<string, number> = new Map([
  ['', 0], ['b', 0],
  ['k', 1], ['kb', 1], ['kib', 1],
  ['m', 2], ['mb', 2], ['mib', 2],
  ['g', 3], ['gb', 3], ['gib', 3],
  ['t', 4], ['tb', 4], ['tib', 4],
  ['p', 5], ['pb', 5], ['pib', 5],
]);

/**
 * `512`, `64k`, `256M`, `1G`, `1GiB`, `1.5g`, `256.00MiB`: every unit is binary, as in Neo4j (`KB` is 1024 bytes).
 * Units are case-insensitive and may follow a space. A fraction rounds down to whole bytes.
 * Returns `undefined` for anything else, including sizes beyond 2^53 bytes (exbibytes).
 */
export function parseByteSize(raw: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?) ?([A-Za-z]*)$/.exec(raw.trim());
  if (match === null) return undefined;
  const power = byteUnitPowers.get(match[2]!.toLowerCase());
  if (power === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Shortest exact spelling of a byte count in the units parseByteSize accepts (`131072` → `128k`). */
export function formatByteSize(bytes: number): string {
  const units = ['', 'k', 'M', 'G', 'T', 'P'];
  let value = bytes;
  let unit = 0;
  while (value !== 0 && value % 1024 === 0 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value}${units[unit]}`;
}

const durationUnitMs: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
]);

/**
 * `500ms`, `10s`, `15m`, `2h`, `1d`, or several parts run together (`1h30m`); units are case-insensitive.
 * A bare number is seconds (Neo4j's default unit), so `30` is 30 s. Returns milliseconds, or `undefined`.
 */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim().toLowerCase();
  if (/^\d+$/.test(text)) return safeOrUndefined(Number(text) * 1000);
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) return undefined;
  let ms = 0;
  for (const part of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    ms += Number(part[1]) * durationUnitMs.get(part[2]!)!;
  }
  return safeOrUndefined(ms);
}

function safeOrUndefined(n: number): number | undefined {
  return Number.isSafeInteger(n) ? n : undefined;
}
