/**
 * Everyday sequences that once made a folder restore fewer transactions than it held, with exit 0:
 * aggregate in the middle of a chain then AUTO, two backups that raced into sibling DIFFs, a DIFF of
 * a diverged history beside the original, aggregate over a damaged newest DIFF, a FULL of an empty
 * database. Real server, real CLI, real folders; each restore is checked against what the server
 * had (node count and last transaction), and each refusal by its message.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Driver } from 'neo4j-driver';
import { backup, describeRun, graphLinesOfStore, restoreToTemp } from './support/backup-helpers.js';
import { runAdmin, startTestServer, tempDir, type TestServer } from './support/harness.js';
import { assertRefusal, truncateFile, writeTx } from './support/restore-cli.js';

let server: TestServer;
let driver: Driver;
let work: string;
let nextKey = 0;

const artifactsIn = (folder: string) => readdirSync(folder).filter((n) => n.endsWith('.backup')).sort();

/** One transaction creating `count` :W nodes; returns its transaction id. */
async function writeNodes(database: string, count: number): Promise<number> {
  const first = nextKey;
  nextKey += count;
  return writeTx(driver, database, "UNWIND range($a, $b) AS k CREATE (:W {k: k, v: 'x'})", { a: first, b: first + count - 1 });
}

async function nodeCount(database: string): Promise<number> {
  const session = driver.session({ database });
  try {
    const r = await session.run('MATCH (n:W) RETURN count(n) AS c');
    return Number(r.records[0]!.get('c'));
  } finally {
    await session.close();
  }
}

/** An AUTO/FULL/DIFF backup that must succeed; returns the artifact it wrote. */
async function backupOk(folder: string, database: string, type: 'AUTO' | 'FULL' | 'DIFF' = 'AUTO'): Promise<{ artifact: string; lowestTx: number; highestTx: number; type: string }> {
  const r = await backup(server, folder, [`--type=${type}`, '--format=json', database]);
  assert.equal(r.code, 0, describeRun(r));
  const summary = JSON.parse(r.stdout) as { databases: Array<{ artifact: string; lowestTx: number; highestTx: number; type: string }> };
  return summary.databases[0]!;
}

/** Restores the folder (or file) and returns the restored node count and last transaction, or the refusal. */
async function restoreFrom(fromPath: string): Promise<{ code: number | null; nodes: number; lastTxId: number; stdout: string; stderr: string }> {
  const { result, storeDir, cleanup } = await restoreToTemp(fromPath);
  try {
    if (result.code !== 0) return { code: result.code, nodes: -1, lastTxId: -1, stdout: result.stdout, stderr: result.stderr };
    const g = graphLinesOfStore(storeDir);
    return { code: 0, nodes: g.lines.length, lastTxId: g.lastTxId, stdout: result.stdout, stderr: result.stderr };
  } finally {
    cleanup();
  }
}

async function createDatabase(name: string): Promise<void> {
  await writeTx(driver, 'system', `CREATE DATABASE ${name}`);
}

describe('backup chains that must restore everything they hold', () => {
  before(async () => {
    server = await startTestServer();
    driver = server.driver();
    work = tempDir('quiver-chain-e2e-');
  });

  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('aggregate of a middle DIFF, then AUTO: the folder restores every transaction (finding 1)', async () => {
    await createDatabase('agg');
    const folder = join(work, 'agg');
    mkdirSync(folder);
    await writeNodes('agg', 10);
    await backupOk(folder, 'agg', 'FULL');
    await writeNodes('agg', 10);
    const d3 = await backupOk(folder, 'agg', 'DIFF');
    await writeNodes('agg', 10);
    await backupOk(folder, 'agg', 'DIFF');
    const agg = await runAdmin(['database', 'aggregate-backup', `--from-path=${join(folder, d3.artifact)}`], { home: server.home });
    assert.equal(agg.code, 0, describeRun(agg));
    await writeNodes('agg', 10);
    const lastTx = await writeNodes('agg', 0 + 1);
    const next = await backupOk(folder, 'agg');
    assert.equal(next.type, 'DIFF');
    const restored = await restoreFrom(folder);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(restored.lastTxId, lastTx, 'the restore reaches the last transaction the folder holds');
    assert.equal(restored.nodes, await nodeCount('agg'));
  });

  it('sibling DIFFs of one history (two backups that raced): restore and the next AUTO follow the longer one (finding 2)', async () => {
    await createDatabase('race');
    const folder = join(work, 'race');
    const other = join(work, 'race-other');
    mkdirSync(folder);
    await writeNodes('race', 5);
    await backupOk(folder, 'race', 'FULL');
    cpSync(folder, other, { recursive: true });
    await writeNodes('race', 5);
    await backupOk(folder, 'race');
    await writeNodes('race', 5);
    const longer = await backupOk(other, 'race');
    assert.equal(longer.type, 'DIFF');
    // The longer sibling lands in the same folder, as the second of two racing runs would have.
    copyFileSync(join(other, longer.artifact), join(folder, longer.artifact.replace('.backup', '_007.backup')));
    let restored = await restoreFrom(folder);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(restored.lastTxId, longer.highestTx);
    assert.equal(restored.nodes, 15);
    const lastTx = await writeNodes('race', 5);
    const after = await backupOk(folder, 'race');
    assert.deepEqual([after.type, after.lowestTx, after.highestTx], ['DIFF', longer.highestTx + 1, lastTx], 'AUTO continues the longer sibling');
    restored = await restoreFrom(folder);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual([restored.lastTxId, restored.nodes], [lastTx, 20]);
    assert.match(restored.stderr + restored.stdout, /WARN {2}Not restoring from "[^"]+": not needed: its transactions are also in/);
  });

  it('a DIFF of a diverged history beside the original: restore refuses naming both, verify reports it, a named artifact restores its branch (finding 3)', async () => {
    await createDatabase('fork');
    const folder = join(work, 'fork');
    const other = join(work, 'fork-other');
    mkdirSync(folder);
    mkdirSync(other);
    await writeNodes('fork', 3);
    const full = await backupOk(folder, 'fork', 'FULL');
    copyFileSync(join(folder, full.artifact), join(other, full.artifact));
    await writeNodes('fork', 3);
    await writeNodes('fork', 3);
    const original = await backupOk(folder, 'fork');
    // Restore the database to its FULL (same name, same id) and write another history.
    await writeTx(driver, 'system', 'STOP DATABASE fork');
    const r = await runAdmin(['database', 'restore', `--from-path=${join(folder, full.artifact)}`, '--overwrite-destination=true', 'fork'], { home: server.home });
    assert.equal(r.code, 0, describeRun(r));
    await writeTx(driver, 'system', 'START DATABASE fork');
    await writeNodes('fork', 4);
    await writeNodes('fork', 4);
    await writeNodes('fork', 4);
    const diverged = await backupOk(other, 'fork');
    assert.equal(diverged.type, 'DIFF');
    assert.ok(diverged.highestTx > original.highestTx, 'the diverged branch reaches further: following it silently would look plausible');
    copyFileSync(join(other, diverged.artifact), join(folder, diverged.artifact.replace('.backup', '_005.backup')));
    const divergedName = diverged.artifact.replace('.backup', '_005.backup');

    const refused = await restoreToTemp(folder);
    try {
      assertRefusal(refused.result, 1, new RegExp(`fork into two histories at tx \\d+: "${original.artifact}" and "${divergedName}"|"${divergedName}" follows a different history`), /name the artifact to restore up to in --from-path/);
    } finally {
      refused.cleanup();
    }
    const verify = await runAdmin(['backup', 'verify', `--from-path=${folder}`], { home: server.home });
    assert.equal(verify.code, 1, describeRun(verify));
    assert.match(verify.stderr + verify.stdout, /fork into two histories|follows a different history/);
    const named = await restoreFrom(join(folder, divergedName));
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual([named.lastTxId, named.nodes], [diverged.highestTx, 15]);
    // AUTO does not build on a forked folder: it starts a new chain with a FULL and says why.
    const auto = await backup(server, folder, ['--type=AUTO', 'fork']);
    assert.equal(auto.code, 0, describeRun(auto));
    assert.match(auto.stdout + auto.stderr, /Falling back to full backup of database 'fork'/);
  });

  it('aggregate over a folder whose newest DIFF is truncated refuses and removes nothing (finding 4)', async () => {
    await createDatabase('cut');
    const folder = join(work, 'cut');
    mkdirSync(folder);
    await writeNodes('cut', 3);
    await backupOk(folder, 'cut', 'FULL');
    await writeNodes('cut', 3);
    await backupOk(folder, 'cut');
    await writeNodes('cut', 3);
    const newest = await backupOk(folder, 'cut');
    const file = join(folder, newest.artifact);
    truncateFile(file, statSync(file).size - 50);
    const before = artifactsIn(folder);
    const restore = await restoreToTemp(folder);
    restore.cleanup();
    assert.equal(restore.result.code, 1, describeRun(restore.result));
    const agg = await runAdmin(['database', 'aggregate-backup', `--from-path=${folder}`, 'cut'], { home: server.home });
    assertRefusal(agg, 1, new RegExp(`"${newest.artifact}" may belong to the chain being restored but cannot be read`), /move it out of the folder/);
    assert.doesNotMatch(agg.stdout, /Successfully aggregated/);
    assert.deepEqual(artifactsIn(folder), before, 'nothing was removed or added');
  });

  it('aggregate of a folder holding only a FULL does nothing (finding 4)', async () => {
    await createDatabase('single');
    const folder = join(work, 'single');
    mkdirSync(folder);
    await writeNodes('single', 3);
    const full = await backupOk(folder, 'single', 'FULL');
    const st = statSync(join(folder, full.artifact));
    const agg = await runAdmin(['database', 'aggregate-backup', `--from-path=${folder}`, 'single'], { home: server.home });
    assert.equal(agg.code, 0, describeRun(agg));
    assert.match(agg.stdout, /Nothing to aggregate/);
    assert.doesNotMatch(agg.stdout, /Successfully aggregated/);
    assert.deepEqual(artifactsIn(folder), [full.artifact]);
    const now = statSync(join(folder, full.artifact));
    assert.deepEqual([now.ino, now.mtimeMs], [st.ino, st.mtimeMs], 'the FULL was not rewritten');
  });

  it('a FULL of a database that never had a client transaction reports the range its trailer holds, and the chain after it restores and aggregates (finding 5: a database starts at tx 1, so the tx-0 FULL cannot come from a server)', async () => {
    await createDatabase('blank');
    const folder = join(work, 'blank');
    mkdirSync(folder);
    const full = await backupOk(folder, 'blank', 'FULL');
    const inspect = await runAdmin(['database', 'backup', `--inspect-path=${join(folder, full.artifact)}`, '--format=json'], { home: server.home });
    const [row] = JSON.parse(inspect.stdout) as Array<{ lowestTx: number; highestTx: number }>;
    assert.deepEqual([full.lowestTx, full.highestTx], [row!.lowestTx, row!.highestTx], 'the summary and the trailer agree');
    assert.deepEqual([row!.lowestTx, row!.highestTx], [1, 1], 'CREATE DATABASE commits the database\'s first transaction');
    const lastTx = await writeNodes('blank', 4);
    const diff = await backupOk(folder, 'blank');
    assert.equal(diff.type, 'DIFF');
    const restored = await restoreFrom(folder);
    assert.deepEqual([restored.code, restored.lastTxId, restored.nodes], [0, lastTx, 4], restored.stderr);
    const agg = await runAdmin(['database', 'aggregate-backup', `--from-path=${folder}`, 'blank'], { home: server.home });
    assert.equal(agg.code, 0, describeRun(agg));
    const again = await restoreFrom(folder);
    assert.deepEqual([again.code, again.lastTxId, again.nodes], [0, lastTx, 4], again.stderr);
  });
});
