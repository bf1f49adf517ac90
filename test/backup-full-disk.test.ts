/**
 * A backup into a target whose file system fills up mid-artifact: a real 2 MiB tmpfs (mounted
 * here; the suite is skipped where this process may not mount) and a store image of about 5 MB of
 * barely compressible data. The run must fail with exit 1 and a one-line reason that says the
 * disk is full, leave nothing that looks like an artifact (the temporary file is removed, or kept
 * under its temporary name with --keep-failed), and the next run, with room, must succeed.
 * Restoring onto a file system that fills up must say so, and never call the artifact damaged.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { backup, describeRun, finishedArtifacts, logLine, tempFolders, withSession, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { runAdmin, startTestServer, tempDir, type TestServer } from './support/harness.js';

/** Mounts a tmpfs of `size` on a new folder, or says why it cannot. */
function mountSmallFileSystem(size: string): { dir: string; unmount: () => void } | string {
  const dir = tempDir('quiver-full-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a small tmpfs here (${(e as Error).message.split('\n')[0]})`;
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const probe = mountSmallFileSystem('64k');
const skip = typeof probe === 'string' ? probe : false;
if (typeof probe !== 'string') probe.unmount();

describe('a backup target that runs out of space', { skip }, () => {
  let server: TestServer;
  let full: { dir: string; unmount: () => void };
  const folders = tempFolders();

  before(async () => {
    server = await startTestServer();
    await writeBarelyCompressibleNodes(server, 'neo4j', 15);
    const mounted = mountSmallFileSystem('2m');
    if (typeof mounted === 'string') throw new Error(mounted);
    full = mounted;
  });

  // Each test starts on an empty small file system.
  beforeEach(() => {
    for (const n of readdirSync(full.dir)) rmSync(`${full.dir}/${n}`, { recursive: true, force: true });
  });

  after(async () => {
    full?.unmount();
    await server?.stop();
    server?.cleanup();
    folders.removeAll();
  });

  it('fails with exit 1 and says the file system is full, leaves no artifact, and the next run with room succeeds', async () => {
    const r = await backup(server, full.dir, ['--type=FULL', 'neo4j']);
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stdout, logLine('ERROR', /Backup of database 'neo4j' failed: cannot (write|commit) artifact "neo4j-[^"]+\.backup" in "[^"]+": the file system is full: ENOSPC: no space left on device.*/));
    assert.match(r.stdout, /check the free space and permissions of --to-path/);
    assert.deepEqual(finishedArtifacts(r.stdout, 'neo4j'), []);
    assert.deepEqual(readdirSync(full.dir), [], 'the partial file is removed, freeing the space it took');

    // The same target, still too small: a DIFF has no full to build on, AUTO takes a FULL and fails the same way.
    const auto = await backup(server, full.dir, ['neo4j']);
    assert.equal(auto.code, 1, describeRun(auto));
    assert.match(auto.stdout, /the file system is full/);
    assert.deepEqual(readdirSync(full.dir), []);

    const roomy = folders.folder();
    const ok = await backup(server, roomy, ['--type=FULL', 'neo4j']);
    assert.equal(ok.code, 0, describeRun(ok));
    assert.equal(finishedArtifacts(ok.stdout, 'neo4j').length, 1);
  });

  it('with --keep-failed, keeps what it could in a .failed folder, says so, and still reports the full disk', async () => {
    const r = await backup(server, full.dir, ['--type=FULL', '--keep-failed', 'neo4j']);
    assert.equal(r.code, 1, describeRun(r));
    // The copy kept for analysis shares the full file system: whatever happens to it, the reason
    // reported is the artifact's, and the log says what was kept.
    assert.match(r.stdout, logLine('ERROR', /Backup of database 'neo4j' failed: cannot (write|commit) artifact "neo4j-[^"]+\.backup" in "[^"]+": the file system is full: .*/));
    assert.match(r.stdout, logLine('WARN', /--keep-failed: (the received payload and the reason are kept|only part of the failed run, if anything, is kept) in "[^"]+\.backup\.failed".*/));
    const left = readdirSync(full.dir);
    assert.ok(left.every((n) => /^\.neo4j-[^/]+\.backup\.failed$/.test(n)), `left: ${left.join(', ')}`);
  });

  /** `quiver-admin database restore` of `from` into data and log folders on `fs`, in a server-less home. */
  const restoreOnto = (from: string, fs: string, name: string) =>
    runAdmin(['database', 'restore', `--from-path=${from}`, `--to-path-data=${fs}/data`, `--to-path-txn=${fs}/txn`, name], { home: tempDir('quiver-full-disk-home-') });

  it('a restore whose store image does not fit says the file system is full and that the artifact is fine', async () => {
    const from = folders.folder();
    assert.equal((await backup(server, from, ['--type=FULL', 'neo4j'])).code, 0);
    const r = await restoreOnto(from, full.dir, 'restored');
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stderr, /^error: cannot write the store image of "neo4j-[^"]+\.backup" to disk: the file system is full: ENOSPC/m);
    assert.match(r.stderr, /^hint: the artifact is fine/m);
    assert.doesNotMatch(r.stderr + r.stdout, /corrupt|damaged|cannot be trusted/);
    assert.deepEqual(readdirSync(`${full.dir}/data/databases`), [], 'the staged store is removed');
  });

  it('a restore whose replay does not fit reports the disk, not the differential', async () => {
    // A small FULL (its image fits) and a large DIFF (its replay does not).
    const driver = server.driver();
    try {
      await withSession(driver, 'system', (run) => run('CREATE DATABASE grows'));
    } finally {
      await driver.close();
    }
    await writeBarelyCompressibleNodes(server, 'grows', 2);
    const from = folders.folder();
    assert.equal((await backup(server, from, ['--type=FULL', 'grows'])).code, 0);
    await writeBarelyCompressibleNodes(server, 'grows', 12);
    assert.equal((await backup(server, from, ['--type=DIFF', 'grows'])).code, 0);
    const r = await restoreOnto(from, full.dir, 'grows2');
    assert.equal(r.code, 1, describeRun(r));
    assert.match(r.stdout, /Wrote the store image of 'grows-/, 'the image fitted; the replay is what failed');
    assert.match(r.stderr, /^error: cannot write the restored database at "[^"]+": /m);
    assert.match(r.stderr, /^hint: the artifacts are fine: check the free space/m);
    assert.doesNotMatch(r.stderr + r.stdout, /corrupt|damaged|cannot be trusted/);
    assert.deepEqual(readdirSync(`${full.dir}/data/databases`), [], 'the staged store is removed');
    const ok = await restoreOnto(from, folders.folder(), 'grows2');
    assert.equal(ok.code, 0, describeRun(ok));
  });

  it('a full --temp-path fails only the copy --keep-failed makes, not a backup that succeeds', async () => {
    const roomy = folders.folder();
    const r = await backup(server, roomy, ['--type=FULL', '--keep-failed', `--temp-path=${full.dir}`, 'neo4j']);
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(finishedArtifacts(r.stdout, 'neo4j').length, 1);
    assert.deepEqual(readdirSync(full.dir), [], 'the copy of a successful run is removed');
  });
});
