/** Built-in procedures (issue #18: db.labels() listed labels no node carried any more). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(async () => {
  await h.close();
});

test('db.labels() lists only the labels some node carries', async () => {
  await h.run('CREATE (:Kept), (:Removed), (:Deleted)');
  await h.run('MATCH (n:Removed) REMOVE n:Removed');
  await h.run('MATCH (n:Deleted) DELETE n');
  assert.deepEqual(await h.column('CALL db.labels() YIELD label RETURN label'), ['Kept']);
});
