/**
 * The artifacts already in a target, as the backup planner sees them (header and trailer only).
 * Corrupt or foreign files are reported and left out: a chain is never built on them.
 */
import type { BackupTarget } from '../targets/target.js';
import { toQuiverError } from '../util/errors.js';
import { readArtifactInfo } from './artifact-reader.js';
import type { ExistingArtifact } from './backup-plan.js';

export async function listExistingArtifacts(target: BackupTarget, warn: (message: string) => void): Promise<ExistingArtifact[]> {
  const out: ExistingArtifact[] = [];
  for (const entry of await target.list()) {
    try {
      const info = await readArtifactInfo(target, entry.name);
      out.push({
        name: info.name,
        databaseName: info.header.databaseName,
        databaseId: info.header.databaseId,
        kind: info.header.kind,
        lowestTx: info.trailer.lowestTx,
        highestTx: info.trailer.highestTx,
        lastTxChecksum: info.trailer.lastTxChecksum,
        parentLastTxChecksum: info.header.parent?.lastTxChecksum ?? null,
        createdAt: info.header.createdAt,
      });
    } catch (e) {
      warn(`ignoring "${entry.name}" in ${target.uri()}: ${toQuiverError(e).message}`);
    }
  }
  return out;
}
