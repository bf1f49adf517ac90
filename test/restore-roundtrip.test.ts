/**
 * The round-trip property of backup and restore: for a seeded random workload with FULL and DIFF
 * backups taken while it runs (several chains), restoring to any point reproduces exactly the
 * database as it was after the transaction before that point (same logical digest), and the
 * restored store is consistent. Points are chosen over the whole history, so some fall before the
 * first full artifact or between chains; an oracle written independently of the planner says which
 * must fail and which must succeed. Rerun a failure with QUIVER_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aggregateBackup } from '../src/backup/restore/aggregate.js';
import type { DatabaseOutcome } from '../src/backup/client/backup-client.js';
import { restoreDatabase, type RestoreResult } from '../src/backup/restore/restore.js';
import type { RestoreUntil } from '../src/backup/plan/restore-until.js';
import { checkStoreConsistency } from '../src/storage/consistency.js';
import { logicalDigestOfStore } from '../src/storage/digest.js';
import { GraphStore } from '../src/storage/store.js';
import { isQuiverError } from '../src/util/errors.js';
import { type InProcessServer, Rng, startInProcessServer, testDatabaseSettings, testSeed, type TxState, Workload } from './support/restore-workload.js';

/** Restore points over all chains together; the property is asserted at every one. */
const restorePointsMin = 60;

interface ChainRecord {
  full: DatabaseOutcome;
  diffs: DatabaseOutcome[];
  /** Highest transaction in the full artifact. */
  fullTxId: number;
  /** Highest transaction in the chain. */
  tipTxId: number;
}

/** What the oracle expects of a restore to a point. */
type Expectation = { ok: true; state: TxState; pastEnd: boolean } | { ok: false; reason: RegExp };

const seed = testSeed();
const rng = new Rng(seed);
const seedNote = `seed=${seed} (rerun with QUIVER_SEED=${seed})`;
let server: InProcessServer;
let workload: Workload;
let backups: string;
const chains: ChainRecord[] = [];
let restoreCount = 0;

async function steps(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await workload.step();
}

function commitTime(txId: number): number {
  const s = workload.history.get(txId);
  if (!s) throw new Error(`no recorded state at tx ${txId}`);
  return s.commitTimeMs;
}

/** The newest state at or before `tipTxId` that satisfies `before`. */
function lastStateUpTo(tipTxId: number, before: (s: TxState) => boolean): TxState {
  for (let tx = tipTxId; tx >= 1; tx--) {
    const s = workload.history.get(tx);
    if (s && before(s)) return s;
  }
  throw new Error('oracle: no state found');
}

/**
 * The oracle: the newest chain whose full artifact holds only transactions before the point is
 * used; a point past its end with a newer chain after it falls in transactions no differential
 * holds; a point before every full artifact cannot be restored.
 */
function expect(until: RestoreUntil): Expectation {
  const before = (s: TxState) => (until.kind === 'tx' ? s.txId < until.txId : s.commitTimeMs < until.epochMs);
  const usable = chains.filter((c) => before(workload.history.get(c.fullTxId)!));
  const chain = usable.at(-1);
  if (!chain) return { ok: false, reason: /already contains transaction/ };
  const tip = workload.history.get(chain.tipTxId)!;
  const beyond = until.kind === 'tx' ? until.txId > chain.tipTxId + 1 : until.epochMs > tip.commitTimeMs;
  const next = chains[chains.indexOf(chain) + 1];
  if (beyond && next && next.fullTxId > chain.tipTxId) return { ok: false, reason: /are in no differential artifact/ };
  return { ok: true, state: lastStateUpTo(chain.tipTxId, before), pastEnd: beyond && (until.kind === 'time' || until.txId > chain.tipTxId + 1) };
}

function describeUntil(until: RestoreUntil): string {
  return until.kind === 'tx' ? `--restore-until=${until.txId}` : `--restore-until="${until.text}" (${until.epochMs})`;
}

function timeUntil(epochMs: number): RestoreUntil {
  return { kind: 'time', epochMs, text: new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '') };
}

/** Restores into a fresh folder, checks digest and consistency against the oracle, and removes it. */
async function restoreAndCheck(until: RestoreUntil, fromPath: string, parallelRecovery: boolean): Promise<RestoreResult | null> {
  const expectation = expect(until);
  const name = `restored${++restoreCount}`;
  const root = join(server.dir, 'restores', name);
  const warnings: string[] = [];
  const what = `${describeUntil(until)} from ${fromPath}${parallelRecovery ? ' with --parallel-recovery' : ''}; ${seedNote}`;
  try {
    let result: RestoreResult;
    try {
      result = await restoreDatabase({
        fromPaths: [fromPath],
        database: name,
        sourceDatabase: undefined,
        until,
        overwrite: false,
        dataDir: join(root, 'data'),
        txRoot: join(root, 'transactions'),
        scriptsDir: join(root, 'scripts'),
        toPathData: undefined,
        toPathTxn: undefined,
        tempPath: undefined,
        settings: testDatabaseSettings,
        parallelRecovery,
        assertNotRunning: async () => undefined,
        log: (level, message) => {
          if (level !== 'info') warnings.push(message);
        },
      });
    } catch (e) {
      if (expectation.ok || !isQuiverError(e, 'ChainBroken')) throw new Error(`restore ${what} failed: ${(e as Error).message}`, { cause: e });
      assert.match(e.message, expectation.reason, what);
      const left = existsSync(root) ? readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile() || d.name.startsWith('.restore-')) : [];
      assert.deepEqual(left.map((d) => d.name), [], `a refused restore leaves nothing behind: ${what}`);
      return null;
    }
    assert.ok(expectation.ok, `restore ${what} succeeded but must fail with ${expectation.ok ? '' : expectation.reason}`);
    const restored = logicalDigestOfStore(result.storeDir);
    assert.equal(restored.lastTxId, expectation.state.txId, `restored last tx: ${what}`);
    assert.equal(result.lastTxId, expectation.state.txId, `reported last tx: ${what}`);
    assert.equal(restored.digest, expectation.state.digest, `digest of the restored database equals the digest after tx ${expectation.state.txId}: ${what}`);
    const store = GraphStore.open(result.storeDir, { readOnly: true });
    try {
      const report = checkStoreConsistency(store);
      assert.deepEqual(report.problems, [], `consistency: ${what}`);
    } finally {
      store.close();
    }
    const saidPastEnd = warnings.some((w) => /after the last transaction/.test(w));
    assert.equal(saidPastEnd, expectation.pastEnd, `warning about a point past the end (${warnings.join(' | ')}): ${what}`);
    return result;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe(`backup and restore round trip (${seedNote})`, () => {
  before(async () => {
    console.log(`restore-roundtrip: ${seedNote}`);
    server = await startInProcessServer();
    backups = join(server.dir, 'backups');
    mkdirSync(backups);
    workload = new Workload(rng, server.database());
    const chainCount = 3;
    for (let c = 0; c < chainCount; c++) {
      await steps(rng.int(c === 0 ? 5 : 10, 50));
      const full = await server.takeBackup(backups, 'FULL');
      const record: ChainRecord = { full, diffs: [], fullTxId: full.highestTx!, tipTxId: full.highestTx! };
      for (let d = rng.int(2, 4); d > 0; d--) {
        // Now and then back to back: an empty differential, which must not disturb the chain.
        if (!rng.chance(0.15)) await steps(rng.int(5, 60));
        const diff = await server.takeBackup(backups, 'DIFF');
        record.diffs.push(diff);
        if (!diff.empty) record.tipTxId = diff.highestTx!;
      }
      chains.push(record);
    }
    // Transactions after the last backup are in no artifact.
    await steps(rng.int(0, 10));
    console.log(
      `restore-roundtrip: ${workload.lastTxId} transactions (${workload.rolledBack} rolled back and retried); chains: ${chains
        .map((c) => `[FULL ..${c.fullTxId}, ${c.diffs.length} DIFF(s) ..${c.tipTxId}]`)
        .join(' ')}`,
    );
  });

  after(async () => {
    await server?.close();
  });

  it(`restores ${restorePointsMin}+ random points to exactly the recorded state, consistent`, async () => {
    const started = Date.now();
    let restored = 0;
    let refused = 0;
    let points = 0;
    const run = async (until: RestoreUntil, fromPath = backups) => {
      points++;
      const r = await restoreAndCheck(until, fromPath, points % 3 === 0);
      if (r) restored++;
      else refused++;
    };
    // Inside each chain: transaction ids (including both ends) and commit times.
    for (const chain of chains) {
      const lo = chain.fullTxId + 1;
      const hi = chain.tipTxId + 1;
      const txPoints = new Set([lo, hi, ...Array.from({ length: 12 }, () => rng.int(lo, hi))]);
      for (const p of txPoints) await run({ kind: 'tx', txId: p });
      for (let i = 0; i < 5; i++) {
        const k = rng.int(lo, chain.tipTxId);
        // Only times after the full artifact's last commit can use this chain.
        if (commitTime(k) > commitTime(chain.fullTxId)) await run(timeUntil(commitTime(k) + rng.pick([0, 0, 1])));
      }
      // Naming the chain's newest differential restores that chain.
      const tip = [...chain.diffs].reverse().find((d) => !d.empty);
      if (tip) await run({ kind: 'tx', txId: rng.int(lo, hi) }, join(backups, tip.artifact!));
    }
    // Anywhere in the whole history and beyond it: across chains, before the first full, between chains.
    const last = workload.lastTxId;
    while (points < restorePointsMin + 10) {
      if (rng.chance(0.7)) await run({ kind: 'tx', txId: rng.int(2, last + 5) });
      else await run(timeUntil(commitTime(rng.int(1, last)) + rng.int(-1, 1)));
    }
    console.log(`restore-roundtrip: ${points} points, ${restored} restored and verified, ${refused} refused as the oracle expected, in ${Date.now() - started} ms`);
    assert.ok(restored >= restorePointsMin - 10, `enough successful restores (${restored})`);
  });

  it('aggregates each chain into one full artifact that restores to the chain\'s last state', async () => {
    for (const [i, chain] of chains.entries()) {
      const folder = join(server.dir, `aggregate-${i}`);
      mkdirSync(folder);
      for (const a of [chain.full, ...chain.diffs]) cpSync(join(backups, a.artifact!), join(folder, a.artifact!));
      const result = await aggregateBackup({ fromPath: folder, database: undefined, keepOldBackup: false, tempPath: undefined, parallelRecovery: i % 2 === 1, log: () => undefined });
      assert.equal(result.highestTx, chain.tipTxId, seedNote);
      assert.deepEqual(readdirSync(folder), [result.artifact], `the old chain is removed: ${seedNote}`);
      const r = await restoreAndCheck({ kind: 'tx', txId: chain.tipTxId + 1 }, join(folder, result.artifact), false);
      assert.ok(r);
      assert.equal(r.diffArtifacts.length, 0);
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('aggregating up to a named differential removes only what it aggregated; later differentials still restore', async () => {
    const chain = chains.find((c) => c.diffs.filter((d) => !d.empty).length >= 2);
    if (!chain) return; // this seed made no chain with two non-empty differentials
    const nonEmpty = chain.diffs.filter((d) => !d.empty);
    const folder = join(server.dir, 'aggregate-prefix');
    mkdirSync(folder);
    for (const a of [chain.full, ...chain.diffs]) cpSync(join(backups, a.artifact!), join(folder, a.artifact!));
    const upTo = nonEmpty[0]!;
    const result = await aggregateBackup({ fromPath: join(folder, upTo.artifact!), database: undefined, keepOldBackup: false, tempPath: undefined, log: () => undefined });
    assert.equal(result.highestTx, upTo.highestTx, seedNote);
    const left = readdirSync(folder);
    for (const later of nonEmpty.slice(1)) assert.ok(left.includes(later.artifact!), `"${later.artifact}" after the aggregated part is kept: ${left.join(', ')}; ${seedNote}`);
    assert.ok(!left.includes(chain.full.artifact!) && !left.includes(upTo.artifact!), `the aggregated artifacts are removed: ${left.join(', ')}`);
    // The kept differentials continue the new full artifact.
    const r = await restoreAndCheck({ kind: 'tx', txId: chain.tipTxId + 1 }, folder, false);
    assert.equal(r?.lastTxId, chain.tipTxId);
    rmSync(folder, { recursive: true, force: true });
  });
});
