import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPauseMonitor } from './pause-monitor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // A synchronous operation that keeps the main thread, as a store apply on a slow disk does.
  }
}

test('the pause monitor logs when the main thread was blocked, and stays quiet otherwise', async () => {
  const lines: string[] = [];
  const monitor = startPauseMonitor((m) => lines.push(m), { intervalMs: 20, thresholdMs: 150, minIntervalMs: 0 });
  try {
    await sleep(200);
    assert.deepEqual(lines, [], 'an idle thread is not reported');
    blockFor(400);
    await sleep(60);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^the server's main thread did not run for \d+ ms: queries and commits waited/);
    const ms = Number(/did not run for (\d+) ms/.exec(lines[0]!)![1]);
    assert.ok(ms >= 330 && ms <= 1000, `reported ${ms} ms for a 400 ms block`);
  } finally {
    monitor.stop();
  }
  blockFor(300);
  await sleep(60);
  assert.equal(lines.length, 1, 'nothing after stop');
});
