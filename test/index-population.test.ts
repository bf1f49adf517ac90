/**
 * Building an index over existing data does not take the server hostage: the store populates it in
 * slices beside other clients, and only a whole index is ever read. A SIGKILL in the middle of the
 * population leaves the index marked half built; reopening rebuilds it from the log, and until then
 * nothing reads it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Database, defaultDatabaseSettings, locateDatabase, storeApplyCrashPoint } from '../src/kernel/database.js';
import { checkStoreConsistency } from '../src/storage/consistency.js';
import { GraphStore } from '../src/storage/store.js';
import { startTestServer } from './support/harness.js';
import { runWriterProcess } from './support/writer-process.js';

test('while an index over 300k nodes is built, and then a uniqueness constraint, RETURN 1 on another connection answers within 0.5 s, and both then answer seeks', { timeout: 300_000 }, async () => {
  const server = await startTestServer();
  const driver = server.driver();
  try {
    for (let from = 0; from < 300_000; from += 100_000) {
      await driver.executeQuery('UNWIND range($from, $from + 99999) AS i CREATE (:Person {id: i, name: "p" + i})', { from });
    }
    let built = false;
    const started = performance.now();
    const build = driver.executeQuery('CREATE INDEX person_id FOR (p:Person) ON (p.id)').finally(() => (built = true));
    const other = driver.session();
    const latenciesMs: number[] = [];
    try {
      while (!built) {
        const t = performance.now();
        const r = await other.run('RETURN 1 AS one');
        assert.equal(r.records[0]!.get('one').toNumber(), 1);
        latenciesMs.push(performance.now() - t);
      }
    } finally {
      await other.close();
    }
    await build;
    const buildMs = performance.now() - started;
    const worst = Math.max(...latenciesMs);
    // Populated in one piece the index held the event loop 0.7 s here (2-vCPU VM, load 3-4); in slices the worst wait was 64 ms.
    assert.ok(worst < 500, `every RETURN 1 answered within 0.5 s while the index was built in ${buildMs.toFixed(0)} ms (worst ${worst.toFixed(0)} ms of ${latenciesMs.length})`);
    // A unique index is populated the same way, after the constraint's check of the existing nodes, which runs in steps too.
    let constrained = false;
    const constraint = driver.executeQuery('CREATE CONSTRAINT person_name FOR (p:Person) REQUIRE p.name IS UNIQUE').finally(() => (constrained = true));
    const beside = driver.session();
    const constraintLatenciesMs: number[] = [];
    try {
      while (!constrained) {
        const t = performance.now();
        await beside.run('RETURN 1');
        constraintLatenciesMs.push(performance.now() - t);
      }
    } finally {
      await beside.close();
    }
    await constraint;
    // Checked in one piece, the 300k names held the event loop about 0.7 s here.
    assert.ok(Math.max(...constraintLatenciesMs) < 500, `every RETURN 1 answered within 0.5 s while the constraint was created (worst ${Math.max(...constraintLatenciesMs).toFixed(0)} ms)`);
    const seek = await driver.executeQuery('MATCH (p:Person) WHERE p.id IN [0, 123456, 299999, 300000] RETURN p.id AS id ORDER BY id');
    assert.deepEqual(seek.records.map((r) => r.get('id').toNumber()), [0, 123456, 299999]);
    const byName = await driver.executeQuery('MATCH (p:Person {name: "p4242"}) RETURN p.id AS id');
    assert.deepEqual(byName.records.map((r) => r.get('id').toNumber()), [4242]);
    const plan = await driver.executeQuery('SHOW INDEXES YIELD name, state WHERE name IN ["person_id", "person_name"] RETURN name, state ORDER BY name');
    assert.deepEqual(plan.records.map((r) => [r.get('name'), r.get('state')]), [['person_id', 'ONLINE'], ['person_name', 'ONLINE']]);
    const dup = await driver.executeQuery('CREATE (:Person {id: 1, name: "p1"})').then(
      () => null,
      (e: { code?: string }) => e.code,
    );
    assert.equal(dup, 'Neo.ClientError.Schema.ConstraintValidationFailed', 'the constraint holds over the existing names');
    // Dropping the 300k-entry index removes its entries in slices too.
    let dropped = false;
    const drop = driver.executeQuery('DROP INDEX person_id').finally(() => (dropped = true));
    const during = driver.session();
    const dropLatenciesMs: number[] = [];
    try {
      while (!dropped) {
        const t = performance.now();
        await during.run('RETURN 1');
        dropLatenciesMs.push(performance.now() - t);
      }
      // The statement is acknowledged before the store applies it: keep asking while the entries go.
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        await during.run('RETURN 1');
        dropLatenciesMs.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await during.close();
    }
    await drop;
    assert.ok(Math.max(...dropLatenciesMs) < 500, `every RETURN 1 answered within 0.5 s while the index was dropped (worst ${Math.max(...dropLatenciesMs).toFixed(0)} ms)`);
    const afterDrop = await driver.executeQuery('MATCH (p:Person) WHERE p.id = 123456 RETURN p.name AS name');
    assert.deepEqual(afterDrop.records.map((r) => r.get('name')), ['p123456'], 'found by a scan after the drop');
  } finally {
    await driver.close();
    await server.stop();
    server.cleanup();
  }
});

test('a SIGKILL in the middle of an index population leaves the index unused, and reopening rebuilds it whole', { timeout: 180_000 }, async () => {
  const folder = mkdtempSync(join(tmpdir(), 'quiver-index-crash-'));
  const nodes = 60_000;
  try {
    const run = await runWriterProcess('index-build-writer', [folder, String(nodes)]);
    assert.equal(run.signal, 'SIGKILL', `the writer was not killed at ${storeApplyCrashPoint} during the population (exit code ${run.code})\nstderr:\n${run.stderr}`);
    const loc = locateDatabase(join(folder, 'data'), join(folder, 'data', 'transactions'), 'big');

    const raw = GraphStore.open(loc.storeDir, { readOnly: true });
    try {
      const entries = raw.db.pidx.getKeysCount();
      assert.ok(entries > 0 && entries < nodes, `the kill landed mid-population: ${entries} of ${nodes} entries`);
      assert.deepEqual(raw.populatingIndexNames(), ['n_id']);
      assert.equal(raw.applyingTxId(), raw.meta().lastTxId + 1, 'the store names the index transaction as applied in part');
      assert.equal(raw.indexFor('N', 'id'), undefined, 'a half-built index is never read');
    } finally {
      raw.close();
    }

    const warnings: string[] = [];
    const db = Database.open('big', loc, defaultDatabaseSettings, (m) => warnings.push(m));
    try {
      assert.ok(warnings.some((w) => /the apply of transaction \d+ was interrupted/.test(w)), JSON.stringify(warnings));
      assert.deepEqual(db.store.populatingIndexNames(), []);
      assert.equal(db.store.db.pidx.getKeysCount(), nodes, 'one entry per node, none twice');
      const r = db.beginRead();
      try {
        for (const i of [0, 1, 4711, nodes - 1]) assert.deepEqual([...r.indexSeek('N', 'id', BigInt(i))!].map((id) => r.getNode(id)!.properties.get('id')), [BigInt(i)]);
      } finally {
        r.close();
      }
      assert.deepEqual(checkStoreConsistency(db.store).problems, []);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
