/**
 * What a sealed artifact promises about its transactions and blocks (docs/backup-format.md, trailer
 * invariants). The writer asserts these before committing; the reader reports them as corruption.
 */
import { blockHeaderBytes } from './artifact-block.js';
import { isU32, type ArtifactHeader } from './artifact-header.js';
import { holdsNoTransaction, trailerBytes, type ArtifactTrailer } from './artifact-trailer.js';

/** The first broken promise of a header and trailer pair, or null. */
export function sealProblem(header: ArtifactHeader, t: ArtifactTrailer): string | null {
  for (const field of ['lowestTx', 'highestTx', 'highestTxCommitTimeMs', 'txCount', 'payloadRawBytes', 'payloadStoredBytes'] as const) {
    if (!Number.isSafeInteger(t[field]) || t[field] < 0) return `${field} ${t[field]} is not a non-negative integer`;
  }
  if (!isU32(t.lastTxChecksum)) return `lastTxChecksum ${t.lastTxChecksum} is not a u32`;
  if (!isU32(t.blockCount)) return `blockCount ${t.blockCount} is not a u32`;
  const empty = holdsNoTransaction(t);
  if (empty) {
    if (t.txCount !== 0) return `empty artifact (lowest and highest tx 0) records txCount ${t.txCount}`;
    if (t.highestTxCommitTimeMs !== 0) return `empty artifact records highestTxCommitTimeMs ${t.highestTxCommitTimeMs}`;
    if (t.lastTxChecksum !== 0) return `empty artifact records lastTxChecksum ${t.lastTxChecksum}`;
  } else {
    if (t.lowestTx < 1) return `lowest tx ${t.lowestTx} must be at least 1 when highest tx is ${t.highestTx}`;
    if (t.highestTx < t.lowestTx) return `highest tx ${t.highestTx} is below lowest tx ${t.lowestTx}`;
    if (t.txCount !== t.highestTx - t.lowestTx + 1) {
      return `txCount ${t.txCount} differs from the ${t.highestTx - t.lowestTx + 1} transactions from ${t.lowestTx} to ${t.highestTx}`;
    }
    if (header.kind === 'DIFF' && header.parent !== null && t.lowestTx !== header.parent.highestTx + 1) {
      return `DIFF starts at tx ${t.lowestTx} but its parent "${header.parent.artifactName}" ends at tx ${header.parent.highestTx}`;
    }
  }
  if ((t.blockCount === 0) !== (t.payloadRawBytes === 0)) return `${t.blockCount} blocks hold ${t.payloadRawBytes} raw bytes`;
  if (t.payloadStoredBytes > t.payloadRawBytes) return `stored bytes ${t.payloadStoredBytes} exceed raw bytes ${t.payloadRawBytes}`;
  if (t.blockCount > 0) {
    const rawMax = t.blockCount * header.blockRawBytes;
    const rawMin = (t.blockCount - 1) * header.blockRawBytes + 1;
    if (t.payloadRawBytes < rawMin || t.payloadRawBytes > rawMax) {
      return `${t.blockCount} blocks of ${header.blockRawBytes} bytes cannot hold ${t.payloadRawBytes} raw bytes`;
    }
    if (t.payloadStoredBytes < t.blockCount) return `${t.blockCount} blocks cannot be stored in ${t.payloadStoredBytes} bytes`;
  }
  return null;
}

/** The file size a header and trailer account for. */
export function expectedFileBytes(t: ArtifactTrailer): number {
  return t.headerBytes + t.blockCount * blockHeaderBytes + t.payloadStoredBytes + trailerBytes;
}
