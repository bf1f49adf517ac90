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
  /** DIFF: the chain checksum of the transaction it follows (its header's parent.lastTxChecksum); FULL: null. */
  parentLastTxChecksum: number | null;
  createdAt: string;
}

export type BackupPlan =
  | { type: 'FULL'; fallbackReason: string | null; notes: string[] }
  | { type: 'DIFF'; parent: ExistingArtifact; fromTxId: number; notes: string[] }
  | { type: 'EMPTY_DIFF'; parent: ExistingArtifact; notes: string[] }
  | { type: 'FAIL'; message: string; hint: string };

const needFull =
  'Differential backups require that a full backup of the same database exists in the folder defined in --to-path.';

/**
 * The newest non-empty artifact (by backup time) whose chain reaches back to a FULL, or why there is
 * none. Time, not highest tx, picks "newest": after a database was restored to an earlier state the
 * latest backups have lower transaction ids than older ones, and they are the ones to continue.
 */
function usableParent(artifacts: ExistingArtifact[]): { parent: ExistingArtifact } | { problem: string } {
  const nonEmpty = artifacts.filter((a) => a.highestTx > 0).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.highestTx - a.highestTx);
  const newest = nonEmpty[0];
  if (!newest) return { problem: 'none' };
  // Walk back to a FULL: each DIFF must follow an artifact that ends at its lowestTx - 1 with the
  // chain checksum the DIFF recorded for its parent (same range, same history).
  let cur = newest;
  for (let guard = 0; cur.kind === 'DIFF' && guard < nonEmpty.length; guard++) {
    const child = cur;
    const prev = nonEmpty.find((a) => a.highestTx === child.lowestTx - 1 && a.lastTxChecksum === child.parentLastTxChecksum);
    if (!prev) {
      const sameRange = nonEmpty.some((a) => a.highestTx === child.lowestTx - 1);
      return {
        problem: sameRange
          ? `the chain ending at "${newest.name}" is broken: the artifact ending at transaction ${child.lowestTx - 1} belongs to another history than "${child.name}"`
          : `the chain ending at "${newest.name}" is broken: no artifact covers transaction ${child.lowestTx - 1}`,
      };
    }
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
