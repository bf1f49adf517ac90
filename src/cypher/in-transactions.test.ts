/**
 * CALL { ... } IN TRANSACTIONS on a scratch database: batches commit one by one, and ON ERROR
 * FAIL, CONTINUE and BREAK and REPORT STATUS behave as Neo4j's manual shows; plus where the clause
 * may stand and the CALL (x, y) { } variable scope clause.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { Value } from '../values/value.js';
import { QuiverError } from '../util/errors.js';
import { ExecutionSlice } from './execution-slice.js';
import { prepare } from './index.js';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(async () => {
  await h.close();
});
beforeEach(async () => {
  await h.run('MATCH (n) DETACH DELETE n');
});

async function nums(): Promise<Value[]> {
  return h.column('MATCH (p:Person) RETURN p.num AS num ORDER BY num');
}

async function fails(query: string, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(h.run(query), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('each batch of OF n ROWS commits in its own transaction, and the counters add up', async () => {
  const r = await h.run('UNWIND range(1, 10) AS i CALL (i) { CREATE (:Person {num: i}) } IN TRANSACTIONS OF 3 ROWS');
  assert.equal(r.stats['nodesCreated'], 10);
  assert.equal(r.stats['propertiesSet'], 10);
  assert.deepEqual(await nums(), [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
  const statuses = await h.column("UNWIND range(1, 5) AS i CALL (i) { CREATE (:Other) } IN TRANSACTIONS OF 2 ROWS ON ERROR CONTINUE REPORT STATUS AS s RETURN s.transactionId AS id");
  assert.equal(new Set(statuses).size, 3, 'five rows in batches of two: three transactions');
});

test('ON ERROR FAIL leaves the batches before the failing one committed and names it', async () => {
  await fails('UNWIND [4, 2, 1, 0] AS i CALL (i) { CREATE (:Person {num: 100 / i}) } IN TRANSACTIONS OF 2 ROWS RETURN i', 'ArithmeticError', /^\/ by zero \(Transactions committed: 1; batch 2, input rows 3-4, rolled back\)$/);
  assert.deepEqual(await nums(), [25n, 50n]);
  await h.run('MATCH (n) DETACH DELETE n');
  await fails('UNWIND [1, 2, 0, 3] AS i CALL (i) { CREATE (:Person {num: 100 / i}) } IN TRANSACTIONS OF 1 ROW ON ERROR FAIL', 'ArithmeticError', /Transactions committed: 2; batch 3, input rows 3-3/);
  assert.deepEqual(await nums(), [50n, 100n]);
});

test('ON ERROR CONTINUE rolls back the failing batch, binds its rows to null and goes on', async () => {
  const one = await h.column('UNWIND [1, 0, 2, 4] AS i CALL (i) { CREATE (n:Person {num: 100 / i}) RETURN n } IN TRANSACTIONS OF 1 ROW ON ERROR CONTINUE RETURN n.num AS num');
  assert.deepEqual(one, [100n, null, 50n, 25n]);
  await h.run('MATCH (n) DETACH DELETE n');
  const two = await h.column('UNWIND [1, 0, 2, 4] AS i CALL (i) { CREATE (n:Person {num: 100 / i}) RETURN n } IN TRANSACTIONS OF 2 ROWS ON ERROR CONTINUE RETURN n.num AS num');
  assert.deepEqual(two, [null, null, 50n, 25n]);
  assert.deepEqual(await nums(), [25n, 50n]);
});

test('ON ERROR BREAK stops at the failing batch and binds every later row to null', async () => {
  const r = await h.run('UNWIND [1, 0, 2, 4] AS i CALL (i) { CREATE (n:Person {num: 100 / i}) RETURN n } IN TRANSACTIONS OF 1 ROW ON ERROR BREAK REPORT STATUS AS s RETURN n.num, s.started, s.committed, s.errorMessage');
  assert.deepEqual(r.rows, [
    [100n, true, true, null],
    [null, true, false, '/ by zero'],
    [null, false, false, null],
    [null, false, false, null],
  ]);
  assert.deepEqual(await nums(), [100n]);
});

test('REPORT STATUS gives every row its batch status map, whichever order the options come in', async () => {
  const r = await h.run('UNWIND [1, 0] AS i CALL (i) { CREATE (:Person {num: 100 / i}) } IN TRANSACTIONS REPORT STATUS AS s ON ERROR CONTINUE OF 1 ROW RETURN i, s');
  assert.equal(r.rows.length, 2);
  const [ok, failed] = r.rows.map((row) => row[1] as Map<string, Value>);
  assert.deepEqual(Object.fromEntries(ok!), { started: true, committed: true, transactionId: ok!.get('transactionId'), errorMessage: null });
  assert.match(ok!.get('transactionId') as string, /^scratch-transaction-\d+$/);
  assert.deepEqual([failed!.get('started'), failed!.get('committed'), failed!.get('errorMessage')], [true, false, '/ by zero']);
  assert.notEqual(failed!.get('transactionId'), ok!.get('transactionId'));
});

test('the batch size may be a parameter and must be a positive integer', async () => {
  await h.run('UNWIND range(1, 4) AS i CALL (i) { CREATE (:Person {num: i}) } IN TRANSACTIONS OF $n ROWS', { n: 3n });
  assert.equal((await nums()).length, 4);
  await assert.rejects(h.run('UNWIND [1] AS i CALL (i) { CREATE (:Person) } IN TRANSACTIONS OF $n ROWS', { n: 0n }), /'0' is not a valid value for OF \.\.\. ROWS/);
  await fails('UNWIND [1] AS i CALL (i) { CREATE (:Person) } IN TRANSACTIONS OF i ROWS', 'SyntaxError', /Variable `i` not defined/);
});

test('the clauses after the CALL see what the batches committed', async () => {
  const r = await h.run('UNWIND range(1, 5) AS i CALL (i) { CREATE (p:Person {num: i}) RETURN p } IN TRANSACTIONS OF 2 ROWS WITH p MATCH (q:Person) WHERE q.num > p.num RETURN p.num AS num, count(q) AS bigger ORDER BY num');
  assert.deepEqual(r.rows, [[1n, 4n], [2n, 3n], [3n, 2n], [4n, 1n]]);
});

test('refuses REPORT STATUS with ON ERROR FAIL, CONCURRENT, nesting, UNION and updates outside the subquery', async () => {
  await fails('UNWIND [1] AS i CALL (i) { CREATE (:X) } IN TRANSACTIONS REPORT STATUS AS s RETURN s', 'SyntaxError', /REPORT STATUS can only be used when specifying ON ERROR CONTINUE or ON ERROR BREAK/);
  await fails('UNWIND [1] AS i CALL (i) { CREATE (:X) } IN 2 CONCURRENT TRANSACTIONS', 'SyntaxError', /IN CONCURRENT TRANSACTIONS is not supported/);
  await fails('UNWIND [1] AS i CALL { CALL (i) { CREATE (:X) } IN TRANSACTIONS }', 'SyntaxError', /nested in another subquery is not supported/);
  await fails('CALL { CREATE (:X) } IN TRANSACTIONS RETURN 1 AS x UNION RETURN 2 AS x', 'SyntaxError', /in a UNION is not supported/);
  await fails('CREATE (a:A) WITH a CALL (a) { SET a.x = 1 } IN TRANSACTIONS', 'SyntaxError', /CREATE outside CALL \{ \.\.\. \} IN TRANSACTIONS is not supported/);
  await fails('UNWIND [1] AS i CALL (i) { CREATE (:X) } IN TRANSACTIONS ON ERROR CONTINUE ON ERROR BREAK', 'SyntaxError', /Duplicate ON ERROR option/);
});

test('in a single given transaction (an explicit one) the statement is refused with TransactionStartFailed', async () => {
  const tx = await h.db.beginWrite();
  try {
    assert.throws(() => prepare('UNWIND [1] AS i CALL (i) { CREATE (:X) } IN TRANSACTIONS').execute(tx, new Map()), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'TransactionStartFailed');
      assert.equal(e.message, "A query with 'CALL { ... } IN TRANSACTIONS' can only be executed in an implicit transaction, but tried to execute in an explicit transaction.");
      return true;
    });
  } finally {
    tx.rollback();
  }
});

test('CALL (x, y) imports only x and y, CALL (*) every variable and CALL () none', async () => {
  assert.deepEqual((await h.run('WITH 1 AS x, 2 AS y, 3 AS z CALL (x, y) { RETURN x + y AS s } RETURN s')).rows, [[3n]]);
  assert.deepEqual((await h.run('WITH 1 AS x, 2 AS y CALL (*) { RETURN x * 10 + y AS s } RETURN s')).rows, [[12n]]);
  assert.deepEqual((await h.run('WITH 1 AS x CALL () { RETURN 5 AS s } RETURN x, s')).rows, [[1n, 5n]]);
  await fails('WITH 1 AS x, 2 AS y CALL (x) { RETURN y AS s } RETURN s', 'SyntaxError', /Variable `y` not defined/);
  await fails('WITH 1 AS x CALL () { RETURN x AS s } RETURN s', 'SyntaxError', /Variable `x` not defined/);
  await fails('WITH 1 AS x CALL (w) { RETURN 1 AS s } RETURN s', 'SyntaxError', /Variable `w` not defined/);
  // A variable that was not imported may be declared again inside.
  assert.deepEqual((await h.run('WITH 1 AS x CALL () { UNWIND [7] AS x RETURN x AS s } RETURN x, s')).rows, [[1n, 7n]]);
  await h.run("UNWIND ['a', 'b'] AS name CALL (name) { CREATE (:Person {name: name}) }");
  assert.deepEqual(await h.column('MATCH (p:Person) RETURN p.name AS n ORDER BY n'), ['a', 'b']);
});

test('the statement holds the writer slot only inside a batch: another writer gets it before every batch', async () => {
  let batches = 0;
  let otherWrites = 0;
  const source = {
    beginRead() {
      const tx = h.db.beginRead();
      return { graph: tx, close: () => tx.close() };
    },
    async beginWrite() {
      // Another writer, given 50 ms: it would time out if the statement kept the slot between batches.
      const other = await h.db.beginWrite(50);
      other.createNode(['Interleaved'], new Map());
      await other.commit();
      otherWrites++;
      const tx = await h.db.beginWrite();
      batches++;
      return { graph: tx, id: `t${batches}`, commit: () => tx.commit(), rollback: () => tx.rollback(), stopReason: () => null };
    },
    pause: async () => undefined,
    stopReason: () => null,
  };
  const ex = await prepare('UNWIND range(1, 7) AS i CALL (i) { CREATE (:Person {num: i}) } IN TRANSACTIONS OF 3 ROWS').executeInTransactions(source, new Map());
  assert.equal(ex.stats()['nodesCreated'], 7);
  assert.deepEqual([batches, otherWrites], [3, 3]);
  assert.deepEqual(await h.column('MATCH (n:Interleaved) RETURN count(n) AS c'), [3n]);
});

test('a batch runs in slices, and terminating its transaction stops the statement mid-batch even under ON ERROR CONTINUE', async () => {
  let pauses = 0;
  const stopped = new QuiverError('TransactionTerminated', 'The transaction has been terminated: test.');
  let terminatedId: string | null = null;
  let batches = 0;
  const source = {
    beginRead() {
      const tx = h.db.beginRead();
      return { graph: tx, close: () => tx.close() };
    },
    async beginWrite() {
      const tx = await h.db.beginWrite();
      const id = `t${++batches}`;
      return { graph: tx, id, commit: () => tx.commit(), rollback: () => tx.rollback(), stopReason: () => (terminatedId === id ? stopped : null) };
    },
    pause: async () => {
      // The second batch is terminated at its first pause, as TERMINATE TRANSACTION would between slices.
      pauses++;
      if (batches === 2) terminatedId = 't2';
    },
    stopReason: () => null,
  };
  // A slice of 0 ms checked at every row: the statement pauses at every chance.
  const slice = new ExecutionSlice(0, () => 0, 1);
  const q = 'UNWIND range(1, 9) AS i CALL (i) { CREATE (:Person {num: i}) } IN TRANSACTIONS OF 3 ROWS ON ERROR CONTINUE';
  await assert.rejects(prepare(q).executeInTransactions(source, new Map(), { slice }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'TransactionTerminated');
    assert.match(e.message, /^The transaction has been terminated: test\. \(Transactions committed: 1; batch 2, input rows 4-6, rolled back\)$/);
    return true;
  });
  assert.ok(pauses > 1, `the statement paused between slices (${pauses})`);
  assert.deepEqual(await nums(), [1n, 2n, 3n], 'the first batch stays committed, the terminated one is rolled back, none runs after it');
});

test('a terminated statement stops before its next batch', async () => {
  let batches = 0;
  const stopped = new QuiverError('TransactionTerminated', 'The transaction has been terminated: test.');
  const source = {
    beginRead() {
      const tx = h.db.beginRead();
      return { graph: tx, close: () => tx.close() };
    },
    async beginWrite() {
      const tx = await h.db.beginWrite();
      batches++;
      return { graph: tx, id: `t${batches}`, commit: () => tx.commit(), rollback: () => tx.rollback(), stopReason: () => null };
    },
    pause: async () => undefined,
    stopReason: () => (batches >= 2 ? stopped : null),
  };
  await assert.rejects(prepare('UNWIND range(1, 9) AS i CALL (i) { CREATE (:Person {num: i}) } IN TRANSACTIONS OF 3 ROWS ON ERROR BREAK').executeInTransactions(source, new Map()), /Transactions committed: 1; batch 2/);
  assert.deepEqual(await nums(), [1n, 2n, 3n]);
});

test('a batch whose subquery returns more rows than a function call takes arguments completes', async () => {
  // One input row, 200 000 rows out of its subquery: gathered with push(...rows) this overflowed the stack.
  const r = await h.run('UNWIND [1] AS one CALL (one) { UNWIND range(1, 200000) AS x RETURN x } IN TRANSACTIONS RETURN count(x) AS n, sum(x) AS total');
  assert.deepEqual(r.rows, [[200000n, 20000100000n]]);
});
