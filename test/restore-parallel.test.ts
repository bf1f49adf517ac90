/**
 * --parallel-recovery must give exactly what sequential replay gives: the same store (logical
 * digest) at every restore point, and the same error, word for word, for a damaged differential.
 * It also reports how long each took (not asserted: the figures are in docs/restore.md).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readArtifactInfo, readPayload } from '../src/backup/artifact/artifact-reader.js';
import { ArtifactWriter } from '../src/backup/artifact/artifact-writer.js';
import { restoreDatabase } from '../src/backup/restore/restore.js';
import type { RestoreUntil } from '../src/backup/plan/restore-until.js';
import { logicalDigestOfStore } from '../src/storage/digest.js';
import { FileTarget } from '../src/targets/file-target.js';
import { recordHeaderBytes } from '../src/txlog/format.js';
import { type InProcessServer, Rng, startInProcessServer, testDatabaseSettings, testSeed, Workload } from './support/restore-workload.js';

const seed = testSeed();
const seedNote = `seed=${seed} (rerun with QUIVER_SEED=${seed})`;
let server: InProcessServer;
let workload: Workload;
let backups: string;
let diffName: string;
let restores = 0;

/** Restores `fromPath` into a fresh folder; returns the digest, or the error message. */
async function restore(fromPath: string, until: RestoreUntil | null, parallelRecovery: boolean): Promise<{ digest: string; lastTxId: number; ms: number } | { error: string; code: string }> {
  const root = join(server.dir, `restore-${++restores}`);
  const started = performance.now();
  try {
    const r = await restoreDatabase({
      fromPaths: [fromPath],
      database: 'restored',
      sourceDatabase: undefined,
      until,
      overwrite: false,
      dataDir: join(root, 'data'),
      txRoot: join(root, 'transactions'),
      scriptsDir: join(root, 'scripts'),
      toPathData: undefined,
      toPathTxn: undefined,
      tempPath: undefined,
      settings: testDatabaseSettings,
      parallelRecovery,
      assertNotRunning: async () => undefined,
      log: () => undefined,
    });
    const ms = performance.now() - started;
    return { ...logicalDigestOfStore(r.storeDir), ms };
  } catch (e) {
    return { error: (e as Error).message, code: (e as { code?: string }).code ?? '' };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Rewrites the DIFF artifact with its payload changed by `edit` (block checksums stay valid: the damage is in the records). */
async function rewriteDiff(folder: string, edit: (payload: Buffer) => Buffer): Promise<void> {
  const target = new FileTarget(folder);
  const info = await readArtifactInfo(target, diffName);
  const chunks: Buffer[] = [];
  for await (const c of readPayload(target, diffName, { info })) chunks.push(Buffer.from(c));
  await target.remove(diffName);
  const { compressed: _c, compression: _z, blockRawBytes: _b, ...header } = info.header;
  const writer = await ArtifactWriter.create(target, diffName, header, { compress: info.header.compressed });
  await writer.write(edit(Buffer.concat(chunks)));
  const t = info.trailer;
  await writer.finish({ lowestTx: t.lowestTx, highestTx: t.highestTx, highestTxCommitTimeMs: t.highestTxCommitTimeMs, lastTxChecksum: t.lastTxChecksum, txCount: t.txCount });
}

/** Offsets of the records in a txlog payload. */
function recordOffsets(payload: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < payload.length; at += recordHeaderBytes + payload.readUInt32LE(at)) offsets.push(at);
  return offsets;
}

describe(`--parallel-recovery gives what sequential replay gives (${seedNote})`, () => {
  before(async () => {
    console.log(`restore-parallel: ${seedNote}`);
    server = await startInProcessServer();
    backups = join(server.dir, 'backups');
    workload = new Workload(new Rng(seed), server.database());
    for (let i = 0; i < 20; i++) await workload.step();
    await server.takeBackup(backups, 'FULL');
    // Enough transactions for the DIFF to span several 1 MiB blocks would take minutes of fsyncs;
    // a few hundred still give many chunks of records to hand across threads.
    for (let i = 0; i < 400; i++) await workload.step();
    const diff = await server.takeBackup(backups, 'DIFF');
    diffName = diff.artifact!;
  });

  after(async () => {
    await server?.close();
  });

  it('restores the same store with and without it, at the end and at points inside the differential', async () => {
    const rng = new Rng(seed ^ 0x5eed);
    const last = workload.lastTxId;
    const points: Array<Extract<RestoreUntil, { kind: 'tx' }> | null> = [null, { kind: 'tx', txId: 22 }, ...Array.from({ length: 6 }, () => ({ kind: 'tx' as const, txId: rng.int(22, last) }))];
    const timings: string[] = [];
    for (const until of points) {
      const sequential = await restore(backups, until, false);
      const parallel = await restore(backups, until, true);
      assert.ok('digest' in sequential && 'digest' in parallel, `${JSON.stringify({ sequential, parallel })}; ${seedNote}`);
      assert.equal(parallel.digest, sequential.digest, `digest at ${JSON.stringify(until)}; ${seedNote}`);
      assert.equal(parallel.lastTxId, sequential.lastTxId);
      const expected = until ? workload.stateBefore(until.txId) : workload.history.get(last)!;
      assert.equal(sequential.digest, expected.digest, `${seedNote}`);
      timings.push(`${until ? until.txId : 'end'}: ${sequential.ms.toFixed(0)}/${parallel.ms.toFixed(0)} ms`);
    }
    console.log(`restore-parallel: sequential/parallel ${timings.join(', ')}`);
  });

  for (const [what, edit] of [
    ['a record body with a flipped byte', (p: Buffer) => {
      const offsets = recordOffsets(p);
      const at = offsets[Math.floor(offsets.length / 2)]! + recordHeaderBytes + 2;
      p[at] = p[at]! ^ 0xff;
      return p;
    }],
    ['records missing at the end', (p: Buffer) => p.subarray(0, recordOffsets(p).at(-3)!)],
    ['a record cut in the middle', (p: Buffer) => p.subarray(0, recordOffsets(p).at(-1)! + 10)],
  ] as const) {
    it(`fails with the same error either way for ${what}`, async () => {
      const folder = join(server.dir, `damaged-${restores}`);
      mkdirSync(folder);
      for (const n of readdirSync(backups)) cpSync(join(backups, n), join(folder, n));
      await rewriteDiff(folder, edit);
      const sequential = await restore(folder, null, false);
      const parallel = await restore(folder, null, true);
      assert.ok('error' in sequential, `sequential replay must fail: ${JSON.stringify(sequential)}`);
      assert.deepEqual(parallel, sequential);
      assert.equal(sequential.code, 'ArtifactCorrupt');
      assert.match(sequential.error, new RegExp(`^artifact "${diffName}" (is damaged|holds transactions)`));
      rmSync(folder, { recursive: true, force: true });
    });
  }
});
