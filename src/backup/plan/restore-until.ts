/**
 * `--restore-until`: a transaction id (restore every transaction before it) or a UTC date-time
 * "YYYY-MM-DD HH:MM:SS" (restore every transaction committed before it). `T` and a trailing `Z`
 * are accepted too, since scripts produce those forms.
 */
import { QuiverError } from '../../util/errors.js';

export type RestoreUntil = { kind: 'tx'; txId: number } | { kind: 'time'; epochMs: number; text: string };

const restoreUntilHint = 'use a transaction id such as 123 or a UTC time such as "2026-11-28 13:50:45" (quote it: it contains a space)';

export function parseRestoreUntil(raw: string): RestoreUntil {
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const txId = Number(text);
    if (!Number.isSafeInteger(txId) || txId < 2) {
      // Tx 1 is the database's creation: "before tx 1" would restore nothing.
      throw new QuiverError('UsageInvalid', `invalid --restore-until "${raw}": a transaction id must be an integer from 2 to ${Number.MAX_SAFE_INTEGER}`, { hint: restoreUntilHint });
    }
    return { kind: 'tx', txId };
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z?$/.exec(text);
  if (m) {
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), m[7] ? Math.round(Number(m[7]) * 1000) : 0);
    const check = new Date(ms);
    // Date.UTC rolls over out-of-range fields (month 13, second 61): every field must survive unchanged.
    const fields = [check.getUTCFullYear(), check.getUTCMonth() + 1, check.getUTCDate(), check.getUTCHours(), check.getUTCMinutes(), check.getUTCSeconds()];
    if (!Number.isNaN(ms) && fields.every((f, i) => f === Number(m[i + 1]))) return { kind: 'time', epochMs: ms, text };
  }
  throw new QuiverError('UsageInvalid', `invalid --restore-until "${raw}"`, { hint: restoreUntilHint });
}

/** True when the transaction must not be restored. */
export function isPastLimit(limit: RestoreUntil | null, txId: number, commitTimeMs: number): boolean {
  if (!limit) return false;
  return limit.kind === 'tx' ? txId >= limit.txId : commitTimeMs >= limit.epochMs;
}
