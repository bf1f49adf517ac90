/**
 * Restore, aggregate-backup, backup verify and database check as an operator runs them: a real
 * `bin/quiver console` server, data written through the driver, backups and restores through the
 * real `bin/quiver-admin`, and the restored databases brought online with Cypher.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Driver } from 'neo4j-driver';
import { logicalDigestOfStore } from '../src/storage/digest.js';
import { GraphStore } from '../src/storage/store.js';
import { runAdmin, startTestServer, tempDir, type TestServer } from './support/harness.js';
import {
  backupCli,
  fileNameOf,
  flipByte,
  graphSummary,
  inspectCli,
  firstBlockByte,
  runQuery,
  stagingLeftovers,
  writeSampleGraph,
  writeTx,
} from './support/restore-cli.js';

let server: TestServer;
let driver: Driver;
let work: string;
/** A chain of the default database: FULL + 2 DIFFs. */
let chain: string;
let sourceSummary: Record<string, unknown>;
let sourceLastTxId: number;

const artifactsIn = (folder: string) => readdirSync(folder).filter((n) => n.endsWith('.backup')).sort();

function restoredTxId(stdout: string): number {
  const m = /Restored database '[^']+' \(id [^)]+\) up to transaction (\d+)/.exec(stdout);
  assert.ok(m, `restore output names the last transaction:\n${stdout}`);
  return Number(m[1]);
}

describe('restore, aggregate, verify and check against a running server', () => {
  before(async () => {
    server = await startTestServer();
    driver = server.driver();
    work = tempDir('quiver-restore-e2e-');
    chain = join(work, 'chain');
    mkdirSync(chain);
    await writeTx(driver, 'neo4j', 'CREATE INDEX person_name FOR (p:Person) ON (p.name)');
    await writeTx(driver, 'neo4j', 'CREATE CONSTRAINT person_id FOR (p:Person) REQUIRE p.id IS UNIQUE');
    await writeSampleGraph(driver, 'neo4j', 0, 3);
    await backupCli(server, chain, 'FULL', 'neo4j');
    await writeSampleGraph(driver, 'neo4j', 30, 3);
    await writeTx(driver, 'neo4j', "MATCH (p:Person) WHERE p.id % 7 = 0 SET p.name = p.name + '-renamed', p:Vip");
    await backupCli(server, chain, 'DIFF', 'neo4j');
    await writeTx(driver, 'neo4j', 'MATCH (p:Person {id: 13}) DETACH DELETE p');
    await writeTx(driver, 'neo4j', 'CREATE INDEX person_score FOR (p:Person) ON (p.score)');
    sourceLastTxId = await writeTx(driver, 'neo4j', 'MATCH (p:Vip) REMOVE p.tags');
    await backupCli(server, chain, 'DIFF', 'neo4j');
    sourceSummary = await graphSummary(driver, 'neo4j');
  });

  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
    // Artifacts are read-only files; rm -r removes them all the same.
    if (work) (await import('node:fs')).rmSync(work, { recursive: true, force: true });
  });

  it('restores the chain under a new name beside the running database; CREATE DATABASE brings it online with the same data', async () => {
    const r = await runAdmin(['database', 'restore', `--from-path=${chain}`, 'copy'], { home: server.home });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(restoredTxId(r.stdout), sourceLastTxId);
    assert.match(r.stdout, /\+ 2 differential\(s\)/);
    assert.match(r.stdout, /Next steps:\n {2}1\. Bring it online: run {2}CREATE DATABASE copy {2}against the system database/);
    assert.deepEqual(stagingLeftovers(server.home), []);

    await writeTx(driver, 'system', 'CREATE DATABASE copy');
    assert.deepEqual(await graphSummary(driver, 'copy'), sourceSummary);
    // The indexes work, not only exist: a seek finds the renamed people.
    const seek = await runQuery(driver, 'copy', "MATCH (p:Person {name: 'person-7-renamed'}) RETURN p.id AS id");
    assert.deepEqual(seek.map((row) => Number(row['id'])), [7]);

    // New writes continue the transaction id sequence of the restored database.
    const next = await writeTx(driver, 'copy', "CREATE (:Person {id: 1000, name: 'after-restore'})");
    assert.equal(next, sourceLastTxId + 1);
    // The constraint is enforced on the restored database.
    await assert.rejects(writeTx(driver, 'copy', "CREATE (:Person {id: 1, name: 'duplicate'})"), /already exists|Constraint/i);

    // A restored database is backed up like any other.
    const copyBackups = join(work, 'copy-backups');
    mkdirSync(copyBackups);
    await backupCli(server, copyBackups, 'FULL', 'copy');
    const last = await writeTx(driver, 'copy', "CREATE (:Person {id: 1001, name: 'after-backup'})");
    await backupCli(server, copyBackups, 'DIFF', 'copy');
    const listed = await inspectCli(copyBackups);
    assert.deepEqual(listed.map((a) => [a.databaseName, a.kind, a.lowestTx, a.highestTx]), [
      ['copy', 'FULL', 1, next],
      ['copy', 'DIFF', next + 1, last],
    ]);
  });

  it('replaces a stopped database with --overwrite-destination; START DATABASE brings the backed-up state back', async () => {
    await writeTx(driver, 'system', 'CREATE DATABASE shop');
    await writeTx(driver, 'shop', 'CREATE INDEX person_name FOR (p:Person) ON (p.name)');
    await writeSampleGraph(driver, 'shop', 0, 2);
    const shopBackups = join(work, 'shop-backups');
    mkdirSync(shopBackups);
    await backupCli(server, shopBackups, 'FULL', 'shop');
    const backedUp = await graphSummary(driver, 'shop');
    const [full] = await inspectCli(shopBackups);
    // Later changes the restore must undo.
    await writeSampleGraph(driver, 'shop', 100, 2);
    await writeTx(driver, 'shop', 'MATCH (p:Person) WHERE p.id < 5 DETACH DELETE p');
    assert.notDeepEqual(await graphSummary(driver, 'shop'), backedUp);

    await writeTx(driver, 'system', 'STOP DATABASE shop');
    const r = await runAdmin(['database', 'restore', `--from-path=${shopBackups}`, '--overwrite-destination=true', 'shop'], { home: server.home });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(restoredTxId(r.stdout), full!.highestTx);
    assert.match(r.stdout, /Next steps:\n {2}1\. Start the database again: run {2}START DATABASE shop {2}against the system database/);
    assert.doesNotMatch(r.stdout, /CREATE DATABASE/);
    assert.deepEqual(stagingLeftovers(server.home), []);

    await writeTx(driver, 'system', 'START DATABASE shop');
    assert.deepEqual(await graphSummary(driver, 'shop'), backedUp);
    assert.equal(await writeTx(driver, 'shop', 'CREATE (:Order {n: 1})'), full!.highestTx + 1);
  });

  it('aggregates a chain into one full artifact that restores to the same digest as the chain, removing the old chain unless kept', async () => {
    const removing = join(work, 'aggregate-remove');
    const keeping = join(work, 'aggregate-keep');
    cpSync(chain, removing, { recursive: true });
    cpSync(chain, keeping, { recursive: true });
    const before = artifactsIn(chain);
    assert.equal(before.length, 3);

    const r = await runAdmin(['database', 'aggregate-backup', `--from-path=${removing}`], { home: server.home });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const m = /^Successfully aggregated backup chain of database 'neo4j', new artifact: '(.+)'\.$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    const aggregated = m[1]!;
    assert.equal(aggregated.startsWith(removing + '/'), true, aggregated);
    assert.deepEqual(artifactsIn(removing), [aggregated.split('/').at(-1)]);
    const [info] = await inspectCli(removing);
    assert.deepEqual([info!.kind, info!.lowestTx, info!.highestTx], ['FULL', 1, sourceLastTxId]);

    const kept = await runAdmin(['backup', 'aggregate', `--from-path=${keeping}`, '--keep-old-backup=true', '--parallel-recovery'], { home: server.home });
    assert.equal(kept.code, 0, `${kept.stdout}\n${kept.stderr}`);
    assert.equal(artifactsIn(keeping).length, 4);
    assert.ok(before.every((n) => artifactsIn(keeping).includes(n)));

    // Restore both, outside the server's folders, and compare.
    const restoreTo = async (from: string, name: string) => {
      const out = join(work, `restore-${name}`);
      const res = await runAdmin(['database', 'restore', `--from-path=${from}`, `--to-path-data=${join(out, 'data')}`, `--to-path-txn=${join(out, 'transactions')}`, name], { home: server.home });
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      return logicalDigestOfStore(join(out, 'data', 'databases', name));
    };
    const fromChain = await restoreTo(chain, 'fromchain');
    const fromAggregate = await restoreTo(aggregated, 'fromaggregate');
    assert.deepEqual(fromAggregate, fromChain);
    assert.equal(fromChain.lastTxId, sourceLastTxId);
  });

  it('backup verify exits 0 on a good folder and 1 naming an artifact with a flipped byte', async () => {
    const good = await runAdmin(['backup', 'verify', `--from-path=${chain}`], { home: server.home });
    assert.equal(good.code, 0, `${good.stdout}\n${good.stderr}`);
    assert.match(good.stdout, /3 of 3 artifact\(s\) verified, no problems found\./);

    const bad = join(work, 'verify-bad');
    cpSync(chain, bad, { recursive: true });
    const listed = await inspectCli(bad);
    const victim = fileNameOf(listed[1]!);
    flipByte(join(bad, victim), firstBlockByte(listed[1]!));
    const r = await runAdmin(['backup', 'verify', `--from-path=${bad}`], { home: server.home });
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`ERROR .*"${victim.replace(/\./g, '\\.')}"`));
    assert.match(r.stdout, /2 of 3 artifact\(s\) verified; \d+ problem\(s\) found\./);
  });

  it('database check of a backup exits 0 and writes a report; of a stopped local database with a planted inconsistency exits 1 and lists it', async () => {
    const reports = join(work, 'reports');
    const ok = await runAdmin(['database', 'check', `--from-path=${chain}`, `--report-path=${reports}`, 'neo4j'], { home: server.home });
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.match(ok.stdout, /Database 'neo4j' is consistent\. Report: (.+)/);
    const [report] = readdirSync(reports);
    assert.ok(report, 'a report file is written');
    assert.match(readFileSync(join(reports, report), 'utf8'), /result: consistent, no problems found/);

    // A damaged artifact is a finding: listed, in the report too, exit 1.
    const damaged = join(work, 'check-damaged');
    cpSync(chain, damaged, { recursive: true });
    const [full] = await inspectCli(damaged);
    flipByte(join(damaged, fileNameOf(full!)), firstBlockByte(full!));
    const damagedReports = join(work, 'reports-damaged');
    const bad0 = await runAdmin(['database', 'check', `--from-path=${damaged}`, `--report-path=${damagedReports}`, 'neo4j'], { home: server.home });
    assert.equal(bad0.code, 1, `${bad0.stdout}\n${bad0.stderr}`);
    assert.match(bad0.stdout, new RegExp(`artifact "${fileNameOf(full!)}" is corrupt: block 0`));
    assert.match(readFileSync(join(damagedReports, readdirSync(damagedReports)[0]!), 'utf8'), /problem: artifact ".*" is corrupt: block 0/);

    // Restore, bring online, stop, then damage the store behind the server's back.
    const r = await runAdmin(['database', 'restore', `--from-path=${chain}`, 'broken'], { home: server.home });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    await writeTx(driver, 'system', 'CREATE DATABASE broken');
    await writeTx(driver, 'system', 'STOP DATABASE broken');
    const storeDir = join(server.home, 'data', 'databases', 'broken');
    const store = GraphStore.open(storeDir);
    let relId: number;
    try {
      const key = [...store.db.adj.getKeys({ limit: 1 })][0]!;
      relId = (key as unknown as [number, number, number, number, number])[3];
      store.db.adj.removeSync(key);
    } finally {
      store.close();
    }

    const brokenReports = join(work, 'reports-broken');
    const bad = await runAdmin(['database', 'check', `--report-path=${brokenReports}`, 'broken'], { home: server.home });
    assert.equal(bad.code, 1, `${bad.stdout}\n${bad.stderr}`);
    assert.match(bad.stdout, new RegExp(`relationship ${relId}: (outgoing|incoming) adjacency entry of node \\d+ is missing`));
    assert.match(bad.stdout, /Database 'broken' has 1 problem\(s\)\. Report: /);
    const [brokenReport] = readdirSync(brokenReports);
    assert.match(readFileSync(join(brokenReports, brokenReport!), 'utf8'), /problem: relationship \d+: (outgoing|incoming) adjacency entry/);
    assert.ok(existsSync(storeDir));
  });
});
