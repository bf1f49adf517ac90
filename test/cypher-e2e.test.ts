// Cypher behaviour that only a real server shows, through the official neo4j-driver against
// `bin/quiver console`: strings measured in code points whether they arrive as literals or as Bolt
// parameters (UTF-8 on the wire), and CALL { ... } IN TRANSACTIONS, which commits batch by batch
// in an auto-commit statement and is refused in an explicit transaction.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import neo4j, { type Driver, type Neo4jError } from 'neo4j-driver';
import { startTestServer, type TestServer } from './support/harness.js';

describe('Cypher through neo4j-driver against a real server', () => {
  let server: TestServer;
  let driver: Driver;

  before(async () => {
    server = await startTestServer();
    driver = server.driver();
  });
  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
  });

  it('measures and cuts strings in code points, for literals and for parameters', async () => {
    const literal = await driver.executeQuery("RETURN size('😀a') AS n, substring('😀abc', 1) AS sub, left('😀abc', 2) AS l, reverse('a😀b') AS r");
    const row = literal.records[0]!;
    assert.deepEqual([row.get('n').toNumber(), row.get('sub'), row.get('l'), row.get('r')], [2, 'abc', '😀a', 'b😀a']);

    const params = await driver.executeQuery(
      'RETURN size($s) AS n, size($t) AS m, right($t, 2) AS r, split($t, "") AS chars, trim(BOTH $s FROM $t) AS trimmed',
      { s: '😀', t: '😀x𝄞😀' },
    );
    const p = params.records[0]!;
    assert.equal(p.get('n').toNumber(), 1);
    assert.equal(p.get('m').toNumber(), 4);
    assert.equal(p.get('r'), '𝄞😀');
    assert.deepEqual(p.get('chars'), ['😀', 'x', '𝄞', '😀']);
    assert.equal(p.get('trimmed'), 'x𝄞');
  });

  async function count(label: string): Promise<number> {
    const { records } = await driver.executeQuery(`MATCH (n:${label}) RETURN count(n) AS c`, {}, { routing: neo4j.routing.READ });
    return records[0]!.get('c').toNumber();
  }

  async function failureOf(work: () => Promise<unknown>): Promise<Neo4jError> {
    try {
      await work();
    } catch (e) {
      return e as Neo4jError;
    }
    assert.fail('expected the call to fail');
  }

  it('CALL { ... } IN TRANSACTIONS commits every batch of an auto-commit statement, with parameters', async () => {
    const session = driver.session();
    try {
      const rows = Array.from({ length: 2500 }, (_, i) => ({ id: i, name: `n${i}` }));
      const result = await session.run('UNWIND $rows AS r CALL (r) { CREATE (:Imported {id: r.id, name: r.name}) } IN TRANSACTIONS OF 1000 ROWS', { rows });
      assert.equal(result.summary.counters.updates().nodesCreated, 2500);
      const report = await session.run('UNWIND range(1, 5) AS i CALL (i) { MERGE (:Imported {id: i}) } IN TRANSACTIONS OF 2 ROWS ON ERROR CONTINUE REPORT STATUS AS s RETURN s');
      const statuses = report.records.map((r) => r.get('s') as { started: boolean; committed: boolean; transactionId: string; errorMessage: string | null });
      assert.equal(statuses.length, 5);
      assert.ok(statuses.every((s) => s.started && s.committed && s.errorMessage === null));
      assert.equal(new Set(statuses.map((s) => s.transactionId)).size, 3);
      assert.match(statuses[0]!.transactionId, /^neo4j-transaction-\d+$/);
    } finally {
      await session.close();
    }
    assert.equal(await count('Imported'), 2500);
  });

  it('a failing batch k with ON ERROR FAIL leaves exactly k-1 batches committed and the error names it', async () => {
    const session = driver.session();
    try {
      // Batches of 10 rows; row 35 (in batch 4) divides by zero.
      const e = await failureOf(() => session.run('UNWIND range(1, 50) AS i CALL (i) { CREATE (:Batched {i: i, x: 1 / (i - 35)}) } IN TRANSACTIONS OF 10 ROWS'));
      assert.equal(e.code, 'Neo.ClientError.Statement.ArithmeticError');
      assert.ok(e.message.startsWith('/ by zero (Transactions committed: 3; batch 4, input rows 31-40, rolled back)'), e.message);
    } finally {
      await session.close();
    }
    assert.equal(await count('Batched'), 30);
  });

  it('ON ERROR CONTINUE skips the failing batches and commits the rest', async () => {
    const session = driver.session();
    try {
      const result = await session.run('UNWIND [1, 0, 2, 0, 4] AS i CALL (i) { CREATE (n:Continued {num: 100 / i}) RETURN n } IN TRANSACTIONS OF 1 ROW ON ERROR CONTINUE RETURN n.num AS num');
      assert.deepEqual(result.records.map((r) => r.get('num')?.toNumber() ?? null), [100, null, 50, null, 25]);
    } finally {
      await session.close();
    }
    assert.equal(await count('Continued'), 3);
  });

  it('CALL { ... } IN TRANSACTIONS in an explicit transaction fails with TransactionStartFailed and writes nothing', async () => {
    const query = 'UNWIND range(1, 3) AS i CALL (i) { CREATE (:Explicit {i: i}) } IN TRANSACTIONS';
    const session = driver.session();
    try {
      const tx = await session.beginTransaction();
      const e = await failureOf(() => tx.run(query));
      assert.equal(e.code, 'Neo.DatabaseError.Transaction.TransactionStartFailed');
      // Neo4j's message, then Quiver's hint.
      assert.ok(e.message.startsWith("A query with 'CALL { ... } IN TRANSACTIONS' can only be executed in an implicit transaction, but tried to execute in an explicit transaction. (hint: run it as an auto-commit query"), e.message);
      await tx.close();
      // executeQuery and transaction functions run in explicit transactions too (as with Neo4j).
      const viaExecuteQuery = await failureOf(() => driver.executeQuery(query));
      assert.equal(viaExecuteQuery.code, 'Neo.DatabaseError.Transaction.TransactionStartFailed');
    } finally {
      await session.close();
    }
    assert.equal(await count('Explicit'), 0);
  });

  it('CALL (x, y) { ... } imports the listed variables, CALL (*) all and CALL () none', async () => {
    const { records } = await driver.executeQuery('WITH 2 AS x, 3 AS y, 4 AS z CALL (x, y) { RETURN x * y AS p } CALL (*) { RETURN z + p AS q } CALL () { RETURN 1 AS one } RETURN p, q, one');
    assert.deepEqual(['p', 'q', 'one'].map((k) => records[0]!.get(k).toNumber()), [6, 10, 1]);
    const e = await failureOf(() => driver.executeQuery('WITH 2 AS x, 3 AS y CALL (x) { RETURN y AS p } RETURN p'));
    assert.equal(e.code, 'Neo.ClientError.Statement.SyntaxError');
    assert.match(e.message, /Variable `y` not defined/);
  });

  it('stores a non-BMP property and reads it back measured in code points', async () => {
    await driver.executeQuery('CREATE (:Emoji {s: $s})', { s: 'a😀' });
    const { records } = await driver.executeQuery('MATCH (e:Emoji) RETURN e.s AS s, size(e.s) AS n, substring(e.s, 1) AS tail');
    assert.deepEqual([records[0]!.get('s'), records[0]!.get('n').toNumber(), records[0]!.get('tail')], ['a😀', 2, '😀']);
  });
});
