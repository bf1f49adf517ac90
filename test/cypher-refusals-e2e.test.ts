// Invalid queries of issue #18 asked through the official neo4j-driver of a real `bin/quiver
// console`: each is refused before its first record, with the status code Neo4j gives (SyntaxError
// for what its type checker finds, ArgumentError for bad function arguments, ProcedureNotFound),
// and an update before the refusal leaves nothing behind. Writes before LIMIT 0 still happen.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Driver } from 'neo4j-driver';
import { startTestServer, type TestServer } from './support/harness.js';

describe('refusals of issue #18 through the driver', () => {
  let server: TestServer;
  let driver: Driver;
  before(async () => {
    server = await startTestServer();
    driver = server.driver();
  });
  after(async () => {
    await driver.close();
    await server.stop();
    server.cleanup();
  });

  /** Runs `query` in an explicit transaction: the records streamed before it failed, and its status code. */
  async function refusal(query: string, params: Record<string, unknown> = {}): Promise<{ records: number; code: string }> {
    const session = driver.session();
    const tx = await session.beginTransaction();
    let records = 0;
    try {
      const code = await new Promise<string>((resolve) => {
        tx.run(query, params).subscribe({
          onNext: () => void records++,
          onCompleted: () => resolve('(none: the query succeeded)'),
          onError: (e) => resolve((e as { code?: string }).code ?? String(e)),
        });
      });
      return { records, code };
    } finally {
      await tx.rollback().catch(() => undefined);
      await session.close();
    }
  }

  async function nodeCount(): Promise<number> {
    const { records } = await driver.executeQuery('MATCH (n) RETURN count(n) AS c');
    return Number(records[0]!.get('c'));
  }

  it('refuses type errors, pattern misuse, ambiguous aggregation and bad compositions with Statement.SyntaxError before any record', async () => {
    await driver.executeQuery('CREATE (:Person {age: 1})-[:KNOWS]->(:Person {age: 2})');
    for (const query of [
      'MATCH p = (a)-->() RETURN labels(p)',
      'UNWIND [1, 2] AS x MATCH () DELETE x + 1',
      'MATCH (n) RETURN (n)-->()',
      'MATCH (n) WHERE (n)-[r]->(m) RETURN n',
      'MATCH (me:Person)--(you:Person) RETURN me.age + count(you.age)',
      'RETURN 1 AS a UNION RETURN 2 AS a UNION ALL RETURN 3 AS a',
      'RETURN count(rand())',
      'RETURN 1.34E999',
      'MATCH (n) DELETE n:Person',
      "UNWIND ['Clara', 'Bob'] AS name RETURN none(x IN [name] WHERE x % 2 = 0)",
    ]) {
      assert.deepEqual(await refusal(query), { records: 0, code: 'Neo.ClientError.Statement.SyntaxError' }, query);
    }
  });

  it('refuses SKIP and LIMIT parameters that are negative or fractional before any record, and writes nothing', async () => {
    const before = await nodeCount();
    for (const params of [{ l: -1 }, { l: 1.5 }]) {
      assert.deepEqual(await refusal('UNWIND range(1, 3) AS i CREATE (n:Row {i: i}) RETURN n LIMIT $l', params), { records: 0, code: 'Neo.ClientError.Statement.SyntaxError' });
    }
    assert.equal(await nodeCount(), before);
  });

  it('refuses bad function arguments with Statement.ArgumentError and an unknown procedure with Procedure.ProcedureNotFound', async () => {
    assert.deepEqual(await refusal('RETURN range(0, 10, 0)'), { records: 0, code: 'Neo.ClientError.Statement.ArgumentError' });
    assert.deepEqual(await refusal('RETURN range(true, 1)'), { records: 0, code: 'Neo.ClientError.Statement.ArgumentError' });
    assert.deepEqual(await refusal('MATCH (n:Person) RETURN percentileCont(n.age, $p)', { p: 1.5 }), { records: 0, code: 'Neo.ClientError.Statement.ArgumentError' });
    assert.deepEqual(await refusal('CALL no.such.procedure()'), { records: 0, code: 'Neo.ClientError.Procedure.ProcedureNotFound' });
  });

  it('keeps the writes of a statement that returns no row because of LIMIT 0', async () => {
    const before = await nodeCount();
    const { records, summary } = await driver.executeQuery('CREATE (n:Limited) RETURN n LIMIT 0');
    assert.equal(records.length, 0);
    assert.equal(summary.counters.updates().nodesCreated, 1);
    assert.equal(await nodeCount(), before + 1);
  });
});
