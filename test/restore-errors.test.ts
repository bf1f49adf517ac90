/**
 * Restore refuses bad input the way an operator needs: one error line that names the problem, a
 * hint that says what to do, a non-zero exit code, and nothing modified (destination unchanged,
 * artifacts unchanged, no staging folder left behind). Real processes: a running server for the
 * backups and for the "database is running" case, the real admin tool for every restore.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Driver } from 'neo4j-driver';
import { fullHeader, writeArtifact } from '../src/backup/artifact/artifact-test-fixtures.js';
import { logicalDigestOfStore } from '../src/storage/digest.js';
import { resolveArtifactPath } from '../src/targets/resolve.js';
import { type CliResult, runAdmin, startTestServer, tempDir, type TestServer } from './support/harness.js';
import {
  assertRefusal,
  backupCli,
  fileNameOf,
  flipByte,
  type InspectedArtifact,
  inspectCli,
  firstBlockByte,
  stagingLeftovers,
  treeSnapshot,
  truncateFile,
  writeSampleGraph,
  writeTx,
} from './support/restore-cli.js';

let server: TestServer;
let driver: Driver;
let work: string;
/** neo4j: FULL, DIFF, DIFF. */
let chainFolder: string;
let chain: InspectedArtifact[];
/** FULL artifacts of alpha and beta (two database ids). */
let twoDatabases: string;
/** gamma backed up, dropped, recreated and backed up again: one name, two database ids. */
let recreated: string;
let caseCount = 0;
const destinationHint = 'give a folder that exists or can be created, on a writable file system';

interface Case {
  /** A private copy of the backups the case damages. */
  backups: string;
  /** Destination base folder, with an unrelated database already in it. */
  dest: string;
  /** Runs `database restore` into `dest` with `args` (plus --to-path-data / --to-path-txn). */
  restore(args: string[], options?: { intoServerHome?: boolean }): Promise<CliResult>;
  /** Asserts that backups and destination are exactly as before and no staging folder remains. */
  assertNothingModified(): void;
}

function newCase(source: string): Case {
  const root = join(work, `case-${++caseCount}`);
  const backups = join(root, 'backups');
  cpSync(source, backups, { recursive: true });
  const dest = join(root, 'dest');
  mkdirSync(join(dest, 'data', 'databases', 'unrelated'), { recursive: true });
  writeFileSync(join(dest, 'data', 'databases', 'unrelated', 'keep.txt'), 'an unrelated database\n');
  let backupsBefore: string[] | null = null;
  let destBefore: string[] | null = null;
  const snapshot = () => {
    backupsBefore = treeSnapshot(backups);
    destBefore = treeSnapshot(dest);
  };
  return {
    backups,
    dest,
    async restore(args) {
      snapshot();
      return runAdmin(['database', 'restore', `--to-path-data=${join(dest, 'data')}`, `--to-path-txn=${join(dest, 'transactions')}`, ...args], { home: server.home });
    },
    assertNothingModified() {
      assert.ok(backupsBefore && destBefore, 'restore() ran');
      assert.deepEqual(treeSnapshot(backups), backupsBefore, 'the artifacts are unchanged');
      assert.deepEqual(treeSnapshot(dest), destBefore, 'the destination is unchanged');
      assert.deepEqual([...stagingLeftovers(dest), ...stagingLeftovers(backups), ...stagingLeftovers(server.home)], [], 'no staging folder is left behind');
    },
  };
}

const nameOf = (i: number) => fileNameOf(chain[i]!);

describe('restore refuses bad input clearly and modifies nothing', () => {
  before(async () => {
    server = await startTestServer();
    driver = server.driver();
    work = tempDir('quiver-restore-errors-');
    chainFolder = join(work, 'chain');
    twoDatabases = join(work, 'two-databases');
    recreated = join(work, 'recreated');
    for (const f of [chainFolder, twoDatabases, recreated]) mkdirSync(f);

    await writeSampleGraph(driver, 'neo4j', 0, 2);
    await backupCli(server, chainFolder, 'FULL', 'neo4j');
    await writeSampleGraph(driver, 'neo4j', 20, 2);
    await backupCli(server, chainFolder, 'DIFF', 'neo4j');
    await writeSampleGraph(driver, 'neo4j', 40, 2);
    await backupCli(server, chainFolder, 'DIFF', 'neo4j');
    chain = await inspectCli(chainFolder);
    assert.deepEqual(chain.map((a) => a.kind), ['FULL', 'DIFF', 'DIFF']);

    for (const [db, batches] of [['alpha', 1], ['beta', 3]] as const) {
      await writeTx(driver, 'system', `CREATE DATABASE ${db}`);
      await writeSampleGraph(driver, db, 0, batches);
      await backupCli(server, twoDatabases, 'FULL', db);
    }

    await writeTx(driver, 'system', 'CREATE DATABASE gamma');
    await writeSampleGraph(driver, 'gamma', 0, 1);
    await backupCli(server, recreated, 'FULL', 'gamma');
    await writeTx(driver, 'system', 'DROP DATABASE gamma');
    await writeTx(driver, 'system', 'CREATE DATABASE gamma');
    await writeSampleGraph(driver, 'gamma', 500, 3);
    await backupCli(server, recreated, 'FULL', 'gamma');
  });

  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('refuses a chain with a missing artifact in the middle, naming the missing transactions', async () => {
    const c = newCase(chainFolder);
    unlinkSync(join(c.backups, nameOf(1)));
    const r = await c.restore([`--from-path=${c.backups}`, 'restored']);
    assertRefusal(r, 1, new RegExp(`transactions ${chain[1]!.lowestTx}\\.\\.${chain[1]!.highestTx} are missing`), new RegExp(`restore up to "${nameOf(0)}"|find the missing artifact`));
    c.assertNothingModified();

    const named = await c.restore([`--from-path=${join(c.backups, nameOf(2))}`, 'restored']);
    assertRefusal(named, 1, new RegExp(`cannot restore "${nameOf(2)}": .*are missing`), /same folder/);
    c.assertNothingModified();
  });

  it('with artifacts of two databases, restores the one named and asks for --source-database otherwise', async () => {
    const c = newCase(twoDatabases);
    const [alpha, beta] = await inspectCli(c.backups);
    assert.deepEqual([alpha!.databaseName, beta!.databaseName], ['alpha', 'beta']);
    assert.notEqual(alpha!.databaseId, beta!.databaseId);

    const ambiguous = await c.restore([`--from-path=${c.backups}`, 'restored']);
    assertRefusal(ambiguous, 64, /--from-path holds backups of several databases \(alpha, beta\)/, /--source-database=<name>/);
    c.assertNothingModified();

    const unknown = await c.restore([`--from-path=${c.backups}`, '--source-database=delta', 'restored']);
    assertRefusal(unknown, 1, /no backup chain of database "delta" at --from-path \(found: alpha, beta\)/);
    c.assertNothingModified();

    for (const [args, name] of [[['--source-database=beta', 'restored'], 'restored'], [['beta'], 'beta']] as const) {
      const r = await c.restore([`--from-path=${c.backups}`, '--format=json', ...args]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const result = JSON.parse(r.stdout) as { database: string; databaseId: string; lastTxId: number };
      assert.deepEqual([result.database, result.lastTxId], [name, beta!.highestTx]);
      // Restored under its own name it keeps its id; under another name it is a new database.
      if (name === 'beta') assert.equal(result.databaseId, beta!.databaseId);
      else assert.notEqual(result.databaseId, beta!.databaseId);
    }
  });

  it('with one name under two database ids (dropped and recreated), restores the newest', async () => {
    const c = newCase(recreated);
    const [old, current] = await inspectCli(c.backups);
    assert.notEqual(old!.databaseId, current!.databaseId);
    const r = await c.restore([`--from-path=${c.backups}`, '--format=json', 'gamma']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as { databaseId: string; lastTxId: number };
    assert.deepEqual([result.databaseId, result.lastTxId], [current!.databaseId, current!.highestTx]);
  });

  for (const [what, index] of [['the full artifact', 0], ['a differential artifact', 1]] as const) {
    it(`refuses ${what} with a flipped payload byte, naming it and the damaged block`, async () => {
      const c = newCase(chainFolder);
      const file = join(c.backups, nameOf(index));
      flipByte(file, firstBlockByte(chain[index]!));
      const r = await c.restore([`--from-path=${c.backups}`, 'restored']);
      assertRefusal(r, 1, new RegExp(`artifact "${nameOf(index)}" is corrupt: block \\d+ at offset \\d+`), /cannot be trusted/);
      c.assertNothingModified();
    });
  }

  it('refuses a chain whose full artifact has a damaged header, naming it', async () => {
    const c = newCase(chainFolder);
    flipByte(join(c.backups, nameOf(0)), 20);
    const r = await c.restore([`--from-path=${c.backups}`, 'restored']);
    assertRefusal(r, 1, new RegExp(`"${nameOf(0)}".*corrupt`));
    c.assertNothingModified();
  });

  it('refuses a truncated artifact, whether named or found in the folder', async () => {
    const c = newCase(chainFolder);
    const file = join(c.backups, nameOf(2));
    truncateFile(file, firstBlockByte(chain[2]!));
    const named = await c.restore([`--from-path=${file}`, 'restored']);
    assertRefusal(named, 1, new RegExp(`artifact "${nameOf(2)}" is truncated`), /cannot be trusted/);
    c.assertNothingModified();
    // In a folder it must not be skipped silently: it may hold the newest transactions.
    const inFolder = await c.restore([`--from-path=${c.backups}`, 'restored']);
    assertRefusal(inFolder, 1, new RegExp(`"${nameOf(2)}".*truncated`), new RegExp(`move it out of the folder|name the artifact`));
    c.assertNothingModified();
    // Naming the artifact before it restores what is intact.
    const ok = await c.restore([`--from-path=${join(c.backups, nameOf(1))}`, '--format=json', 'restored']);
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.equal((JSON.parse(ok.stdout) as { lastTxId: number }).lastTxId, chain[1]!.highestTx);
    // So does a point the damaged artifact is not needed for.
    const point = await c.restore([`--from-path=${c.backups}`, `--restore-until=${chain[1]!.highestTx}`, '--format=json', 'earlier']);
    assert.equal(point.code, 0, `${point.stdout}\n${point.stderr}`);
    assert.equal((JSON.parse(point.stdout) as { lastTxId: number }).lastTxId, chain[1]!.highestTx - 1);
  });

  it('refuses a full artifact whose checksums hold but whose payload is not a store image this version restores', async () => {
    const folder = tempDir('quiver-restore-format-');
    try {
      const { target } = await resolveArtifactPath(folder);
      // Intact blocks, digest and trailer: only the payload's meaning is wrong.
      await writeArtifact(target, 'neo4j-2026-01-01T00-00-00.backup', Buffer.alloc(64 * 1024, 7), { header: fullHeader({ databaseName: 'neo4j', payloadFormat: 'lmdb-pages-v1' }) });
      await writeArtifact(target, 'neo4j-2026-01-01T00-00-01.backup', Buffer.alloc(1000, 1), { header: fullHeader({ databaseName: 'neo4j', payloadFormat: 'snapshot-v1' }) });
      const dest = join(folder, 'dest');
      const args = (file: string) => ['database', 'restore', `--from-path=${join(folder, file)}`, `--to-path-data=${join(dest, 'data')}`, `--to-path-txn=${join(dest, 'tx')}`, 'restored'];
      const notLmdb = await runAdmin(args('neo4j-2026-01-01T00-00-00.backup'), { home: server.home });
      assertRefusal(notLmdb, 1, /artifact "neo4j-2026-01-01T00-00-00.backup" is damaged: its store image is not a usable LMDB data file: page at byte 0 is not a meta page/);
      const oldFormat = await runAdmin(args('neo4j-2026-01-01T00-00-01.backup'), { home: server.home });
      assertRefusal(oldFormat, 1, /has payload format "snapshot-v1", this version restores "lmdb-pages-v1"/, /take a new FULL backup/);
      assert.deepEqual(readdirSync(folder).sort(), ['dest', 'neo4j-2026-01-01T00-00-00.backup', 'neo4j-2026-01-01T00-00-01.backup']);
      // Only the (empty) base folder of stores was created: no store, no log, no staging folder.
      assert.deepEqual(treeSnapshot(dest), ['data/', 'data/databases/']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses --restore-until before the full artifact\'s last transaction', async () => {
    const c = newCase(chainFolder);
    const r = await c.restore([`--from-path=${c.backups}`, `--restore-until=${chain[0]!.highestTx}`, 'restored']);
    assertRefusal(r, 1, new RegExp(`the full artifact "${nameOf(0)}" already contains transaction ${chain[0]!.highestTx}`), /older full backup|later --restore-until/);
    c.assertNothingModified();
    const early = new Date(chain[0]!.highestTxCommitTimeMs - 1000).toISOString().slice(0, 19).replace('T', ' ');
    const byTime = await c.restore([`--from-path=${c.backups}`, `--restore-until=${early}`, 'restored']);
    assertRefusal(byTime, 1, /already contains transaction/);
    c.assertNothingModified();
  });

  it('refuses a malformed --restore-until with the accepted forms', async () => {
    const c = newCase(chainFolder);
    const r = await c.restore([`--from-path=${c.backups}`, '--restore-until=yesterday', 'restored']);
    assertRefusal(r, 64, /invalid --restore-until "yesterday"/, /transaction id such as 123 or a UTC time/);
    c.assertNothingModified();
  });

  it('refuses an existing destination without --overwrite-destination', async () => {
    const c = newCase(chainFolder);
    const first = await c.restore([`--from-path=${c.backups}`, 'restored']);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    const again = await c.restore([`--from-path=${c.backups}`, 'restored']);
    assertRefusal(again, 1, /cannot restore database "restored": destination ".*restored" is not empty/, /--overwrite-destination=true/);
    c.assertNothingModified();
  });

  it('puts the replaced database back when moving the restored one into place fails', async () => {
    const c = newCase(chainFolder);
    const restoreTo = (txn: string, until: number) =>
      runAdmin(['database', 'restore', `--from-path=${c.backups}`, `--to-path-data=${join(c.dest, 'data')}`, `--to-path-txn=${txn}`, `--restore-until=${until}`, '--overwrite-destination=true', 'restored'], { home: server.home });
    const good = await restoreTo(join(c.dest, 'transactions'), chain[1]!.highestTx + 1);
    assert.equal(good.code, 0, `${good.stdout}\n${good.stderr}`);
    const storeDir = join(c.dest, 'data', 'databases', 'restored');
    const before = treeSnapshot(c.dest);
    // The transaction log destination cannot be created: its parent is a file.
    const blocker = join(c.dest, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const beforeWithBlocker = treeSnapshot(c.dest);
    const r = await restoreTo(blocker, chain[2]!.highestTx + 1);
    assertRefusal(r, 1, /cannot move the restored database into place.*the destination was left as it was/);
    assert.deepEqual(treeSnapshot(c.dest), beforeWithBlocker, 'the replaced database is back, unchanged');
    assert.deepEqual(stagingLeftovers(c.dest), []);
    assert.equal(logicalDigestOfStore(storeDir).lastTxId, chain[1]!.highestTx);
    assert.ok(before.length > 0);
  });

  it('refuses a --to-path-data that is a regular file, or lies under one, with exit 1 naming it (never 70)', async () => {
    const c = newCase(chainFolder);
    const file = join(c.dest, 'a-file');
    writeFileSync(file, 'x');
    for (const toPathData of [file, join(file, 'below')]) {
      const r = await runAdmin(['database', 'restore', `--from-path=${c.backups}`, `--to-path-data=${toPathData}`, `--to-path-txn=${join(c.dest, 'transactions')}`, 'restored'], { home: server.home });
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.equal(r.stderr, `error: cannot restore database "restored" into --to-path-data "${toPathData}": "${file}" is not a folder\nhint: ${destinationHint}\n`);
    }
    assert.deepEqual(stagingLeftovers(c.dest), []);
  });

  it('refuses a --to-path-data on a read-only file system with exit 1 naming it (never 70)', async (t) => {
    const c = newCase(chainFolder);
    const readOnly = join(c.dest, 'read-only');
    mkdirSync(readOnly);
    let undo: () => void;
    let problem: string;
    if (process.getuid?.() !== 0) {
      chmodSync(readOnly, 0o555);
      undo = () => chmodSync(readOnly, 0o755);
      problem = 'is not writable by this user';
    } else {
      // Root writes through mode bits: only a read-only mount denies it.
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', readOnly], { stdio: 'pipe' });
      } catch (e) {
        t.skip(`running as root and cannot mount a read-only tmpfs (${(e as Error).message.split('\n')[0]})`);
        return;
      }
      undo = () => execFileSync('umount', [readOnly]);
      problem = 'is on a read-only file system';
    }
    try {
      const toPathData = join(readOnly, 'data');
      const r = await runAdmin(['database', 'restore', `--from-path=${c.backups}`, `--to-path-data=${toPathData}`, `--to-path-txn=${join(c.dest, 'transactions')}`, 'restored'], { home: server.home });
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.equal(r.stderr, `error: cannot restore database "restored" into --to-path-data "${toPathData}": "${readOnly}" ${problem}\nhint: ${destinationHint}\n`);
    } finally {
      undo();
    }
  });

  it('refuses to replace a database that is online on the local server, with the STOP DATABASE hint', async () => {
    const storeDir = join(server.home, 'data', 'databases', 'neo4j');
    const logDir = join(server.home, 'data', 'transactions', 'neo4j');
    const before = [treeSnapshot(storeDir), treeSnapshot(logDir)];
    for (const overwrite of [[], ['--overwrite-destination=true']]) {
      const r = await runAdmin(['database', 'restore', `--from-path=${chainFolder}`, ...overwrite, 'neo4j'], { home: server.home });
      assertRefusal(r, 3, /database "neo4j" is running on the local server/, /STOP DATABASE neo4j/);
    }
    assert.deepEqual([treeSnapshot(storeDir), treeSnapshot(logDir)], before);
    assert.deepEqual(stagingLeftovers(join(server.home, 'data')), []);
  });

  it('refuses an unreadable backup folder (skipped when running as root, where mode 000 does not deny reads)', async (t) => {
    const c = newCase(chainFolder);
    chmodSync(c.backups, 0o000);
    try {
      let readable = true;
      try {
        readdirSync(c.backups);
      } catch {
        readable = false;
      }
      if (readable) {
        t.skip(`mode 000 does not deny this user (uid ${process.getuid?.()}) reading: nothing to test`);
        return;
      }
      const r = await c.restore([`--from-path=${c.backups}`, 'restored']);
      assertRefusal(r, 1, /is not readable by this user/, /owner and mode/);
    } finally {
      chmodSync(c.backups, 0o755);
    }
    c.assertNothingModified();
  });

  it('with --restore-until past the end, restores everything and says so', async () => {
    const c = newCase(chainFolder);
    const last = chain[2]!;
    const r = await c.restore([`--from-path=${c.backups}`, `--restore-until=${last.highestTx + 100}`, 'restored']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`The requested restore point is after the last transaction in the chain \\(tx ${last.highestTx}, committed [^)]+\\): everything the chain holds was restored\\.`));
    assert.match(r.stdout, new RegExp(`up to transaction ${last.highestTx} `));
    const byTime = await c.restore([`--from-path=${c.backups}`, '--restore-until=2999-01-01 00:00:00', '--overwrite-destination=true', 'restored']);
    assert.equal(byTime.code, 0, `${byTime.stdout}\n${byTime.stderr}`);
    assert.match(byTime.stdout, /after the last transaction in the chain/);
    assert.equal(logicalDigestOfStore(join(c.dest, 'data', 'databases', 'restored')).lastTxId, last.highestTx);
  });
});
