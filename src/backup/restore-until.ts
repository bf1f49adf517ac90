/**
 * `--restore-until`: a transaction id (restore every transaction before it) or a UTC date-time
 * "YYYY-MM-DD HH:MM:SS" (restore every transaction committed before it). `T` and a trailing `Z`
 * are accepted too, since scripts produce those forms.
 */
import { QuiverError } from '../util/errors.js';

export type RestoreUntil = { kind: 'tx'; txId: number } | { kind: 'time'; epochMs: number; text: string };

export function parseRestoreUntil(raw: string): RestoreUntil {
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const txId = Number(text);
    if (!Number.isSafeInteger(txId) || txId < 2) {
      throw new QuiverError('UsageInvalid', `invalid --restore-until "${raw}": a transaction id must be 2 or more`);
    }
    return { kind: 'tx', txId };
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z?$/.exec(text);
  if (m) {
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), m[7] ? Math.round(Number(m[7]) * 1000) : 0);
    const check = new Date(ms);
    if (!Number.isNaN(ms) && check.getUTCDate() === Number(m[3]) && check.getUTCHours() === Number(m[4])) return { kind: 'time', epochMs: ms, text };
  }
  throw new QuiverError('UsageInvalid', `invalid --restore-until "${raw}"`, {
    hint: 'use a transaction id such as 123 or a UTC time such as "2026-11-28 13:50:45" (quote it: it contains a space)',
  });
}

/** True when the transaction must not be restored. */
export function isPastLimit(limit: RestoreUntil | null, txId: number, commitTimeMs: number): boolean {
  if (!limit) return false;
  return limit.kind === 'tx' ? txId >= limit.txId : commitTimeMs >= limit.epochMs;
}
