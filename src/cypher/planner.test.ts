import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { prepare } from './index.js';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
before(async () => {
  h = await openHarness();
  await h.run('UNWIND range(1, 200) AS i CREATE (:User {id: i, name: "u" + i}), (:Other {id: i})');
});
after(async () => {
  await h.close();
});

function explain(query: string): string {
  const tx = h.db.beginRead();
  try {
    return prepare(query).explain(tx).join(' -> ');
  } finally {
    tx.close();
  }
}

test('uses a label scan when no index exists, and still finds the node', async () => {
  assert.match(explain('MATCH (u:User {id: 7}) RETURN u.name'), /NodeByLabelScan\(u:User\)/);
  assert.deepEqual(await h.column('MATCH (u:User {id: 7}) RETURN u.name'), ['u7']);
});

test('uses an index seek for a property map and for WHERE equality once an index exists', async () => {
  await h.run('CREATE INDEX user_id FOR (u:User) ON (u.id)');
  assert.match(explain('MATCH (u:User {id: 7}) RETURN u.name'), /NodeIndexSeek\(u:User \{id\}\)/);
  assert.match(explain('MATCH (u:User) WHERE u.id = $id RETURN u.name'), /NodeIndexSeek\(u:User \{id\}\)/);
  assert.match(explain('MATCH (u:User) WHERE 7 = u.id RETURN u.name'), /NodeIndexSeek/);
  assert.deepEqual(await h.column('MATCH (u:User {id: 7}) RETURN u.name'), ['u7']);
  assert.deepEqual(await h.column('MATCH (u:User) WHERE u.id = $id RETURN u.name', { id: 8 }), ['u8'], 'an integral float parameter finds an integer property');
  assert.deepEqual(await h.column('MATCH (u:User) WHERE u.id = 9 AND u.name = "nope" RETURN u.name'), [], 'the rest of WHERE is still applied');
});

test('uses an index range seek for inequalities on an indexed property', async () => {
  assert.match(explain('MATCH (u:User) WHERE u.id > 195 RETURN u.id'), /NodeIndexSeekByRange\(u:User\.id\)/);
  assert.deepEqual(await h.column('MATCH (u:User) WHERE u.id > 195 RETURN u.id ORDER BY u.id'), [196n, 197n, 198n, 199n, 200n]);
  assert.deepEqual(await h.column('MATCH (u:User) WHERE 3 <= u.id < 6 RETURN u.id ORDER BY u.id'), [3n, 4n, 5n]);
});

test('seeks by id for id(n) = x and elementId(n) = x', async () => {
  assert.match(explain('MATCH (n) WHERE id(n) = $id RETURN n'), /NodeByIdSeek\(n\)/);
  const [id] = await h.column('MATCH (u:User {id: 3}) RETURN id(u)');
  assert.deepEqual(await h.column('MATCH (n) WHERE id(n) = $id RETURN n.name', { id: Number(id) }), ['u3']);
  assert.deepEqual(await h.column('MATCH (n:Other) WHERE elementId(n) = $id RETURN n.name', { id: String(id) }), [], 'labels are still checked');
});

test('prefers a bound variable over any scan and expands from it', async () => {
  assert.match(explain('MATCH (u:User {id: 1}) MATCH (u)-[:R]->(x) RETURN x'), /Argument\(u\), Expand/);
});

test('does not use an index whose value depends on the same pattern', async () => {
  assert.doesNotMatch(explain('MATCH (u:User), (o:Other) WHERE u.id = o.id RETURN count(*)'), /NodeIndexSeek\(u/);
  assert.deepEqual(await h.column('MATCH (u:User), (o:Other) WHERE u.id = o.id AND u.id < 4 RETURN count(*)'), [3n]);
});

test('falls back to a label scan once the index is dropped', async () => {
  await h.run('DROP INDEX user_id');
  assert.match(explain('MATCH (u:User {id: 7}) RETURN u.name'), /NodeByLabelScan/);
  assert.deepEqual(await h.column('MATCH (u:User {id: 7}) RETURN u.name'), ['u7']);
});

test('streams a read query without materialising it', async () => {
  const tx = h.db.beginRead();
  try {
    const started = performance.now();
    const rows = prepare('UNWIND range(1, 10000000) AS x RETURN x').execute(tx, new Map()).rows();
    assert.deepEqual(rows.next().value, [1n]);
    assert.ok(performance.now() - started < 500, 'the first row arrives before the range is built');
    const heapBefore = process.memoryUsage().heapUsed;
    let n = 1;
    while (n < 200_000) {
      rows.next();
      n++;
    }
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 100 * 1024 * 1024, 'memory stays bounded while pulling 200k rows');
  } finally {
    tx.close();
  }
});

test('LIMIT stops pulling from a large match', async () => {
  const started = performance.now();
  assert.deepEqual(await h.column('UNWIND range(1, 100000000) AS x WITH x WHERE x % 2 = 0 RETURN x LIMIT 2'), [2n, 4n]);
  assert.ok(performance.now() - started < 500);
});

test('caches prepared queries by text', () => {
  assert.equal(prepare('RETURN 42'), prepare('RETURN 42'));
  assert.notEqual(prepare('RETURN 42'), prepare('RETURN  42'));
});

test('classifies queries as read, write, schema or admin', () => {
  assert.deepEqual(['MATCH (n) RETURN n', 'CREATE (n)', 'MATCH (n) CALL { WITH n SET n.x = 1 } RETURN n', 'CREATE INDEX FOR (n:L) ON (n.p)', 'SHOW INDEXES', 'SHOW DATABASES', 'CREATE USER u SET PASSWORD "p"'].map((q) => prepare(q).kind), ['read', 'write', 'write', 'schema', 'schema', 'admin', 'admin']);
  assert.deepEqual(prepare('MATCH (n) RETURN n.name AS name, count(*)').columns, ['name', 'count(*)']);
});
