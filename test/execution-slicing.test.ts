/**
 * One statement never takes the server hostage (issue #15): statements run in slices of the event
 * loop, so other connections and the backup service are served beside a long statement; and a
 * running statement stops at its next slice when its transaction times out, is terminated
 * (TERMINATE TRANSACTION), reset, disconnected, or the server is told to stop.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Driver } from 'neo4j-driver';
import { backup, describeRun, tempFolders } from './support/backup-helpers.js';
import { boltRequest, connectRaw, sleep } from './support/bolt-raw.js';
import { startTestServer, type TestServer } from './support/harness.js';

/** Runs for minutes unless stopped: a count over a billion numbers, all filtered out. */
const longRead = 'UNWIND range(1, 1000000000) AS x WITH x WHERE x < 0 RETURN count(*) AS n';
/** A write that takes well over a second: the rows first, then a node per row. */
const longWrite = (label: string): string => `UNWIND range(1, 1000000) AS x CREATE (:${label} {x: x})`;

let server: TestServer;
let driver: Driver;
const folders = tempFolders();

before(async () => {
  server = await startTestServer({ conf: { 'db.lock.acquisition.timeout': '30s' } });
  driver = server.driver();
});
after(async () => {
  await driver.close();
  await server.stop();
  server.cleanup();
  folders.removeAll();
});

async function count(label: string): Promise<number> {
  const r = await driver.executeQuery(`MATCH (n:${label}) RETURN count(n) AS n`);
  return r.records[0]!.get('n').toNumber();
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message?: string };
  }
  assert.fail('expected the statement to fail');
}

/** The id of the one running transaction whose current query contains `fragment`. */
async function transactionRunning(fragment: string, d: Driver = driver): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const r = await d.executeQuery('SHOW TRANSACTIONS YIELD transactionId, currentQuery, status WHERE currentQuery CONTAINS $fragment RETURN transactionId, status', { fragment });
    if (r.records.length === 1) return r.records[0]!.get('transactionId') as string;
    await sleep(50);
  }
  assert.fail(`no running transaction with "${fragment}" in SHOW TRANSACTIONS`);
}

test('while a statement runs for 10 s, 100 RETURN 1 on another connection each answer within 1 s and a FULL backup completes', async () => {
  await driver.executeQuery('CREATE (:Small {n: 1})');
  const long = driver.session();
  const started = Date.now();
  // The driver's transaction timeout ends it after 10 s, whatever the machine's speed.
  const heavy = rejection(long.run(longRead, {}, { timeout: 10_000 }));
  let heavyDone = false;
  void heavy.then(() => (heavyDone = true));
  await sleep(300);
  const other = driver.session();
  const latenciesMs: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      const r = await other.run('RETURN 1 AS one');
      assert.equal(r.records[0]!.get('one').toNumber(), 1);
      latenciesMs.push(performance.now() - t);
    }
  } finally {
    await other.close();
  }
  const worst = Math.max(...latenciesMs);
  assert.ok(worst < 1000, `every RETURN 1 answered within 1 s beside the statement (worst ${worst.toFixed(0)} ms)`);
  const b = await backup(server, folders.folder(), ['--type=FULL']);
  assert.equal(b.code, 0, describeRun(b));
  assert.equal(heavyDone, false, 'the long statement was still running during the RETURN 1s and the backup');
  const e = await heavy;
  await long.close();
  const elapsedMs = Date.now() - started;
  assert.equal(e.code, 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration');
  assert.ok(elapsedMs >= 9_500 && elapsedMs < 14_000, `stopped by its 10 s timeout, mid-statement (${elapsedMs} ms)`);
});

test("the driver's transaction timeout stops a long read mid-statement", async () => {
  const session = driver.session();
  const started = Date.now();
  try {
    const tx = await session.beginTransaction({ timeout: 1000 });
    const e = await rejection(tx.run(longRead));
    assert.equal(e.code, 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration');
    assert.match(e.message ?? '', /did not complete within 1000 ms \(the client's transaction timeout\)/);
  } finally {
    await session.close();
  }
  assert.ok(Date.now() - started < 4000, `stopped within a few slices of its timeout (${Date.now() - started} ms)`);
});

test("the driver's transaction timeout stops a long write mid-statement and nothing of it is applied", async () => {
  const session = driver.session();
  const started = Date.now();
  try {
    const e = await rejection(session.run(longWrite('TimedOut'), {}, { timeout: 1000 }));
    assert.equal(e.code, 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration');
  } finally {
    await session.close();
  }
  assert.ok(Date.now() - started < 5000, `stopped mid-statement (${Date.now() - started} ms)`);
  assert.equal(await count('TimedOut'), 0, 'nothing of the write was applied');
  await driver.executeQuery('CREATE (:AfterTimeout)');
  assert.equal(await count('AfterTimeout'), 1, 'the writer slot was released');
});

test('TERMINATE TRANSACTION from another session stops a running statement; SHOW TRANSACTIONS finds it', async () => {
  const long = driver.session();
  const heavy = rejection(long.run(longRead));
  try {
    const id = await transactionRunning('range(1, 1000000000)');
    assert.match(id, /^neo4j-transaction-\d+$/);
    const shown = await driver.executeQuery('SHOW TRANSACTIONS');
    assert.deepEqual(shown.keys, ['database', 'transactionId', 'currentQueryId', 'connectionId', 'clientAddress', 'username', 'currentQuery', 'startTime', 'status', 'elapsedTime']);
    const row = shown.records.find((r) => r.get('transactionId') === id)!;
    assert.equal(row.get('database'), 'neo4j');
    assert.equal(row.get('status'), 'Running');
    assert.match(row.get('currentQueryId') as string, /^query-\d+$/);
    assert.match(row.get('clientAddress') as string, /^127\.0\.0\.1:\d+$/);
    const t = await driver.executeQuery('TERMINATE TRANSACTION $id', { id });
    assert.deepEqual(t.records.map((r) => [r.get('transactionId'), r.get('message')]), [[id, 'Transaction terminated.']]);
    const e = await heavy;
    // The JS driver reports Neo.TransientError.Transaction.Terminated as a ClientError (not retried).
    assert.match(e.code ?? '', /^Neo\.(Transient|Client)Error\.Transaction\.Terminated$/);
    const missing = await driver.executeQuery("TERMINATE TRANSACTIONS 'neo4j-transaction-999999'");
    assert.equal(missing.records[0]!.get('message'), 'Transaction not found.');
  } finally {
    await long.close();
  }
});

test('a RESET stops the running statement of its connection', async () => {
  const c = await connectRaw(server.boltPort);
  try {
    c.send(Buffer.concat([boltRequest('RUN', longRead, new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]));
    const [run] = await c.read(1);
    assert.equal(run!.name, 'SUCCESS');
    await sleep(500);
    const sent = Date.now();
    c.send(boltRequest('RESET'));
    const [pull, reset] = await c.read(2, 5000);
    assert.equal(pull!.name, 'IGNORED', 'the running PULL was interrupted');
    assert.equal(reset!.name, 'SUCCESS');
    assert.ok(Date.now() - sent < 2000, `stopped within a few slices (${Date.now() - sent} ms)`);
    c.send(Buffer.concat([boltRequest('RUN', 'RETURN 1', new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]));
    assert.equal((await c.read(1))[0]!.name, 'SUCCESS');
    const { records } = await c.readSummary();
    assert.deepEqual(records, [[1n]]);
  } finally {
    c.destroy();
  }
});

test('closing the connection stops its running write, rolls it back and releases the writer slot', async () => {
  const c = await connectRaw(server.boltPort);
  c.send(Buffer.concat([boltRequest('RUN', longWrite('Abandoned'), new Map(), new Map()), boltRequest('PULL', new Map([['n', -1n]]))]));
  await sleep(700);
  c.destroy();
  const started = Date.now();
  await driver.executeQuery('CREATE (:AfterClose)');
  assert.ok(Date.now() - started < 3000, `another write got the writer slot soon after the close (${Date.now() - started} ms)`);
  assert.equal(await count('Abandoned'), 0, 'nothing of the abandoned write was applied');
  assert.equal(await count('AfterClose'), 1);
});

test('SIGTERM during a long statement: the server exits 0 within 10 s and committed data is intact on restart', async () => {
  const s = await startTestServer();
  try {
    let d = s.driver();
    await d.executeQuery('UNWIND range(1, 100) AS i CREATE (:Kept {i: i})');
    const heavy = d.session();
    void heavy.run(longWrite('Interrupted')).catch(() => undefined);
    await sleep(700);
    const started = Date.now();
    const code = await s.stop();
    const elapsedMs = Date.now() - started;
    assert.equal(code, 0, s.output);
    assert.ok(elapsedMs < 10_000, `stopped within the documented 10 s (${elapsedMs} ms)`);
    await d.close().catch(() => undefined);
    await s.start();
    d = s.driver();
    const kept = await d.executeQuery('MATCH (k:Kept) RETURN count(k) AS n');
    assert.equal(kept.records[0]!.get('n').toNumber(), 100);
    const lost = await d.executeQuery('MATCH (k:Interrupted) RETURN count(k) AS n');
    assert.equal(lost.records[0]!.get('n').toNumber(), 0);
    await d.close();
  } finally {
    await s.stop();
    s.cleanup();
  }
});

test('TERMINATE TRANSACTION is privilege-checked: a user sees and stops their own transactions, the admin anyone’s', async () => {
  const s = await startTestServer({ auth: true });
  const drivers: Driver[] = [];
  const login = (user: string, password: string): Driver => {
    const d = s.driver({ user, password });
    drivers.push(d);
    return d;
  };
  try {
    const initial = login('neo4j', 'neo4j');
    await initial.executeQuery("ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO 'admin-password'", {}, { database: 'system' });
    const admin = login('neo4j', 'admin-password');
    for (const u of ['bob', 'carol']) {
      await admin.executeQuery(`CREATE USER ${u} SET PASSWORD '${u}-password' CHANGE NOT REQUIRED`, {}, { database: 'system' });
      await admin.executeQuery(`GRANT ROLE editor TO ${u}`, {}, { database: 'system' });
    }
    const bob = login('bob', 'bob-password');
    const carol = login('carol', 'carol-password');
    const bobSession = bob.session();
    const heavy = rejection(bobSession.run(longRead));
    const id = await transactionRunning('range(1, 1000000000)', bob);
    const seenByCarol = await carol.executeQuery('SHOW TRANSACTIONS YIELD transactionId RETURN transactionId');
    assert.ok(!seenByCarol.records.some((r) => r.get('transactionId') === id), "carol does not see bob's transaction");
    const refused = await carol.executeQuery('TERMINATE TRANSACTION $id', { id });
    assert.equal(refused.records[0]!.get('message'), 'Transaction not found.');
    assert.equal(await transactionRunning('range(1, 1000000000)', admin), id, 'still running after carol tried');
    const t = await admin.executeQuery('TERMINATE TRANSACTION $id', { id });
    assert.equal(t.records[0]!.get('message'), 'Transaction terminated.');
    assert.equal(t.records[0]!.get('username'), 'bob');
    assert.match((await heavy).code ?? '', /Transaction\.Terminated$/);
    await bobSession.close();
    // A user terminates their own transaction.
    const again = bob.session();
    const second = rejection(again.run(longRead));
    const own = await transactionRunning('range(1, 1000000000)', bob);
    const mine = await bob.executeQuery('TERMINATE TRANSACTIONS $ids', { ids: [own] });
    assert.equal(mine.records[0]!.get('message'), 'Transaction terminated.');
    assert.match((await second).code ?? '', /Transaction\.Terminated$/);
    await again.close();
  } finally {
    for (const d of drivers) await d.close();
    await s.stop();
    s.cleanup();
  }
});

test('an ORDER BY over a million rows sorts in slices: RETURN 1 on another connection answers within 0.5 s meanwhile', async () => {
  const sorting = driver.session();
  let sortDone = false;
  const sorted = sorting.run('UNWIND range(1, 1000000) AS x RETURN (x * 7919) % 1000003 AS k ORDER BY k DESC LIMIT 3').then((r) => {
    sortDone = true;
    return r;
  });
  const other = driver.session();
  const latenciesMs: number[] = [];
  try {
    await sleep(200);
    while (!sortDone) {
      const t = performance.now();
      await other.run('RETURN 1');
      latenciesMs.push(performance.now() - t);
      await sleep(5);
    }
  } finally {
    await other.close();
  }
  const r = await sorted;
  await sorting.close();
  // (x * 7919) % 1000003 over 1..1000000 is injective (1000003 is prime): the three largest values.
  const top = r.records.map((x) => x.get('k').toNumber());
  assert.equal(top.length, 3);
  assert.ok(top[0]! > top[1]! && top[1]! > top[2]!, `descending: ${top}`);
  assert.ok(latenciesMs.length > 0, 'the sort ran long enough to be measured beside');
  // Before the sort was sliced, one Array.prototype.sort call held the event loop for about 1 s.
  assert.ok(Math.max(...latenciesMs) < 500, `worst RETURN 1 beside the sort: ${Math.round(Math.max(...latenciesMs))} ms`);
});
