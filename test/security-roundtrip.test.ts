/**
 * Round trip of the security model between servers: the commands of SHOW ROLE r PRIVILEGES AS
 * COMMANDS and of exportSecurityMetadata (read from the stopped server's system database), replayed
 * on a fresh server, reproduce SHOW PRIVILEGES, SHOW USERS and SHOW ROLES WITH USERS.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Driver } from 'neo4j-driver';
import { Database, defaultDatabaseSettings, locateDatabase } from '../src/kernel/database.js';
import { exportSecurityMetadata } from '../src/security/metadata-export.js';
import { startTestServer, type TestServer } from './support/harness.js';

const password = 'admin-secret';
const servers: TestServer[] = [];
const drivers: Driver[] = [];

async function start(): Promise<{ server: TestServer; admin: Driver }> {
  const server = await startTestServer({ auth: true });
  servers.push(server);
  const initial = server.driver({ user: 'neo4j', password: 'neo4j' });
  await initial.executeQuery(`ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO '${password}'`, {}, { database: 'system' });
  await initial.close();
  const admin = server.driver({ user: 'neo4j', password });
  drivers.push(admin);
  return { server, admin };
}

async function sys(d: Driver, query: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
  return (await d.executeQuery(query, params, { database: 'system' })).records.map((r) => r.toObject());
}

const setup = [
  'CREATE DATABASE movies',
  'CREATE ROLE analyst',
  'GRANT ACCESS ON DATABASE movies TO analyst',
  'GRANT MATCH {title, year} ON GRAPH movies NODES Movie TO analyst',
  'DENY TRAVERSE ON GRAPH movies NODES Secret TO analyst',
  'DENY READ {budget} ON GRAPH movies RELATIONSHIPS FUNDED TO analyst',
  'GRANT SET LABEL Reviewed ON GRAPH movies TO analyst',
  'GRANT CREATE ON GRAPH * NODES Review TO analyst',
  'CREATE ROLE ops',
  'GRANT START ON DATABASE movies TO ops',
  'GRANT STOP ON HOME DATABASE TO ops',
  'GRANT ROLE MANAGEMENT ON DBMS TO ops',
  'CREATE ROLE elsewhere',
  'GRANT ACCESS ON DATABASE neo4j TO elsewhere',
  "CREATE USER ann SET PASSWORD 'ann-pass' CHANGE NOT REQUIRED SET HOME DATABASE movies",
  "CREATE USER ben SET PASSWORD 'ben-pass' SET STATUS SUSPENDED",
  "CREATE USER cid SET PASSWORD 'cid-pass' CHANGE NOT REQUIRED",
  'GRANT ROLE analyst TO ann',
  'GRANT ROLES ops, reader TO ben',
  'GRANT ROLE elsewhere TO cid',
];

const customRoles = ['analyst', 'ops', 'elsewhere'];

let source: { server: TestServer; admin: Driver };
let target: { server: TestServer; admin: Driver };
let exported: string[];
let sourceView: { privileges: unknown[]; users: Record<string, unknown>[]; roles: Record<string, unknown>[] };

before(async () => {
  [source, target] = await Promise.all([start(), start()]);
  for (const c of setup) await sys(source.admin, c);
  const roleCommands: string[] = [];
  for (const r of customRoles) {
    roleCommands.push(`CREATE ROLE ${r}`);
    for (const row of await sys(source.admin, `SHOW ROLE ${r} PRIVILEGES AS COMMANDS`)) roleCommands.push(String(row['command']));
  }
  sourceView = {
    privileges: await sys(source.admin, 'SHOW PRIVILEGES'),
    users: await sys(source.admin, 'SHOW USERS'),
    roles: await sys(source.admin, 'SHOW ROLES WITH USERS'),
  };
  await source.server.stop();
  const dataDir = join(source.server.home, 'data');
  const system = Database.open('system', locateDatabase(dataDir, join(dataDir, 'transactions'), 'system'), defaultDatabaseSettings, () => undefined);
  try {
    exported = exportSecurityMetadata(system, 'movies', 'all');
  } finally {
    await system.close();
  }
  await sys(target.admin, 'CREATE DATABASE movies');
  for (const c of roleCommands) await sys(target.admin, c);
  for (const c of exported) await sys(target.admin, c, { database: 'movies' });
});

after(async () => {
  for (const d of drivers) await d.close();
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
});

describe('security metadata round trip', () => {
  it('exports the roles and users of one database, with its name as $database', () => {
    assert.ok(exported.includes('CREATE ROLE `analyst` IF NOT EXISTS'));
    assert.ok(exported.includes('GRANT ACCESS ON DATABASE $database TO `analyst`'));
    assert.ok(exported.includes('GRANT MATCH {`title`} ON GRAPH $database NODE `Movie` TO `analyst`'));
    assert.ok(exported.includes('DENY TRAVERSE ON GRAPH $database NODE `Secret` TO `analyst`'));
    assert.ok(exported.includes('GRANT CREATE ON GRAPH * NODE `Review` TO `analyst`'));
    assert.ok(exported.includes('GRANT STOP ON HOME DATABASE TO `ops`'));
    assert.ok(!exported.some((c) => c.includes('ROLE MANAGEMENT')), 'DBMS privileges are not exported');
    assert.ok(!exported.some((c) => c.includes('elsewhere')), 'roles without privileges on the database are not exported');
    assert.ok(!exported.some((c) => c.includes('`cid`')), 'users without access to the database are not exported');
    const ann = exported.find((c) => c.startsWith('CREATE USER `ann`'))!;
    assert.match(ann, /^CREATE USER `ann` IF NOT EXISTS SET ENCRYPTED PASSWORD 'scrypt\$[^']+' CHANGE NOT REQUIRED SET HOME DATABASE \$database$/);
    assert.match(exported.find((c) => c.startsWith('CREATE USER `ben`'))!, / CHANGE REQUIRED SET STATUS SUSPENDED$/);
    assert.ok(exported.includes('GRANT ROLE `analyst` TO `ann`'));
    assert.ok(exported.indexOf('GRANT ROLE `analyst` TO `ann`') > exported.findIndex((c) => c.startsWith('CREATE USER `ann`')));
  });

  it('reproduces SHOW PRIVILEGES on a fresh server', async () => {
    assert.deepEqual(await sys(target.admin, 'SHOW PRIVILEGES'), sourceView.privileges);
  });

  it('reproduces SHOW USERS and SHOW ROLES WITH USERS for the users of the database', async () => {
    const moved = new Set(['neo4j', 'ann', 'ben']);
    assert.deepEqual(await sys(target.admin, 'SHOW USERS'), sourceView.users.filter((u) => moved.has(String(u['user']))));
    assert.deepEqual(
      await sys(target.admin, 'SHOW ROLES WITH USERS'),
      sourceView.roles.map((r) => (r['member'] === 'cid' ? { ...r, member: null } : r)).filter((r, i, all) => r['member'] !== null || !all.some((o) => o['role'] === r['role'] && o['member'] !== null)),
    );
  });

  it('moves users with their passwords', async () => {
    const ann = target.server.driver({ user: 'ann', password: 'ann-pass' });
    drivers.push(ann);
    const r = await ann.executeQuery('RETURN 1 AS one', {}, { database: 'movies' });
    assert.equal(r.records.length, 1);
  });

  it('replays the same script idempotently and under another database name', async () => {
    const before = await sys(target.admin, 'SHOW PRIVILEGES AS COMMANDS');
    for (const c of exported) await sys(target.admin, c, { database: 'movies' });
    assert.deepEqual(await sys(target.admin, 'SHOW PRIVILEGES AS COMMANDS'), before);
    await sys(target.admin, 'CREATE DATABASE films');
    for (const c of exported) await sys(target.admin, c, { database: 'films' });
    const films = await sys(target.admin, "SHOW ROLE analyst PRIVILEGES WHERE graph = 'films'");
    assert.deepEqual(films.map((r) => `${r['access']} ${r['action']} ${r['segment']}`).sort(), (await sys(target.admin, "SHOW ROLE analyst PRIVILEGES WHERE graph = 'movies'")).map((r) => `${r['access']} ${r['action']} ${r['segment']}`).sort());
  });
});
