import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

test('creates, shows and drops an index with Neo4j columns and counters', async () => {
  const created = await h.run('CREATE INDEX person_name FOR (p:Person) ON (p.name)');
  assert.equal(created.stats.indexesAdded, 1);
  assert.equal((await h.run('CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)')).stats.indexesAdded, 0);
  const shown = await h.run('SHOW INDEXES');
  assert.deepEqual(shown.columns, ['id', 'name', 'state', 'populationPercent', 'type', 'entityType', 'labelsOrTypes', 'properties', 'indexProvider', 'owningConstraint']);
  assert.deepEqual(shown.rows[0]!.slice(1), ['person_name', 'ONLINE', 100, 'RANGE', 'NODE', ['Person'], ['name'], 'range-1.0', null]);
  assert.equal((await h.run('DROP INDEX person_name')).stats.indexesRemoved, 1);
  assert.equal((await h.run('DROP INDEX person_name IF EXISTS')).stats.indexesRemoved, 0);
  await assert.rejects(h.run('DROP INDEX person_name'), (e: Error & { code?: string }) => e.code === 'SchemaRuleMissing');
});

test('creates a uniqueness constraint that shows with its owned index and is enforced', async () => {
  const created = await h.run('CREATE CONSTRAINT person_email FOR (p:Person) REQUIRE p.email IS UNIQUE');
  assert.equal(created.stats.constraintsAdded, 1);
  const shown = await h.run('SHOW CONSTRAINTS');
  assert.deepEqual(shown.columns, ['id', 'name', 'type', 'entityType', 'labelsOrTypes', 'properties', 'ownedIndex']);
  assert.deepEqual(shown.rows[0]!.slice(1, 6), ['person_email', 'UNIQUENESS', 'NODE', ['Person'], ['email']]);
  const index = (await h.run('SHOW INDEXES YIELD name, owningConstraint')).rows[0]!;
  assert.equal(index[1], 'person_email');
  await h.run("CREATE (:Person {email: 'a@x'})");
  await assert.rejects(h.run("CREATE (:Person {email: 'a@x'})"), (e: Error & { code?: string }) => e.code === 'ConstraintViolation');
  assert.equal((await h.run('DROP CONSTRAINT person_email')).stats.constraintsRemoved, 1);
});

test('SHOW supports YIELD, WHERE and RETURN', async () => {
  await h.run('CREATE INDEX a_idx FOR (n:A) ON (n.p)');
  await h.run('CREATE INDEX b_idx FOR (n:B) ON (n.p)');
  const r = await h.run("SHOW INDEXES YIELD name, labelsOrTypes AS labels WHERE name STARTS WITH 'b' RETURN name, labels[0] AS label");
  assert.deepEqual(r.columns, ['name', 'label']);
  assert.deepEqual(r.rows, [['b_idx', 'B']]);
});

test('refuses relationship indexes and composite indexes with a clear message', async () => {
  await assert.rejects(h.run('CREATE INDEX FOR ()-[r:R]-() ON (r.p)'), /Relationship property indexes/);
  await assert.rejects(h.run('CREATE INDEX FOR (n:L) ON (n.a, n.b)'), /Composite indexes are not supported/);
});
