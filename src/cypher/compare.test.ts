/** Comparison of values: NaN and the ordering tests (issue #18). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { compareValues } from './compare.js';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(async () => {
  await h.close();
});

test('answers false, not null, when NaN is ordered against a number', async () => {
  const r = await h.run('RETURN 0.0 / 0.0 > 1 AS gt, 0.0 / 0.0 >= 1.0 AS ge, 0.0 / 0.0 < 1 AS lt, 0.0 / 0.0 <= 0.0 / 0.0 AS le, 0.0 / 0.0 = 0.0 / 0.0 AS eq');
  assert.deepEqual(r.rows, [[false, false, false, false, false]]);
  assert.ok(Number.isNaN(compareValues(NaN, 1n)));
});

test('still answers null when either side is null or the types are not comparable', async () => {
  const r = await h.run("RETURN null > 1 AS a, 'a' < 1 AS b, 0.0 / 0.0 > null AS c");
  assert.deepEqual(r.rows, [[null, null, null]]);
});
