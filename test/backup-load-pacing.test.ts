/**
 * server.backup.max_rate_under_load against a real server: a FULL backup of a quiet database runs
 * unpaced, and the same backup while a client keeps committing is paced to the configured rate.
 * Here the rate is 1 MiB/s and the store image about 4 MiB of barely compressible data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backup, describeRun, tempFolders, withSession, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { startTestServer, type TestServer } from './support/harness.js';

interface BackupJson {
  databases: Array<{ type: string; bytesRaw: number; durationMs: number }>;
}

describe('server.backup.max_rate_under_load', () => {
  let server: TestServer;
  const folders = tempFolders();
  const folder = folders.folder;
  const fullBackup = async () => {
    const r = await backup(server, folder(), ['--type=FULL', '--format=json', 'neo4j']);
    assert.equal(r.code, 0, describeRun(r));
    const d = (JSON.parse(r.stdout) as BackupJson).databases[0]!;
    assert.equal(d.type, 'FULL');
    return d;
  };

  before(async () => {
    server = await startTestServer({ conf: { 'server.backup.max_rate_under_load': '1m' } });
    await writeBarelyCompressibleNodes(server, 'neo4j', 15);
  });

  after(async () => {
    await server?.stop();
    server?.cleanup();
    folders.removeAll();
  });

  it('paces a FULL while the database commits, and not while it is quiet', async () => {
    // Let the writes above age past the one-second quiet period.
    await new Promise((r) => setTimeout(r, 1500));
    const quiet = await fullBackup();
    assert.ok(quiet.bytesRaw > 3 * 1024 * 1024, `image of ${quiet.bytesRaw} B`);
    // The first block goes at once, every further MiB one second later.
    const pacedMinMs = ((quiet.bytesRaw - 1024 * 1024) / (1024 * 1024)) * 1000;
    assert.ok(quiet.durationMs < pacedMinMs, `quiet FULL took ${quiet.durationMs} ms, paced it would take ${Math.round(pacedMinMs)} ms or more`);

    const driver = server.driver();
    let writing = true;
    let commits = 0;
    const writer = withSession(driver, 'neo4j', async (run) => {
      while (writing) {
        await run('CREATE (:W {at: timestamp()})');
        commits += 1;
      }
    });
    try {
      const busy = await fullBackup();
      // Paced throughout, it takes at least pacedMinMs; the slack allows for a writer that stalls
      // for over a second on a loaded machine (pacing pauses until the next commit).
      assert.ok(busy.durationMs >= pacedMinMs * 0.6, `FULL under load took ${busy.durationMs} ms, expected about ${Math.round(pacedMinMs)} ms or more`);
      assert.ok(busy.durationMs > 2 * quiet.durationMs, `FULL under load took ${busy.durationMs} ms, the quiet one ${quiet.durationMs} ms`);
    } finally {
      writing = false;
      await writer;
      await driver.close();
    }
    assert.ok(commits > 10, `the writer committed ${commits} transactions during the backup`);
  });
});
