import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RetentionPolicy } from '../config/retention.js';
import { type PrunableSegment, segmentsToPrune } from './retention.js';
import { mulberry32 } from '../util/seeded-random.js';

const hourMs = 3_600_000;
const nowMs = 1_700_000_000_000;

/**
 * Segments of 10 transactions and 1000 bytes each, one per hour: segment i holds txs
 * 10i+1..10i+10 and its last commit was `count - i` hours ago (the active one: just now).
 */
function segments(count: number, options: { activeEmpty?: boolean } = {}): PrunableSegment[] {
  return Array.from({ length: count }, (_, i) => {
    const empty = options.activeEmpty === true && i === count - 1;
    return {
      seq: i,
      path: `txlog.${i}`,
      firstTxId: 10 * i + 1,
      lastTxId: empty ? 10 * i : 10 * i + 10,
      lastCommitTimeMs: empty ? 0 : nowMs - (count - 1 - i) * hourMs,
      usedBytes: empty ? 0 : 1000,
    };
  });
}

function prunedSeqs(segs: readonly PrunableSegment[], policy: RetentionPolicy, checkpointTxId = Number.MAX_SAFE_INTEGER): number[] {
  return segmentsToPrune(segs, policy, checkpointTxId, nowMs).map((s) => s.seq);
}

describe('segmentsToPrune', () => {
  it('prunes nothing under keep_all', () => {
    assert.deepEqual(prunedSeqs(segments(6), { kind: 'keep_all' }), []);
  });

  it('prunes nothing from an empty log or a log of one segment, whatever the policy', () => {
    for (const policy of [{ kind: 'keep_none' }, { kind: 'files', count: 0 }, { kind: 'size', bytes: 0 }, { kind: 'txs', count: 0 }, { kind: 'age', ms: 0, bytesMax: 0 }] as const) {
      assert.deepEqual(prunedSeqs([], policy), [], policy.kind);
      assert.deepEqual(prunedSeqs(segments(1), policy), [], policy.kind);
    }
  });

  it('keeps only the active segment under keep_none', () => {
    assert.deepEqual(prunedSeqs(segments(6), { kind: 'keep_none' }), [0, 1, 2, 3, 4]);
  });

  it('keeps the newest non-empty segment under keep_none when the active one is empty', () => {
    assert.deepEqual(prunedSeqs(segments(6, { activeEmpty: true }), { kind: 'keep_none' }), [0, 1, 2, 3]);
  });

  it('keeps the newest files, the active one included, under files', () => {
    const segs = segments(6);
    assert.deepEqual(prunedSeqs(segs, { kind: 'files', count: 3 }), [0, 1, 2]);
    assert.deepEqual(prunedSeqs(segs, { kind: 'files', count: 1 }), [0, 1, 2, 3, 4]);
    assert.deepEqual(prunedSeqs(segs, { kind: 'files', count: 0 }), [0, 1, 2, 3, 4], 'the active file stays even when the policy says 0');
    assert.deepEqual(prunedSeqs(segs, { kind: 'files', count: 6 }), []);
    assert.deepEqual(prunedSeqs(segs, { kind: 'files', count: 100 }), []);
  });

  it('keeps the newest segments whose bytes, the active one included, fit in the size under size', () => {
    const segs = segments(6);
    assert.deepEqual(prunedSeqs(segs, { kind: 'size', bytes: 3000 }), [0, 1, 2]);
    assert.deepEqual(prunedSeqs(segs, { kind: 'size', bytes: 3999 }), [0, 1, 2], 'a segment that does not fit whole goes');
    assert.deepEqual(prunedSeqs(segs, { kind: 'size', bytes: 0 }), [0, 1, 2, 3, 4]);
    assert.deepEqual(prunedSeqs(segs, { kind: 'size', bytes: 6000 }), []);
  });

  it('keeps every segment holding one of the newest transactions under txs', () => {
    const segs = segments(6); // newest transaction: 60
    assert.deepEqual(prunedSeqs(segs, { kind: 'txs', count: 10 }), [0, 1, 2, 3, 4], 'txs 51..60 are all in the active segment');
    assert.deepEqual(prunedSeqs(segs, { kind: 'txs', count: 11 }), [0, 1, 2, 3], 'tx 50 is in segment 4');
    assert.deepEqual(prunedSeqs(segs, { kind: 'txs', count: 30 }), [0, 1, 2]);
    assert.deepEqual(prunedSeqs(segs, { kind: 'txs', count: 59 }), []);
    assert.deepEqual(prunedSeqs(segs, { kind: 'txs', count: 0 }), [0, 1, 2, 3, 4]);
  });

  it('counts txs from the newest transaction when the active segment is empty', () => {
    // Newest transaction: 50, in segment 4.
    assert.deepEqual(prunedSeqs(segments(6, { activeEmpty: true }), { kind: 'txs', count: 11 }), [0, 1, 2]);
  });

  it('keeps segments with a commit inside the time span under age', () => {
    const segs = segments(6); // segment i last committed 5 - i hours ago
    assert.deepEqual(prunedSeqs(segs, { kind: 'age', ms: 2.5 * hourMs, bytesMax: undefined }), [0, 1, 2]);
    assert.deepEqual(prunedSeqs(segs, { kind: 'age', ms: 2 * hourMs, bytesMax: undefined }), [0, 1, 2, 3], 'a last commit exactly the span ago is outside it');
    assert.deepEqual(prunedSeqs(segs, { kind: 'age', ms: 100 * hourMs, bytesMax: undefined }), []);
    assert.deepEqual(prunedSeqs(segs, { kind: 'age', ms: 0, bytesMax: undefined }), [0, 1, 2, 3, 4]);
  });

  it('caps the bytes kept under age when a size is given', () => {
    const segs = segments(6);
    assert.deepEqual(prunedSeqs(segs, { kind: 'age', ms: 100 * hourMs, bytesMax: 3000 }), [0, 1, 2], 'the size cap wins over the time span');
    assert.deepEqual(prunedSeqs(segs, { kind: 'age', ms: 2.5 * hourMs, bytesMax: 5000 }), [0, 1, 2], 'the time span wins over the size cap');
    assert.deepEqual(prunedSeqs(segs, { kind: 'age', ms: 100 * hourMs, bytesMax: 0 }), [0, 1, 2, 3, 4]);
  });

  it('never prunes a segment holding a transaction after the checkpoint', () => {
    const segs = segments(6);
    assert.deepEqual(prunedSeqs(segs, { kind: 'keep_none' }, 25), [0, 1], 'segment 2 holds txs 21..30');
    assert.deepEqual(prunedSeqs(segs, { kind: 'keep_none' }, 30), [0, 1, 2]);
    assert.deepEqual(prunedSeqs(segs, { kind: 'keep_none' }, 0), []);
    assert.deepEqual(prunedSeqs(segs, { kind: 'files', count: 1 }, 10), [0]);
  });

  it('only ever prunes a prefix of the non-active segments, under any policy and checkpoint', () => {
    const seed = Number(process.env.QUIVER_TEST_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    const pick = (n: number) => Math.floor(random() * n);
    for (let round = 0; round < 2000; round++) {
      // Irregular segments: sizes, transaction counts and times vary, some are empty.
      const count = 1 + pick(8);
      const segs: PrunableSegment[] = [];
      let txId = 1 + pick(1000);
      let timeMs = nowMs - pick(100) * hourMs;
      for (let i = 0; i < count; i++) {
        const txs = pick(4) === 0 ? 0 : 1 + pick(50);
        timeMs += pick(10) * hourMs;
        segs.push({ seq: i + 3, path: `s${i}`, firstTxId: txId, lastTxId: txId + txs - 1, lastCommitTimeMs: txs ? Math.min(timeMs, nowMs) : 0, usedBytes: txs * (50 + pick(100)) });
        txId += txs;
      }
      const policies: RetentionPolicy[] = [
        { kind: 'keep_all' },
        { kind: 'keep_none' },
        { kind: 'files', count: pick(10) },
        { kind: 'size', bytes: pick(20_000) },
        { kind: 'txs', count: pick(200) },
        { kind: 'age', ms: pick(100) * hourMs, bytesMax: pick(2) ? undefined : pick(20_000) },
      ];
      const checkpointTxId = pick(txId + 10);
      for (const policy of policies) {
        const victims = segmentsToPrune(segs, policy, checkpointTxId, nowMs);
        const where = `seed ${seed}, round ${round}, ${JSON.stringify(policy)}, checkpoint ${checkpointTxId}`;
        assert.deepEqual(victims, segs.slice(0, victims.length), `a prefix (${where})`);
        assert.ok(victims.length < segs.length, `never the active segment (${where})`);
        for (const v of victims) assert.ok(v.lastTxId <= checkpointTxId, `nothing after the checkpoint (${where})`);
        if (policy.kind === 'keep_all') assert.equal(victims.length, 0, where);
      }
    }
  });
});

