/**
 * The behaviour every BackupTarget must have, as one node:test suite. Each implementation's test
 * file calls `runTargetContract` with a factory of fresh, empty targets (FileTarget today, S3 later).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError, type ErrorCode } from '../util/errors.js';
import type { BackupTarget, CrashPoint } from './target.js';

export interface TargetFixture {
  target: BackupTarget;
  /** Removes whatever the fixture created. */
  cleanup(): Promise<void>;
}

export type TargetFactory = () => Promise<TargetFixture>;

export function runTargetContract(label: string, factory: TargetFactory): void {
  describe(`BackupTarget contract: ${label}`, () => {
    const withTarget = (fn: (target: BackupTarget) => Promise<void>) => async () => {
      const fixture = await factory();
      try {
        await fn(fixture.target);
      } finally {
        await fixture.cleanup();
      }
    };

    it('lists nothing in a new target', withTarget(async (target) => {
      assert.deepEqual(await target.list(), []);
    }));

    it('shows a committed file in list, size, readRange and openRead', withTarget(async (target) => {
      const bytes = patterned(3000);
      await writeFile(target, 'a.backup', bytes);
      const listed = await target.list();
      assert.deepEqual(listed.map((e) => [e.name, e.size]), [['a.backup', 3000]]);
      assert.ok(Number.isFinite(listed[0]?.mtimeMs));
      assert.equal(await target.size('a.backup'), 3000);
      assert.deepEqual(await target.readRange('a.backup', 0, 3000), bytes);
      assert.deepEqual(await readAll(target, 'a.backup'), bytes);
    }));

    it('shows nothing of a file before it is committed', withTarget(async (target) => {
      const writer = await target.createWriteOnce('a.backup');
      await writer.write(patterned(100));
      assert.deepEqual(await target.list(), []);
      await assertCode(() => target.size('a.backup'), 'IoError');
      await writer.commit();
      assert.equal(await target.size('a.backup'), 100);
    }));

    it('keeps written bytes in order across many small writes', withTarget(async (target) => {
      const bytes = patterned(3 * 1024 * 1024 + 17);
      const writer = await target.createWriteOnce('big.backup');
      for (let offset = 0; offset < bytes.length; offset += 65_537) {
        await writer.write(bytes.subarray(offset, Math.min(offset + 65_537, bytes.length)));
      }
      await writer.commit();
      assert.ok((await readAll(target, 'big.backup')).equals(bytes));
    }));

    it('reads ranges inside, across the end and past the end of a file', withTarget(async (target) => {
      const bytes = patterned(1000);
      await writeFile(target, 'a.backup', bytes);
      assert.deepEqual(await target.readRange('a.backup', 10, 20), bytes.subarray(10, 30));
      assert.deepEqual(await target.readRange('a.backup', 990, 100), bytes.subarray(990));
      assert.equal((await target.readRange('a.backup', 1000, 10)).length, 0);
      assert.equal((await target.readRange('a.backup', 5000, 10)).length, 0);
      assert.equal((await target.readRange('a.backup', 0, 0)).length, 0);
    }));

    it('leaves nothing after abort, and the name stays free', withTarget(async (target) => {
      const writer = await target.createWriteOnce('a.backup');
      await writer.write(patterned(100));
      await writer.abort();
      await writer.abort();
      assert.deepEqual(await target.list(), []);
      await writeFile(target, 'a.backup', patterned(5));
      assert.equal(await target.size('a.backup'), 5);
    }));

    it('refuses to start writing a name that exists', withTarget(async (target) => {
      await writeFile(target, 'a.backup', patterned(10));
      await assertCode(() => target.createWriteOnce('a.backup'), 'DestinationExists');
    }));

    it('refuses to commit over a file committed meanwhile, and leaves the first intact', withTarget(async (target) => {
      const first = await target.createWriteOnce('a.backup');
      const second = await target.createWriteOnce('a.backup');
      await first.write(patterned(10));
      await second.write(patterned(20));
      await first.commit();
      await assertCode(() => second.commit(), 'DestinationExists');
      await second.abort();
      assert.deepEqual((await target.list()).map((e) => [e.name, e.size]), [['a.backup', 10]]);
      assert.deepEqual(await readAll(target, 'a.backup'), patterned(10));
    }));

    it('lists only committed .backup files, sorted by name', withTarget(async (target) => {
      for (const name of ['b-2.backup', 'a.backup', 'b-1.backup', 'notes.txt']) await writeFile(target, name, patterned(1));
      const pending = await target.createWriteOnce('c.backup');
      assert.deepEqual((await target.list()).map((e) => e.name), ['a.backup', 'b-1.backup', 'b-2.backup']);
      await pending.abort();
    }));

    it('removes a file, and removing a missing file is not an error', withTarget(async (target) => {
      await writeFile(target, 'a.backup', patterned(1));
      await target.remove('a.backup');
      await target.remove('a.backup');
      assert.deepEqual(await target.list(), []);
    }));

    it('reports a missing file as IoError from size, readRange and openRead', withTarget(async (target) => {
      await assertCode(() => target.size('missing.backup'), 'IoError');
      await assertCode(() => target.readRange('missing.backup', 0, 10), 'IoError');
      await assertCode(() => readAll(target, 'missing.backup'), 'IoError');
    }));

    it('refuses names that are not plain visible file names', withTarget(async (target) => {
      for (const name of ['', '.hidden.backup', 'a/b.backup', '..', 'x\\y.backup']) {
        await assertCode(() => target.createWriteOnce(name), 'TargetInvalid');
        await assertCode(() => target.size(name), 'TargetInvalid');
      }
    }));

    it('stops at backup.beforeRename with nothing visible, then commits', withTarget(async (target) => {
      const seen: CrashPoint[] = [];
      let listedAtBeforeRename: string[] | undefined;
      const writer = await target.createWriteOnce('a.backup', {
        crashHook: async (point) => {
          seen.push(point);
          if (point === 'backup.beforeRename') listedAtBeforeRename = (await target.list()).map((e) => e.name);
        },
      });
      await writer.write(patterned(10));
      await writer.commit();
      assert.deepEqual(seen, ['backup.beforeRename', 'backup.afterRename']);
      assert.deepEqual(listedAtBeforeRename, []);
      assert.equal(await target.size('a.backup'), 10);
    }));

    for (const point of ['backup.beforeRename', 'backup.afterRename'] as const) {
      it(`leaves nothing when the commit fails at ${point}`, withTarget(async (target) => {
        const writer = await target.createWriteOnce('a.backup', {
          crashHook: (p) => {
            if (p === point) throw new Error(`injected failure at ${p}`);
          },
        });
        await writer.write(patterned(10));
        await assert.rejects(() => writer.commit(), /injected failure/);
        await writer.abort();
        assert.deepEqual(await target.list(), []);
      }));
    }

    it('gives every file a distinct URI under the target URI', withTarget(async (target) => {
      const base = target.uri();
      assert.ok(target.uri('a.backup').startsWith(base));
      assert.ok(target.uri('a.backup').endsWith('/a.backup'));
      assert.notEqual(target.uri('a.backup'), target.uri('b.backup'));
    }));
  });
}

/** Deterministic bytes that differ at every offset within 251 bytes, so misplaced ranges show. */
export function patterned(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + (i >> 8)) % 251;
  return out;
}

async function writeFile(target: BackupTarget, name: string, bytes: Buffer): Promise<void> {
  const writer = await target.createWriteOnce(name);
  await writer.write(bytes);
  await writer.commit();
}

async function readAll(target: BackupTarget, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of target.openRead(name)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function assertCode(fn: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(isQuiverError(e, code), `expected QuiverError ${code}, got ${String(e)}`);
    return true;
  });
}
