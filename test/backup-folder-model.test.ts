/**
 * The backup folder model (support/backup-folder-model.ts) on hand-built folders: the sequences of
 * #14's findings and the damage rules, so the model the process test trusts is itself pinned down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Damage, expectAggregate, expectBackup, expectRestore, expectVerifyClean, type ModelArtifact } from './support/backup-folder-model.js';

let clock = 0;
function art(kind: 'FULL' | 'DIFF', lowestTx: number, highestTx: number, damage: Damage = null, createdAt?: string): ModelArtifact {
  clock++;
  const at = createdAt ?? `2026-01-01T00:00:${String(clock).padStart(2, '0')}.000Z`;
  return { name: `neo4j-${at}-${clock}.backup`, kind, lowestTx, highestTx, createdAt: at, damage, madeBy: 'test' };
}
const server = { txBefore: 20, txAfter: 20, oldestTxInLog: 1 };

describe('backup folder model', () => {
  it('reaches through DIFFs that continue or overlap the reached tx, and stops at a gap it then refuses', () => {
    const full = art('FULL', 1, 2);
    const d3 = art('DIFF', 3, 3);
    const overlap = art('DIFF', 3, 5);
    const reached = expectRestore([full, d3, overlap]);
    assert.ok(reached.ok && reached.tx === 5, reached.why);
    const gap = art('DIFF', 7, 9);
    const r = expectRestore([full, d3, gap]);
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && [r.causes, r.names], [['gap'], [gap.name]]);
  });

  it('finding 1: aggregate of a middle DIFF dated at that DIFF, then a DIFF continuing it: the folder restores everything', () => {
    const d4 = art('DIFF', 4, 4);
    const aggregated: ModelArtifact = { ...art('FULL', 1, 3), createdAt: '2026-01-01T00:00:00.500Z' };
    const d5 = art('DIFF', 5, 5);
    const r = expectRestore([aggregated, d4, d5]);
    assert.ok(r.ok && r.tx === 5, r.why);
  });

  it('an unreadable artifact newer than the root may hold anything; older, it is ignored; a flipped block counts with its range', () => {
    const old = art('DIFF', 0, 0, 'unreadable');
    const full = art('FULL', 1, 10);
    assert.equal(expectRestore([old, full]).ok, true);
    const empty = art('DIFF', 0, 0, 'unreadable');
    const r = expectRestore([old, full, empty]);
    assert.deepEqual(!r.ok && r.causes, ['damaged']);
    const flipped = art('DIFF', 11, 12, 'contents');
    assert.equal(expectRestore([full, flipped]).ok, false);
    const flippedCovered = art('FULL', 1, 10, 'contents');
    assert.equal(expectRestore([full, flippedCovered]).ok, true, 'a damaged copy of what the folder reaches hides nothing');
  });

  it('an unreadable artifact named in the root FULL\'s second counts as newer, though it was written just before the FULL', () => {
    // Its header cannot be read, so its time is known only to the second in its name (CI seed 1118973633).
    const full: ModelArtifact = { name: 'neo4j-2026-12-06T23-38-20_001.backup', kind: 'FULL', lowestTx: 1, highestTx: 10, createdAt: '2026-12-06T23:38:20.900Z', damage: null, madeBy: 'test' };
    const truncated: ModelArtifact = { name: 'neo4j-2026-12-06T23-38-20.backup', kind: 'DIFF', lowestTx: 9, highestTx: 10, createdAt: '2026-12-06T23:38:20.100Z', damage: 'unreadable', madeBy: 'test' };
    const r = expectRestore([truncated, full]);
    assert.deepEqual(!r.ok && [r.causes, r.names], [['damaged'], [truncated.name]]);
    assert.deepEqual(expectBackup([truncated, full], 'AUTO', server).map((s) => s.kind), ['FULL']);
    const earlier: ModelArtifact = { ...truncated, name: 'neo4j-2026-12-06T23-38-19.backup', createdAt: '2026-12-06T23:38:19.900Z' };
    assert.equal(expectRestore([earlier, full]).ok, true, 'one named in an earlier second is older than the FULL');
  });

  it('aggregate of a folder whose only chain is one FULL with a flipped block: refusing and "nothing to aggregate" are both right (seed 5007)', () => {
    const old = art('FULL', 1, 5, 'unreadable');
    const full = art('FULL', 1, 9, 'contents');
    const e = expectAggregate([old, full]);
    assert.deepEqual(e.kind === 'fail' && [e.nothingAllowed], [true]);
    const diff = art('DIFF', 10, 12);
    const withDiff = expectAggregate([old, full, diff]);
    assert.deepEqual(withDiff.kind === 'fail' && [withDiff.nothingAllowed], [undefined], 'with a DIFF to aggregate it must read the FULL and refuse');
  });

  it('--restore-until: root before the point, success at the point inside the reach, refusal when a later FULL holds the gap', () => {
    const f1 = art('FULL', 1, 5);
    const d = art('DIFF', 6, 8);
    const f2 = art('FULL', 1, 12);
    assert.deepEqual([expectRestore([f1, d, f2], 8)].map((r) => r.ok && r.tx), [7]);
    assert.deepEqual([expectRestore([f1, d, f2], 13)].map((r) => r.ok && r.tx), [12]);
    const mid = expectRestore([f1, d, f2], 11);
    assert.deepEqual(!mid.ok && mid.causes, ['fullAfterPoint']);
    const before = expectRestore([f1, d, f2], 4);
    assert.deepEqual(!before.ok && before.causes.includes('fullAfterPoint'), true);
  });

  it('AUTO: DIFF from the reach, EMPTY when up to date, FULL with a reason when pruned or when something newer is unreadable; DIFF fails instead', () => {
    const full = art('FULL', 1, 10);
    assert.deepEqual(expectBackup([full], 'AUTO', server), [{ kind: 'DIFF', lowestTx: 11, highestTx: [20, 20] }]);
    assert.deepEqual(expectBackup([full], 'AUTO', { ...server, txBefore: 10, txAfter: 10 }), [{ kind: 'EMPTY' }]);
    const pruned = expectBackup([full], 'DIFF', { ...server, oldestTxInLog: 15 });
    assert.equal(pruned.length, 1);
    assert.ok(pruned[0]!.kind === 'FAIL' && pruned[0]!.reason.test('the server no longer has the transactions after 10 (its oldest transaction log entry is 15)'));
    const auto = expectBackup([full, art('DIFF', 0, 0, 'unreadable')], 'AUTO', server);
    assert.ok(auto.length === 1 && auto[0]!.kind === 'FULL' && auto[0]!.fallback instanceof RegExp);
    assert.deepEqual(expectBackup([], 'AUTO', server), [{ kind: 'FULL', fallback: 'any', highestTx: [20, 20] }]);
  });

  it('aggregate: nothing for a single FULL, the reach for a chain, refusal where restore refuses; verify is clean only for an intact, gap-free folder', () => {
    const full = art('FULL', 1, 4);
    assert.equal(expectAggregate([full]).kind, 'nothing');
    const d = art('DIFF', 5, 9);
    assert.deepEqual([expectAggregate([full, d])].map((e) => e.kind === 'ok' && e.tx), [9]);
    assert.deepEqual([expectAggregate([full, d], d)].map((e) => e.kind === 'ok' && e.tx), [9]);
    assert.equal(expectAggregate([full, d, art('DIFF', 11, 12)]).kind, 'fail');
    assert.equal(expectVerifyClean([full, d]).clean, true);
    assert.equal(expectVerifyClean([full, { ...d, damage: 'contents' }]).clean, false);
    assert.equal(expectVerifyClean([d]).clean, false);
  });
});
