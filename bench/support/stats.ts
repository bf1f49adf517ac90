/** Small numeric helpers for benchmark reports: medians, percentiles, rates with their units. */

export const mebibyte = 1024 * 1024;

/** The middle value, or the mean of the two middle values; NaN for an empty list. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile; NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function mibPerSec(bytes: number, ms: number): number {
  return bytes / mebibyte / (ms / 1000);
}

/** Rounds for the report: enough digits to compare, not more. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
