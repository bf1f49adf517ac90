/**
 * Backups that go wrong: the backup client SIGKILLed mid-transfer, the server SIGKILLed
 * mid-transfer (with and without --keep-failed), and damaged artifacts in the target (one flipped
 * byte, a truncated file). Whatever happens, the target never holds a file that looks like an
 * artifact but is not a complete one, and the next backup run works.
 *
 * The server sends at most 1 MiB/s of store (server.backup.max_rate) and its store image is
 * about 5 MB of barely compressible data sent in 1 MiB blocks, so a full backup takes about 5 s
 * (two workers at 512 KiB/s each: the first blocks arrive after 2 s, the next 2 s later): the kills below land
 * well inside the transfer.
 */
import assert from 'node:assert/strict';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backup, describeRun, escapeRegExp, finishedArtifacts, logLine, parseInspectTable, spawnAdmin, tempFolders, waitFor, withSession, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { runAdmin, startTestServer, type TestServer } from './support/harness.js';

/** Temporary names of the file target: `.<artifact>.partial-<host tag>-<pid>-<16 hex>` (docs/backup-format.md). */
const partialName = /^\.[^/]+\.backup\.partial-[0-9a-f]{8}-\d+-[0-9a-f]{16}$/;

describe('interrupted backups and damaged artifacts', () => {
  let server: TestServer;
  const folders = tempFolders();
  const folder = folders.folder;
  const inspect = (path: string) => runAdmin(['database', 'backup', `--inspect-path=${path}`], { home: server.home });

  /** Starts a backup of neo4j into `to` and resolves once its artifact is being written (snapshot streaming). */
  async function backupInFlight(to: string, extra: string[] = []) {
    const run = spawnAdmin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${to}`, ...extra, 'neo4j'], server.home);
    await waitFor('the backup to start writing its artifact', () => readdirSync(to).some((n) => partialName.test(n)));
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

  it('leaves only an ignored temporary file when the client is killed mid-transfer; the next run removes it and succeeds', async () => {
    const to = folder();
    const run = await backupInFlight(to);
    await new Promise((r) => setTimeout(r, 500));
    run.proc.kill('SIGKILL');
    const killed = await run.exited;
    assert.equal(killed.signal, 'SIGKILL');
    assert.doesNotMatch(killed.stdout, /Finished artifact creation/);
    await waitFor('the server to notice', () => server.output.includes('snapshot stream closed by the client before the end'));

    // The killed client could not release its lock either (test/backup-lock.test.ts breaks it).
    const left = readdirSync(to).filter((n) => n !== '.neo4j.lock');
    assert.ok(readdirSync(to).includes('.neo4j.lock'), 'the lock of the killed client is left');
    assert.equal(left.length, 1, `left: ${left.join(', ')}`);
    assert.match(left[0]!, partialName);
    assert.ok(!left.some((n) => n.endsWith('.backup')), 'nothing that looks like an artifact');

    const before = await inspect(to);
    assert.equal(before.code, 0, describeRun(before));
    assert.deepEqual(parseInspectTable(before.stdout).rows, []);

    const next = await backup(server, to, ['neo4j']);
    assert.equal(next.code, 0, describeRun(next));
    assert.match(next.stdout, logLine('INFO', `Removed the unfinished file "${left[0]!}" of an interrupted earlier backup.`));
    assert.match(next.stdout, logLine('INFO', "Start full backup of database 'neo4j'."));
    const rows = parseInspectTable((await inspect(to)).stdout).rows;
    assert.deepEqual(rows.map((r) => [r.FULL, r['LOWEST TX']]), [['true', '1']]);
    assert.deepEqual(readdirSync(to).filter((n) => n.startsWith('.')), [], 'the temporary file and the stale lock are gone');
  });

  it('exits 1 with a clear message and leaves nothing when the server is killed mid-transfer', async () => {
    const to = folder();
    const run = await backupInFlight(to);
    await new Promise((r) => setTimeout(r, 500));
    await server.kill();
    const failed = await run.exited;
    try {
      assert.equal(failed.code, 1, describeRun(failed));
      assert.match(
        failed.stdout,
        logLine('ERROR', new RegExp(`Backup of database 'neo4j' failed: store snapshot of "neo4j" from ${escapeRegExp(server.backupAddress)} was interrupted: .+ \\(check that the server at ${escapeRegExp(server.backupAddress)} is still running and what its log says about the backup, then run the backup again\\)`)),
      );
      assert.doesNotMatch(failed.stdout, /trying the next server/);
      assert.match(failed.stdout, /^0 of 1 database\(s\) backed up\.$/m);
      assert.deepEqual(readdirSync(to), [], 'the temporary file is removed');
    } finally {
      await server.start();
    }
  });

  for (const where of ['--temp-path', '--to-path'] as const) {
    it(`--keep-failed=true keeps the received payload and the reason in ${where}, and says where`, async () => {
      // A space in the path: the kept folder must be that folder, not a percent-encoded sibling.
      const to = join(folder(), 'backups of prod');
      mkdirSync(to);
      const temp = join(folder(), 'kept failures');
      const run = await backupInFlight(to, ['--keep-failed=true', ...(where === '--temp-path' ? [`--temp-path=${temp}`] : [])]);
      const partial = readdirSync(to).find((n) => partialName.test(n))!;
      const artifactName = partial.slice(1, partial.indexOf('.partial-'));
      const kept = join(where === '--temp-path' ? temp : to, `.${artifactName}.failed`);
      // The kept payload grows as blocks arrive: wait for the first one, then kill the server while
      // it waits, rate-limited, to send the rest.
      await waitFor('the first block', () => existsSync(join(kept, 'payload.bin')) && statSync(join(kept, 'payload.bin')).size >= 64 * 1024);
      await server.kill();
      const failed = await run.exited;
      try {
        assert.equal(failed.code, 1, describeRun(failed));
        assert.match(failed.stdout, logLine('WARN', `--keep-failed: the received payload and the reason are kept in "${kept}"`));
        assert.ok(statSync(join(kept, 'payload.bin')).size >= 64 * 1024);
        assert.match(readFileSync(join(kept, 'reason.txt'), 'utf8'), /^QuiverError: store snapshot of "neo4j" from .* was interrupted/);
        const left = readdirSync(to);
        assert.deepEqual(left, where === '--temp-path' ? [] : [`.${artifactName}.failed`], 'no artifact and no temporary file');
        // A kept folder in --to-path is hidden from listings.
        assert.deepEqual(parseInspectTable((await inspect(to)).stdout).rows, []);
      } finally {
        await server.start();
      }
      if (where === '--to-path') {
        const succeeded = await backup(server, to, ['--keep-failed=true', 'neo4j']);
        assert.equal(succeeded.code, 0, describeRun(succeeded));
        const made = finishedArtifacts(succeeded.stdout, 'neo4j');
        assert.deepEqual(readdirSync(to).filter((n) => !n.endsWith('.failed')), made, 'a successful run keeps nothing');
      }
    });
  }

  it('fails the backup, leaving nothing, when the database is stopped while its store image is read', async () => {
    const to = folder();
    const run = await backupInFlight(to, ['--type=FULL']);
    await new Promise((r) => setTimeout(r, 300));
    const driver = server.driver();
    try {
      // Stopping ends the read transaction that pins the image's pages: the image could mix states.
      await withSession(driver, 'system', (cypher) => cypher('STOP DATABASE neo4j'));
      const failed = await run.exited;
      assert.equal(failed.code, 1, describeRun(failed));
      assert.match(failed.stdout, logLine('ERROR', /Backup of database 'neo4j' failed: store snapshot of "neo4j" from .+ failed on the server: database "neo4j" was stopped while its store image was being read \(run the backup again once the database is online\)/));
      assert.deepEqual(readdirSync(to), [], 'no artifact and no temporary file');
      await waitFor('the server to log why', () => server.output.includes('database "neo4j" was stopped while its store image was being read; the snapshot stream ends with this error'));
      await withSession(driver, 'system', (cypher) => cypher('START DATABASE neo4j'));
    } finally {
      await driver.close();
    }
    const again = await backup(server, to, ['--type=FULL', 'neo4j']);
    assert.equal(again.code, 0, describeRun(again));
  });

  it('fails the backup saying the database was dropped, leaving nothing, when it is dropped while its store image is read', async () => {
    const driver = server.driver();
    try {
      await withSession(driver, 'system', (cypher) => cypher('CREATE DATABASE doomed'));
      await writeBarelyCompressibleNodes(server, 'doomed', 15);
      const to = folder();
      const run = spawnAdmin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${to}`, '--type=FULL', 'doomed'], server.home);
      await waitFor('the backup to start writing its artifact', () => readdirSync(to).some((n) => partialName.test(n)));
      await new Promise((r) => setTimeout(r, 300));
      await withSession(driver, 'system', (cypher) => cypher('DROP DATABASE doomed'));
      const failed = await run.exited;
      assert.equal(failed.code, 1, describeRun(failed));
      assert.match(
        failed.stdout,
        logLine('ERROR', /Backup of database 'doomed' failed: store snapshot of "doomed" from .+ failed on the server: database "doomed" was dropped while its store image was being read \(there is nothing left to back up: if the drop was a mistake, restore the database from an earlier backup\)/),
      );
      assert.doesNotMatch(failed.stdout, /once the database is online/);
      assert.deepEqual(readdirSync(to), [], 'no artifact and no temporary file');
      await waitFor('the server to log why', () => server.output.includes('database "doomed" was dropped while its store image was being read; the snapshot stream ends with this error'));
    } finally {
      await driver.close();
    }
  });

  it('server.backup.max_rate also paces differential backups', async () => {
    const to = folder();
    const full = await backup(server, to, ['neo4j']);
    assert.equal(full.code, 0, describeRun(full));
    const driver = server.driver();
    try {
      const pad = 'd'.repeat(1000);
      await withSession(driver, 'neo4j', async (run) => {
        for (let k = 0; k < 3; k++) await run('UNWIND range(1, 500) AS i CREATE (:D {i: i, pad: $pad})', { pad });
      });
    } finally {
      await driver.close();
    }
    const diff = await backup(server, to, ['--format=json', 'neo4j']);
    assert.equal(diff.code, 0, describeRun(diff));
    const d = (JSON.parse(diff.stdout) as { databases: Array<{ type: string; bytesRaw: number; durationMs: number }> }).databases[0]!;
    assert.equal(d.type, 'DIFF');
    assert.ok(d.bytesRaw > 1024 * 1024, `DIFF payload ${d.bytesRaw} B`);
    // The first MiB goes at once, the rest once the rate allows: at least (bytes - 1 MiB) / 512 KiB/s.
    const minMs = ((d.bytesRaw - 1024 * 1024) / (512 * 1024)) * 1000;
    assert.ok(d.durationMs >= minMs * 0.9, `DIFF of ${d.bytesRaw} B took ${d.durationMs} ms, expected at least ${Math.round(minMs)} ms`);
  });

  it('reports a flipped byte and a truncated artifact in --inspect-path and ignores them in the next backup', async () => {
    const to = folder();
    const full = await backup(server, to, ['neo4j']);
    assert.equal(full.code, 0, describeRun(full));
    const good = finishedArtifacts(full.stdout, 'neo4j')[0]!;
    const flipped = 'neo4j-2001-01-01T00-00-00.backup';
    const truncated = 'neo4j-2001-01-01T00-00-01.backup';
    for (const name of [flipped, truncated]) {
      copyFileSync(join(to, good), join(to, name));
      chmodSync(join(to, name), 0o644);
    }
    // One byte of the header JSON (offset 40 is inside `"databaseName":...`).
    const fd = openSync(join(to, flipped), 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 40);
    writeSync(fd, Buffer.from([byte[0]! ^ 0x01]), 0, 1, 40);
    closeSync(fd);
    const size = statSync(join(to, truncated)).size;
    truncateSync(join(to, truncated), size - 50);

    const r = await inspect(to);
    assert.equal(r.code, 1, describeRun(r));
    const table = parseInspectTable(r.stdout);
    assert.equal(table.header, '| FILE | DATABASE | DATABASE ID | TIME (UTC) | FULL | COMPRESSED | LOWEST TX | HIGHEST TX | ERROR |');
    assert.deepEqual(table.rows.map((row) => row.FILE), [good, flipped, truncated].map((n) => `file://${join(to, n)}`));
    assert.equal(table.rows[0]!.ERROR, '');
    assert.match(table.rows[1]!.ERROR!, new RegExp(`^artifact "${flipped}" is corrupt: header checksum mismatch \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)$`));
    assert.equal(table.rows[2]!.ERROR, `artifact "${truncated}" is truncated: expected trailer magic at offset ${size - 50 - 8}`);
    assert.equal(table.rows[1]!.DATABASE, '');

    const one = await inspect(join(to, truncated));
    assert.equal(one.code, 1, describeRun(one));

    const next = await backup(server, to, ['neo4j']);
    assert.equal(next.code, 0, describeRun(next));
    assert.match(next.stdout, logLine('WARN', new RegExp(`ignoring "${escapeRegExp(flipped)}" in file://${escapeRegExp(to)}/: artifact "${escapeRegExp(flipped)}" is corrupt: header checksum mismatch .*`)));
    assert.match(next.stdout, logLine('WARN', `ignoring "${truncated}" in file://${to}/: artifact "${truncated}" is truncated: expected trailer magic at offset ${size - 50 - 8}`));
    // The chain continues from the sound FULL (nothing was written since: an empty DIFF).
    assert.match(next.stdout, logLine('INFO', "Start differential backup of database 'neo4j'."));
  });
});
