/**
 * `quiver-admin database backup` options and decisions against one real server: empty
 * differentials, AUTO → FULL after the server pruned its logs (and DIFF refusing instead), --type
 * spelling, globs over several databases, a dead server in --from, unknown databases and bad
 * paths, a recreated database, and a database restored to an earlier state.
 *
 * The server prunes aggressively (128 KiB log files, keep_none, a checkpoint after every
 * transaction) so that the pruning case needs only a few hundred KiB of writes. Every other case
 * here makes FULL or empty DIFF artifacts, or writes far less than one log file, so the pruning
 * does not change their outcome. Each case uses its own database and its own --to-path folder.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BackupConnection } from '../src/backup/client/remote.js';
import { backup, describeRun, escapeRegExp, finishedArtifacts, logLine, parseInspectTable, tempFolders, withSession } from './support/backup-helpers.js';
import { freePort, runAdmin, startTestServer, type TestServer } from './support/harness.js';

const needFull = 'Differential backups require that a full backup of the same database exists in the folder defined in --to-path.';

describe('backup options and decisions', () => {
  let server: TestServer;
  let driver: ReturnType<TestServer['driver']>;
  const folders = tempFolders();
  const folder = folders.folder;
  const system = (cypher: string) => withSession(driver, 'system', (run) => run(cypher));
  const write = (database: string, cypher: string, params: Record<string, unknown> = {}) => withSession(driver, database, (run) => run(cypher, params));
  const inspect = async (path: string) => {
    const r = await runAdmin(['database', 'backup', `--inspect-path=${path}`], { home: server.home });
    assert.equal(r.code, 0, describeRun(r));
    return parseInspectTable(r.stdout).rows;
  };
  /** What the backup service reports about one database (the planner's input). */
  const listing = async (name: string) => {
    const conn = await BackupConnection.connect(server.backupAddress);
    try {
      const db = (await conn.listDatabases()).databases.find((d) => d.name === name);
      assert.ok(db, `no database ${name} on the server`);
      return db;
    } finally {
      conn.close();
    }
  };

  before(async () => {
    server = await startTestServer({
      conf: {
        'db.tx_log.rotation.size': '128k',
        'db.tx_log.rotation.retention_policy': 'keep_none',
        'db.checkpoint.interval.tx': '1',
        'db.checkpoint.interval.time': '200ms',
      },
    });
    driver = server.driver();
  });

  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
    folders.removeAll();
  });

  it('writes an empty DIFF (lowest and highest tx 0) when nothing was written since the last backup; --type=diff is case-insensitive', async () => {
    await system('CREATE DATABASE quiet');
    await write('quiet', 'CREATE (:Q {i: 1})');
    const to = folder();
    const full = await backup(server, to, ['quiet']);
    assert.equal(full.code, 0, describeRun(full));
    const again = await backup(server, to, ['--type=diff', 'quiet']);
    assert.equal(again.code, 0, describeRun(again));
    assert.match(again.stdout, logLine('INFO', "Start differential backup of database 'quiet'."));
    assert.match(again.stdout, /has no new transactions for database 'quiet' since tx \d+: writing an empty differential artifact\./);
    assert.match(again.stdout, /quiet: OK DIFF \S+ empty differential \(no new transactions\)/);
    const rows = await inspect(to);
    assert.deepEqual(rows.map((r) => [r.FULL, r['LOWEST TX'], r['HIGHEST TX']]), [['true', '1', rows[0]!['HIGHEST TX']], ['false', '0', '0']]);
    // An empty DIFF does not break the chain: the next change is a DIFF continuing the FULL.
    await write('quiet', 'CREATE (:Q {i: 2})');
    const next = await backup(server, to, ['quiet']);
    assert.equal(next.code, 0, describeRun(next));
    const after = await inspect(to);
    assert.equal(after[2]!.FULL, 'false');
    assert.equal(Number(after[2]!['LOWEST TX']), Number(after[0]!['HIGHEST TX']) + 1);
  });

  it('rejects --type=bogus as a usage error (exit 64)', async () => {
    const r = await backup(server, folder(), ['--type=bogus', 'neo4j']);
    assert.equal(r.code, 64, describeRun(r));
    assert.match(r.stderr, /^error: invalid value "bogus" for --type$/m);
    assert.match(r.stderr, /^hint: use FULL, DIFF or AUTO$/m);
  });

  it("fails a DIFF without a full backup with Neo4j's message (exit 1)", async () => {
    const to = folder();
    const r = await backup(server, to, ['--type=DIFF', 'neo4j']);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stdout, new RegExp(`Differential backup of database 'neo4j' failed\\. Reason: ${escapeRegExp(needFull)}`));
    assert.match(r.stdout, /neo4j: FAILED .*\(run with --type=FULL or --type=AUTO first to start a chain\)/);
    assert.deepEqual(readdirSync(to), []);
  });

  it('AUTO falls back to FULL, saying why, once the server pruned the logs after the chain; DIFF fails instead', async () => {
    await system('CREATE DATABASE pruned');
    const to = folder();
    const full = await backup(server, to, ['pruned']);
    assert.equal(full.code, 0, describeRun(full));
    const fullHighest = Number((await inspect(to))[0]!['HIGHEST TX']);
    // About 100 KiB per transaction: the 128 KiB files rotate, and the checkpoints prune them.
    const pad = 'p'.repeat(1000);
    for (let round = 0; round < 40; round++) {
      await write('pruned', 'UNWIND range(1, 100) AS i CREATE (:Big {i: i, pad: $pad})', { pad });
      if ((await listing('pruned')).oldestTxIdInLog > fullHighest + 1) break;
    }
    for (let wait = 0; wait < 50 && (await listing('pruned')).oldestTxIdInLog <= fullHighest + 1; wait++) await new Promise((r) => setTimeout(r, 100));
    // The 200 ms checkpoints may still prune the last written file: wait until the oldest entry has
    // stayed the same across several checkpoints, so the backups below report this very value.
    let oldest = (await listing('pruned')).oldestTxIdInLog;
    for (let settle = 0; settle < 20; settle++) {
      await new Promise((r) => setTimeout(r, 700));
      const now = (await listing('pruned')).oldestTxIdInLog;
      if (now === oldest) break;
      oldest = now;
    }
    assert.ok(oldest > fullHighest + 1, `the server still has tx ${fullHighest + 1} (oldest in log: ${oldest})`);
    const reason = `the server no longer has the transactions after ${fullHighest} (its oldest transaction log entry is ${oldest}); raise db.tx_log.rotation.retention_policy to keep differentials possible`;

    const diff = await backup(server, to, ['--type=DIFF', 'pruned']);
    assert.equal(diff.code, 1, describeRun(diff));
    assert.match(diff.stdout, logLine('ERROR', `Backup of database 'pruned' failed: Differential backup of database 'pruned' failed. Reason: ${reason} (run with --type=FULL (or --type=AUTO, which falls back to a full backup))`));
    assert.equal((await inspect(to)).length, 1, 'a failed DIFF writes no artifact');

    const auto = await backup(server, to, ['pruned']);
    assert.equal(auto.code, 0, describeRun(auto));
    assert.match(auto.stdout, logLine('WARN', `Differential backup of database 'pruned' failed. Reason: ${reason}`));
    assert.match(auto.stdout, logLine('WARN', "Falling back to full backup of database 'pruned'."));
    assert.match(auto.stdout, logLine('INFO', "Start full backup of database 'pruned'."));
    assert.match(auto.stdout, new RegExp(`pruned: OK FULL .* \\(fell back to FULL: ${escapeRegExp(reason)}\\)`));
    const rows = await inspect(to);
    assert.deepEqual(rows.map((r) => r.FULL), ['true', 'true']);

    const json = await backup(server, folder(), ['--type=FULL', '--format=json', 'pruned']);
    assert.equal((JSON.parse(json.stdout) as { databases: Array<{ fallbackReason: unknown }> }).databases[0]!.fallbackReason, null);
  });

  it('backs up every database matching "n*", and every database, system included, for "*"', async () => {
    await system('CREATE DATABASE nodes1');
    await system('CREATE DATABASE foo');
    const names = async () => ((await system('SHOW DATABASES')) as Array<{ get(k: string): string }>).map((r) => r.get('name')).sort();
    const all = await names();
    assert.ok(all.includes('system') && all.includes('foo') && all.includes('nodes1') && all.includes('neo4j'));

    const some = folder();
    const n = await backup(server, some, ['n*']);
    assert.equal(n.code, 0, describeRun(n));
    const nRows = await inspect(some);
    assert.deepEqual(nRows.map((r) => r.DATABASE), all.filter((d) => d.startsWith('n')));
    assert.ok(nRows.every((r) => r.FULL === 'true'));

    const every = folder();
    const star = await backup(server, every, ['*']);
    assert.equal(star.code, 0, describeRun(star));
    const rows = await inspect(every);
    assert.deepEqual(rows.map((r) => r.DATABASE), all);
    for (const db of all) assert.equal(finishedArtifacts(star.stdout, db).length, 1, `one artifact for ${db}`);
    assert.match(star.stdout, logLine('INFO', '--include-metadata does not apply to the system database: it holds the users and roles itself.'));
    assert.match(star.stdout, new RegExp(`^${all.length} of ${all.length} database\\(s\\) backed up\\.$`, 'm'));
  });

  it('carries on past a dead server in --from, makes the artifacts, exits 1 and names the dead server', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const to = folder();
    const r = await runAdmin(['database', 'backup', `--from=${dead},${server.backupAddress}`, `--to-path=${to}`, 'neo4j'], { home: server.home });
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stdout, logLine('ERROR', `cannot reach the backup service at ${dead}: connection refused (check that the server runs with server.backup.enabled=true and that server.backup.listen_address matches --from)`));
    assert.equal(finishedArtifacts(r.stdout, 'neo4j').length, 1);
    assert.match(r.stdout, new RegExp(`^  server ${escapeRegExp(dead)}: UNREACHABLE cannot reach the backup service at ${escapeRegExp(dead)}: connection refused$`, 'm'));
    assert.match(r.stdout, /^1 of 1 database\(s\) backed up; 1 server\(s\) could not be reached\.$/m);
    assert.equal((await inspect(to)).length, 1);

    const json = await runAdmin(['database', 'backup', `--from=${dead},${server.backupAddress}`, `--to-path=${to}`, '--format=json', 'neo4j'], { home: server.home });
    assert.equal(json.code, 1);
    const summary = JSON.parse(json.stdout) as { exitCode: number; unreachableServers: Array<{ server: string }>; databases: Array<{ outcome: string }> };
    assert.equal(summary.exitCode, 1);
    assert.deepEqual(summary.unreachableServers.map((u) => u.server), [dead]);
    assert.deepEqual(summary.databases.map((d) => d.outcome), ['ok']);
  });

  it('rejects a malformed --from address as a usage error', async () => {
    const r = await runAdmin(['database', 'backup', '--from=nohost', `--to-path=${folder()}`], { home: server.home });
    assert.equal(r.code, 64, describeRun(r));
    assert.match(r.stderr, /^error: invalid server address "nohost" in --from: it has no port$/m);
  });

  it('fails an unknown database with exit 1, naming it, and still backs up the others', async () => {
    const to = folder();
    const r = await backup(server, to, ['nosuchdb', 'neo4j']);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stdout, logLine('ERROR', `Database 'nosuchdb' does not exist on any of the servers [${server.backupAddress}]. (check the name with SHOW DATABASES; quote patterns such as "n*")`));
    assert.match(r.stdout, /^  nosuchdb: FAILED Database 'nosuchdb' does not exist .*\(check the name with SHOW DATABASES; quote patterns such as "n\*"\)$/m);
    assert.equal(finishedArtifacts(r.stdout, 'neo4j').length, 1);
    const alone = await backup(server, to, ['nosuchdb']);
    assert.equal(alone.code, 1, describeRun(alone));
  });

  it('refuses a --to-path that does not exist, naming it, and creates nothing', async () => {
    const missing = join(folder(), 'not', 'there');
    const r = await backup(server, missing, ['neo4j']);
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(r.stderr, `error: cannot use "${missing}" as a backup target: the folder does not exist; create it first\nhint: mkdir -p "${missing}"\n`);
    assert.equal(existsSync(join(missing, '..')), false);
  });

  it('requires --to-path (usage error, exit 64)', async () => {
    const r = await runAdmin(['database', 'backup', `--from=${server.backupAddress}`, 'neo4j'], { home: server.home });
    assert.equal(r.code, 64, describeRun(r));
    assert.match(r.stderr, /^error: missing required option --to-path$/m);
  });

  it('starts a new chain, and says so, when the database was dropped and recreated under the same name', async () => {
    await system('CREATE DATABASE again');
    await write('again', 'CREATE (:A)');
    const to = folder();
    assert.equal((await backup(server, to, ['again'])).code, 0);
    const oldId = (await inspect(to))[0]!['DATABASE ID'];
    await system('DROP DATABASE again');
    await system('CREATE DATABASE again');
    await write('again', 'CREATE (:A)');
    const r = await backup(server, to, ['again']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, logLine('INFO', `artifacts of database 'again' in the target belong to another database id (${oldId}): the database was recreated, so a new chain starts`));
    assert.match(r.stdout, logLine('INFO', "Start full backup of database 'again'."));
    const rows = await inspect(to);
    assert.deepEqual(rows.map((row) => row.FULL), ['true', 'true']);
    assert.notEqual(rows[1]!['DATABASE ID'], oldId);
    // --type=DIFF right after a recreate has no chain to continue.
    await system('DROP DATABASE again');
    await system('CREATE DATABASE again');
    const diff = await backup(server, to, ['--type=DIFF', 'again']);
    assert.equal(diff.code, 1, describeRun(diff));
    assert.match(diff.stdout, new RegExp(escapeRegExp(needFull)));
  });

  it('after the database was restored to an earlier state, AUTO starts a new chain instead of a DIFF on another history', async () => {
    await system('CREATE DATABASE hist');
    await write('hist', 'CREATE (:H {i: 0})');
    const to = folder();
    const full = await backup(server, to, ['hist']);
    assert.equal(full.code, 0, describeRun(full));
    const fullName = finishedArtifacts(full.stdout, 'hist')[0]!;
    for (let i = 1; i <= 5; i++) await write('hist', 'CREATE (:H {i: $i})', { i });
    assert.equal((await backup(server, to, ['hist'])).code, 0);
    const [f, d] = await inspect(to);
    assert.equal(d!.FULL, 'false');

    // Restore the FULL over the database: same database id, history back at the FULL's tx.
    await system('STOP DATABASE hist');
    const restore = await runAdmin(['database', 'restore', `--from-path=${join(to, fullName)}`, '--overwrite-destination=true', 'hist'], { home: server.home });
    assert.equal(restore.code, 0, describeRun(restore));
    await system('START DATABASE hist');
    assert.equal((await listing('hist')).lastCommittedTxId, Number(f!['HIGHEST TX']));

    // Behind the newest artifact: a DIFF is refused, with the reason.
    const behind = await backup(server, to, ['--type=DIFF', 'hist']);
    assert.equal(behind.code, 1, describeRun(behind));
    assert.match(behind.stdout, new RegExp(`Reason: the newest artifact "${escapeRegExp(d!.FILE.split('/').at(-1)!)}" ends at transaction ${d!['HIGHEST TX']}, but the database on the server is at ${f!['HIGHEST TX']} \\(it was restored to an earlier state\\)`));

    // Past it with other transactions: same ids, another history.
    for (let i = 1; i <= 8; i++) await write('hist', 'CREATE (:Other {i: $i})', { i });
    const diverged = await backup(server, to, ['--type=DIFF', 'hist']);
    assert.equal(diverged.code, 1, describeRun(diverged));
    assert.match(diverged.stdout, /the database's history diverged from the backups \(was it restored\?\)/);
    const auto = await backup(server, to, ['hist']);
    assert.equal(auto.code, 0, describeRun(auto));
    assert.match(auto.stdout, logLine('WARN', "Falling back to full backup of database 'hist'."));
    assert.match(auto.stdout, /Differential backup of database 'hist' failed\. Reason: transaction \d+ on the server does not follow transaction \d+ of artifact/);
    const rows = await inspect(to);
    assert.deepEqual(rows.map((row) => row.FULL), ['true', 'false', 'true']);
    // And the new chain continues normally.
    await write('hist', 'CREATE (:Other {i: 9})');
    const next = await backup(server, to, ['hist']);
    assert.equal(next.code, 0, describeRun(next));
    assert.match(next.stdout, logLine('INFO', "Start differential backup of database 'hist'."));
  });
});
