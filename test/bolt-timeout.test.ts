/**
 * Transaction timeouts: with one writer per database, an abandoned explicit write transaction
 * must not block every other writer. db.transaction.timeout (or the driver's per-transaction
 * timeout) rolls it back and frees the writer slot, and stops a statement that runs past it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from './support/harness.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ conf: { 'db.transaction.timeout': '1s', 'db.lock.acquisition.timeout': '10s' } });
});
after(async () => {
  await server.stop();
  server.cleanup();
});

test('an idle write transaction is rolled back after db.transaction.timeout and frees the writer', async () => {
  const driver = server.driver();
  const session = driver.session();
  try {
    const tx = await session.beginTransaction();
    await tx.run('CREATE (:Abandoned)');
    const started = Date.now();
    // The second writer's own timeout must cover its wait for the writer slot.
    const other = driver.session();
    await other.executeWrite((w) => w.run('CREATE (:Other)'), { timeout: 10_000 });
    await other.close();
    const waited = Date.now() - started;
    assert.ok(waited >= 500 && waited < 8000, `the second writer waited for the timeout (${waited} ms), not for the lock timeout`);
    await assert.rejects(tx.commit(), (e: { code?: string; message?: string }) => {
      // Set by db.transaction.timeout, not by the client: Neo4j's TransactionTimedOut.
      assert.equal(e.code, 'Neo.ClientError.Transaction.TransactionTimedOut');
      assert.match(e.message ?? '', /did not complete within 1000 ms \(db\.transaction\.timeout\)/);
      return true;
    });
    const r = await driver.executeQuery('MATCH (a:Abandoned) RETURN count(a) AS n');
    assert.equal(r.records[0]!.get('n').toNumber(), 0, 'the timed-out transaction left nothing');
  } finally {
    await session.close();
    await driver.close();
  }
});

test("the driver's own transaction timeout wins over the setting", async () => {
  const driver = server.driver();
  const session = driver.session();
  try {
    const tx = await session.beginTransaction({ timeout: 200 });
    await tx.run('CREATE (:Short)');
    await new Promise((r) => setTimeout(r, 500));
    await assert.rejects(tx.run('RETURN 1'), /did not complete within 200 ms/);
  } finally {
    await session.close();
    await driver.close();
  }
});

test('db.transaction.timeout stops a long read mid-statement', async () => {
  const driver = server.driver();
  const session = driver.session();
  const started = Date.now();
  try {
    await assert.rejects(session.run('UNWIND range(1, 1000000000) AS x WITH x WHERE x < 0 RETURN count(*) AS n'), (e: { code?: string }) => {
      assert.equal(e.code, 'Neo.ClientError.Transaction.TransactionTimedOut');
      return true;
    });
    assert.ok(Date.now() - started < 4000, `stopped within a few slices of the timeout (${Date.now() - started} ms)`);
  } finally {
    await session.close();
    await driver.close();
  }
});

test('db.transaction.timeout stops a long write mid-statement and nothing of it is applied', async () => {
  const driver = server.driver();
  const session = driver.session();
  const started = Date.now();
  try {
    const tx = await session.beginTransaction();
    await assert.rejects(tx.run('UNWIND range(1, 1000000) AS x CREATE (:TooLong {x: x})'), (e: { code?: string }) => {
      assert.equal(e.code, 'Neo.ClientError.Transaction.TransactionTimedOut');
      return true;
    });
    assert.ok(Date.now() - started < 5000, `stopped mid-statement (${Date.now() - started} ms)`);
    const r = await driver.executeQuery('MATCH (t:TooLong) RETURN count(t) AS n');
    assert.equal(r.records[0]!.get('n').toNumber(), 0, 'nothing of the write was applied');
  } finally {
    await session.close();
    await driver.close();
  }
});
