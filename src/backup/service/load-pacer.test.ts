import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadPacer } from './load-pacer.js';

const mib = 1024 * 1024;

function clocked(rate: number) {
  let now = 10_000;
  let txId = 5;
  const pacer = new LoadPacer(() => txId, rate, () => now, 1000);
  return {
    pacer,
    advance: (ms: number) => (now += ms),
    commit: () => (txId += 1),
  };
}

test('a quiet database is never paced', () => {
  const { pacer, advance } = clocked(1 * mib);
  for (let i = 0; i < 10; i++) {
    assert.equal(pacer.delayFor(mib), 0);
    advance(1);
  }
});

test('while commits happen, blocks leave at the configured rate', () => {
  const { pacer, advance, commit } = clocked(2 * mib);
  commit();
  assert.equal(pacer.delayFor(mib), 0, 'the first block goes at once');
  commit();
  assert.equal(pacer.delayFor(mib), 500, 'the next one after its share of a second');
  advance(500);
  commit();
  assert.equal(pacer.delayFor(mib), 500);
  advance(100);
  commit();
  assert.equal(pacer.delayFor(mib / 2), 900, 'waits queue up behind each other');
});

test('a second without commits ends the pacing; the next commit starts it again', () => {
  const { pacer, advance, commit } = clocked(1 * mib);
  commit();
  pacer.delayFor(mib);
  assert.equal(pacer.delayFor(mib), 1000);
  advance(999);
  assert.ok(pacer.delayFor(mib) > 0, 'still within the quiet period');
  advance(1);
  assert.equal(pacer.delayFor(mib), 0, 'a full second since the last commit');
  assert.equal(pacer.delayFor(mib), 0);
  commit();
  assert.equal(pacer.delayFor(mib), 0, 'busy again: the first block goes at once');
  assert.equal(pacer.delayFor(mib), 1000);
});

test('a rate of 0 turns pacing off', () => {
  const { pacer, commit } = clocked(0);
  for (let i = 0; i < 5; i++) {
    commit();
    assert.equal(pacer.delayFor(mib), 0);
  }
});
