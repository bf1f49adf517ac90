// The official neo4j-driver (6.x) against a real `bin/quiver console`: connectivity, transactions,
// streaming without materialising, bookmarks, routing URIs, authentication, error codes, value round
// trips and database administration.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import neo4j, { type Driver, type Neo4jError, type Session } from 'neo4j-driver';
import { createServer_, quiverBin, repoRoot, runAdmin, runProcess, startTestServer, type TestServer } from './support/harness.js';

const quiet = { logging: { level: 'error' as const, logger: () => undefined } };

/** Resident memory of a process, from /proc (Linux). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** The Neo4j status code of a failed call (fails the test when the call succeeds). */
async function failureOf(work: () => Promise<unknown>): Promise<Neo4jError> {
  try {
    await work();
  } catch (e) {
    return e as Neo4jError;
  }
  assert.fail('expected the call to fail');
}

async function withSession<T>(driver: Driver, config: Parameters<Driver['session']>[0], work: (s: Session) => Promise<T>): Promise<T> {
  const session = driver.session(config);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

async function count(driver: Driver, query: string, params: Record<string, unknown> = {}, database = 'neo4j'): Promise<number> {
  const { records } = await driver.executeQuery(query, params, { database, routing: neo4j.routing.READ });
  return Number(records[0]?.get(0));
}

describe('neo4j-driver against a real server (auth disabled)', () => {
  let server: TestServer;
  let driver: Driver;
  let routingDriver: Driver;
  const drivers = (): [string, Driver][] => [
    ['bolt://', driver],
    ['neo4j://', routingDriver],
  ];

  before(async () => {
    server = await startTestServer();
    driver = server.driver();
    routingDriver = neo4j.driver(`neo4j://127.0.0.1:${server.boltPort}`, neo4j.auth.basic('neo4j', 'unused'), quiet);
  });
  after(async () => {
    await driver?.close();
    await routingDriver?.close();
    await server?.stop();
    server?.cleanup();
  });

  it('verifies connectivity and reports a Neo4j-style agent, while `quiver version` prints Quiver\'s own', async () => {
    for (const [scheme, d] of drivers()) {
      await d.verifyConnectivity();
      const info = await d.getServerInfo();
      assert.equal(info.agent, 'Neo4j/5.26.0', scheme);
      assert.equal(info.protocolVersion?.toString(), '5.8', scheme);
      assert.equal(info.address, `127.0.0.1:${server.boltPort}`, scheme);
    }
    const version = await runProcess(quiverBin, ['version']);
    assert.equal(version.code, 0, version.stderr);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), `quiver ${pkg.version}`);
  });

  it('runs executeQuery against a named database, with counters and the database in the summary', async () => {
    for (const [scheme, d] of drivers()) {
      const created = await d.executeQuery('CREATE (n:EQ {scheme: $scheme}) RETURN n.scheme AS s', { scheme }, { database: 'neo4j' });
      assert.equal(created.records[0]?.get('s'), scheme);
      assert.equal(created.summary.counters.updates().nodesCreated, 1);
      assert.equal(created.summary.database.name, 'neo4j');
      assert.equal(created.summary.queryType, 'rw');
      assert.equal(created.summary.server.agent, 'Neo4j/5.26.0');
      const read = await d.executeQuery('MATCH (n:EQ {scheme: $scheme}) RETURN count(n) AS c', { scheme }, { database: 'neo4j', routing: neo4j.routing.READ });
      assert.equal(read.records[0]?.get('c').toNumber(), 1, scheme);
      assert.equal(read.summary.queryType, 'r');
      const system = await d.executeQuery('SHOW DATABASES YIELD name RETURN name ORDER BY name', {}, { database: 'system' });
      assert.deepEqual(system.records.map((r) => r.get('name')), ['neo4j', 'system'], scheme);
    }
  });

  it('runs managed transactions with executeRead and executeWrite', async () => {
    for (const [scheme, d] of drivers()) {
      const id = await withSession(d, { database: 'neo4j' }, (s) =>
        s.executeWrite(async (tx) => {
          const r = await tx.run('CREATE (a:MT {scheme: $scheme})-[:R]->(b:MT {scheme: $scheme}) RETURN id(a) AS id', { scheme });
          return r.records[0]?.get('id').toNumber() as number;
        }),
      );
      const seen = await withSession(d, { database: 'neo4j', defaultAccessMode: neo4j.session.READ }, (s) =>
        s.executeRead(async (tx) => (await tx.run('MATCH (a:MT)-[:R]->(b) WHERE id(a) = $id RETURN count(b) AS c', { id })).records[0]?.get('c').toNumber()),
      );
      assert.equal(seen, 1, scheme);
      const refused = await failureOf(() => withSession(d, {}, (s) => s.executeRead((tx) => tx.run('CREATE (:NotInReadTx)'))));
      assert.equal(refused.code, 'Neo.ClientError.General.WriteOnReadOnlyAccessDatabase', scheme);
    }
    assert.equal(await count(driver, 'MATCH (n:NotInReadTx) RETURN count(n)'), 0);
  });

  it('commits explicit transactions and makes rolled-back data invisible', async () => {
    for (const [scheme, d] of drivers()) {
      await withSession(d, { database: 'neo4j' }, async (s) => {
        const tx = await s.beginTransaction();
        await tx.run('CREATE (:Explicit {scheme: $scheme, outcome: "commit"})', { scheme });
        await tx.run('CREATE (:Explicit {scheme: $scheme, outcome: "commit"})', { scheme });
        await tx.commit();

        const rolledBack = await s.beginTransaction();
        await rolledBack.run('CREATE (:Explicit {scheme: $scheme, outcome: "rollback"})', { scheme });
        const inside = await rolledBack.run('MATCH (n:Explicit {scheme: $scheme}) RETURN count(n) AS c', { scheme });
        assert.equal(inside.records[0]?.get('c').toNumber(), 3, 'a transaction sees its own writes');
        await rolledBack.rollback();
      });
      const outcomes = await d.executeQuery('MATCH (n:Explicit {scheme: $scheme}) RETURN n.outcome AS o', { scheme }, { database: 'neo4j' });
      assert.deepEqual(outcomes.records.map((r) => r.get('o')), ['commit', 'commit'], scheme);
    }
  });

  it('keeps several results of one transaction open and returns every row of each', async () => {
    await withSession(driver, { database: 'neo4j', fetchSize: 10 }, async (s) => {
      await s.executeWrite((tx) => tx.run('UNWIND range(1, 50) AS i CREATE (:Interleaved {i: i})'));
      const tx = await s.beginTransaction();
      const first = tx.run('MATCH (n:Interleaved) RETURN n.i AS i');
      const second = tx.run('UNWIND range(1, 100) AS j RETURN j');
      // A write while `first` is still open: `first` must show the state before it, in full.
      const third = tx.run('MATCH (n:Interleaved) DETACH DELETE n');
      const rows = async (r: typeof first): Promise<number> => {
        let n = 0;
        for await (const _ of r) n++;
        return n;
      };
      assert.equal(await rows(second), 100);
      assert.equal((await third).summary.counters.updates().nodesDeleted, 50);
      assert.equal(await rows(first), 50);
      await tx.rollback();
    });
    assert.equal(await count(driver, 'MATCH (n:Interleaved) RETURN count(n)'), 50);
  });

  it('lets a new session that carries the previous session\'s bookmarks read its write', async () => {
    for (const [scheme, d] of drivers()) {
      const bookmarks = await withSession(d, { database: 'neo4j' }, async (s) => {
        await s.executeWrite((tx) => tx.run('CREATE (:Bookmarked {scheme: $scheme})', { scheme }));
        return s.lastBookmarks();
      });
      assert.equal(bookmarks.length, 1, scheme);
      const seen = await withSession(d, { database: 'neo4j', bookmarks, defaultAccessMode: neo4j.session.READ }, (s) =>
        s.executeRead(async (tx) => (await tx.run('MATCH (n:Bookmarked {scheme: $scheme}) RETURN count(n) AS c', { scheme })).records[0]?.get('c').toNumber()),
      );
      assert.equal(seen, 1, scheme);
      // Auto-commit writes return a bookmark too, and it moves forward.
      const next = await withSession(d, { database: 'neo4j', bookmarks }, async (s) => {
        await s.run('CREATE (:Bookmarked {scheme: $scheme})', { scheme });
        return s.lastBookmarks();
      });
      assert.equal(next.length, 1);
      assert.notDeepEqual(next, bookmarks);
    }
  });

  it('streams a 200k-row UNWIND with a small fetch size without materialising it', async () => {
    await assertStreams('UNWIND range(1, 200000) AS i RETURN i', 200_000, (i, value) => assert.equal(value.toNumber(), i + 1));
  });

  it('streams a MATCH over 200k stored nodes without materialising it', async () => {
    const batch = 10_000;
    for (let from = 0; from < 200_000; from += batch) {
      const rows = Array.from({ length: batch }, (_, i) => ({ id: neo4j.int(from + i), name: `node-${from + i}` }));
      await driver.executeQuery('UNWIND $rows AS r CREATE (:Streamed {id: r.id, name: r.name})', { rows }, { database: 'neo4j' });
    }
    await assertStreams('MATCH (n:Streamed) RETURN n', 200_000, (_, node) => assert.equal(typeof node.properties.name, 'string'));
  });

  /**
   * Pulls `expected` rows 1000 at a time. Materialising the result first would make the first row
   * wait for the whole query and grow the server by 60-150 MiB (measured with ORDER BY, which must
   * buffer; the same 200k nodes under ORDER BY grew it by 164 MiB); streaming keeps the first row
   * early and the server's RSS within a few tens of MiB.
   */
  async function assertStreams(query: string, expected: number, check: (i: number, value: any) => void): Promise<void> {
    const pid = server.pid;
    assert.ok(pid !== undefined);
    const rssBefore = rssMiB(pid);
    let rssPeak = rssBefore;
    const started = performance.now();
    let firstMs = -1;
    let rows = 0;
    await withSession(driver, { database: 'neo4j', fetchSize: 1000, defaultAccessMode: neo4j.session.READ }, async (s) => {
      for await (const record of s.run(query)) {
        if (rows === 0) firstMs = performance.now() - started;
        check(rows, record.get(0));
        if (++rows % 5000 === 0) rssPeak = Math.max(rssPeak, rssMiB(pid));
      }
    });
    const totalMs = performance.now() - started;
    assert.equal(rows, expected);
    const growthMiB = rssPeak - rssBefore;
    // Streamed, the server's RSS still moves with the garbage of the pulled batches and the collector's
    // timing: 0-57 MiB over 200k nodes in repeated runs (peaks 190-227 MiB). The first-row check below
    // is the sharp one; this bound catches a result kept whole.
    assert.ok(growthMiB < 72, `server RSS grew by ${growthMiB.toFixed(1)} MiB while streaming ${query}`);
    assert.ok(firstMs < totalMs / 3, `first row after ${firstMs.toFixed(0)} ms of ${totalMs.toFixed(0)} ms: the result was not streamed`);
  }

  it('stops a huge result cheaply when the application stops reading', async () => {
    // 10^8 rows could be neither built nor drained in this time: both the first rows and the
    // DISCARD the driver sends when the loop breaks must be immediate.
    const started = performance.now();
    await withSession(driver, { fetchSize: 1000 }, async (s) => {
      let rows = 0;
      for await (const _ of s.run('UNWIND range(1, 100000000) AS i RETURN i')) if (++rows === 2500) break;
    });
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `reading 2500 of 10^8 rows and stopping took ${ms.toFixed(0)} ms`);
    assert.equal(await count(driver, 'RETURN 1'), 1);
  });

  it('reports an unknown database as DatabaseNotFound on every path', async () => {
    for (const [scheme, d] of drivers()) {
      const viaQuery = await failureOf(() => d.executeQuery('RETURN 1', {}, { database: 'no-such-db' }));
      assert.equal(viaQuery.code, 'Neo.ClientError.Database.DatabaseNotFound', scheme);
      assert.match(viaQuery.message, /no-such-db/);
      const viaSession = await failureOf(() => withSession(d, { database: 'no-such-db' }, (s) => s.executeRead((tx) => tx.run('RETURN 1'))));
      assert.equal(viaSession.code, 'Neo.ClientError.Database.DatabaseNotFound', scheme);
    }
  });

  it('reports a syntax error with its line and column', async () => {
    const e = await failureOf(() => driver.executeQuery('MATCH (n:Person)\nWHERE n.age > 30\n  RETRUN n.name'));
    assert.equal(e.code, 'Neo.ClientError.Statement.SyntaxError');
    assert.match(e.message, /Invalid input 'RETRUN'/);
    assert.match(e.message, /\(line 3, column 3 \(offset: 36\)\)/);
    assert.equal(e.retriable, false);
  });

  it('reports a uniqueness violation as ConstraintValidationFailed and keeps the first node', async () => {
    await driver.executeQuery('CREATE CONSTRAINT unique_account IF NOT EXISTS FOR (a:Account) REQUIRE a.number IS UNIQUE');
    await driver.executeQuery('CREATE (:Account {number: 1, owner: "first"})');
    for (const [scheme, d] of drivers()) {
      const e = await failureOf(() => d.executeQuery('CREATE (:Account {number: 1, owner: "second"})'));
      assert.equal(e.code, 'Neo.ClientError.Schema.ConstraintValidationFailed', scheme);
      assert.match(e.message, /Account/);
      const inTx = await failureOf(() => withSession(d, {}, (s) => s.executeWrite((tx) => tx.run('CREATE (:Account {number: 1})'))));
      assert.equal(inTx.code, 'Neo.ClientError.Schema.ConstraintValidationFailed', scheme);
    }
    const owners = await driver.executeQuery('MATCH (a:Account {number: 1}) RETURN a.owner AS o');
    assert.deepEqual(owners.records.map((r) => r.get('o')), ['first']);
  });

  it('stores and reads back a 64-bit integer beyond 2^53 exactly', async () => {
    const big = neo4j.int('9007199254740993');
    await driver.executeQuery('CREATE (:Big {v: $v, min: $min})', { v: big, min: neo4j.int('-9223372036854775808') });
    const { records } = await driver.executeQuery('MATCH (b:Big) RETURN b.v AS v, b.min AS min, b.v + 1 AS next');
    const r = records[0];
    assert.ok(r && neo4j.isInt(r.get('v')));
    assert.equal(r.get('v').toString(), '9007199254740993');
    assert.equal(r.get('min').toString(), '-9223372036854775808');
    assert.equal(r.get('next').toString(), '9007199254740994');
  });

  it('returns nodes, relationships and paths with the ids and element ids the driver needs', async () => {
    const { records } = await driver.executeQuery(
      "CREATE p = (a:Entity {n: 'a'})-[r:LINKS {w: 1.5}]->(b:Entity:Other {n: 'b'}) RETURN p, a, r, b, elementId(a) AS ea, elementId(r) AS er",
    );
    const rec = records[0];
    assert.ok(rec);
    const [a, r, b, p] = [rec.get('a'), rec.get('r'), rec.get('b'), rec.get('p')];
    assert.ok(a instanceof neo4j.types.Node && b instanceof neo4j.types.Node && r instanceof neo4j.types.Relationship && p instanceof neo4j.types.Path);
    assert.equal(a.elementId, rec.get('ea'));
    assert.equal(r.elementId, rec.get('er'));
    assert.deepEqual(b.labels.sort(), ['Entity', 'Other']);
    assert.equal(r.type, 'LINKS');
    assert.equal(r.properties.w, 1.5);
    assert.equal(r.startNodeElementId, a.elementId);
    assert.equal(r.endNodeElementId, b.elementId);
    assert.equal(p.length, 1);
    assert.equal(p.start.elementId, a.elementId);
    assert.equal(p.end.elementId, b.elementId);
    assert.equal(p.segments[0]?.relationship.elementId, r.elementId);
    const again = await driver.executeQuery('MATCH (x:Entity) WHERE elementId(x) = $id RETURN x.n AS n', { id: a.elementId });
    assert.equal(again.records[0]?.get('n'), 'a', 'element ids can be sent back');
  });

  it('stores temporal values as properties and reads them back unchanged', async () => {
    const { DateTime, Date: CDate, LocalTime, LocalDateTime, Time, Duration } = neo4j.types;
    const values = {
      date: new CDate(2024, 2, 29),
      datetimeOffset: new DateTime(2024, 7, 1, 12, 30, 15, 123_456_789, -18000),
      localDateTime: new LocalDateTime(1999, 12, 31, 23, 59, 59, 1),
      time: new Time(10, 0, 0, 5, 3600),
      localTime: new LocalTime(23, 59, 59, 999_999_999),
      duration: new Duration(14, -3, 3661, 500),
    };
    const zoned = new DateTime(2024, 7, 1, 12, 0, 0, 0, undefined, 'Europe/Paris');
    await driver.executeQuery('CREATE (t:Temporal) SET t = $values, t.zoned = $zoned', { values, zoned });
    const { records } = await driver.executeQuery('MATCH (t:Temporal) RETURN t');
    const props = records[0]?.get('t').properties as Record<string, unknown>;
    for (const [name, v] of Object.entries(values)) {
      assert.equal(props[name]?.constructor, v.constructor, name);
      assert.equal(String(props[name]), String(v), name);
    }
    const back = props['zoned'] as InstanceType<typeof DateTime>;
    assert.ok(back instanceof DateTime);
    assert.equal(back.timeZoneId, 'Europe/Paris');
    assert.equal(Number(back.timeZoneOffsetSeconds), 7200, 'summer time in Paris');
    assert.equal(String(back), '2024-07-01T12:00:00+02:00[Europe/Paris]');
    // Values made by Cypher come back as driver types too, and compare equal to stored ones.
    const made = await driver.executeQuery(
      "MATCH (t:Temporal) RETURN date('2024-02-29') = t.date AS sameDate, datetime('2024-07-01T12:00:00[Europe/Paris]') = t.zoned AS sameZoned, t.duration.months AS months",
    );
    assert.equal(made.records[0]?.get('sameDate'), true);
    assert.equal(made.records[0]?.get('sameZoned'), true);
    assert.equal(made.records[0]?.get('months').toNumber(), 14);
  });

  it('creates, stops, starts and drops a database through the driver', async () => {
    const system = { database: 'system' };
    const statuses = async (): Promise<Record<string, string>> => {
      const { records } = await driver.executeQuery('SHOW DATABASES', {}, system);
      return Object.fromEntries(records.map((r) => [r.get('name'), r.get('currentStatus')]));
    };
    const created = await driver.executeQuery('CREATE DATABASE sales', {}, system);
    assert.equal(created.summary.counters.systemUpdates(), 1);
    assert.deepEqual(await statuses(), { neo4j: 'online', sales: 'online', system: 'online' });
    await driver.executeQuery('CREATE (:Invoice {n: 7})', {}, { database: 'sales' });
    assert.equal(await count(driver, 'MATCH (i:Invoice) RETURN count(i)', {}, 'sales'), 1);
    assert.equal(await count(driver, 'MATCH (i:Invoice) RETURN count(i)'), 0, 'databases are separate');

    const exists = await failureOf(() => driver.executeQuery('CREATE DATABASE sales', {}, system));
    assert.equal(exists.code, 'Neo.ClientError.Database.ExistingDatabaseFound');

    await driver.executeQuery('STOP DATABASE sales', {}, system);
    assert.equal((await statuses())['sales'], 'offline');
    // A session run does not retry, unlike executeQuery (the error is transient).
    const stopped = await failureOf(() => withSession(driver, { database: 'sales' }, (s) => s.run('RETURN 1')));
    assert.equal(stopped.code, 'Neo.TransientError.General.DatabaseUnavailable');

    await driver.executeQuery('START DATABASE sales', {}, system);
    assert.equal((await statuses())['sales'], 'online');
    assert.equal(await count(driver, 'MATCH (i:Invoice) RETURN i.n', {}, 'sales'), 7, 'data survives a stop and start');

    await driver.executeQuery('DROP DATABASE sales', {}, system);
    assert.deepEqual(await statuses(), { neo4j: 'online', system: 'online' });
    const gone = await failureOf(() => driver.executeQuery('RETURN 1', {}, { database: 'sales' }));
    assert.equal(gone.code, 'Neo.ClientError.Database.DatabaseNotFound');
  });

  it('refuses to drop or stop the default and system databases, and changes nothing', async () => {
    const system = { database: 'system' };
    const before = (await driver.executeQuery('SHOW DATABASES YIELD name, currentStatus RETURN name, currentStatus ORDER BY name', {}, system)).records.map((r) => r.toObject());
    const nodesBefore = await count(driver, 'MATCH (n) RETURN count(n)');
    const attempts: [string, RegExp][] = [
      ['DROP DATABASE neo4j', /default database "neo4j" cannot be dropped/],
      ['DROP DATABASE system', /system database cannot be dropped/],
      ['STOP DATABASE system', /system database cannot be stopped/],
    ];
    for (const [command, message] of attempts) {
      const e = await failureOf(() => driver.executeQuery(command, {}, system));
      assert.match(e.code, /^Neo\.ClientError\./, command);
      assert.match(e.message, message, command);
    }
    const refusedElsewhere = await failureOf(() => driver.executeQuery('DROP DATABASE neo4j', {}, { database: 'neo4j' }));
    assert.equal(refusedElsewhere.code, 'Neo.ClientError.Statement.SemanticError');
    const after = (await driver.executeQuery('SHOW DATABASES YIELD name, currentStatus RETURN name, currentStatus ORDER BY name', {}, system)).records.map((r) => r.toObject());
    assert.deepEqual(after, before);
    assert.equal(await count(driver, 'MATCH (n) RETURN count(n)'), nodesBefore);
  });
});

describe('authentication against a real server', () => {
  it('refuses a wrong password, and makes the initial password usable only to change it', async () => {
    const server = await startTestServer({ auth: true });
    const opened: Driver[] = [];
    const connect = (password: string): Driver => {
      const d = server.driver({ user: 'neo4j', password });
      opened.push(d);
      return d;
    };
    try {
      const wrong = await failureOf(() => connect('not-the-password').executeQuery('RETURN 1'));
      assert.equal(wrong.code, 'Neo.ClientError.Security.Unauthorized');
      const nobody = neo4j.driver(server.boltUri, neo4j.auth.basic('nobody', 'neo4j'), quiet);
      opened.push(nobody);
      const wrongUser = await failureOf(() => nobody.verifyConnectivity());
      assert.equal(wrongUser.code, 'Neo.ClientError.Security.Unauthorized');

      const initial = connect('neo4j');
      for (const [query, database] of [
        ['RETURN 1', 'neo4j'],
        ['SHOW USERS', 'system'],
        ["CREATE DATABASE sneaky", 'system'],
      ] as const) {
        const e = await failureOf(() => initial.executeQuery(query, {}, { database }));
        assert.equal(e.code, 'Neo.ClientError.Security.CredentialsExpired', query);
      }
      const elsewhere = await failureOf(() => initial.executeQuery("ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO 'new-secret-1'", {}, { database: 'neo4j' }));
      assert.equal(elsewhere.code, 'Neo.ClientError.Statement.SemanticError', 'administration commands run against system');
      const wrongOld = await failureOf(() => initial.executeQuery("ALTER CURRENT USER SET PASSWORD FROM 'guess' TO 'new-secret-1'", {}, { database: 'system' }));
      assert.equal(wrongOld.code, 'Neo.ClientError.Security.Forbidden');
      const changed = await initial.executeQuery("ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO 'new-secret-1'", {}, { database: 'system' });
      assert.equal(changed.summary.counters.systemUpdates(), 1);

      const fresh = connect('new-secret-1');
      const { records } = await fresh.executeQuery('SHOW USERS', {}, { database: 'system' });
      assert.deepEqual(records.map((r) => [r.get('user'), r.get('passwordChangeRequired')]), [['neo4j', false]]);
      assert.equal((await fresh.executeQuery('RETURN 1 AS one')).records[0]?.get('one').toNumber(), 1);
      const dbs = await fresh.executeQuery('SHOW DATABASES YIELD name RETURN name ORDER BY name', {}, { database: 'system' });
      assert.deepEqual(dbs.records.map((r) => r.get('name')), ['neo4j', 'system'], 'the refused CREATE DATABASE did nothing');

      const old = await failureOf(() => connect('neo4j').executeQuery('RETURN 1'));
      assert.equal(old.code, 'Neo.ClientError.Security.Unauthorized');
    } finally {
      await Promise.all(opened.map((d) => d.close()));
      await server.stop();
      server.cleanup();
    }
  });

  it('uses the password from `quiver-admin dbms set-initial-password` given before the first start', async () => {
    const server = await createServer_({ auth: true });
    const set = await runAdmin(['dbms', 'set-initial-password', 'chosen-before-start'], { home: server.home });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Changed password for user 'neo4j'/);
    const tooShort = await runAdmin(['dbms', 'set-initial-password', 'short'], { home: server.home });
    assert.notEqual(tooShort.code, 0);
    await server.start();
    const good = server.driver({ user: 'neo4j', password: 'chosen-before-start' });
    const initial = server.driver({ user: 'neo4j', password: 'neo4j' });
    try {
      assert.equal((await good.executeQuery('RETURN 1 AS one')).records[0]?.get('one').toNumber(), 1, 'no password change required');
      const e = await failureOf(() => initial.executeQuery('RETURN 1'));
      assert.equal(e.code, 'Neo.ClientError.Security.Unauthorized');
      const late = await runAdmin(['dbms', 'set-initial-password', 'too-late-now'], { home: server.home });
      assert.notEqual(late.code, 0);
      assert.match(late.stderr, /already been started/);
    } finally {
      await good.close();
      await initial.close();
      await server.stop();
      server.cleanup();
    }
  });
});
