/**
 * The security model end to end: a real server with auth enabled, the official driver, users and
 * roles created with Cypher, and enforcement seen from the users' side.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import neo4j, { type Driver } from 'neo4j-driver';
import { runAdmin, startTestServer, tempDir, type TestServer } from './support/harness.js';

const adminPassword = 'admin-secret';
let server: TestServer;
let admin: Driver;
const drivers: Driver[] = [];

function login(user: string, password: string): Driver {
  const d = server.driver({ user, password });
  drivers.push(d);
  return d;
}

async function sys(d: Driver, query: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  const r = await d.executeQuery(query, params, { database: 'system' });
  return r.records.map((x) => x.toObject());
}

async function data(d: Driver, query: string, params: Record<string, unknown> = {}, database = 'neo4j'): Promise<Record<string, unknown>[]> {
  const r = await d.executeQuery(query, params, { database });
  return r.records.map((x) => x.toObject());
}

function num(v: unknown): number {
  return neo4j.isInt(v) ? (v as { toNumber(): number }).toNumber() : Number(v);
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: { code?: string; message?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message ?? '', message);
    return true;
  });
}

/** Everything SHOW can tell about the security model, to prove a failed command changed nothing. */
async function snapshot(): Promise<string> {
  const privileges = await sys(admin, 'SHOW PRIVILEGES AS COMMANDS');
  const users = await sys(admin, 'SHOW USERS');
  const roles = await sys(admin, 'SHOW ROLES WITH USERS');
  return JSON.stringify({ privileges, users, roles });
}

before(async () => {
  server = await startTestServer({ auth: true });
  const initial = login('neo4j', 'neo4j');
  await sys(initial, `ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO '${adminPassword}'`);
  admin = login('neo4j', adminPassword);
  await data(admin, "CREATE (:Public {name: 'p1', secretProp: 'x'})-[:LINK]->(:Secret {name: 's1'}), (:Public {name: 'p2', secretProp: 'y'}), (:Public:Secret {name: 'both'})");
});

after(async () => {
  for (const d of drivers) await d.close();
  await server.stop();
  server.cleanup();
});

describe('users and roles', () => {
  it('creates the built-in roles at first start and gives the initial user admin', async () => {
    const roles = (await sys(admin, 'SHOW ROLES')).map((r) => r['role']);
    for (const r of ['PUBLIC', 'admin', 'architect', 'editor', 'publisher', 'reader']) assert.ok(roles.includes(r), r);
    const [me] = await sys(admin, 'SHOW CURRENT USER');
    assert.deepEqual(me!['roles'], ['PUBLIC', 'admin']);
    const reader = (await sys(admin, 'SHOW ROLE reader PRIVILEGES AS COMMANDS')).map((r) => r['command']);
    assert.deepEqual(reader, [
      'GRANT ACCESS ON DATABASE * TO `reader`',
      'GRANT MATCH {*} ON GRAPH * NODE * TO `reader`',
      'GRANT MATCH {*} ON GRAPH * RELATIONSHIP * TO `reader`',
      'GRANT SHOW CONSTRAINT ON DATABASE * TO `reader`',
      'GRANT SHOW INDEX ON DATABASE * TO `reader`',
    ]);
  });

  it('creates, shows, alters, suspends and drops users', async () => {
    await sys(admin, "CREATE USER alice SET PASSWORD $pw CHANGE NOT REQUIRED SET HOME DATABASE neo4j", { pw: 'alice-pass' });
    const row = (await sys(admin, 'SHOW USERS')).find((u) => u['user'] === 'alice');
    assert.deepEqual(row, { user: 'alice', roles: ['PUBLIC'], passwordChangeRequired: false, suspended: false, home: 'neo4j' });
    const alice = login('alice', 'alice-pass');
    assert.equal(num((await data(alice, 'RETURN 1 AS one'))[0]!['one']), 1, 'PUBLIC gives access to the home database');
    await sys(admin, 'ALTER USER alice SET STATUS SUSPENDED');
    await rejectsWith(data(login('alice', 'alice-pass'), 'RETURN 1'), 'Neo.ClientError.Security.Unauthorized', /unauthorized/);
    await sys(admin, "ALTER USER alice SET STATUS ACTIVE SET PASSWORD 'alice-pass-2' CHANGE REQUIRED REMOVE HOME DATABASE");
    const altered = (await sys(admin, 'SHOW USERS WHERE user = $u', { u: 'alice' }))[0];
    assert.deepEqual(altered, { user: 'alice', roles: ['PUBLIC'], passwordChangeRequired: true, suspended: false, home: null });
    await rejectsWith(sys(admin, "CREATE USER alice SET PASSWORD 'x'"), 'Neo.ClientError.General.InvalidArguments', /User already exists/);
    await sys(admin, "CREATE USER alice IF NOT EXISTS SET PASSWORD 'x'");
    await sys(admin, 'DROP USER alice');
    await sys(admin, 'DROP USER alice IF EXISTS');
    assert.equal((await sys(admin, 'SHOW USERS')).some((u) => u['user'] === 'alice'), false);
  });

  it('moves a user between servers with SET ENCRYPTED PASSWORD', async () => {
    await sys(admin, "CREATE USER mover SET PASSWORD 'mover-pass' CHANGE NOT REQUIRED");
    const hash = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$abc=';
    await rejectsWith(sys(admin, "CREATE USER broken SET ENCRYPTED PASSWORD 'not-a-hash'"), 'Neo.ClientError.General.InvalidArguments', /Incorrectly formatted encrypted password/);
    await sys(admin, `CREATE USER copied SET ENCRYPTED PASSWORD '${hash}' CHANGE NOT REQUIRED`);
    await rejectsWith(data(login('copied', 'anything'), 'RETURN 1'), 'Neo.ClientError.Security.Unauthorized', /unauthorized/);
    await sys(admin, 'DROP USER copied');
    await sys(admin, 'DROP USER mover');
  });

  it('creates roles, copies them, grants and revokes them, and shows members', async () => {
    await sys(admin, "CREATE USER bob SET PASSWORD 'bob-pass' CHANGE NOT REQUIRED");
    await sys(admin, 'CREATE ROLE analyst');
    await sys(admin, 'GRANT MATCH {name} ON GRAPH neo4j NODES Public TO analyst');
    await sys(admin, 'CREATE ROLE analyst2 AS COPY OF analyst');
    assert.deepEqual((await sys(admin, 'SHOW ROLE analyst2 PRIVILEGES AS COMMANDS')).map((r) => r['command']), ['GRANT MATCH {`name`} ON GRAPH `neo4j` NODE `Public` TO `analyst2`']);
    await sys(admin, 'GRANT ROLE reader, analyst TO bob');
    const members = await sys(admin, 'SHOW ROLES WITH USERS WHERE member = $u', { u: 'bob' });
    assert.deepEqual(members.map((m) => m['role']).sort(), ['PUBLIC', 'analyst', 'reader']);
    await sys(admin, 'REVOKE ROLE analyst FROM bob');
    await sys(admin, 'DROP ROLE analyst');
    await sys(admin, 'DROP ROLE analyst2');
    const [bob] = await sys(admin, 'SHOW USERS WHERE user = $u', { u: 'bob' });
    assert.deepEqual(bob!['roles'], ['PUBLIC', 'reader']);
  });

  it('shows privileges with Neo4j\'s columns, per role and per user', async () => {
    const rows = await sys(admin, 'SHOW ROLE reader PRIVILEGES');
    assert.deepEqual(Object.keys(rows[0]!), ['access', 'action', 'resource', 'graph', 'segment', 'role', 'immutable']);
    assert.ok(rows.some((r) => r['action'] === 'match' && r['resource'] === 'all_properties' && r['segment'] === 'NODE(*)' && r['graph'] === '*'));
    const bobs = await sys(admin, 'SHOW USER bob PRIVILEGES');
    assert.ok(bobs.every((r) => r['user'] === 'bob'));
    assert.ok(bobs.some((r) => r['role'] === 'PUBLIC' && r['action'] === 'access' && r['graph'] === 'HOME'));
    const commands = (await sys(admin, 'SHOW USER bob PRIVILEGES AS COMMANDS')).map((r) => r['command']);
    assert.ok(commands.includes('GRANT ACCESS ON HOME DATABASE TO $role'));
    const own = await sys(login('bob', 'bob-pass'), 'SHOW USER PRIVILEGES YIELD action, role RETURN count(*) AS n');
    assert.ok(num(own[0]!['n']) > 0, 'every user may see their own privileges');
  });
});

describe('enforcement', () => {
  it('refuses writes to a reader with Forbidden naming the missing privilege', async () => {
    const bob = login('bob', 'bob-pass');
    assert.equal((await data(bob, 'MATCH (n:Public) RETURN n.name AS name ORDER BY name')).length, 3);
    await rejectsWith(data(bob, 'CREATE (:Secret)'), 'Neo.ClientError.Security.Forbidden', /^Create node with labels 'Secret' on database 'neo4j' is not allowed for user 'bob' with roles \[PUBLIC, reader\]\.$/);
    await rejectsWith(data(bob, "MATCH (n:Public {name: 'p2'}) SET n.name = 'changed'"), 'Neo.ClientError.Security.Forbidden', /Set property for property 'name'/);
    await rejectsWith(data(bob, 'MATCH (n) DETACH DELETE n'), 'Neo.ClientError.Security.Forbidden', /Delete (node|relationship)/);
    assert.equal((await data(admin, 'MATCH (n) RETURN count(n) AS c'))[0]!['c'] !== undefined, true);
    assert.equal(num((await data(admin, "MATCH (n:Public {name: 'p2'}) RETURN count(n) AS c"))[0]!['c']), 1, 'the refused statement changed nothing');
  });

  it('hides nodes denied TRAVERSE from MATCH, count(), label scans and expansions', async () => {
    await sys(admin, 'CREATE ROLE restricted');
    await sys(admin, 'GRANT ACCESS ON DATABASE neo4j TO restricted');
    await sys(admin, 'GRANT MATCH {*} ON GRAPH neo4j TO restricted');
    await sys(admin, 'DENY TRAVERSE ON GRAPH neo4j NODES Secret TO restricted');
    await sys(admin, "CREATE USER carol SET PASSWORD 'carol-pass' CHANGE NOT REQUIRED");
    await sys(admin, 'GRANT ROLE restricted TO carol');
    const carol = login('carol', 'carol-pass');
    const all = num((await data(admin, 'MATCH (n) RETURN count(n) AS c'))[0]!['c']);
    const visible = num((await data(carol, 'MATCH (n) RETURN count(n) AS c'))[0]!['c']);
    const secret = num((await data(admin, 'MATCH (n:Secret) RETURN count(n) AS c'))[0]!['c']);
    assert.equal(visible, all - secret);
    assert.equal(num((await data(carol, 'MATCH (n:Secret) RETURN count(n) AS c'))[0]!['c']), 0);
    assert.deepEqual((await data(carol, 'MATCH (n:Public) RETURN n.name AS name ORDER BY name')).map((r) => r['name']), ['p1', 'p2'], 'a node with a denied label is hidden even with an allowed one');
    assert.equal((await data(carol, 'MATCH (:Public)-[:LINK]->(m) RETURN m')).length, 0);
    assert.equal((await data(carol, 'MATCH ()-[r]->() RETURN r')).length, 0, 'relationships to hidden nodes are hidden');
    assert.equal((await data(carol, "MATCH (n {name: 's1'}) RETURN n")).length, 0);
  });

  it('reads a property without READ as null, and does not match on it', async () => {
    await sys(admin, 'DENY READ {secretProp} ON GRAPH neo4j NODES Public TO restricted');
    const carol = login('carol', 'carol-pass');
    const rows = await data(carol, "MATCH (n:Public {name: 'p1'}) RETURN n.secretProp AS s, n.name AS name, keys(n) AS keys");
    assert.deepEqual(rows, [{ s: null, name: 'p1', keys: ['name'] }]);
    assert.equal((await data(carol, "MATCH (n:Public) WHERE n.secretProp = 'x' RETURN n")).length, 0);
    assert.equal((await data(admin, "MATCH (n:Public) WHERE n.secretProp = 'x' RETURN n")).length, 1);
  });

  it('checks database ACCESS when a database is selected', async () => {
    await sys(admin, 'CREATE DATABASE other');
    await sys(admin, "CREATE USER dave SET PASSWORD 'dave-pass' CHANGE NOT REQUIRED");
    const dave = login('dave', 'dave-pass');
    await data(dave, 'RETURN 1');
    await rejectsWith(data(dave, 'RETURN 1', {}, 'other'), 'Neo.ClientError.Security.Forbidden', /^Database access is not allowed for user 'dave' with roles \[PUBLIC\]\.$/);
    await sys(admin, 'CREATE ROLE blocked');
    await sys(admin, 'DENY ACCESS ON DATABASE neo4j TO blocked');
    await sys(admin, 'GRANT ROLE blocked TO dave');
    await rejectsWith(data(dave, 'RETURN 1'), 'Neo.ClientError.Security.Forbidden', /Database access is not allowed for user 'dave' with roles \[PUBLIC, blocked\]/);
  });

  it('needs DBMS privileges for administration commands', async () => {
    const bob = login('bob', 'bob-pass');
    await rejectsWith(sys(bob, "CREATE USER eve SET PASSWORD 'x'"), 'Neo.ClientError.Security.Forbidden', /CREATE USER ON DBMS/);
    await rejectsWith(sys(bob, 'SHOW USERS'), 'Neo.ClientError.Security.Forbidden', /SHOW USER ON DBMS/);
    await rejectsWith(sys(bob, 'GRANT WRITE ON GRAPH * TO reader'), 'Neo.ClientError.Security.Forbidden', /ASSIGN PRIVILEGE/);
    await rejectsWith(sys(bob, 'SHOW PRIVILEGES'), 'Neo.ClientError.Security.Forbidden', /SHOW PRIVILEGE/);
    await rejectsWith(sys(bob, 'STOP DATABASE other'), 'Neo.ClientError.Security.Forbidden', /STOP ON DATABASE other/);
    await rejectsWith(sys(bob, 'CREATE DATABASE third'), 'Neo.ClientError.Security.Forbidden', /CREATE DATABASE ON DBMS/);
    await sys(admin, 'CREATE ROLE usermgr');
    await sys(admin, 'GRANT USER MANAGEMENT ON DBMS TO usermgr');
    await sys(admin, 'GRANT ROLE usermgr TO bob');
    await sys(bob, "CREATE USER eve SET PASSWORD 'eve-pass'");
    await sys(bob, 'DROP USER eve');
    await rejectsWith(sys(bob, 'CREATE ROLE nope'), 'Neo.ClientError.Security.Forbidden', /CREATE ROLE ON DBMS/);
    await sys(admin, 'REVOKE ROLE usermgr FROM bob');
  });

  it('lets an editor write existing names but not create new labels', async () => {
    await sys(admin, "CREATE USER ed SET PASSWORD 'ed-pass' CHANGE NOT REQUIRED");
    await sys(admin, 'GRANT ROLE editor TO ed');
    const ed = login('ed', 'ed-pass');
    await data(ed, "CREATE (:Public {name: 'by-ed'})");
    await rejectsWith(data(ed, 'CREATE (:BrandNewLabel)'), 'Neo.ClientError.Security.Forbidden', /Create new node label 'BrandNewLabel'/);
    await data(ed, "MATCH (n:Public {name: 'by-ed'}) DELETE n");
  });
});

describe('bad input', () => {
  it('refuses malformed commands and unknown names with a clear error, changing nothing', async () => {
    const before = await snapshot();
    const cases: Array<[string, RegExp]> = [
      ['GRANT TRAVERSE ON GRAPH nosuchdb TO reader', /Database 'nosuchdb' does not exist/],
      ['GRANT ROLE nosuch TO bob', /Role does not exist/],
      ['GRANT ROLE reader TO nosuch', /User does not exist/],
      ['GRANT ROLE editor, nosuch TO bob', /Role does not exist/],
      ['GRANT ROLE PUBLIC TO bob', /PUBLIC/],
      ['REVOKE ROLE PUBLIC FROM bob', /PUBLIC/],
      ['DROP ROLE PUBLIC', /reserved role/],
      ['DROP ROLE admin', /reserved role/],
      ['DROP ROLE nosuch', /Role does not exist/],
      ['DROP USER neo4j', /Deleting yourself is not allowed/],
      ['DROP USER nosuch', /User does not exist/],
      ['ALTER USER neo4j SET STATUS SUSPENDED', /own activation status/],
      ['ALTER USER nosuch SET PASSWORD \'x\'', /User does not exist/],
      ['CREATE ROLE `bad-name`', /illegal characters/],
      ['CREATE ROLE reader', /Role already exists/],
      ['GRANT FLY ON GRAPH * TO reader', /Invalid privilege/],
      ['GRANT ACCESS ON DATABASE * TO reader, nosuchrole', /Role does not exist/],
      ['DENY MERGE {*} ON GRAPH * TO reader', /DENY MERGE/],
      ['GRANT TRAVERSE ON GRAPH * NODES TO reader', /Invalid privilege/],
      ['SHOW ROLE nosuch PRIVILEGES', /Role does not exist/],
      ['SHOW USER nosuch PRIVILEGES', /User does not exist/],
      ["CREATE USER nopass", /password is required/],
    ];
    for (const [command, message] of cases) {
      await assert.rejects(sys(admin, command), (e: { message?: string }) => {
        assert.match(e.message ?? '', message, command);
        return true;
      }, command);
    }
    assert.equal(await snapshot(), before);
  });
});

describe('home database', () => {
  it('a connection without a database uses the user home database', async () => {
    const home = tempDir('quiver-home-');
    const set = await runAdmin(['dbms', 'set-initial-password', 'admin-password'], { home });
    assert.equal(set.code, 0, set.stderr);
    const server = await startTestServer({ home, auth: true });
    try {
      const admin = server.driver({ user: 'neo4j', password: 'admin-password' });
      await admin.executeQuery('CREATE DATABASE sales', {}, { database: 'system' });
      await admin.executeQuery("CREATE USER homer SET PASSWORD 'homer-password' CHANGE NOT REQUIRED SET HOME DATABASE sales", {}, { database: 'system' });
      await admin.executeQuery('GRANT ROLE editor TO homer', {}, { database: 'system' });
      await admin.executeQuery('CREATE (:Marker {db: "sales"})', {}, { database: 'sales' });
      await admin.close();
      const homer = server.driver({ user: 'homer', password: 'homer-password' });
      const r = await homer.executeQuery('MATCH (m:Marker) RETURN m.db AS db');
      assert.deepEqual(r.records.map((x) => x.get('db')), ['sales']);
      await homer.close();
    } finally {
      await server.stop();
      server.cleanup();
    }
  });
});
