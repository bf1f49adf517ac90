/**
 * SHOW and TERMINATE TRANSACTIONS against a real server with the official driver: the ids they take
 * (Neo4j 5: comma-separated string literals, or one expression such as a list parameter), YIELD /
 * WHERE / RETURN on both, and the batch transactions of CALL { ... } IN TRANSACTIONS, which are
 * listed under their own id and stop the import when terminated.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Driver, Session } from 'neo4j-driver';
import { sleep } from './support/bolt-raw.js';
import { startTestServer, type TestServer } from './support/harness.js';

/** Runs for minutes unless stopped; `tag` tells the statements apart in SHOW TRANSACTIONS. */
const longRead = (tag: string): string => `UNWIND range(1, 1000000000) AS x WITH x WHERE x < 0 RETURN count(*) AS ${tag}`;

let server: TestServer;
let driver: Driver;

before(async () => {
  server = await startTestServer({ conf: { 'db.lock.acquisition.timeout': '30s' } });
  driver = server.driver();
});
after(async () => {
  await driver.close();
  await server.stop();
  server.cleanup();
});

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message?: string };
  }
  assert.fail('expected the statement to fail');
}

/** The ids of the running transactions whose current query contains `fragment` (waits for at least one). */
async function transactionsRunning(fragment: string, where = 'true'): Promise<{ id: string; outer: string }[]> {
  for (let i = 0; i < 200; i++) {
    const r = await driver.executeQuery(
      `SHOW TRANSACTIONS YIELD transactionId, outerTransactionId, currentQuery WHERE currentQuery CONTAINS $fragment AND ${where} RETURN transactionId, outerTransactionId`,
      { fragment },
    );
    if (r.records.length > 0) return r.records.map((x) => ({ id: x.get('transactionId') as string, outer: x.get('outerTransactionId') as string }));
    await sleep(25);
  }
  assert.fail(`no running transaction with "${fragment}" in SHOW TRANSACTIONS`);
}

async function count(label: string): Promise<number> {
  const r = await driver.executeQuery(`MATCH (n:${label}) RETURN count(n) AS n`);
  return r.records[0]!.get('n').toNumber();
}

test("SHOW TRANSACTIONS takes a list of ids or a list parameter, and TERMINATE TRANSACTIONS YIELD / WHERE / RETURN filters its outcome", async () => {
  const sessions: Session[] = [driver.session(), driver.session(), driver.session()];
  const runs = ['first', 'second', 'third'].map((tag, i) => rejection(sessions[i]!.run(longRead(tag))));
  try {
    const [a, b, c] = [(await transactionsRunning('AS first'))[0]!.id, (await transactionsRunning('AS second'))[0]!.id, (await transactionsRunning('AS third'))[0]!.id];
    const ids = (r: { records: { get(k: string): unknown }[] }) => r.records.map((x) => x.get('transactionId') as string).sort();

    const listed = await driver.executeQuery(`SHOW TRANSACTIONS '${a}', '${b}'`);
    assert.deepEqual(ids(listed), [a, b].sort(), 'exactly the two named transactions');
    assert.equal(listed.keys.length, 10, 'the default columns');
    assert.deepEqual(ids(await driver.executeQuery('SHOW TRANSACTIONS $ids', { ids: [b, c, 'neo4j-transaction-999999'] })), [b, c].sort());
    assert.deepEqual(ids(await driver.executeQuery('SHOW TRANSACTION $id', { id: c })), [c]);
    const yielded = await driver.executeQuery(`SHOW TRANSACTIONS '${a}', '${c}' YIELD transactionId, status WHERE transactionId <> $a RETURN transactionId, status`, { a });
    assert.deepEqual(yielded.records.map((x) => [x.get('transactionId'), x.get('status')]), [[c, 'Running']]);
    const notList = await rejection(driver.executeQuery('SHOW TRANSACTIONS $ids', { ids: 42 }));
    assert.equal(notList.code, 'Neo.ClientError.Statement.TypeError', notList.message);
    const mixed = await rejection(driver.executeQuery(`SHOW TRANSACTIONS '${a}', $id`, { id: b }));
    assert.equal(mixed.code, 'Neo.ClientError.Statement.SyntaxError', mixed.message);

    const t = await driver.executeQuery(
      `TERMINATE TRANSACTIONS '${a}', '${b}', 'neo4j-transaction-999999' YIELD transactionId, message WHERE message = 'Transaction terminated.' RETURN transactionId ORDER BY transactionId`,
    );
    assert.deepEqual(t.keys, ['transactionId']);
    assert.deepEqual(ids(t), [a, b].sort());
    for (const r of runs.slice(0, 2)) assert.match((await r).code ?? '', /Transaction\.Terminated$/);
    const star = await driver.executeQuery('TERMINATE TRANSACTIONS $ids YIELD *', { ids: [c] });
    assert.deepEqual(star.keys, ['transactionId', 'username', 'message']);
    assert.equal(star.records[0]!.get('message'), 'Transaction terminated.');
    assert.match((await runs[2]!).code ?? '', /Transaction\.Terminated$/);
    const whereFirst = await rejection(driver.executeQuery(`TERMINATE TRANSACTIONS '${a}' WHERE message = 'x'`));
    assert.equal(whereFirst.code, 'Neo.ClientError.Statement.SyntaxError', whereFirst.message);
  } finally {
    for (const s of sessions) await s.close();
  }
});

test('a batch of CALL { ... } IN TRANSACTIONS is listed under its own registry id, and TERMINATE TRANSACTION on it stops the import', async () => {
  const session = driver.session();
  const importQuery = 'UNWIND range(1, 50000000) AS i CALL (i) { CREATE (:ImportRow {i: i}) } IN TRANSACTIONS OF 200000 ROWS';
  const running = rejection(session.run(importQuery));
  try {
    const outer = (await transactionsRunning('ImportRow', "outerTransactionId = ''"))[0]!.id;
    let terminated: string | null = null;
    // A batch ends every second or so; a batch that ended between SHOW and TERMINATE is "not found": take the next one.
    for (let attempt = 0; attempt < 20 && terminated === null; attempt++) {
      const batches = await transactionsRunning('ImportRow', "outerTransactionId <> ''");
      assert.equal(batches.length, 1, 'one batch runs at a time');
      const batch = batches[0]!;
      assert.equal(batch.outer, outer, 'the batch names the statement as its outer transaction');
      assert.match(batch.id, /^neo4j-transaction-\d+$/);
      assert.ok(Number(batch.id.split('-').pop()) > Number(outer.split('-').pop()), `the batch's id comes from the same counter, after its statement's (${batch.id}, ${outer})`);
      const t = await driver.executeQuery('TERMINATE TRANSACTION $id', { id: batch.id });
      if (t.records[0]!.get('message') === 'Transaction terminated.') terminated = batch.id;
    }
    assert.ok(terminated !== null, 'terminated a running batch');
    const e = await running;
    assert.match(e.code ?? '', /Transaction\.Terminated$/, e.message);
    assert.match(e.message ?? '', /Transactions committed: \d+; batch \d+/);
    const imported = await count('ImportRow');
    assert.equal(imported % 200000, 0, `whole batches only (${imported})`);
    await sleep(500);
    assert.equal(await count('ImportRow'), imported, 'the import stopped');
    const left = await driver.executeQuery('SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $fragment RETURN count(*) AS n', { fragment: 'ImportRow' });
    assert.equal(left.records[0]!.get('n').toNumber(), 0, 'neither the statement nor a batch is listed any more');
  } finally {
    await session.close();
  }
});
