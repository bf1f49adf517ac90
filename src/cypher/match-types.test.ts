/**
 * Relationship type alternatives in MATCH: a type named twice matches each relationship once,
 * whether the relationships are still in the pending change layers or already in the store
 * (issue #18: `[:T|:T]` returned duplicates only once the store had applied the writes).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../kernel/database.js';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(async () => {
  await h.close();
});

test('matches each relationship once when its type is named twice, before and after the store applies it', async () => {
  await h.run('CREATE (:A)-[:T]->(:B), (:A)-[:U]->(:B)');
  assert.equal((await h.column('MATCH (a)-[:T|:T]->(b) RETURN b')).length, 1);
  await (h.db as unknown as Database).applyCommitted();
  assert.equal((await h.column('MATCH (a)-[:T|:T]->(b) RETURN b')).length, 1);
  assert.equal((await h.column('MATCH (a)-[:T|:U|:T]->(b) RETURN b')).length, 2);
  assert.equal((await h.column('MATCH (a)<-[:T|T]-(b) RETURN a')).length, 1);
});
