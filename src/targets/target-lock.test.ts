import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backupLockAgeMaxMs } from '../backup/limits.js';
import { decodeLock, encodeLock, lockFileName, lockStaleReason } from './target-lock.js';

const owner = { host: 'db1', pid: 4242, startedAt: '2026-01-01T10:00:00.000Z', command: 'quiver-admin database backup neo4j' };
const startedMs = Date.parse(owner.startedAt);

describe('backup locks', () => {
  it('names the lock file after the database, hidden and never an artifact or temporary name', () => {
    assert.equal(lockFileName('neo4j'), '.neo4j.lock');
    assert.throws(() => lockFileName('a/b'), /cannot name a lock file/);
  });

  it('reads back what it wrote, and nothing that is not a whole lock', () => {
    const content = { ...owner, token: '00112233' };
    assert.deepEqual(decodeLock(encodeLock(content)), content);
    const whole = encodeLock(content);
    for (let cut = 0; cut < whole.length - 2; cut++) assert.equal(decodeLock(whole.subarray(0, cut)), null, `cut at ${cut}`);
    for (const junk of ['null', '[]', '{}', JSON.stringify({ ...content, pid: -1 }), JSON.stringify({ ...content, pid: 1.5 }), JSON.stringify({ ...content, startedAt: 'yesterday' }), JSON.stringify({ ...content, host: 7 })]) {
      assert.equal(decodeLock(Buffer.from(junk)), null, junk);
    }
  });

  it('judges a holder on this host by its pid, and one elsewhere (or unreadable) by age', () => {
    const here = { host: 'db1', nowMs: startedMs + 1000, processRuns: (pid: number) => pid !== 4242 };
    assert.equal(lockStaleReason(owner, 0, here), 'process 4242 no longer runs on this host');
    assert.equal(lockStaleReason(owner, 0, { ...here, processRuns: () => true }), null);
    assert.equal(lockStaleReason(owner, 0, { ...here, nowMs: startedMs + 10 * backupLockAgeMaxMs, processRuns: () => true }), null, 'a live process here keeps its lock however long it runs');
    const elsewhere = { ...here, host: 'db2' };
    assert.equal(lockStaleReason(owner, 0, { ...elsewhere, nowMs: startedMs + backupLockAgeMaxMs }), null);
    assert.equal(lockStaleReason(owner, 0, { ...elsewhere, nowMs: startedMs + backupLockAgeMaxMs + 1 }), 'it was taken on another host more than 24 hours ago');
    assert.equal(lockStaleReason(null, startedMs, { ...here, nowMs: startedMs + backupLockAgeMaxMs }), null);
    assert.equal(lockStaleReason(null, startedMs, { ...here, nowMs: startedMs + backupLockAgeMaxMs + 1 }), 'its content cannot be read and it was last written more than 24 hours ago');
  });
});
