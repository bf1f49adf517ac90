/**
 * One artifact of a backup run, from the server's stream to a committed file: the FULL's store image
 * blocks or the DIFF's transaction records are checked as they arrive and written front to back into
 * a new artifact, which is committed only when complete (`--keep-failed` keeps what a failed run
 * received). backup-client.ts decides what to write; this module writes it.
 */
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecordStreamError, RecordStreamParser } from '../../txlog/record-stream.js';
import { causeChain, QuiverError } from '../../util/errors.js';
import { chooseArtifactName } from '../artifact/artifact-name.js';
import type { IncludeMetadata } from '../artifact/artifact-header.js';
import { ArtifactWriter, type ArtifactHeaderInput } from '../artifact/artifact-writer.js';
import { type ChainTip } from '../plan/backup-plan.js';
import { Progress } from './progress.js';
import type { RemoteDatabase } from '../protocol/protocol.js';
import { BackupConnection } from './remote.js';
import { txlogPayloadFormat } from '../artifact/payload-formats.js';
import { readImageStream } from './image-stream.js';
import { storeImagePayloadFormat } from '../artifact/payload-formats.js';
import { blockRawBytesDefault } from '../limits.js';
import { toolVersion } from '../../util/version.js';

import type { BackupRunOptions } from './backup-client.js';

/**
 * Keeps the raw payload of a failing run when --keep-failed is set, for post-mortem analysis. Best
 * effort: the copy usually sits on the target's file system, so the full disk that failed the
 * backup fails the copy too. A failure of the copy never replaces the backup's own outcome; the
 * log says what could not be kept.
 */
class FailedCopy {
  private fd = -1;
  private problem: unknown = null;
  readonly dir: string | null;
  constructor(opts: BackupRunOptions, base: string) {
    // fileURLToPath, not a string replace: the URI is percent-encoded ("my backups" is "my%20backups").
    this.dir = opts.keepFailed ? join(opts.tempPath ?? fileURLToPath(opts.target.uri()), `.${base}.failed`) : null;
    if (this.dir) {
      try {
        mkdirSync(this.dir, { recursive: true });
        this.fd = openSync(join(this.dir, 'payload.bin'), 'w');
      } catch (e) {
        this.problem = e;
      }
    }
  }
  write(chunk: Buffer): void {
    if (this.fd < 0) return;
    try {
      writeSync(this.fd, chunk);
    } catch (e) {
      // Stop copying; the payload kept so far stays.
      this.problem = e;
      closeSync(this.fd);
      this.fd = -1;
    }
  }
  close(error: unknown | null, log: BackupRunOptions['log']): void {
    if (!this.dir) return;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (!error) {
      // Success: the kept copy is not needed.
      rmSync(this.dir, { recursive: true, force: true });
      return;
    }
    try {
      writeFileSync(join(this.dir, 'reason.txt'), causeChain(error).join('\n') + '\n');
    } catch (e) {
      this.problem ??= e;
    }
    if (this.problem === null) log('warn', `--keep-failed: the received payload and the reason are kept in "${this.dir}"`);
    else log('warn', `--keep-failed: only part of the failed run, if anything, is kept in "${this.dir}": ${(this.problem as Error).message ?? String(this.problem)}`);
  }
}

/** Names and opens the artifact of one backup run (header written, payload to follow). */
async function openArtifact(
  opts: BackupRunOptions,
  db: RemoteDatabase,
  kind: Pick<ArtifactHeaderInput, 'kind' | 'storeId' | 'payloadFormat' | 'parent'>,
  metadata: string[],
  include: IncludeMetadata,
): Promise<{ createdAt: Date; name: string; writer: ArtifactWriter }> {
  const createdAt = new Date();
  const name = await chooseArtifactName(opts.target, db.name, createdAt);
  const writer = await ArtifactWriter.create(
    opts.target,
    name,
    { ...kind, databaseName: db.name, databaseId: db.databaseId, createdAt: createdAt.toISOString(), metadataCommands: metadata, includeMetadata: include, toolVersion },
    // Another writer may take the chosen name before the commit (an aggregate, a broken stale lock): the next _NNN then.
    { compress: opts.compress, nextNameOnCollision: true },
  );
  return { createdAt, name, writer };
}

export async function writeFull(opts: BackupRunOptions, conn: BackupConnection, db: RemoteDatabase, metadata: string[], include: IncludeMetadata) {
  opts.log('info', `Start full backup of database '${db.name}'.`);
  // The server reads and compresses the store image in its workers; the blocks arrive ready to
  // store, so this process checks their checksums and writes them (image-stream.ts).
  const snap = await conn.snapshot(db.name, blockRawBytesDefault, opts.compress);
  if (snap.databaseId !== db.databaseId) {
    snap.body[Symbol.asyncIterator]().return?.();
    throw new QuiverError('BackupFailed', `database '${db.name}' changed identity during the backup (id ${db.databaseId} → ${snap.databaseId})`, { hint: 'run the backup again' });
  }
  if (snap.payloadFormat !== storeImagePayloadFormat || snap.blockRawBytes !== blockRawBytesDefault || !Number.isSafeInteger(snap.imageBytes) || snap.imageBytes < 1) {
    throw new QuiverError('BackupFailed', `the store snapshot of '${db.name}' is not what was asked for (format ${snap.payloadFormat}, ${snap.imageBytes} bytes in blocks of ${snap.blockRawBytes})`);
  }
  const { createdAt, name, writer } = await openArtifact(opts, db, { kind: 'FULL', storeId: snap.storeId, payloadFormat: storeImagePayloadFormat, parent: null }, metadata, include);
  const failed = new FailedCopy(opts, name);
  const progress = new Progress(`full backup of '${db.name}'`, snap.imageBytes);
  try {
    const blocks = readImageStream(snap.body, { imageBytes: snap.imageBytes, blockRawBytes: snap.blockRawBytes, compressed: opts.compress, what: `'${db.name}' from ${conn.address}` });
    for await (const block of blocks) {
      failed.write(block.encoded);
      await writer.writeEncodedBlock(block.encoded);
      progress.add(block.rawBytes);
    }
    const tx = snap.txId;
    const w = await writer.finish({ lowestTx: tx === 0 ? 0 : 1, highestTx: tx, highestTxCommitTimeMs: snap.txTimeMs, lastTxChecksum: snap.txChecksum, txCount: tx });
    failed.close(null, opts.log);
    opts.log('info', `Finished full backup of database '${db.name}'. Store snapshot consistent at tx ${tx}.`);
    return { ...w, lowestTx: tx === 0 ? 0 : 1, highestTx: tx, lastTxChecksum: snap.txChecksum, createdAt: createdAt.toISOString() };
  } catch (e) {
    await writer.abort().catch(() => undefined);
    failed.close(e, opts.log);
    throw wrapTransfer(e, `full backup of '${db.name}'`);
  } finally {
    progress.done();
  }
}

export async function writeDiff(opts: BackupRunOptions, conn: BackupConnection, db: RemoteDatabase, parent: ChainTip, fromTxId: number | null, metadata: string[], include: IncludeMetadata) {
  opts.log('info', `Start differential backup of database '${db.name}'.`);
  const stream = fromTxId === null ? null : await conn.transactions(db.name, fromTxId);
  if (stream === null) opts.log('info', `The remote server (${conn.address}) has no new transactions for database '${db.name}' since tx ${parent.highestTx}: writing an empty differential artifact.`);
  const parentLink = { artifactName: parent.name, highestTx: parent.highestTx, lastTxChecksum: parent.lastTxChecksum };
  const { createdAt, name, writer } = await openArtifact(opts, db, { kind: 'DIFF', storeId: db.storeId, payloadFormat: txlogPayloadFormat, parent: parentLink }, metadata, include);
  const failed = new FailedCopy(opts, name);
  const progress = new Progress(`differential backup of '${db.name}'`, null);
  try {
    if (stream === null) {
      const w = await writer.finish({ lowestTx: 0, highestTx: 0, highestTxCommitTimeMs: 0, lastTxChecksum: 0, txCount: 0 });
      failed.close(null, opts.log);
      return { ...w, lowestTx: 0, highestTx: 0, lastTxChecksum: 0, createdAt: createdAt.toISOString() };
    }
    const parser = new RecordStreamParser(fromTxId!, parent.lastTxChecksum);
    for await (const chunk of stream.body) {
      failed.write(chunk);
      try {
        for (const _ of parser.push(chunk)) void _;
      } catch (e) {
        if (parser.count === 0 && e instanceof RecordStreamError && e.chainBreak) {
          // The first transaction does not follow the parent: same ids, another history.
          throw new QuiverError(
            'ChainBroken',
            `transaction ${fromTxId} on the server does not follow transaction ${parent.highestTx} of artifact "${parent.name}": the database's history diverged from the backups (was it restored?)`,
            { hint: 'take a full backup (--type=FULL or --type=AUTO) to start a new chain', cause: e },
          );
        }
        throw new QuiverError('BackupFailed', `the transactions received for '${db.name}' do not continue artifact "${parent.name}": ${(e as Error).message}`, { cause: e });
      }
      await writer.write(chunk);
      progress.add(chunk.length);
    }
    parser.end();
    const lastTx = parser.nextTxId - 1;
    if (lastTx !== stream.lastTxId) throw new QuiverError('ServerUnreachable', `the transaction stream of '${db.name}' ended at tx ${lastTx}, before the announced tx ${stream.lastTxId}`);
    const w = await writer.finish({ lowestTx: fromTxId!, highestTx: lastTx, highestTxCommitTimeMs: parser.lastCommitTimeMs, lastTxChecksum: parser.lastChecksum, txCount: parser.count });
    failed.close(null, opts.log);
    opts.log('info', `Finished differential backup of database '${db.name}'. Downloaded from tx ${fromTxId} to tx ${lastTx}.`);
    return { ...w, lowestTx: fromTxId!, highestTx: lastTx, lastTxChecksum: parser.lastChecksum, createdAt: createdAt.toISOString() };
  } catch (e) {
    await writer.abort().catch(() => undefined);
    failed.close(e, opts.log);
    throw wrapTransfer(e, `differential backup of '${db.name}'`);
  } finally {
    progress.done();
  }
}

function wrapTransfer(e: unknown, what: string): QuiverError {
  if (e instanceof QuiverError) return e;
  return new QuiverError('BackupFailed', `${what} failed: ${(e as Error).message}`, { cause: e });
}
