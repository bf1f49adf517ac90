/**
 * Building a restored store aside: the FULL artifact's store image written out as `data.mdb` (with
 * O_DIRECT where the file system takes it) and checked, the DIFFs' transactions replayed up to
 * --restore-until (every record's checksum and the chain verified), and an empty log that continues
 * the restored state. Used by restore, aggregate-backup and the check of a backup.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { type DatabaseSettings } from '../../kernel/database.js';
import { GraphStore } from '../../storage/store.js';
import { headReadBytes, imageHeadProblem } from '../../storage/lmdb-image.js';
import type { BackupTarget } from '../../targets/target.js';
import { TxLog } from '../../txlog/txlog.js';
import { errnoCode, ioFailureDetail, QuiverError } from '../../util/errors.js';
import { FileWriteError } from '../compression/compression-protocol.js';
import { BackgroundFlush } from '../../util/background-flush.js';
import { openForDirectWrites } from '../../util/direct-buffer.js';
import { formatBytes } from '../../util/format.js';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { readPayload, writePayloadToFile } from '../artifact/artifact-reader.js';
import { holdsNoTransaction } from '../artifact/artifact-trailer.js';
import { mapOrdered } from '../compression/compression-queue.js';
import { type RestoreStep } from '../plan/restore-plan.js';
import { decodeChunksInFlightMax, decodeRecord, type DecodedTx, ReplayDecoder, type ReplayDecoderInit, type ValidatedChunk, WorkerReplayDecoder } from './restore-replay.js';
import type { RestoreUntil } from '../plan/restore-until.js';
import { storeImagePayloadFormat } from '../artifact/payload-formats.js';
import { txlogPayloadFormat } from '../artifact/payload-formats.js';

/** Bytes of store image written between two background flushes to disk. */
const restoreFlushEveryBytes = 64 * 1024 * 1024;

/** Transactions applied per LMDB transaction during replay. */
const replayBatchTxs = 2_000;

/** What a staged build produced. */
export interface StagedStore {
  full: ArtifactInfo;
  replayed: number;
  reached: boolean;
}

/**
 * Builds a store and an empty continuation log from a chain: writes out the full artifact's
 * store image, then replays the differentials up to `until`. Used by restore, aggregate and check.
 */
export async function buildStagedStore(
  step: RestoreStep,
  targetOf: Map<string, BackupTarget>,
  stagedStore: string,
  stagedLog: string,
  until: RestoreUntil | null,
  settings: DatabaseSettings,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
  options: { parallelRecovery?: boolean; newIdentity?: boolean } = {},
): Promise<StagedStore> {
  const full = step.artifacts[0]!;
  if (full.header.payloadFormat !== storeImagePayloadFormat) {
    throw new QuiverError('ArtifactCorrupt', `artifact "${full.name}" has payload format "${full.header.payloadFormat}", this version restores "${storeImagePayloadFormat}"`, {
      hint: 'restore it with the Quiver version that wrote it, or take a new FULL backup',
    });
  }
  try {
    await writeStoreImage(targetOf.get(full.uri)!, full, stagedStore);
  } catch (e) {
    // Targets report their own read failures as QuiverErrors: any other system error here came
    // from writing the staged store (creating, writing or syncing its data file).
    if (e instanceof FileWriteError || (!(e instanceof QuiverError) && errnoCode(e) !== undefined)) throw storeImageWriteFailed(full.name, e);
    throw asCorrupt(e, full.name);
  }
  log('info', `Wrote the store image of '${full.name}' (${formatBytes(full.trailer.payloadRawBytes)}, consistent at tx ${full.trailer.highestTx}).`);

  let store: GraphStore;
  try {
    store = GraphStore.open(stagedStore);
  } catch (e) {
    throw restoredStoreWriteFailed(stagedStore, e);
  }
  let replayed = 0;
  let reached = false;
  try {
    const meta = store.meta();
    if (meta.databaseId !== step.databaseId || meta.lastTxId !== full.trailer.highestTx || meta.lastTxChecksum !== full.trailer.lastTxChecksum) {
      throw new QuiverError('ArtifactCorrupt', `artifact "${full.name}": its store image holds database ${meta.databaseId} at tx ${meta.lastTxId}, its header and trailer say ${step.databaseId} at tx ${full.trailer.highestTx}`);
    }
    for (const diff of step.artifacts.slice(1)) {
      if (reached) break;
      const r = await replayDiff(store, targetOf.get(diff.uri)!, diff, until, options);
      replayed += r.replayed;
      reached = r.reachedLimit;
    }
    if (options.newIdentity) store.assignNewIdentity({ databaseId: randomUUID(), storeId: randomUUID() });
    const finalMeta = store.meta();
    try {
      // Continue the transaction id sequence: the new log starts right after the restored state.
      const log2 = TxLog.open(
        { dir: stagedLog, databaseId: finalMeta.databaseId, rotationBytes: settings.rotationBytes, preallocate: settings.preallocate },
        { txId: finalMeta.lastTxId, checksum: finalMeta.lastTxChecksum },
      );
      log2.close();
      await store.flush();
    } catch (e) {
      throw restoredStoreWriteFailed(stagedLog, e);
    }
    // A tx id right after the chain's last transaction is reached exactly; anything later is not.
    if (until && !reached && until.kind === 'tx' && until.txId === finalMeta.lastTxId + 1) reached = true;
    if (until && !reached) {
      log('warn', `The requested restore point is after the last transaction in the chain (tx ${finalMeta.lastTxId}${finalMeta.lastTxTimeMs ? `, committed ${new Date(finalMeta.lastTxTimeMs).toISOString()}` : ''}): everything the chain holds was restored.`);
    }
  } finally {
    store.close();
  }
  return { full, replayed, reached };
}

/**
 * Writes a store image (the payload of a FULL artifact, already checked block by block) as the
 * data file of a new store, syncs it, and checks its meta pages before LMDB ever opens it.
 */
async function writeStoreImage(target: BackupTarget, full: ArtifactInfo, storeDir: string): Promise<void> {
  mkdirSync(storeDir, { recursive: true });
  const path = join(storeDir, 'data.mdb');
  const imageBytes = full.trailer.payloadRawBytes;
  const fd = openSync(path, 'wx+');
  // Decompressed blocks go to the disk with O_DIRECT where the file system takes it (see
  // compression-worker.ts); blocks that cannot, and raw blocks, go through the page cache.
  const directFd = openForDirectWrites(path);
  const flush = new BackgroundFlush(() => new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve()))), restoreFlushEveryBytes);
  let written = 0;
  let head = Buffer.alloc(0);
  try {
    written = await writePayloadToFile(target, full.name, fd, { info: full, onBlockWritten: (rawBytes) => flush.wrote(rawBytes), ...(directFd === undefined ? {} : { directFd }) });
    await flush.settle();
    fsyncSync(fd);
    head = Buffer.alloc(Math.min(headReadBytes, written));
    readSync(fd, head, 0, head.length, 0);
  } finally {
    await flush.quiesce();
    if (directFd !== undefined) closeSync(directFd);
    closeSync(fd);
  }
  const problem = written !== imageBytes ? `it holds ${written} bytes, the trailer says ${imageBytes}` : imageHeadProblem(head, written);
  // A plain error: the caller names the artifact.
  if (problem !== null) throw new Error(`its store image is not a usable LMDB data file: ${problem}`);
}

/** The store image could not be written where it is restored: the disk's fault, not the artifact's. */
function storeImageWriteFailed(artifact: string, e: unknown): QuiverError {
  return new QuiverError('IoError', `cannot write the store image of "${artifact}" to disk: ${ioFailureDetail(e)}`, {
    cause: e,
    hint: 'the artifact is fine: free space where the database is restored (or choose another --to-path-data), then run the restore again',
  });
}

/**
 * Writing the restored store or its log failed: a full or failing disk where it is restored, not a
 * damaged artifact (which the operator might otherwise delete). LMDB reports some of these as plain
 * "Input/output error".
 */
function restoredStoreWriteFailed(where: string, e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  return new QuiverError('IoError', `cannot write the restored database at "${where}": ${ioFailureDetail(e)}`, {
    cause: e,
    hint: 'the artifacts are fine: check the free space and health of the disk behind --to-path-data and --to-path-txn (or the server\'s data directories), then run the restore again',
  });
}

function asCorrupt(e: unknown, artifact: string): QuiverError {
  if (e instanceof QuiverError) return e;
  return new QuiverError('ArtifactCorrupt', `artifact "${artifact}" is damaged: ${(e as Error).message}`, { cause: e });
}

/**
 * Replays a DIFF's transactions that the store does not have yet, stopping at the limit. With
 * `parallelRecovery` the records are framed and validated on a worker thread while this thread
 * decodes and applies the previous ones; the transactions applied, and their grouping, are the same.
 */
export async function replayDiff(
  store: GraphStore,
  target: BackupTarget,
  diff: ArtifactInfo,
  until: RestoreUntil | null,
  options: { parallelRecovery?: boolean } = {},
): Promise<{ replayed: number; reachedLimit: boolean }> {
  if (diff.header.payloadFormat !== txlogPayloadFormat) {
    throw new QuiverError('ArtifactCorrupt', `artifact "${diff.name}" has payload format "${diff.header.payloadFormat}", expected "${txlogPayloadFormat}"`);
  }
  if (holdsNoTransaction(diff.trailer)) return { replayed: 0, reachedLimit: false };
  const meta = store.meta();
  if (diff.trailer.lowestTx > meta.lastTxId + 1) {
    throw new QuiverError('ChainBroken', `artifact "${diff.name}" starts at tx ${diff.trailer.lowestTx} but the restored store is at tx ${meta.lastTxId}: an artifact is missing`);
  }
  const parentChecksum = diff.header.parent?.lastTxChecksum ?? 0;
  if (diff.trailer.lowestTx === meta.lastTxId + 1 && parentChecksum !== meta.lastTxChecksum) {
    throw new QuiverError('ChainBroken', `artifact "${diff.name}" does not continue the restored store at tx ${meta.lastTxId}: chain checksum mismatch`);
  }
  const init: ReplayDecoderInit = {
    artifactName: diff.name,
    lowestTx: diff.trailer.lowestTx,
    parentChecksum,
    highestTx: diff.trailer.highestTx,
    storeLastTxId: meta.lastTxId,
    storeLastChecksum: meta.lastTxChecksum,
    until,
  };
  const local = options.parallelRecovery ? null : new ReplayDecoder(init);
  const remote = options.parallelRecovery ? new WorkerReplayDecoder(init) : null;
  const payload = readPayload(target, diff.name, { info: diff });
  const validated: AsyncIterable<ValidatedChunk> = remote
    ? mapOrdered(payload, (chunk) => remote.push(chunk), decodeChunksInFlightMax)
    : (async function* () {
        for await (const chunk of payload) yield local!.push(chunk);
      })();
  let batch: DecodedTx[] = [];
  let replayed = 0;
  let reachedLimit = false;
  const flush = () => {
    try {
      store.applyBatch(batch);
    } catch (e) {
      throw restoredStoreWriteFailed(store.path, e);
    }
    replayed += batch.length;
    batch = [];
  };
  try {
    for await (const chunk of validated) {
      for (const record of chunk.records) {
        batch.push(decodeRecord(record));
        if (batch.length >= replayBatchTxs) flush();
      }
      if (chunk.reachedLimit) {
        reachedLimit = true;
        break;
      }
    }
    if (!reachedLimit) {
      if (remote) await remote.end();
      else local!.end();
    }
  } catch (e) {
    throw asCorrupt(e, diff.name);
  } finally {
    await remote?.close();
  }
  flush();
  return { replayed, reachedLimit };
}
