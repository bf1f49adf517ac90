/**
 * Online backup end to end: a real server under continuous write load, the real
 * `quiver-admin database backup` taking FULL → DIFF → DIFF, `--inspect-path` showing the chain, and
 * every artifact restored and compared with what the database held at the artifact's highest tx.
 *
 * How content is checked. The workload (test/support/backup-helpers.ts, Workload) is the only
 * writer of `neo4j`; it commits one small deterministic transaction at a time and reads the id the
 * server gave it from the returned bookmark (`quiver:neo4j:<txId>`). So the graph at any tx id is
 * known exactly: the replay of the workload's ops up to that id. Each artifact is restored (the
 * chain up to it, `--restore-until=<highest tx + 1>`) and its nodes and relationships are compared
 * with that model, without ever pausing the writer during the chain's backups. This is sound because
 * an online backup promises exactly "the database as of its highest tx", whatever was being
 * written meanwhile.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logicalDigestOfStore } from '../src/storage/digest.js';
import { backup, describeRun, durationPattern, finishedArtifacts, inspectHeader, type InspectRow, graphLinesOfStore, logLine, parseInspectTable, restoreToTemp, tempFolders, Workload } from './support/backup-helpers.js';
import { runAdmin, startTestServer, type TestServer } from './support/harness.js';

describe('online backup under continuous write load', () => {
  let server: TestServer;
  let driver: ReturnType<TestServer['driver']>;
  let workload: Workload;
  const folders = tempFolders();
  const folder = folders.folder;
  let chain: string;
  /** The artifacts of the chain, in the order they were made. */
  const made: Array<{ name: string; type: 'FULL' | 'DIFF' }> = [];

  before(async () => {
    server = await startTestServer();
    driver = server.driver();
    workload = new Workload(driver);
    await workload.runOnce('CREATE INDEX FOR (w:W) ON (w.k)');
    workload.start();
    await workload.advance(200);
    chain = folder();
  });

  after(async () => {
    await workload?.stop().catch(() => undefined);
    await driver?.close();
    await server?.stop();
    server?.cleanup();
    folders.removeAll();
  });

  it('takes a FULL backup first, with Neo4j\'s log lines', async () => {
    const before = workload.committed;
    const r = await backup(server, chain, ['neo4j']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, logLine('INFO', "Start full backup of database 'neo4j'."));
    const names = finishedArtifacts(r.stdout, 'neo4j');
    assert.equal(names.length, 1, describeRun(r));
    assert.match(names[0]!, /^neo4j-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(_\d{3})?\.backup$/);
    assert.ok(existsSync(join(chain, names[0]!)));
    assert.ok(workload.committed > before, 'the workload kept writing during the backup');
    made.push({ name: names[0]!, type: 'FULL' });
  });

  it('takes a DIFF after more writes', async () => {
    await workload.advance(150);
    const r = await backup(server, chain, ['neo4j']);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, logLine('INFO', "Start differential backup of database 'neo4j'."));
    assert.match(r.stdout, logLine('INFO', new RegExp(`Finished artifact creation '[^']+' for database 'neo4j', took ${durationPattern}\\.`)));
    const names = finishedArtifacts(r.stdout, 'neo4j');
    assert.equal(names.length, 1, describeRun(r));
    made.push({ name: names[0]!, type: 'DIFF' });
  });

  it('takes a second DIFF, and --format=json prints a parseable summary', async () => {
    await workload.advance(150);
    const r = await backup(server, chain, ['--format=json', 'neo4j']);
    assert.equal(r.code, 0, describeRun(r));
    // Log lines go to stderr so that stdout is exactly one JSON document.
    assert.match(r.stderr, logLine('INFO', "Start differential backup of database 'neo4j'."));
    const summary = JSON.parse(r.stdout) as { exitCode: number; unreachableServers: unknown[]; databases: Array<Record<string, unknown>> };
    assert.equal(summary.exitCode, 0);
    assert.deepEqual(summary.unreachableServers, []);
    assert.equal(summary.databases.length, 1);
    const d = summary.databases[0]!;
    assert.equal(d.database, 'neo4j');
    assert.equal(d.outcome, 'ok');
    assert.equal(d.type, 'DIFF');
    assert.equal(d.empty, false);
    assert.equal(d.server, server.backupAddress);
    assert.equal(d.error, null);
    assert.equal(d.fallbackReason, null);
    assert.equal(typeof d.artifact, 'string');
    assert.equal(d.path, join(chain, d.artifact as string));
    assert.equal(d.uri, `file://${join(chain, d.artifact as string)}`);
    assert.equal(d.bytesStored, statSync(d.path as string).size);
    assert.ok((d.bytesRaw as number) > 0);
    assert.ok(typeof d.durationMs === 'number' && d.durationMs >= 0);
    assert.ok((d.lowestTx as number) >= 2 && (d.highestTx as number) >= (d.lowestTx as number), JSON.stringify(d));
    assert.deepEqual(finishedArtifacts(r.stderr, 'neo4j'), [d.artifact]);
    made.push({ name: d.artifact as string, type: 'DIFF' });
  });

  let rows: InspectRow[] = [];

  it('--inspect-path shows the chain, oldest first, with contiguous transaction ranges', async () => {
    const r = await runAdmin(['database', 'backup', `--inspect-path=${chain}`], { home: server.home });
    assert.equal(r.code, 0, describeRun(r));
    const table = parseInspectTable(r.stdout);
    assert.equal(table.header, inspectHeader);
    rows = table.rows;
    assert.deepEqual(rows.map((row) => row.FILE), made.map((m) => `file://${join(chain, m.name)}`));
    assert.deepEqual(rows.map((row) => row.FULL), ['true', 'false', 'false']);
    assert.deepEqual(rows.map((row) => row.COMPRESSED), ['true', 'true', 'true']);
    assert.ok(rows.every((row) => row.DATABASE === 'neo4j' && /^[0-9a-f-]{36}$/.test(row['DATABASE ID']) && row['DATABASE ID'] === rows[0]!['DATABASE ID']));
    assert.ok(rows.every((row) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(row['TIME (UTC)'])));
    assert.equal(rows[0]!['LOWEST TX'], '1');
    for (let i = 1; i < rows.length; i++) {
      assert.equal(Number(rows[i]!['LOWEST TX']), Number(rows[i - 1]!['HIGHEST TX']) + 1, `row ${i} does not continue row ${i - 1}`);
      assert.ok(Number(rows[i]!['HIGHEST TX']) >= Number(rows[i]!['LOWEST TX']));
    }
  });

  it('each artifact restores to exactly the database at its highest tx', async () => {
    await workload.stop();
    assert.ok(rows.length === 3, 'needs the inspect test');
    for (const row of rows) {
      const highest = Number(row['HIGHEST TX']);
      const restored = await restoreToTemp(chain, { until: highest + 1 });
      try {
        assert.equal(restored.result.code, 0, describeRun(restored.result));
        const graph = graphLinesOfStore(restored.storeDir);
        assert.equal(graph.lastTxId, highest, `${row.FILE} restored to tx ${graph.lastTxId}`);
        const expected = workload.expectedAt(highest);
        assert.ok(expected.length > 100, 'the model holds a real graph');
        assert.deepEqual(graph.lines, expected, `${row.FILE}: restored content differs from the database at tx ${highest}`);
      } finally {
        restored.cleanup();
      }
    }
  });

  it('--compress=false makes a larger artifact that restores to the same database', async () => {
    // The writer is stopped: both FULL backups see the same transaction.
    const compressedDir = folder();
    const plainDir = folder();
    const c = await backup(server, compressedDir, ['--type=FULL', '--format=json']);
    const p = await backup(server, plainDir, ['--type=FULL', '--compress=false', '--format=json']);
    assert.equal(c.code, 0, describeRun(c));
    assert.equal(p.code, 0, describeRun(p));
    const cs = (JSON.parse(c.stdout) as { databases: Array<{ path: string; highestTx: number }> }).databases[0]!;
    const ps = (JSON.parse(p.stdout) as { databases: Array<{ path: string; highestTx: number }> }).databases[0]!;
    assert.equal(ps.highestTx, cs.highestTx);
    assert.equal(cs.highestTx, workload.lastTxId);
    const plainBytes = statSync(ps.path).size;
    const compressedBytes = statSync(cs.path).size;
    assert.ok(plainBytes > compressedBytes * 1.5, `uncompressed ${plainBytes} B should be well above compressed ${compressedBytes} B`);

    const inspect = await runAdmin(['database', 'backup', `--inspect-path=${ps.path}`], { home: server.home });
    assert.equal(parseInspectTable(inspect.stdout).rows[0]!.COMPRESSED, 'false');

    const a = await restoreToTemp(cs.path, { name: 'fromcompressed' });
    const b = await restoreToTemp(ps.path, { name: 'fromplain' });
    try {
      assert.equal(a.result.code, 0, describeRun(a.result));
      assert.equal(b.result.code, 0, describeRun(b.result));
      const da = logicalDigestOfStore(a.storeDir);
      const db = logicalDigestOfStore(b.storeDir);
      assert.deepEqual(db, da);
      assert.equal(da.lastTxId, cs.highestTx);
      assert.deepEqual(graphLinesOfStore(b.storeDir).lines, workload.expectedAt(cs.highestTx));
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });
});
