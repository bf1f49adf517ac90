/**
 * Decides what a backup run does for one database, from the server's listing and the catalog of the
 * target. Pure: no I/O, so every rule is tested directly. The chain itself comes from the one chain
 * model (chain.ts), exactly as restore sees it.
 *
 * AUTO: FULL when no chain of the same database id exists; otherwise a DIFF from the end of the path
 * a restore would follow; FULL again, with the reason stated, when that chain cannot be continued
 * (a fork, a gap, an unreadable artifact that may hold newer transactions), when the server can no
 * longer supply the transactions the DIFF needs, or when the histories diverged. An up-to-date chain
 * gets an empty DIFF.
 */
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { analyseChain, type Catalog, isEmptyDiff } from './chain.js';
import type { RemoteDatabase } from '../protocol/protocol.js';

/** What a DIFF continues: the artifact the chain's path ends with, and the point it ends at. */
export interface ChainTip {
  name: string;
  highestTx: number;
  lastTxChecksum: number;
  artifact: ArtifactInfo;
}

export type RequestedType = 'FULL' | 'DIFF' | 'AUTO';

export type BackupPlan =
  | { type: 'FULL'; fallbackReason: string | null; notes: string[] }
  | { type: 'DIFF'; parent: ChainTip; fromTxId: number; notes: string[] }
  | { type: 'EMPTY_DIFF'; parent: ChainTip; notes: string[] }
  | { type: 'FAIL'; message: string; hint: string };

const needFull =
  'Differential backups require that a full backup of the same database exists in the folder defined in --to-path.';

export function planBackup(requested: RequestedType, db: RemoteDatabase, catalog: Catalog): BackupPlan {
  const notes: string[] = [];
  const sameId = catalog.artifacts.filter((a) => a.header.databaseId === db.databaseId);
  const otherIds = new Set(catalog.artifacts.filter((a) => a.header.databaseName === db.name && a.header.databaseId !== db.databaseId).map((a) => a.header.databaseId));
  if (requested === 'FULL') return { type: 'FULL', fallbackReason: null, notes };
  if (otherIds.size > 0 && sameId.length === 0) {
    notes.push(`artifacts of database '${db.name}' in the target belong to another database id (${[...otherIds].join(', ')}): the database was recreated, so a new chain starts`);
  }
  const found = chainTip(catalog, db);
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
  const parent = found.tip;
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

/** Where the chain of the server's database id ends, as restore would reach it, or why it cannot be continued. */
function chainTip(catalog: Catalog, db: RemoteDatabase): { tip: ChainTip } | { problem: string } {
  const analysis = analyseChain(catalog, { databaseId: db.databaseId });
  if (!analysis) {
    const orphan = catalog.artifacts.find((a) => a.header.databaseId === db.databaseId && a.header.kind === 'DIFF' && !isEmptyDiff(a));
    return orphan ? { problem: `the DIFF artifacts of database '${db.name}' in the target have no full artifact to continue from ("${orphan.name}")` } : { problem: 'none' };
  }
  const fork = analysis.forks[0];
  if (fork) return { problem: `the backup chain in the target cannot be continued: ${fork.message}` };
  const hiding = analysis.leftOut.find((l) => l.hidesNewer);
  if (hiding) return { problem: `the backup chain in the target cannot be continued: "${hiding.name}": ${hiding.reason}` };
  const { tip } = analysis;
  return { tip: { name: tip.artifact.name, highestTx: tip.tx, lastTxChecksum: tip.checksum, artifact: tip.artifact } };
}
