/**
 * Decides what a backup run does for one database, from the server's listing and the artifacts
 * already in the target. Pure: no I/O, so every rule is tested directly.
 *
 * AUTO: FULL when no usable chain of the same database id exists; otherwise a DIFF from the newest
 * non-empty artifact; FULL again, with the reason stated, when the server can no longer supply the
 * transactions the DIFF needs or the histories diverged. An up-to-date chain gets an empty DIFF.
 */
import type { RemoteDatabase } from './protocol.js';

export type RequestedType = 'FULL' | 'DIFF' | 'AUTO';

export interface ExistingArtifact {
  name: string;
  databaseName: string;
  databaseId: string;
  kind: 'FULL' | 'DIFF';
  lowestTx: number;
  highestTx: number;
  lastTxChecksum: number;
  createdAt: string;
}

export type BackupPlan =
  | { type: 'FULL'; fallbackReason: string | null; notes: string[] }
  | { type: 'DIFF'; parent: ExistingArtifact; fromTxId: number; notes: string[] }
  | { type: 'EMPTY_DIFF'; parent: ExistingArtifact; notes: string[] }
  | { type: 'FAIL'; message: string; hint: string };

const needFull =
  'Differential backups require that a full backup of the same database exists in the folder defined in --to-path.';

/** The newest non-empty artifact whose chain reaches back to a FULL, or why there is none. */
function usableParent(artifacts: ExistingArtifact[]): { parent: ExistingArtifact } | { problem: string } {
  const nonEmpty = artifacts.filter((a) => a.highestTx > 0).sort((a, b) => b.highestTx - a.highestTx || b.createdAt.localeCompare(a.createdAt));
  const newest = nonEmpty[0];
  if (!newest) return { problem: 'none' };
  // Walk back to a FULL: each DIFF must be preceded by an artifact ending at its lowestTx - 1.
  let cur = newest;
  for (let guard = 0; cur.kind === 'DIFF' && guard < nonEmpty.length; guard++) {
    const prev = nonEmpty.find((a) => a.highestTx === cur.lowestTx - 1 && (a.kind === 'FULL' || a.lowestTx <= cur.lowestTx - 1));
    if (!prev) return { problem: `the chain ending at "${newest.name}" is broken: no artifact covers transaction ${cur.lowestTx - 1}` };
    cur = prev;
  }
  if (cur.kind !== 'FULL') return { problem: `the chain ending at "${newest.name}" has no full artifact` };
  return { parent: newest };
}

export function planBackup(requested: RequestedType, db: RemoteDatabase, existing: ExistingArtifact[]): BackupPlan {
  const notes: string[] = [];
  const sameId = existing.filter((a) => a.databaseId === db.databaseId);
  const otherIds = new Set(existing.filter((a) => a.databaseName === db.name && a.databaseId !== db.databaseId).map((a) => a.databaseId));
  if (requested === 'FULL') return { type: 'FULL', fallbackReason: null, notes };
  if (otherIds.size > 0 && sameId.length === 0) {
    notes.push(`artifacts of database '${db.name}' in the target belong to another database id (${[...otherIds].join(', ')}): the database was recreated, so a new chain starts`);
  }
  const found = usableParent(sameId);
  const fail = (reason: string): BackupPlan =>
    requested === 'DIFF'
      ? { type: 'FAIL', message: `Differential backup of database '${db.name}' failed. Reason: ${reason}`, hint: 'run with --type=FULL (or --type=AUTO, which falls back to a full backup)' }
      : { type: 'FULL', fallbackReason: reason, notes };
  if ('problem' in found) {
    if (found.problem === 'none') {
      return requested === 'DIFF'
        ? { type: 'FAIL', message: `Differential backup of database '${db.name}' failed. Reason: ${needFull}`, hint: 'run with --type=FULL or --type=AUTO first to start a chain' }
        : { type: 'FULL', fallbackReason: null, notes };
    }
    return fail(found.problem);
  }
  const parent = found.parent;
  if (parent.highestTx > db.lastCommittedTxId) {
    return fail(`the newest artifact "${parent.name}" ends at transaction ${parent.highestTx}, but the database on the server is at ${db.lastCommittedTxId} (it was restored to an earlier state)`);
  }
  if (parent.highestTx === db.lastCommittedTxId) {
    if (parent.lastTxChecksum !== db.lastCommittedChecksum) {
      return fail(`the newest artifact "${parent.name}" and the server disagree about transaction ${parent.highestTx} (the histories diverged)`);
    }
    return { type: 'EMPTY_DIFF', parent, notes };
  }
  if (db.oldestTxIdInLog > parent.highestTx + 1) {
    return fail(
      `the server no longer has the transactions after ${parent.highestTx} (its oldest transaction log entry is ${db.oldestTxIdInLog}); raise db.tx_log.rotation.retention_policy to keep differentials possible`,
    );
  }
  return { type: 'DIFF', parent, fromTxId: parent.highestTx + 1, notes };
}
