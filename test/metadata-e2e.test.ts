/**
 * Users and roles travel with a backup: --include-metadata puts them in the artifact, restore
 * writes restore_metadata.cypher, and --apply-metadata replays it on another server, where the
 * restored user can then read the restored database.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runAdmin, startTestServer, type TestServer, tempDir } from './support/harness.js';

const admin = { user: 'neo4j', password: 'admin-password' };
const servers: TestServer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function authServer(): Promise<TestServer> {
  const home = tempDir('quiver-home-');
  const set = await runAdmin(['dbms', 'set-initial-password', admin.password], { home });
  assert.equal(set.code, 0, set.stderr);
  const s = await startTestServer({ home, auth: true });
  servers.push(s);
  return s;
}

test('a restored database brings its users and roles along with --apply-metadata', async () => {
  const source = await authServer();
  const d = source.driver(admin);
  await d.executeQuery('CREATE (:Doc {title: "kept"})');
  for (const q of [
    'CREATE ROLE auditor',
    'GRANT ACCESS ON DATABASE neo4j TO auditor',
    'GRANT MATCH {*} ON GRAPH neo4j NODES * TO auditor',
    "CREATE USER alice SET PASSWORD 'alice-password' CHANGE NOT REQUIRED",
    'GRANT ROLE auditor TO alice',
  ]) {
    await d.executeQuery(q, {}, { database: 'system' });
  }
  await d.close();

  const backups = tempDir('quiver-backups-');
  dirs.push(backups);
  const b = await runAdmin(['database', 'backup', `--from=${source.backupAddress}`, `--to-path=${backups}`, 'neo4j'], { home: source.home });
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const info = await runAdmin(['database', 'backup', `--inspect-path=${backups}`, '--format=json']);
  const [artifact] = JSON.parse(info.stdout) as Array<{ metadataCommands?: string[]; header?: { metadataCommands: string[] } }>;
  const commands = artifact!.metadataCommands ?? artifact!.header?.metadataCommands ?? [];
  assert.ok(commands.some((c) => /CREATE ROLE .*auditor/.test(c)), `the artifact carries the role: ${JSON.stringify(commands)}`);
  assert.ok(commands.some((c) => /alice/.test(c)), 'the artifact carries the user');
  assert.ok(!commands.some((c) => /ON DBMS/.test(c)), 'DBMS privileges are never exported');

  const target = await authServer();
  const r = await runAdmin(['database', 'restore', `--from-path=${backups}`, `--apply-metadata=${target.boltUri}`, 'copy'], {
    home: target.home,
    env: { QUIVER_USER: admin.user, QUIVER_PASSWORD: admin.password },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const script = join(target.home, 'data', 'scripts', 'copy', 'restore_metadata.cypher');
  assert.ok(existsSync(script), 'restore wrote restore_metadata.cypher');
  assert.match(readFileSync(script, 'utf8'), /auditor/);
  assert.match(r.stdout, /Done: the database is online and its users and roles were applied/);

  const t = target.driver(admin);
  const users = await t.executeQuery('SHOW USERS', {}, { database: 'system' });
  assert.ok(users.records.some((u) => u.get('user') === 'alice'));
  await t.close();
  const alice = target.driver({ user: 'alice', password: 'alice-password' });
  const docs = await alice.executeQuery('MATCH (d:Doc) RETURN d.title AS title', {}, { database: 'copy' });
  assert.deepEqual(docs.records.map((x) => x.get('title')), ['kept']);
  await assert.rejects(alice.executeQuery('CREATE (:Doc {title: "new"})', {}, { database: 'copy' }), /not allowed/);
  await alice.close();
});
