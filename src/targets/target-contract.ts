/**
 * The behaviour every BackupTarget must have, as one node:test suite. Each implementation's test
 * file calls `runTargetContract` with a factory of fresh, empty targets (FileTarget today, S3 later).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError, type ErrorCode } from '../util/errors.js';
import { hostname } from 'node:os';
import { backupLockAgeMaxMs } from '../backup/limits.js';
import type { BackupTarget, CrashPoint, LockOwner } from './target.js';

export interface TargetFixture {
  target: BackupTarget;
  /**
   * False when a writer's name is settled when it starts (an S3 multipart upload is bound to its
   * key): a name taken after that fails the commit with DestinationExists, never overwrites. True
   * (the default) when the commit itself moves on to the next free name (a folder).
   */
  nameMovesAtCommit?: boolean;
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
    const withFixture = (fn: (fixture: TargetFixture) => Promise<void>) => async () => {
      const fixture = await factory();
      try {
        await fn(fixture);
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

    it('commits under the next name when the name was taken after the writer started, given nextNameOnCollision (or, where a name is settled at the start, refuses the commit)', withFixture(async ({ target, nameMovesAtCommit }) => {
      const next = (taken: string) => (taken === 'a.backup' ? 'a_001.backup' : taken === 'a_001.backup' ? 'a_002.backup' : null);
      const first = await target.createWriteOnce('a.backup', { nextNameOnCollision: next });
      const second = await target.createWriteOnce('a.backup', { nextNameOnCollision: next });
      const third = await target.createWriteOnce('a.backup', { nextNameOnCollision: next });
      for (const [i, w] of [first, second, third].entries()) await w.write(patterned(10 + i));
      if (nameMovesAtCommit === false) {
        assert.equal(await first.commit(), 'a.backup');
        await assertCode(() => second.commit(), 'DestinationExists');
        await assertCode(() => third.commit(), 'DestinationExists');
        assert.deepEqual((await target.list()).map((e) => [e.name, e.size]), [['a.backup', 10]], 'nothing overwritten, nothing half-written');
        assert.deepEqual(await readAll(target, 'a.backup'), patterned(10));
        return;
      }
      assert.equal(await first.commit(), 'a.backup');
      assert.equal(await second.commit(), 'a_001.backup');
      assert.equal(await third.commit(), 'a_002.backup');
      assert.deepEqual((await target.list()).map((e) => [e.name, e.size]), [['a.backup', 10], ['a_001.backup', 11], ['a_002.backup', 12]]);
      assert.deepEqual(await readAll(target, 'a_001.backup'), patterned(11));
    }));

    it('starts under the next name when the name is taken, and fails with DestinationExists once there is none', withTarget(async (target) => {
      await writeFile(target, 'a.backup', patterned(1));
      await writeFile(target, 'a_001.backup', patterned(2));
      const next = (taken: string) => (taken === 'a.backup' ? 'a_001.backup' : taken === 'a_001.backup' ? 'a_002.backup' : null);
      const writer = await target.createWriteOnce('a.backup', { nextNameOnCollision: next });
      await writer.write(patterned(3));
      assert.equal(await writer.commit(), 'a_002.backup');
      await assertCode(() => target.createWriteOnce('a.backup', { nextNameOnCollision: next }), 'DestinationExists');
      const late = await target.createWriteOnce('b.backup', { nextNameOnCollision: () => null });
      await writeFile(target, 'b.backup', patterned(4));
      await assertCode(() => late.commit(), 'DestinationExists');
      await late.abort();
      assert.deepEqual((await target.list()).map((e) => e.name), ['a.backup', 'a_001.backup', 'a_002.backup', 'b.backup']);
    }));

    it('gives a database\'s backup lock to one holder at a time, naming the holder to the next', withTarget(async (target) => {
      const lock = await target.lock('neo4j', { owner: liveOwner() });
      await assert.rejects(
        () => target.lock('neo4j', { owner: liveOwner() }),
        (e: unknown) => {
          assert.ok(isQuiverError(e, 'TargetLocked'), String(e));
          assert.match(e.message, new RegExp(`^another backup of database 'neo4j' into ${escape(target.uri())} is running \\(host "${escape(hostname())}", pid ${process.pid}, started at [0-9T:.-]+Z, command "contract test"\\)$`));
          assert.match(e.hint ?? '', /^wait for it to finish; if it no longer runs, remove \S+$/);
          return true;
        },
      );
      const other = await target.lock('other', { owner: liveOwner() });
      assert.deepEqual(await target.list(), [], 'locks are never listed');
      await lock.release();
      await lock.release();
      const again = await target.lock('neo4j', { owner: liveOwner() });
      await again.release();
      await other.release();
      assert.deepEqual(await target.removeAbandoned(), [], 'a lock is not a temporary file');
    }));

    it('breaks a lock whose holder no longer runs on this host, says so, and the old holder cannot release the new lock', withTarget(async (target) => {
      // A pid far above pid_max runs nowhere.
      const dead = await target.lock('neo4j', { owner: { ...liveOwner(), pid: 4_194_999 } });
      const broken: Array<{ owner: LockOwner | null; reason: string }> = [];
      const lock = await target.lock('neo4j', { owner: liveOwner(), onStaleBroken: ({ owner, reason }) => broken.push({ owner, reason }) });
      assert.equal(broken.length, 1);
      assert.equal(broken[0]!.owner?.pid, 4_194_999);
      assert.equal(broken[0]!.reason, 'process 4194999 no longer runs on this host');
      await dead.release();
      await assertCode(() => target.lock('neo4j', { owner: liveOwner() }), 'TargetLocked');
      await lock.release();
    }));

    it('breaks a lock taken on another host only once it is older than backupLockAgeMaxMs', withTarget(async (target) => {
      const startedMs = Date.parse('2026-01-01T00:00:00.000Z');
      const elsewhere: LockOwner = { host: 'another-host.invalid', pid: 1, startedAt: new Date(startedMs).toISOString(), command: 'contract test' };
      await target.lock('neo4j', { owner: elsewhere, nowMs: () => startedMs });
      const at = (ms: number) => () => startedMs + ms;
      await assertCode(() => target.lock('neo4j', { owner: liveOwner(), nowMs: at(backupLockAgeMaxMs) }), 'TargetLocked');
      const reasons: string[] = [];
      const lock = await target.lock('neo4j', { owner: liveOwner(), nowMs: at(backupLockAgeMaxMs + 1), onStaleBroken: ({ reason }) => reasons.push(reason) });
      assert.deepEqual(reasons, ['it was taken on another host more than 24 hours ago']);
      await lock.release();
    }));

    it('gives every file a distinct URI under the target URI', withTarget(async (target) => {
      const base = target.uri();
      assert.ok(target.uri('a.backup').startsWith(base));
      assert.ok(target.uri('a.backup').endsWith('/a.backup'));
      assert.notEqual(target.uri('a.backup'), target.uri('b.backup'));
    }));
  });
}

/** This process as a lock holder. */
function liveOwner(): LockOwner {
  return { host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), command: 'contract test' };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
