/**
 * `quiver-admin database restore`: rebuilds a database from a backup chain. The store is built in
 * a staging folder next to its destination (the full artifact's store image written out, then the differentials' transactions
 * replayed up to --restore-until, every checksum and chain link verified on the way) and moved into
 * place only when complete: a failed restore modifies nothing.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Database, type DatabaseSettings, defaultDatabaseSettings } from '../../kernel/database.js';
import { normalizeDatabaseName } from '../../kernel/database-name.js';
import { resolveArtifactPath, type TargetSettings } from '../../targets/resolve.js';
import { errnoCode, ioFailureDetail, QuiverError } from '../../util/errors.js';
import { readArtifactInfo } from '../artifact/artifact-reader.js';
import { type CatalogSource, readCatalog, type TargetCatalog } from '../catalog/catalog.js';
import type { LeftOut } from '../plan/chain.js';
import { planRestore } from '../plan/restore-plan.js';
import type { RestoreUntil } from '../plan/restore-until.js';

import { buildStagedStore } from './staged-store.js';
import { moveIntoPlace } from './move-into-place.js';

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
  // An empty DIFF holds nothing to miss: INFO. Everything else left out is a WARN.
  for (const l of step.leftOut) log(l.kind === 'empty' ? 'info' : 'warn', `Not restoring from "${l.name}": ${l.reason}`);
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
  createStagingFolder(staging, name, opts);
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

/**
 * Creates the staging folder, the first thing a restore writes: a destination that cannot hold it
 * (a file where a folder should be, a read-only mount) is the operator's to fix, so it fails here
 * with the option and the path that is the problem, not later as an internal error.
 */
function createStagingFolder(staging: string, name: string, opts: RestoreOptions): void {
  try {
    mkdirSync(staging, { recursive: true });
  } catch (e) {
    const [option, given] = opts.tempPath !== undefined ? ['--temp-path', opts.tempPath] : opts.toPathData !== undefined ? ['--to-path-data', opts.toPathData] : ['server.directories.data', opts.dataDir];
    throw new QuiverError('IoError', `cannot restore database "${name}" into ${option} "${given}": ${folderProblem(staging, e)}`, {
      cause: e,
      hint: 'give a folder that exists or can be created, on a writable file system',
    });
  }
}

/** Why `dir` could not be created, said of the path that is the problem: the nearest part of it that exists. */
function folderProblem(dir: string, failure: unknown): string {
  let existing = resolve(dir);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) return `"${existing}" is not a folder`;
  try {
    accessSync(existing, fsConstants.W_OK);
  } catch (e) {
    if (errnoCode(e) === 'EROFS') return `"${existing}" is on a read-only file system`;
    if (errnoCode(e) === 'EACCES') return `"${existing}" is not writable by this user`;
  }
  return ioFailureDetail(failure);
}

