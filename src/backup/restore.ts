/**
 * `quiver-admin database restore`: rebuilds a database from a backup chain. The store is built in
 * a staging folder next to its destination (the full artifact's store image written out, then the differentials' transactions
 * replayed up to --restore-until, every checksum and chain link verified on the way) and moved into
 * place only when complete: a failed restore modifies nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, cpSync, fdatasync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Database, type DatabaseSettings, defaultDatabaseSettings } from '../kernel/database.js';
import { normalizeDatabaseName } from '../kernel/database-name.js';
import { GraphStore } from '../storage/store.js';
import { headReadBytes, imageHeadProblem } from '../storage/lmdb-image.js';
import { resolveArtifactPath, type TargetSettings } from '../targets/resolve.js';
import type { BackupTarget } from '../targets/target.js';
import { TxLog } from '../txlog/txlog.js';
import { errnoCode, ioFailureDetail, QuiverError } from '../util/errors.js';
import { FileWriteError } from './compression-protocol.js';
import { BackgroundFlush } from '../util/background-flush.js';
import { openForDirectWrites } from '../util/direct-buffer.js';
import { formatBytes } from '../util/format.js';
import type { ArtifactInfo } from './artifact-info.js';
import { readArtifactInfo, readPayload, writePayloadToFile } from './artifact-reader.js';
import { mapOrdered } from './compression-queue.js';
import { type CatalogSource, readCatalog, type TargetCatalog } from './catalog.js';
import type { LeftOut } from './chain.js';
import { planRestore, type RestoreStep } from './restore-plan.js';
import { decodeChunksInFlightMax, decodeRecord, type DecodedTx, ReplayDecoder, type ReplayDecoderInit, type ValidatedChunk, WorkerReplayDecoder } from './restore-replay.js';
import type { RestoreUntil } from './restore-until.js';
import { storeImagePayloadFormat } from './store-image.js';
import { txlogPayloadFormat } from './txlog-payload.js';

/** Bytes of store image written between two background flushes to disk. */
const restoreFlushEveryBytes = 64 * 1024 * 1024;

/** Transactions applied per LMDB transaction during replay. */
const replayBatchTxs = 2_000;

export interface RestoreOptions {
  fromPaths: string[];
  database: string | undefined;
  sourceDatabase: string | undefined;
  until: RestoreUntil | null;
  overwrite: boolean;
  dataDir: string;
  txRoot: string;
  scriptsDir: string;
  toPathData: string | undefined;
  toPathTxn: string | undefined;
  tempPath: string | undefined;
  settings?: DatabaseSettings;
  /** Decode differentials on a worker thread while applying (same result, see restore-replay.ts). */
  parallelRecovery?: boolean;
  /** Settings for opening s3:// --from-path sources. */
  targetSettings?: TargetSettings;
  /** Throws DatabaseRunning when a local server has this database online. */
  assertNotRunning: (database: string) => Promise<void>;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface RestoreResult {
  database: string;
  databaseId: string;
  storeDir: string;
  logDir: string;
  fullArtifact: string;
  diffArtifacts: string[];
  lastTxId: number;
  lastCommitTimeMs: number;
  transactionsReplayed: number;
  reachedRequestedPoint: boolean;
  /** Artifacts of the database that were not read, with the reason. */
  leftOut: LeftOut[];
  metadataScript: string | null;
  replaced: boolean;
}

/**
 * The catalog of every --from-path (one folder, or the folder of one named artifact file). The named
 * file must itself be readable: a restore fails on it rather than skipping it.
 */
async function catalogOf(paths: string[], targetSettings: TargetSettings | undefined): Promise<{ catalog: TargetCatalog; named: string | undefined }> {
  const sources: CatalogSource[] = [];
  let named: string | undefined;
  for (const p of paths) {
    const { target, fileName } = await resolveArtifactPath(p, targetSettings);
    if (fileName) {
      if (paths.length === 1) named = fileName;
      await readArtifactInfo(target, fileName);
    }
    sources.push({ target });
  }
  return { catalog: await readCatalog(sources), named };
}

export async function restoreDatabase(opts: RestoreOptions): Promise<RestoreResult> {
  const { log } = opts;
  const { catalog, named } = await catalogOf(opts.fromPaths, opts.targetSettings);
  const step = planRestore({ catalog, namedArtifact: named, sourceDatabase: opts.sourceDatabase, targetName: opts.database, until: opts.until });
  const targetOf = new Map(catalog.targetOf);
  const name = normalizeDatabaseName(opts.database ?? step.sourceDatabase);
  for (const l of step.leftOut) log('warn', `Not restoring from "${l.name}": ${l.reason}`);
  const storeDir = join(opts.toPathData ?? opts.dataDir, 'databases', name);
  const logDir = join(opts.toPathTxn ?? opts.txRoot, name);
  // A server running from this home only matters when the restore writes where that server reads.
  const serverStoreDir = join(opts.dataDir, 'databases', name);
  const serverLogDir = join(opts.txRoot, name);
  if (resolve(storeDir) === resolve(serverStoreDir) || resolve(logDir) === resolve(serverLogDir)) await opts.assertNotRunning(name);
  const exists = (existsSync(storeDir) && readdirSync(storeDir).length > 0) || (existsSync(logDir) && readdirSync(logDir).length > 0);
  if (exists && !opts.overwrite) {
    throw new QuiverError('DestinationExists', `cannot restore database "${name}": destination "${storeDir}" is not empty`, {
      hint: 'pass --overwrite-destination=true to replace it (stop the database first), or restore under another name',
    });
  }
  log('info', `Restoring database '${name}' from ${step.artifacts.length} artifact(s): ${step.artifacts.map((a) => a.name).join(', ')}`);

  // Stage beside the destination so the final move is a rename on the same file system.
  const stagingRoot = opts.tempPath ?? dirname(storeDir);
  const staging = join(stagingRoot, `.restore-${name}-${randomBytes(4).toString('hex')}`);
  const stagedStore = join(staging, 'store');
  const stagedLog = join(staging, 'transactions');
  mkdirSync(staging, { recursive: true });
  let inPlace = false;
  try {
    const built = await buildStagedStore(step, targetOf, stagedStore, stagedLog, opts.until, opts.settings ?? defaultDatabaseSettings, log, {
      parallelRecovery: opts.parallelRecovery ?? false,
      // Under another name the copy is a new database with its own id and backup chains.
      newIdentity: name !== step.sourceDatabase,
    });
    const full = built.full;
    const replayed = built.replayed;
    const reached = built.reached;
    // Prove the staged database opens like the server will open it.
    const check = Database.open(name, { storeDir: stagedStore, logDir: stagedLog }, opts.settings ?? defaultDatabaseSettings, (m) => log('warn', m));
    const info = check.info();
    await check.close();

    moveIntoPlace([{ staged: stagedStore, dest: storeDir }, { staged: stagedLog, dest: logDir }], join(staging, 'replaced'), exists);
    inPlace = true;
    const replaced = exists;

    const metadataCommands = [...step.artifacts].reverse().find((a) => a.header.metadataCommands.length > 0)?.header.metadataCommands ?? [];
    let metadataScript: string | null = null;
    if (metadataCommands.length > 0) {
      const dir = join(opts.scriptsDir, name);
      mkdirSync(dir, { recursive: true });
      metadataScript = join(dir, 'restore_metadata.cypher');
      writeFileSync(metadataScript, metadataCommands.map((c) => (c.trim().endsWith(';') ? c.trim() : `${c.trim()};`)).join('\n') + '\n');
    }
    return {
      database: name,
      databaseId: info.databaseId,
      storeDir,
      logDir,
      fullArtifact: full.name,
      diffArtifacts: step.artifacts.slice(1).map((a) => a.name),
      lastTxId: info.lastCommittedTxId,
      lastCommitTimeMs: info.lastCommitTimeMs,
      transactionsReplayed: replayed,
      reachedRequestedPoint: reached,
      leftOut: step.leftOut,
      metadataScript,
      replaced,
    };
  } finally {
    // After a failed move whose rollback failed too, the replaced database is still in the
    // staging folder: never delete it (the error names it).
    const trash = join(staging, 'replaced');
    if (inPlace || !existsSync(trash) || readdirSync(trash).length === 0) rmSync(staging, { recursive: true, force: true });
  }
}


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
  log: RestoreOptions['log'],
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

/**
 * Moves the staged folders to their destinations, first moving what they replace aside into
 * `trash` (inside the staging folder, removed with it). If any step fails, whatever was placed is
 * removed and what was moved aside is put back: the destination ends as it began.
 */
function moveIntoPlace(moves: Array<{ staged: string; dest: string }>, trash: string, replace: boolean): void {
  const aside: Array<{ dest: string; kept: string }> = [];
  const placed: string[] = [];
  try {
    if (replace) {
      mkdirSync(trash, { recursive: true });
      for (const [i, m] of moves.entries()) {
        if (!existsSync(m.dest)) continue;
        const kept = join(trash, String(i));
        renameSync(m.dest, kept);
        aside.push({ dest: m.dest, kept });
      }
    }
    for (const m of moves) {
      mkdirSync(dirname(m.dest), { recursive: true });
      placed.push(m.dest);
      moveDir(m.staged, m.dest);
    }
  } catch (e) {
    try {
      for (const dest of placed) rmSync(dest, { recursive: true, force: true });
      for (const a of aside) renameSync(a.kept, a.dest);
    } catch (undo) {
      throw new QuiverError('IoError', `cannot move the restored database into place at "${moves[0]!.dest}" (${(e as Error).message}), nor put the replaced one back (${(undo as Error).message})`, {
        cause: e,
        hint: `the replaced database is kept in "${trash}": move its folders back by hand`,
      });
    }
    throw new QuiverError('IoError', `cannot move the restored database into place at "${moves[0]!.dest}": ${(e as Error).message}; the destination was left as it was`, {
      cause: e,
      hint: 'check that the --to-path-data and --to-path-txn folders can be created and written',
    });
  }
}

function moveDir(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // --temp-path or --to-path-txn on another file system: copy, then remove.
    cpSync(from, to, { recursive: true });
    rmSync(from, { recursive: true, force: true });
  }
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
  if (diff.trailer.highestTx === 0) return { replayed: 0, reachedLimit: false };
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
