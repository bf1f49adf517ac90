/**
 * `aggregate-backup`: collapses a backup chain into one new FULL artifact. The chain is restored
 * into a staging folder, its store image written as a new artifact, the artifact verified end to end,
 * and only then (unless --keep-old-backup) the old chain removed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { takeDatabaseLock } from '../../targets/target-lock.js';
import { join } from 'node:path';
import { defaultDatabaseSettings } from '../../kernel/database.js';
import { resolveArtifactPath, type TargetSettings } from '../../targets/resolve.js';
import type { BackupTarget } from '../../targets/target.js';
import { QuiverError } from '../../util/errors.js';
import { toolVersion } from '../../util/version.js';
import { chooseArtifactName, parseArtifactFileName } from '../artifact/artifact-name.js';
import { readArtifactInfo, verifyArtifact } from '../artifact/artifact-reader.js';
import { ArtifactWriter } from '../artifact/artifact-writer.js';
import { readCatalog } from '../catalog/catalog.js';
import { isEmptyDiff, type LeftOut } from '../plan/chain.js';
import { planRestore } from '../plan/restore-plan.js';
import { buildStagedStore } from './staged-store.js';
import { GraphStore } from '../../storage/store.js';
import { blockRawBytesDefault } from '../limits.js';
import { storeImagePayloadFormat } from '../artifact/payload-formats.js';
import { openClosedImage, readImageBlocks } from '../service/store-image.js';

export interface AggregateOptions {
  fromPath: string;
  database: string | undefined;
  keepOldBackup: boolean;
  tempPath: string | undefined;
  /** Decode differentials on a worker thread while applying (same result, see restore-replay.ts). */
  parallelRecovery?: boolean;
  /** Settings for opening an s3:// --from-path. */
  targetSettings?: TargetSettings;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface AggregateResult {
  database: string;
  artifact: string;
  uri: string;
  replaced: string[];
  highestTx: number;
  /** False when the chain was already one FULL: nothing was written or removed. */
  aggregated: boolean;
  /** Artifacts of the database that were not part of the aggregated chain, with the reason. */
  leftOut: LeftOut[];
}

/** The transaction a closed store holds. */
function stagedTx(storeDir: string): { txId: number; txChecksum: number; txTimeMs: number } {
  const store = GraphStore.open(storeDir, { readOnly: true });
  try {
    const meta = store.meta();
    return { txId: meta.lastTxId, txChecksum: meta.lastTxChecksum, txTimeMs: meta.lastTxTimeMs };
  } finally {
    store.close();
  }
}

export async function aggregateBackup(opts: AggregateOptions): Promise<AggregateResult> {
  const { target, fileName } = await resolveArtifactPath(opts.fromPath, opts.targetSettings);
  // The named artifact must itself be readable; the rest is planned exactly as restore plans it,
  // so aggregate refuses exactly where restore refuses.
  const named = fileName ? await readArtifactInfo(target, fileName) : undefined;
  // The database's lock first: a backup into this folder must not add to (or read) the chain while
  // it is replaced. Which database: the named artifact's, --database, or the folder's only one.
  const lockName = named?.header.databaseName ?? opts.database ?? (await onlyDatabase(target));
  const lock = await takeDatabaseLock(target, lockName, `quiver-admin database aggregate-backup ${lockName}`, (m) => opts.log('warn', m));
  try {
    return await aggregateLocked(opts, target, fileName);
  } finally {
    await lock.release().catch((e) => opts.log('warn', `could not release the backup lock ${lock.uri}: ${(e as Error).message}`));
  }
}

/** The one database a folder holds artifacts of, by file name (planRestore refuses several later). */
async function onlyDatabase(target: BackupTarget): Promise<string> {
  const names = new Set((await target.list()).map((e) => parseArtifactFileName(e.name)?.databaseName).filter((n): n is string => n !== undefined));
  return names.size === 1 ? [...names][0]! : 'neo4j';
}

async function aggregateLocked(opts: AggregateOptions, target: BackupTarget, fileName: string | undefined): Promise<AggregateResult> {
  const catalog = await readCatalog([{ target }]);
  const step = planRestore({ catalog, namedArtifact: fileName, sourceDatabase: opts.database, until: null });
  // An empty DIFF holds nothing to miss: INFO. Everything else left out is a WARN.
  for (const l of step.leftOut) opts.log(l.kind === 'empty' ? 'info' : 'warn', `Not aggregating "${l.name}": ${l.reason}`);
  const full = step.artifacts[0]!;
  const newest = step.artifacts.at(-1)!;
  if (step.artifacts.length === 1) {
    opts.log('info', `The chain of database '${step.sourceDatabase}' is already a single full artifact ("${full.name}"); nothing to aggregate.`);
    return { database: step.sourceDatabase, artifact: full.name, uri: full.uri, replaced: [], highestTx: full.trailer.highestTx, aggregated: false, leftOut: step.leftOut };
  }
  const staging = join(opts.tempPath ?? tmpdir(), `.aggregate-${step.sourceDatabase}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true });
  const targetOf = new Map<string, BackupTarget>(step.artifacts.map((a) => [a.uri, target]));
  let writer: ArtifactWriter | null = null;
  try {
    await buildStagedStore(step, targetOf, join(staging, 'store'), join(staging, 'transactions'), null, defaultDatabaseSettings, opts.log, { parallelRecovery: opts.parallelRecovery ?? false });
    // The new FULL holds the state of the chain's newest artifact, so it carries that artifact's
    // time: the chain model orders histories by time, and an aggregate must not look like a backup
    // taken now (artifacts between then and now may continue it, or be missing).
    const createdAt = new Date(newest.header.createdAt);
    const chosen = await chooseArtifactName(target, step.sourceDatabase, createdAt);
    const metadata = [...step.artifacts].reverse().find((a) => a.header.metadataCommands.length > 0)?.header;
    writer = await ArtifactWriter.create(
      target,
      chosen,
      {
        databaseName: step.sourceDatabase,
        databaseId: step.databaseId,
        storeId: full.header.storeId,
        kind: 'FULL',
        createdAt: createdAt.toISOString(),
        payloadFormat: storeImagePayloadFormat,
        parent: null,
        metadataCommands: metadata?.metadataCommands ?? [],
        includeMetadata: metadata?.includeMetadata ?? newest.header.includeMetadata,
        toolVersion,
      },
      { compress: full.header.compressed, nextNameOnCollision: true },
    );
    const storeDir = join(staging, 'store');
    const finish = stagedTx(storeDir);
    if (finish.txId !== step.chainHighestTx) {
      throw new QuiverError('BackupFailed', `aggregating "${step.sourceDatabase}": the replayed store ends at tx ${finish.txId}, expected ${step.chainHighestTx}`);
    }
    const image = openClosedImage(storeDir, finish);
    try {
      for await (const block of readImageBlocks(image, { blockRawBytes: blockRawBytesDefault, compress: full.header.compressed, maxRateBytesPerSec: 0 })) {
        await writer.writeEncodedBlock(block.encoded);
      }
    } finally {
      image.release();
    }
    const written = await writer.finish({
      lowestTx: finish.txId === 0 ? 0 : 1,
      highestTx: finish.txId,
      highestTxCommitTimeMs: finish.txTimeMs,
      lastTxChecksum: finish.txChecksum,
      txCount: finish.txId,
    });
    writer = null;
    const name = written.name;
    const verified = await verifyArtifact(target, name);
    if (verified.info.trailer.highestTx !== newest.trailer.highestTx || verified.info.trailer.lastTxChecksum !== newest.trailer.lastTxChecksum) {
      throw new QuiverError('BackupFailed', `the new artifact "${name}" does not end where the chain ends; the old chain is kept`);
    }
    // Only what was aggregated goes (with the empty DIFFs taken after it): when --from-path named a
    // DIFF in the middle of a chain, the DIFFs after it continue the new full artifact and stay.
    // Also what the chain model proved redundant: empty DIFFs taken after an aggregated artifact, and
    // DIFFs of the same history whose transactions the new FULL holds.
    const aggregated = new Set(step.artifacts.map((a) => a.name));
    const emptyAfter = catalog.artifacts.filter((e) => isEmptyDiff(e) && e.header.databaseId === step.databaseId && e.header.parent !== null && aggregated.has(e.header.parent.artifactName));
    const covered = step.leftOut.filter((l) => l.kind === 'covered').map((l) => l.name);
    const old = [...new Set([...step.artifacts.map((a) => a.name), ...emptyAfter.map((e) => e.name), ...covered])].filter((n) => n !== name);
    if (!opts.keepOldBackup) {
      for (const n of old) await target.remove(n);
      opts.log('info', `Removed the old chain: ${old.join(', ')}`);
    }
    return { database: step.sourceDatabase, artifact: name, uri: written.uri, replaced: opts.keepOldBackup ? [] : old, highestTx: finish.txId, aggregated: true, leftOut: step.leftOut };
  } catch (e) {
    if (writer) await writer.abort().catch(() => undefined);
    throw e;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
