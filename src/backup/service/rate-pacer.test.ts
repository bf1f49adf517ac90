import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RatePacer } from './rate-pacer.js';

const mib = 1024 * 1024;

function clocked(rate: number) {
  let now = 50_000;
  return { pacer: new RatePacer(rate, () => now), advance: (ms: number) => (now += ms) };
}

test('items leave at the configured rate, the first at once', () => {
  const { pacer } = clocked(2 * mib);
  assert.equal(pacer.delayFor(mib), 0);
  assert.equal(pacer.delayFor(mib), 500);
  assert.equal(pacer.delayFor(mib), 1000);
});

test('a stall is not made up for by a burst afterwards', () => {
  const { pacer, advance } = clocked(1 * mib);
  assert.equal(pacer.delayFor(mib), 0);
  advance(10_000);
  assert.equal(pacer.delayFor(mib), 0, 'the item after the stall goes at once');
  assert.equal(pacer.delayFor(mib), 1000, 'and the next waits a full period again');
});

test('rate 0 never paces; reset starts a fresh bucket', () => {
  const off = clocked(0).pacer;
  for (let i = 0; i < 5; i++) assert.equal(off.delayFor(mib), 0);
  const { pacer } = clocked(mib);
  pacer.delayFor(mib);
  pacer.reset();
  assert.equal(pacer.delayFor(mib), 0);
});

test('delayAfter counts the item just sent: sending at once, then waiting for it', () => {
  const { pacer, advance } = clocked(1 * mib);
  assert.equal(pacer.delayAfter(mib), 1000, 'one MiB at 1 MiB/s: wait a second after it');
  advance(1000);
  assert.equal(pacer.delayAfter(mib / 2), 500);
});
