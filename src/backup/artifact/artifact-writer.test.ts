import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isQuiverError } from '../../util/errors.js';
import { readArtifactInfo } from './artifact-reader.js';
import { fullHeader, readWholePayload, seededPayload, tempTarget, trailerFor, writeArtifact, type TempTarget } from './artifact-test-fixtures.js';
import { ArtifactWriter } from './artifact-writer.js';

describe('ArtifactWriter', () => {
  let temp: TempTarget;
  before(async () => { temp = await tempTarget(); });
  after(async () => { await temp.cleanup(); });

  async function filesIn(): Promise<string[]> {
    return (await readdir(temp.folder)).sort();
  }

  async function assertNoTrace(name: string): Promise<void> {
    assert.ok(!(await filesIn()).some((file) => file.includes(name)), `found a file of ${name}: ${(await filesIn()).join(', ')}`);
  }

  it('leaves no file after abort, in the middle of a payload', async () => {
    const writer = await ArtifactWriter.create(temp.target, 'aborted.backup', fullHeader(), { compress: true, blockRawBytes: 1000 });
    await writer.write(seededPayload(1, 5500, true));
    await writer.abort();
    await writer.abort();
    await assertNoTrace('aborted.backup');
    await assert.rejects(() => writer.write(Buffer.from('late')), /failed or aborted/);
  });

  it('leaves no file when the trailer breaks a promise (highest tx below lowest tx), and says which', async () => {
    const writer = await ArtifactWriter.create(temp.target, 'bad-range.backup', fullHeader(), { compress: false });
    await writer.write(Buffer.from('payload'));
    await assert.rejects(
      () => writer.finish({ lowestTx: 5, highestTx: 3, highestTxCommitTimeMs: 1, lastTxChecksum: 1, txCount: 0 }),
      (e: unknown) => e instanceof assert.AssertionError && /cannot seal artifact "bad-range.backup": highest tx 3 is below lowest tx 5/.test(e.message),
    );
    await assertNoTrace('bad-range.backup');
  });

  it('asserts the other promises of a sealed artifact', async () => {
    const cases: [string, Parameters<ArtifactWriter['finish']>[0], RegExp, ReturnType<typeof fullHeader>?][] = [
      ['count', { ...trailerFor(1, 11), txCount: 10 }, /txCount 10 differs from the 11 transactions from 1 to 11/],
      ['empty-count', { ...trailerFor(0, 0), txCount: 1 }, /empty artifact \(lowest and highest tx 0\) records txCount 1/],
      ['zero-lowest', { ...trailerFor(1, 5), lowestTx: 0, txCount: 6 }, /lowest tx 0 must be at least 1 when highest tx is 5/],
      ['checksum', { ...trailerFor(1, 5), lastTxChecksum: 2 ** 32 }, /lastTxChecksum 4294967296 is not a u32/],
      ['diff-start', trailerFor(13, 14), /DIFF starts at tx 13 but its parent "p.backup" ends at tx 11/,
        fullHeader({ kind: 'DIFF', parent: { artifactName: 'p.backup', highestTx: 11, lastTxChecksum: 7 } })],
    ];
    for (const [label, trailer, message, header] of cases) {
      const writer = await ArtifactWriter.create(temp.target, `assert-${label}.backup`, header ?? fullHeader(), { compress: false });
      await assert.rejects(() => writer.finish(trailer), message);
      await assertNoTrace(`assert-${label}.backup`);
    }
  });

  it('refuses a header that breaks the format before writing anything', async () => {
    for (const [header, message] of [
      [fullHeader({ kind: 'DIFF' }), /header field "parent" is required for a DIFF artifact/],
      [fullHeader({ databaseId: 'not-a-uuid' }), /header field "databaseId" must be a lowercase UUID/],
      [fullHeader({ createdAt: '2023-06-29 13:46:27' }), /header field "createdAt" must be an ISO-8601 UTC time ending in Z/],
    ] as const) {
      await assert.rejects(() => ArtifactWriter.create(temp.target, 'bad-header.backup', header, { compress: true }), message);
    }
    await assertNoTrace('bad-header.backup');
  });

  it('refuses to overwrite an existing artifact and leaves it intact', async () => {
    const original = seededPayload(2, 3000, true);
    await writeArtifact(temp.target, 'taken.backup', original);
    await assert.rejects(
      () => writeArtifact(temp.target, 'taken.backup', seededPayload(3, 10, true)),
      (e: unknown) => isQuiverError(e, 'DestinationExists') && e.message.includes('"taken.backup"') && e.message.includes('already exists'),
    );
    assert.ok((await readWholePayload(temp.target, 'taken.backup')).equals(original));
  });

  it('refuses to commit when another writer took the name meanwhile, leaving no trace of itself', async () => {
    const slow = await ArtifactWriter.create(temp.target, 'race.backup', fullHeader(), { compress: false });
    await slow.write(Buffer.from('slow'));
    await writeArtifact(temp.target, 'race.backup', Buffer.from('fast'));
    await assert.rejects(() => slow.finish(trailerFor(1, 11)), (e: unknown) => isQuiverError(e, 'DestinationExists'));
    assert.deepEqual((await filesIn()).filter((file) => file.includes('race.backup')), ['race.backup']);
    assert.ok((await readWholePayload(temp.target, 'race.backup')).equals(Buffer.from('fast')));
  });

  it('makes the committed artifact read-only', async () => {
    await writeArtifact(temp.target, 'readonly.backup', seededPayload(4, 100, true));
    assert.equal((await stat(join(temp.folder, 'readonly.backup'))).mode & 0o777, 0o444);
  });

  it('stops at backup.beforeRename with the artifact complete but invisible', async () => {
    let sawAtStop: { listed: string[]; files: string[] } | undefined;
    const written = await writeArtifact(temp.target, 'crash-point.backup', seededPayload(5, 3000, true), {
      crashHook: async (point) => {
        if (point === 'backup.beforeRename') sawAtStop = { listed: (await temp.target.list()).map((e) => e.name), files: await filesIn() };
      },
    });
    assert.ok(sawAtStop);
    assert.ok(!sawAtStop.listed.includes('crash-point.backup'));
    assert.ok(sawAtStop.files.some((file) => /^\.crash-point\.backup\.partial-[0-9a-f]{8}-\d+-[0-9a-f]{16}$/.test(file)));
    assert.equal(written.name, 'crash-point.backup');
    assert.equal((await readArtifactInfo(temp.target, 'crash-point.backup')).trailer.highestTx, 11);
  });

  it('leaves nothing when the commit fails at backup.beforeRename', async () => {
    await assert.rejects(
      () => writeArtifact(temp.target, 'crash-fail.backup', seededPayload(6, 3000, true), {
        crashHook: (point) => { if (point === 'backup.beforeRename') throw new Error('power cut'); },
      }),
      /power cut/,
    );
    await assertNoTrace('crash-fail.backup');
  });

  it('refuses overlapping calls: each write must be awaited', async () => {
    const writer = await ArtifactWriter.create(temp.target, 'overlap.backup', fullHeader(), { compress: true, blockRawBytes: 100 });
    const first = writer.write(seededPayload(7, 1000, true));
    await assert.rejects(() => writer.write(Buffer.from('x')), /busy: await each call/);
    await first.catch(() => undefined);
    await writer.abort();
    await assertNoTrace('overlap.backup');
  });

  it('refuses names that would not be listed as artifacts', async () => {
    await assert.rejects(() => ArtifactWriter.create(temp.target, 'neo4j.bak', fullHeader(), { compress: true }), /must end with \.backup/);
  });

  it('returns what it wrote', async () => {
    const written = await writeArtifact(temp.target, 'result.backup', seededPayload(8, 2500, false), { compress: false, blockRawBytes: 1000 });
    assert.deepEqual(written, {
      name: 'result.backup',
      uri: temp.target.uri('result.backup'),
      bytesStored: (await stat(join(temp.folder, 'result.backup'))).size,
      bytesRaw: 2500,
      blockCount: 3,
    });
  });
});
