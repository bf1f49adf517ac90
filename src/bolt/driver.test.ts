// The official neo4j-driver (6.x) end to end against the server, at 5.8 and pinned to older versions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import neo4j, { type Driver } from 'neo4j-driver';
import { type BoltServer, startBoltServer } from './server.js';
import { TestBackend, testUser } from './test-backend.js';

/**
 * The official neo4j-driver against our server with the test backend. Only generic behaviour is
 * asserted, so the same checks hold when the server runs the real DBMS.
 */
describe('neo4j-driver 6.x against the Bolt server', () => {
  let server: BoltServer;
  let backend: TestBackend;
  let driver: Driver;
  const logs: string[] = [];
  const auth = neo4j.auth.basic(testUser.username, testUser.password);
  const url = (scheme: string): string => `${scheme}://127.0.0.1:${server.address.port}`;

  before(async () => {
    backend = new TestBackend();
    server = await startBoltServer({ host: '127.0.0.1', port: 0, backend, log: (l) => logs.push(l) });
    driver = neo4j.driver(url('bolt'), auth);
  });
  after(async () => {
    await driver.close();
    await server.close();
  });

  it('verifies connectivity and reports the server agent and Bolt 5.8', async () => {
    await driver.verifyConnectivity();
    const info = await driver.getServerInfo();
    assert.equal(info.agent, 'Neo4j/5.26.0');
    assert.deepEqual({ ...info.protocolVersion }, { major: 5, minor: 8 });
    assert.equal(info.address, `127.0.0.1:${server.address.port}`);
  });

  it('returns a 64-bit integer beyond 2^53 exactly (executeQuery)', async () => {
    const big = neo4j.int('9007199254740993');
    const { records, summary } = await driver.executeQuery('RETURN $x AS x', { x: big });
    const x = records[0]?.get('x');
    assert.ok(neo4j.isInt(x));
    assert.equal(x.toString(), '9007199254740993');
    assert.equal(summary.database.name, 'neo4j');
    assert.equal(summary.queryType, 'r');
  });

  it('round-trips JS numbers (as floats), strings, lists, maps and bytes', async () => {
    const value = { f: 1, s: 'héllo', l: [neo4j.int(1), 'two', null], b: new Int8Array([1, -2, 3]) };
    const { records } = await driver.executeQuery('RETURN $x AS x', { x: value });
    const x = records[0]?.get('x');
    assert.equal(x.f, 1);
    assert.equal(x.s, 'héllo');
    assert.equal(x.l[0].toString(), '1');
    assert.equal(x.l[1], 'two');
    assert.equal(x.l[2], null);
    assert.deepEqual([...x.b], [1, -2, 3]);
  });

  it('round-trips temporal values, including zoned date-times', async () => {
    const { DateTime, Date: CDate, LocalTime, LocalDateTime, Time, Duration } = neo4j.types;
    const values = {
      date: new CDate(2024, 2, 29),
      ancient: new CDate(1, 1, 1),
      localTime: new LocalTime(23, 59, 59, 999_999_999),
      time: new Time(10, 0, 0, 5, 3600),
      localDateTime: new LocalDateTime(2024, 7, 1, 12, 30, 15, 123_456_789),
      offsetDateTime: new DateTime(2024, 7, 1, 12, 30, 15, 123_456_789, -18000),
      duration: new Duration(14, -3, 3661, 500),
    };
    for (const [name, v] of Object.entries(values)) {
      const { records } = await driver.executeQuery('RETURN $x AS x', { x: v });
      assert.equal(String(records[0]?.get('x')), String(v), name);
    }
    // Sent with a zone only; the server resolves the offset in force (summer time in Paris).
    const { records } = await driver.executeQuery('RETURN $x AS x', { x: new DateTime(2024, 7, 1, 12, 0, 0, 0, undefined, 'Europe/Paris') });
    const zoned = records[0]?.get('x');
    assert.equal(String(zoned), '2024-07-01T12:00:00+02:00[Europe/Paris]');
    assert.equal(zoned.timeZoneId, 'Europe/Paris');
    assert.equal(Number(zoned.timeZoneOffsetSeconds), 7200);
  });

  it('decodes paths with element ids and reversed relationships', async () => {
    const { records } = await driver.executeQuery('MATCH p = (a)-[r]->(b)<-[s]-(c) RETURN p');
    const p = records[0]?.get('p');
    assert.equal(p.length, 2);
    assert.equal(p.start.elementId, '0');
    assert.equal(p.end.elementId, '2');
    const second = p.segments[1];
    assert.equal(second.relationship.type, 'S');
    assert.equal(second.relationship.startNodeElementId, '2');
    assert.equal(second.relationship.endNodeElementId, '1');
    assert.equal(second.relationship.properties.w, 1.5);
  });

  it('commits a managed write transaction and hands back its bookmark', async () => {
    const commits = backend.activity.commits;
    const session = driver.session();
    try {
      const node = await session.executeWrite(async (tx) => {
        const result = await tx.run('CREATE (n:Person {name: $name}) RETURN n', { name: 'Ann' });
        assert.equal(result.summary.counters.updates().nodesCreated, 1);
        return result.records[0]?.get('n');
      });
      assert.deepEqual(node.labels, ['Person']);
      assert.equal(node.properties.name, 'Ann');
      assert.equal(typeof node.elementId, 'string');
      assert.equal(session.lastBookmarks().length, 1);
    } finally {
      await session.close();
    }
    assert.equal(backend.activity.commits, commits + 1);
  });

  it('rolls back an explicit transaction', async () => {
    const rollbacks = backend.activity.rollbacks;
    const session = driver.session();
    try {
      const tx = await session.beginTransaction({ timeout: 5000, metadata: { app: 'test' } });
      await tx.run('CREATE (n:Person {name: $name}) RETURN n', { name: 'Bob' });
      await tx.rollback();
    } finally {
      await session.close();
    }
    assert.equal(backend.activity.rollbacks, rollbacks + 1);
  });

  it('reads 10k rows in batches of the fetch size (has_more paging)', async () => {
    const pullsBefore = backend.activity.pullSizes.length;
    const session = driver.session({ fetchSize: 100 });
    try {
      const result = await session.run('UNWIND range(1, $n) AS i RETURN i', { n: neo4j.int(10_000) });
      assert.equal(result.records.length, 10_000);
      assert.equal(result.records[9_999]?.get('i').toNumber(), 10_000);
      let sum = 0;
      for (const r of result.records) sum += r.get('i').toNumber();
      assert.equal(sum, (10_000 * 10_001) / 2);
    } finally {
      await session.close();
    }
    const pulls = backend.activity.pullSizes.slice(pullsBefore);
    assert.ok(pulls.length >= 100, `expected ≥100 PULLs, saw ${pulls.length}`);
    assert.ok(pulls.every((n) => n === 100), `every PULL asks for the fetch size: ${pulls.slice(0, 5).join(',')}…`);
  });

  it('stops a partly consumed result when the session closes, leaving nothing open', async () => {
    const session = driver.session({ fetchSize: 10 });
    const result = session.run('UNWIND range(1, $n) AS i RETURN i', { n: neo4j.int(1_000_000) });
    const seen: number[] = [];
    for await (const record of result) {
      seen.push(record.get('i').toNumber());
      if (seen.length === 25) break;
    }
    await session.close();
    assert.deepEqual(seen.slice(0, 3), [1, 2, 3]);
    await driver.executeQuery('RETURN 1 AS n'); // the pooled connection is usable again
  });

  it('surfaces query errors with their Neo4j code and GQL status, then keeps working', async () => {
    await assert.rejects(driver.executeQuery('NOT CYPHER'), (e: { code?: string; gqlStatus?: string }) => {
      assert.equal(e.code, 'Neo.ClientError.Statement.SyntaxError');
      assert.equal(e.gqlStatus, '42001');
      return true;
    });
    await assert.rejects(driver.executeQuery('RETURN 1 AS n', {}, { database: 'nope' }), { code: 'Neo.ClientError.Database.DatabaseNotFound' });
    const { records } = await driver.executeQuery('RETURN 1 AS n');
    assert.equal(records[0]?.get('n').toNumber(), 1);
  });

  it('works through neo4j:// (ROUTE) for reads and writes', async () => {
    const routes = backend.activity.routes;
    const routing = neo4j.driver(url('neo4j'), auth);
    try {
      const { records } = await routing.executeQuery('RETURN 1 AS n', {}, { routing: neo4j.routing.READ });
      assert.equal(records[0]?.get('n').toNumber(), 1);
      const session = routing.session({ defaultAccessMode: neo4j.session.WRITE });
      try {
        await session.executeWrite((tx) => tx.run('CREATE (n:Person {name: $name}) RETURN n', { name: 'Cy' }));
      } finally {
        await session.close();
      }
      const info = await routing.getServerInfo();
      assert.equal(info.agent, 'Neo4j/5.26.0');
    } finally {
      await routing.close();
    }
    assert.ok(backend.activity.routes > routes, 'the driver asked for a routing table');
  });

  it('rejects a wrong password with Unauthorized', async () => {
    const wrong = neo4j.driver(url('bolt'), neo4j.auth.basic(testUser.username, 'wrong'));
    try {
      await assert.rejects(wrong.verifyConnectivity(), { code: 'Neo.ClientError.Security.Unauthorized' });
    } finally {
      await wrong.close();
    }
  });

  it('leaves no transaction open and closes every connection on driver.close()', async () => {
    const extra = neo4j.driver(url('bolt'), auth);
    await extra.executeQuery('RETURN 1 AS n');
    await extra.close();
    assert.equal(backend.activity.openTransactions, 0);
    const deadline = Date.now() + 5000;
    // Only the shared driver's pooled connections may remain.
    while (server.connectionCount() > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(server.connectionCount() <= 1, `${server.connectionCount()} connections still open`);
  });
});

/** Older protocol versions the driver also speaks: auth in HELLO (4.4, 5.0), legacy structs, `code` in FAILURE (≤5.6). */
for (const version of [
  { major: 4, minor: 4 },
  { major: 5, minor: 0 },
  { major: 5, minor: 6 },
]) {
  describe(`neo4j-driver 6.x against the Bolt server pinned to ${version.major}.${version.minor}`, () => {
    let server: BoltServer;
    let driver: Driver;
    const backend = new TestBackend();

    before(async () => {
      server = await startBoltServer({ host: '127.0.0.1', port: 0, backend, versions: [version], log: () => {} });
      driver = neo4j.driver(`bolt://127.0.0.1:${server.address.port}`, neo4j.auth.basic(testUser.username, testUser.password));
    });
    after(async () => {
      await driver.close();
      await server.close();
    });

    it('negotiates that version and runs queries and a managed write', async () => {
      const info = await driver.getServerInfo();
      assert.deepEqual({ ...info.protocolVersion }, version);
      const { records } = await driver.executeQuery('RETURN $x AS x', { x: neo4j.int('-9223372036854775808') });
      assert.equal(records[0]?.get('x').toString(), '-9223372036854775808');
      const session = driver.session();
      try {
        await session.executeWrite((tx) => tx.run('CREATE (n:Person {name: $name}) RETURN n', { name: 'Dee' }));
        assert.equal(session.lastBookmarks().length, 1);
      } finally {
        await session.close();
      }
    });

    it('round-trips date-times with offsets and zones (utc patch on 4.4)', async () => {
      const { DateTime } = neo4j.types;
      const offset = new DateTime(2024, 1, 15, 8, 0, 0, 1, 19800);
      const { records } = await driver.executeQuery('RETURN $x AS x', { x: offset });
      assert.equal(String(records[0]?.get('x')), '2024-01-15T08:00:00.000000001+05:30');
      const zoned = await driver.executeQuery('RETURN $x AS x', { x: new DateTime(2024, 1, 15, 8, 0, 0, 0, undefined, 'America/New_York') });
      assert.equal(String(zoned.records[0]?.get('x')), '2024-01-15T08:00:00-05:00[America/New_York]');
    });

    it('delivers nodes and paths in the version\'s structure shape', async () => {
      const { records } = await driver.executeQuery('MATCH p = (a)-[r]->(b)<-[s]-(c) RETURN p');
      const p = records[0]?.get('p');
      assert.equal(p.segments[1].relationship.type, 'S');
      assert.equal(p.segments[1].relationship.start.toNumber(), 2);
    });

    it('reports errors under the key this version uses', async () => {
      await assert.rejects(driver.executeQuery('NOT CYPHER'), { code: 'Neo.ClientError.Statement.SyntaxError' });
    });

    it('rejects a wrong password inside HELLO or LOGON', async () => {
      const wrong = neo4j.driver(`bolt://127.0.0.1:${server.address.port}`, neo4j.auth.basic(testUser.username, 'wrong'));
      try {
        await assert.rejects(wrong.verifyConnectivity(), { code: 'Neo.ClientError.Security.Unauthorized' });
      } finally {
        await wrong.close();
      }
    });
  });
}
