/**
 * `quiver-admin database restore`: rebuilds a database from a backup chain. The store is built in
 * a staging folder next to its destination (snapshot bulk-load, then the differentials' transactions
 * replayed up to --restore-until, every checksum and chain link verified on the way) and moved into
 * place only when complete: a failed restore modifies nothing.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Database, type DatabaseSettings, defaultDatabaseSettings } from '../kernel/database.js';
import { normalizeDatabaseName } from '../kernel/database-name.js';
import { GraphStore } from '../storage/store.js';
import { StoreLoader } from '../storage/store-loader.js';
import { resolveArtifactPath } from '../targets/resolve.js';
import type { BackupTarget } from '../targets/target.js';
import { decodeCommands } from '../txlog/commands.js';
import { RecordStreamParser } from '../txlog/record-stream.js';
import { TxLog } from '../txlog/txlog.js';
import { QuiverError } from '../util/errors.js';
import type { ArtifactInfo } from './artifact-info.js';
import { readArtifactInfo, readPayload } from './artifact-reader.js';
import { planRestore, type RestoreStep } from './restore-plan.js';
import { isPastLimit, type RestoreUntil } from './restore-until.js';
import { SnapshotParser, snapshotPayloadFormat, txlogPayloadFormat } from './snapshot-format.js';

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
  metadataScript: string | null;
  replaced: boolean;
}

interface Source {
  target: BackupTarget;
  info: ArtifactInfo;
}

async function collectSources(paths: string[], log: RestoreOptions['log']): Promise<{ sources: Source[]; named: string | undefined }> {
  const sources: Source[] = [];
  let named: string | undefined;
  for (const p of paths) {
    const { target, fileName } = await resolveArtifactPath(p);
    const names = fileName ? (await target.list()).map((e) => e.name) : (await target.list()).map((e) => e.name);
    if (fileName) {
      if (paths.length === 1) named = fileName;
      // The named file must itself be readable: fail on it rather than skip it.
      const info = await readArtifactInfo(target, fileName);
      sources.push({ target, info });
    }
    for (const n of names) {
      if (n === fileName) continue;
      try {
        sources.push({ target, info: await readArtifactInfo(target, n) });
      } catch (e) {
        if (!fileName) log('warn', `ignoring "${n}": ${(e as Error).message}`);
      }
    }
  }
  // The same artifact reached twice (a file and its folder) counts once.
  const seen = new Set<string>();
  return { sources: sources.filter((s) => (seen.has(s.info.uri) ? false : (seen.add(s.info.uri), true))), named };
}

export async function restoreDatabase(opts: RestoreOptions): Promise<RestoreResult> {
  const { log } = opts;
  const { sources, named } = await collectSources(opts.fromPaths, log);
  const step: RestoreStep = planRestore({ infos: sources.map((s) => s.info), namedArtifact: named, sourceDatabase: opts.sourceDatabase, until: opts.until });
  const targetOf = new Map(sources.map((s) => [s.info.uri, s.target]));
  const name = normalizeDatabaseName(opts.database ?? step.sourceDatabase);
  const storeDir = join(opts.toPathData ?? opts.dataDir, 'databases', name);
  const logDir = join(opts.toPathTxn ?? opts.txRoot, name);
  await opts.assertNotRunning(name);
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
  try {
    const built = await buildStagedStore(step, targetOf, stagedStore, stagedLog, opts.until, opts.settings ?? defaultDatabaseSettings, log);
    const full = built.full;
    const replayed = built.replayed;
    const reached = built.reached;
    // Prove the staged database opens like the server will open it.
    const check = Database.open(name, { storeDir: stagedStore, logDir: stagedLog }, opts.settings ?? defaultDatabaseSettings, (m) => log('warn', m));
    const info = check.info();
    await check.close();

    // Move into place.
    let replaced = false;
    const trash = join(staging, 'replaced');
    if (exists) {
      mkdirSync(trash, { recursive: true });
      if (existsSync(storeDir)) renameSync(storeDir, join(trash, 'store'));
      if (existsSync(logDir)) renameSync(logDir, join(trash, 'transactions'));
      replaced = true;
    }
    mkdirSync(dirname(storeDir), { recursive: true });
    mkdirSync(dirname(logDir), { recursive: true });
    renameSync(stagedStore, storeDir);
    moveDir(stagedLog, logDir);

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
      metadataScript,
      replaced,
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}


/** What a staged build produced. */
export interface StagedStore {
  full: ArtifactInfo;
  replayed: number;
  reached: boolean;
}

/**
 * Builds a store and an empty continuation log from a chain: bulk-loads the full artifact's
 * snapshot, then replays the differentials up to `until`. Used by restore, aggregate and check.
 */
export async function buildStagedStore(
  step: RestoreStep,
  targetOf: Map<string, BackupTarget>,
  stagedStore: string,
  stagedLog: string,
  until: RestoreUntil | null,
  settings: DatabaseSettings,
  log: RestoreOptions['log'],
): Promise<StagedStore> {
  const full = step.artifacts[0]!;
  if (full.header.payloadFormat !== snapshotPayloadFormat) {
    throw new QuiverError('ArtifactCorrupt', `artifact "${full.name}" has payload format "${full.header.payloadFormat}", expected "${snapshotPayloadFormat}"`);
  }
  const loader = new StoreLoader(stagedStore);
  const parser = new SnapshotParser();
  let finish = null as null | { txId: number; txChecksum: number };
  try {
    for await (const chunk of readPayload(targetOf.get(full.uri)!, full.name, { info: full })) {
      for (const ev of parser.push(chunk)) {
        if (ev.type === 'section') loader.section(ev.name);
        else if (ev.type === 'entry') loader.entry(ev.key, ev.value);
        else if (ev.type === 'finish') finish = ev.finish;
      }
    }
    parser.end();
  } catch (e) {
    throw asCorrupt(e, full.name);
  } finally {
    await loader.close();
  }
  if (!finish || finish.txId !== full.trailer.highestTx || finish.txChecksum !== full.trailer.lastTxChecksum) {
    throw new QuiverError('ArtifactCorrupt', `artifact "${full.name}": its snapshot ends at tx ${finish?.txId} but its trailer says ${full.trailer.highestTx}`);
  }
  log('info', `Loaded the store snapshot of '${full.name}' (${loader.entries} entries, consistent at tx ${finish.txId}).`);

  const store = GraphStore.open(stagedStore);
  let replayed = 0;
  let reached = false;
  try {
    const meta = store.meta();
    if (meta.databaseId !== step.databaseId || meta.lastTxId !== full.trailer.highestTx) {
      throw new QuiverError('ArtifactCorrupt', `artifact "${full.name}": the snapshot's store (id ${meta.databaseId}, tx ${meta.lastTxId}) does not match its header`);
    }
    for (const diff of step.artifacts.slice(1)) {
      if (reached) break;
      const r = await replayDiff(store, targetOf.get(diff.uri)!, diff, until);
      replayed += r.replayed;
      reached = r.reachedLimit;
    }
    const finalMeta = store.meta();
    // Continue the transaction id sequence: the new log starts right after the restored state.
    const log2 = TxLog.open(
      { dir: stagedLog, databaseId: finalMeta.databaseId, rotationBytes: settings.rotationBytes, preallocate: settings.preallocate },
      { txId: finalMeta.lastTxId, checksum: finalMeta.lastTxChecksum },
    );
    log2.close();
    await store.flush();
    if (until && !reached) {
      log('warn', `The requested restore point is after the last transaction in the chain (tx ${finalMeta.lastTxId}): everything the chain holds was restored.`);
    }
  } finally {
    store.close();
  }
  return { full, replayed, reached };
}

function moveDir(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // --to-path-txn on another file system: copy, then remove.
    cpSync(from, to, { recursive: true });
    rmSync(from, { recursive: true, force: true });
  }
}

function asCorrupt(e: unknown, artifact: string): QuiverError {
  if (e instanceof QuiverError) return e;
  return new QuiverError('ArtifactCorrupt', `artifact "${artifact}" is damaged: ${(e as Error).message}`, { cause: e });
}

/** Replays a DIFF's transactions that the store does not have yet, stopping at the limit. */
export async function replayDiff(store: GraphStore, target: BackupTarget, diff: ArtifactInfo, until: RestoreUntil | null): Promise<{ replayed: number; reachedLimit: boolean }> {
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
  const parser = new RecordStreamParser(diff.trailer.lowestTx, parentChecksum);
  let batch: Array<{ txId: number; checksum: number; commitTimeMs: number; commands: ReturnType<typeof decodeCommands> }> = [];
  let replayed = 0;
  let reachedLimit = false;
  const flush = () => {
    store.applyBatch(batch);
    replayed += batch.length;
    batch = [];
  };
  try {
    outer: for await (const chunk of readPayload(target, diff.name, { info: diff })) {
      for (const { record } of parser.push(chunk)) {
        const current = batch.length ? batch[batch.length - 1]!.txId : store.meta().lastTxId;
        if (record.txId <= current) {
          // Overlap with what the store already has: it must be the same history.
          if (record.txId === current && record.chainCrc !== store.meta().lastTxChecksum && batch.length === 0) {
            throw new QuiverError('ChainBroken', `artifact "${diff.name}" disagrees with the restored store about tx ${record.txId}`);
          }
          continue;
        }
        if (isPastLimit(until, record.txId, record.commitTimeMs)) {
          reachedLimit = true;
          break outer;
        }
        batch.push({ txId: record.txId, checksum: record.chainCrc, commitTimeMs: record.commitTimeMs, commands: decodeCommands(record.body) });
        if (batch.length >= replayBatchTxs) flush();
      }
    }
    if (!reachedLimit) {
      parser.end();
      if (parser.nextTxId - 1 !== diff.trailer.highestTx) {
        throw new QuiverError('ArtifactCorrupt', `artifact "${diff.name}" holds transactions up to ${parser.nextTxId - 1}, but its trailer says ${diff.trailer.highestTx}`);
      }
    }
  } catch (e) {
    throw asCorrupt(e, diff.name);
  }
  flush();
  return { replayed, reachedLimit };
}
