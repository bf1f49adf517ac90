/**
 * One backup of a database into a target at a time (docs/backup.md, "One backup of a database at a
 * time"): a second `database backup` of the same database into the same folder fails at once,
 * naming the running one; a lock left by a SIGKILLed client is broken with a WARN; a client stopped
 * by SIGINT or SIGTERM releases its lock and leaves no temporary file.
 *
 * The server sends at most 1 MiB/s of store (server.backup.max_rate) and the store image is about
 * 5 MB of barely compressible data, so a full backup takes about 5 s: long enough to start a
 * second one, or to signal the first, while it runs.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backup, describeRun, escapeRegExp, logLine, spawnAdmin, tempFolders, waitFor, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { startTestServer, type TestServer } from './support/harness.js';

const lockName = '.neo4j.lock';

interface LockJson {
  host: string;
  pid: number;
  startedAt: string;
  command: string;
}

describe('the backup lock of a database in a target', () => {
  let server: TestServer;
  const folders = tempFolders();
  const folder = folders.folder;

  /** Starts a backup of neo4j into `to` and resolves once it holds the lock and streams the store. */
  async function backupHoldingLock(to: string) {
    const run = spawnAdmin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${to}`, '--type=FULL', 'neo4j'], server.home);
    await waitFor('the backup to take its lock and start the transfer', () => existsSync(join(to, lockName)) && run.output.stdout.includes("Start full backup of database 'neo4j'."));
    return run;
  }

  before(async () => {
    server = await startTestServer({ conf: { 'server.backup.max_rate': '1m' } });
    await writeBarelyCompressibleNodes(server, 'neo4j', 15);
  });

  after(async () => {
    await server?.stop();
    server?.cleanup();
    folders.removeAll();
  });

  it('fails a second backup of the same database into the same folder at once, naming the running one, and lets the first finish', async () => {
    const to = folder();
    const first = await backupHoldingLock(to);
    const lock = JSON.parse(readFileSync(join(to, lockName), 'utf8')) as LockJson;
    assert.equal(lock.host, hostname());
    assert.equal(lock.pid, first.proc.pid);
    assert.match(lock.command, /^quiver-admin database backup .*neo4j$/);

    const startedMs = Date.now();
    const second = await backup(server, to, ['neo4j']);
    const secondMs = Date.now() - startedMs;
    assert.equal(second.code, 1, describeRun(second));
    assert.equal(first.proc.exitCode, null, 'the first backup still runs when the second has failed');
    assert.ok(secondMs < 4000, `the second backup took ${secondMs} ms to fail`);
    const message =
      `Backup of database 'neo4j' failed: another backup of database 'neo4j' into ${escapeRegExp(`file://${to}/`)} is running ` +
      `\\(host "${escapeRegExp(hostname())}", pid ${first.proc.pid}, started at ${escapeRegExp(lock.startedAt)}, command "${escapeRegExp(lock.command)}"\\) ` +
      `\\(wait for it to finish; if it no longer runs, remove ${escapeRegExp(join(to, lockName))}\\)`;
    assert.match(second.stdout, logLine('ERROR', new RegExp(message)));
    assert.doesNotMatch(second.stdout, /Start (full|differential) backup/);

    const done = await first.exited;
    assert.equal(done.code, 0, describeRun(done));
    assert.deepEqual(readdirSync(to).filter((n) => n.startsWith('.')), [], 'the lock is released');
    const third = await backup(server, to, ['neo4j']);
    assert.equal(third.code, 0, describeRun(third));
    assert.deepEqual(readdirSync(to).filter((n) => n.startsWith('.')), []);
  });

  it('breaks the lock of a SIGKILLed client with a WARN naming it, and backs up', async () => {
    const to = folder();
    const killed = await backupHoldingLock(to);
    const lock = JSON.parse(readFileSync(join(to, lockName), 'utf8')) as LockJson;
    killed.proc.kill('SIGKILL');
    assert.equal((await killed.exited).signal, 'SIGKILL');
    assert.ok(existsSync(join(to, lockName)), 'a SIGKILLed client cannot remove its lock');

    const next = await backup(server, to, ['neo4j']);
    assert.equal(next.code, 0, describeRun(next));
    assert.match(
      next.stdout,
      logLine(
        'WARN',
        `Broke the stale lock ${join(to, lockName)} of database 'neo4j' (host "${hostname()}", pid ${lock.pid}, started at ${lock.startedAt}): process ${lock.pid} no longer runs on this host.`,
      ),
    );
    assert.deepEqual(readdirSync(to).filter((n) => n.startsWith('.')), [], 'no lock and no temporary file are left');
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`releases the lock and removes its temporary file when stopped by ${signal} (exit ${code})`, async () => {
      const to = folder();
      const run = await backupHoldingLock(to);
      await waitFor('the artifact to be written', () => readdirSync(to).some((n) => n.includes('.partial-')));
      run.proc.kill(signal);
      const startedMs = Date.now();
      const stopped = await run.exited;
      assert.ok(Date.now() - startedMs < 5000, 'the client exits promptly');
      assert.equal(stopped.code, code, describeRun(stopped));
      assert.match(stopped.stdout, logLine('ERROR', new RegExp(`Backup of database 'neo4j' failed: the backup was stopped by ${signal} .*`)));
      assert.deepEqual(readdirSync(to), [], 'no lock, no temporary file, no artifact');
    });
  }
});
