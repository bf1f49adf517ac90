/**
 * Large single statements on a real server through the official driver, as a Neo4j user imports
 * data: they finish in time linear in their size (a statement's lookups of its own writes are
 * indexed), they stay correct where those lookups change (MERGE over nodes the same statement
 * created, uniqueness inside one statement), and a transaction whose changes pass
 * db.memory.transaction.max or db.memory.transaction.total.max fails alone while the server goes on
 * serving everyone else. Time bounds here are hang guards only; the figures live in
 * bench/large-statement.ts and docs/performance.md.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import neo4j, { type Driver, type Neo4jError } from 'neo4j-driver';
import { createServer_, runAdmin, startTestServer, type TestServer } from './support/harness.js';

/** Far above what these statements take on a loaded machine (about 2 s), far below the quadratic times. */
const hangGuardMs = 30_000;

async function failureOf(work: () => Promise<unknown>): Promise<Neo4jError> {
  try {
    await work();
  } catch (e) {
    return e as Neo4jError;
  }
  assert.fail('expected the statement to fail');
}

async function withinGuard<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${hangGuardMs} ms`)), hangGuardMs)));
  try {
    return await Promise.race([work, guard]);
  } finally {
    clearTimeout(timer);
  }
}

async function count(driver: Driver, query: string, params: Record<string, unknown> = {}): Promise<number> {
  const { records } = await driver.executeQuery(query, params);
  return (records[0]!.get(0) as { toNumber(): number }).toNumber();
}

/** Auto-commit, so that the driver does not retry a transient failure. */
async function runAutoCommit(driver: Driver, query: string, params: Record<string, unknown> = {}): Promise<void> {
  const session = driver.session();
  try {
    await session.run(query, params);
  } finally {
    await session.close();
  }
}

describe('large statements with authentication on, as installed', () => {
  let server: TestServer;
  let driver: Driver;
  before(async () => {
    server = await createServer_({ auth: true });
    const set = await runAdmin(['dbms', 'set-initial-password', 'large-password'], { home: server.home });
    assert.equal(set.code, 0, set.stderr);
    await server.start();
    driver = server.driver({ user: 'neo4j', password: 'large-password' });
  });
  after(async () => {
    await driver.close();
    await server.stop();
    server.cleanup();
  });

  it('a 20k-row indexed UNWIND MERGE in one statement finishes and yields exactly 20k nodes with their names', async () => {
    await driver.executeQuery('CREATE RANGE INDEX b_id FOR (b:B) ON (b.id)');
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: neo4j.int(i), name: `name-${i}` }));
    const { summary } = await withinGuard('the MERGE', driver.executeQuery('UNWIND $rows AS r MERGE (b:B {id: r.id}) SET b.name = r.name', { rows }));
    assert.equal(summary.counters.updates().nodesCreated, 20_000);
    assert.equal(await count(driver, 'MATCH (b:B) RETURN count(b)'), 20_000);
    assert.equal(await count(driver, 'MATCH (b:B) WHERE b.name = "name-" + toString(b.id) RETURN count(b)'), 20_000);
  });

  it('a 100k-node UNWIND CREATE in one statement finishes', async () => {
    const { summary } = await withinGuard('the CREATE', driver.executeQuery('UNWIND range(1, 100000) AS i CREATE (:N {id: i})'));
    assert.equal(summary.counters.updates().nodesCreated, 100_000);
    assert.equal(await count(driver, 'MATCH (n:N) RETURN count(n)'), 100_000);
  });

  it('MERGE in one statement matches what the same statement created, also after a SET moved it to another key', async () => {
    await driver.executeQuery('CREATE RANGE INDEX m_k FOR (m:M) ON (m.k)');
    await driver.executeQuery('UNWIND [1, 2, 1, 3, 2, 1] AS x MERGE (m:M {k: x}) ON CREATE SET m.seen = 1 ON MATCH SET m.seen = m.seen + 1');
    const { records } = await driver.executeQuery('MATCH (m:M) RETURN m.k AS k, m.seen AS seen ORDER BY k');
    assert.deepEqual(records.map((r) => [r.get('k').toNumber(), r.get('seen').toNumber()]), [[1, 3], [2, 2], [3, 1]]);
    // Move key 3 to 30, then merge both keys in the same statement: 3 is created anew, 30 matches.
    await driver.executeQuery('MATCH (m:M {k: 3}) SET m.k = 30 WITH count(*) AS moved UNWIND [3, 30] AS x MERGE (n:M {k: x}) RETURN count(*)');
    assert.equal(await count(driver, 'MATCH (m:M) RETURN count(m)'), 4);
    assert.equal(await count(driver, 'MATCH (m:M {k: 30}) RETURN m.seen'), 1);
  });

  it('a uniqueness violation between two rows of one statement fails it and commits nothing', async () => {
    await driver.executeQuery('CREATE CONSTRAINT u_k FOR (u:U) REQUIRE u.k IS UNIQUE');
    const failure = await failureOf(() => runAutoCommit(driver, 'UNWIND range(1, 5000) + [17] AS x CREATE (:U {k: x})'));
    assert.equal(failure.code, 'Neo.ClientError.Schema.ConstraintValidationFailed');
    assert.match(failure.message, /already exists with label `U` and property `k` = 17/);
    assert.equal(await count(driver, 'MATCH (u:U) RETURN count(u)'), 0);
    // Deleting the holder and creating its value again in one statement is fine.
    await driver.executeQuery('CREATE (:U {k: 1})');
    await driver.executeQuery('MATCH (u:U {k: 1}) DELETE u WITH count(*) AS gone CREATE (:U {k: 1})');
    assert.equal(await count(driver, 'MATCH (u:U {k: 1}) RETURN count(u)'), 1);
  });
});

describe('db.memory.transaction.max', () => {
  let server: TestServer;
  let driver: Driver;
  before(async () => {
    server = await startTestServer({ conf: { 'db.memory.transaction.max': '2M' } });
    driver = server.driver();
  });
  after(async () => {
    await driver.close();
    await server.stop();
    server.cleanup();
  });

  it('fails a statement whose changes pass the limit, commits nothing of it, and the server serves others', async () => {
    const failure = await failureOf(() => withinGuard('the CREATE', runAutoCommit(driver, 'UNWIND range(1, 100000) AS i CREATE (:Big {id: i})')));
    assert.equal(failure.code, 'Neo.ClientError.General.TransactionOutOfMemoryError');
    assert.match(failure.message, /would use more than the limit 2\.0 MiB\. Currently using .*db\.memory\.transaction\.max threshold reached/);
    assert.equal(await count(driver, 'MATCH (n:Big) RETURN count(n)'), 0);
    const other = server.driver();
    try {
      assert.equal(await count(other, 'RETURN 1'), 1);
      await other.executeQuery('UNWIND range(1, 1000) AS i CREATE (:Small {id: i})');
      assert.equal(await count(other, 'MATCH (n:Small) RETURN count(n)'), 1000);
    } finally {
      await other.close();
    }
  });

  it('counts the changes of every statement of an explicit transaction', async () => {
    const session = driver.session();
    try {
      const tx = await session.beginTransaction();
      await tx.run('UNWIND range(1, 2000) AS i CREATE (:Step {id: i})');
      const failure = await failureOf(async () => {
        for (let i = 0; i < 20; i++) await tx.run('UNWIND range(1, 2000) AS i CREATE (:Step {id: i})');
      });
      assert.equal(failure.code, 'Neo.ClientError.General.TransactionOutOfMemoryError');
      await tx.rollback().catch(() => undefined);
    } finally {
      await session.close();
    }
    assert.equal(await count(driver, 'MATCH (n:Step) RETURN count(n)'), 0);
  });
});

describe('db.memory.transaction.total.max', () => {
  let server: TestServer;
  let driver: Driver;
  before(async () => {
    server = await startTestServer({ conf: { 'db.memory.transaction.total.max': '10M' } });
    driver = server.driver();
  });
  after(async () => {
    await driver.close();
    await server.stop();
    server.cleanup();
  });

  it('fails the transaction that would pass the database total, and gives the memory back', async () => {
    const failure = await failureOf(() => withinGuard('the CREATE', runAutoCommit(driver, 'UNWIND range(1, 200000) AS i CREATE (:Big {id: i})')));
    assert.equal(failure.code, 'Neo.TransientError.General.MemoryPoolOutOfMemoryError');
    assert.match(failure.message, /would use more than the limit 10\.0 MiB\. .*db\.memory\.transaction\.total\.max threshold reached/);
    assert.equal(await count(driver, 'MATCH (n:Big) RETURN count(n)'), 0);
    // The failed transaction's bytes went back to the pool: transactions just under the total,
    // one after another, all commit (each holds its bytes until the store has applied it).
    for (let round = 0; round < 5; round++) await runAutoCommit(driver, 'UNWIND range(1, 10000) AS i CREATE (:Fits {id: i})');
    assert.equal(await count(driver, 'MATCH (n:Fits) RETURN count(n)'), 50_000);
  });
});
