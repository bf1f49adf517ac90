import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlowWarning } from './slow-warning.js';

test('a slow-operation warning logs at the threshold, then at most once per interval with a count of the held-back ones', () => {
  const lines: string[] = [];
  let now = 0;
  const slow = new SlowWarning((m) => lines.push(m), 100, 10_000, () => now);
  slow.report(99, (ms) => `took ${ms}`);
  assert.deepEqual(lines, []);
  slow.report(100.4, (ms) => `took ${ms}`);
  assert.deepEqual(lines, ['took 100']);
  now = 5_000;
  slow.report(700, (ms) => `took ${ms}`);
  slow.report(300, (ms) => `took ${ms}`);
  assert.equal(lines.length, 1, 'held back within the interval');
  now = 10_000;
  slow.report(150, (ms) => `took ${ms}`);
  assert.deepEqual(lines, ['took 100', 'took 150 (2 more since the last such warning, the longest 700 ms)']);
  now = 20_000;
  slow.report(120, (ms) => `took ${ms}`);
  assert.equal(lines[2], 'took 120');
});
