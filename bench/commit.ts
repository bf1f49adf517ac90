/**
 * Commit and recovery benchmark, in-process through the kernel API (no Bolt, no Cypher):
 *   (a) one small transaction at a time, each acknowledged after its fsync: tx/s and latency;
 *   (b) small transactions with 16 in flight (group commit): tx/s, latency, commits per log fsync;
 *   (c) large transactions of 1000 nodes: nodes/s;
 *   (d) recovery: a store that lacks the last 100k small transactions and a log that holds them;
 *       `Database.open` replays them: milliseconds per 100k transactions. With the default
 *       --recovery-source=log the transactions are appended to the log as the commit path appends
 *       them, with the same commands, but never applied (as if the process died after every
 *       append): that takes seconds, where committing 100k transactions one by one takes minutes
 *       on this machine. --recovery-source=commit commits them through the database instead,
 *       with the store folder copied aside before and put back after.
 * Also reports the share of commit time spent in the store's LMDB commit (`GraphStore.apply`).
 * Prints plain lines, then one JSON line with every figure. Removes everything it wrote.
 *
 *   node dist/bench/commit.js [--recovery-txs=100000] [--reps=2] [--work-dir=/tmp]
 * (--store-mb, shared with the other benchmarks, does not apply here.)
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, type DatabaseSettings, defaultDatabaseSettings, locateDatabase } from '../src/kernel/database.js';
import { type Command, encodeCommands } from '../src/txlog/commands.js';
import { TxLog } from '../src/txlog/txlog.js';
import { GraphStore } from '../src/storage/store.js';
import type { PropertyValue } from '../src/values/value.js';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { median, percentile, round } from './support/stats.js';

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 'single-txs', defaultValue: '1000', doc: '(a) transactions committed one at a time' },
    { name: 'concurrent-txs', defaultValue: '3000', doc: '(b) transactions committed with --concurrency in flight' },
    { name: 'concurrency', defaultValue: '16', doc: '(b), and (d) with --recovery-source=commit: transactions in flight' },
    { name: 'batch-txs', defaultValue: '20', doc: '(c) large transactions' },
    { name: 'batch-nodes', defaultValue: '1000', doc: '(c) nodes per large transaction' },
    { name: 'recovery-txs', defaultValue: '100000', doc: '(d) small transactions replayed by recovery' },
    { name: 'recovery-source', defaultValue: 'log', doc: '(d) how the transactions to replay are made: log (appended, never applied) or commit (committed, store put back)' },
  ],
  'node dist/bench/commit.js [options]',
);
const reps = Math.max(1, numberOption(options, 'reps'));
const recoverySource = options.get('recovery-source');
if (recoverySource !== 'log' && recoverySource !== 'commit') throw new Error(`--recovery-source must be log or commit, got "${recoverySource}"`);
const concurrency = Math.max(1, numberOption(options, 'concurrency'));

/** Production settings, except that no checkpoint or pruning runs during a measurement. */
const settings: DatabaseSettings = {
  ...defaultDatabaseSettings,
  retention: { kind: 'keep_all' },
  checkpointIntervalMs: 3_600_000,
  checkpointIntervalTx: Number.MAX_SAFE_INTEGER,
};

interface CommitRun {
  transactions: number;
  ms: number;
  txPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Log fdatasyncs issued by commits (group commit shares one among several). */
  logFsyncs: number;
  /** Milliseconds spent in GraphStore.apply (the LMDB write transaction) per transaction. */
  applyMsPerTx: number;
}

/** Times every GraphStore.apply of `db` (the store's LMDB commit, on the event loop thread). */
function meterApply(db: Database): { readonly totalMs: number } {
  const meter = { totalMs: 0 };
  const apply = db.store.apply.bind(db.store);
  db.store.apply = (...args: Parameters<typeof apply>) => {
    const t0 = performance.now();
    try {
      apply(...args);
    } finally {
      meter.totalMs += performance.now() - t0;
    }
  };
  return meter;
}

/** The one small transaction every measurement commits: one node, two properties. */
function smallNodeProperties(seq: number): Map<string, PropertyValue> {
  return new Map<string, PropertyValue>([['seq', BigInt(seq)], ['tag', `t${seq % 97}`]]);
}

/** Commits `count` small transactions with `inFlight` committers. */
async function commitSmall(db: Database, count: number, inFlight: number, meter: { readonly totalMs: number }): Promise<CommitRun> {
  const latencies: number[] = [];
  const fsyncsBefore = db.log.syncCount;
  const applyBefore = meter.totalMs;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let seq = next++; seq < count; seq = next++) {
        const t0 = performance.now();
        const tx = await db.beginWrite();
        tx.createNode(['Small'], smallNodeProperties(seq));
        await tx.commit();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const ms = performance.now() - started;
  return {
    transactions: count,
    ms: round(ms),
    txPerSec: round(count / (ms / 1000)),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    logFsyncs: db.log.syncCount - fsyncsBefore,
    applyMsPerTx: round((meter.totalMs - applyBefore) / count, 3),
  };
}

/**
 * Appends `count` small transactions to the log of a closed database the way `Database.commit`
 * does (same ids, commit times and commands as `commitSmall` would produce), with one fsync at the
 * end, and never applies them: the store stays where it was.
 */
function appendUnapplied(storeDir: string, logDir: string, count: number): { transactions: number; ms: number; source: 'log' } {
  const started = performance.now();
  const store = GraphStore.open(storeDir, { readOnly: true });
  const meta = store.meta();
  store.close();
  const log = TxLog.open({ dir: logDir, databaseId: meta.databaseId, rotationBytes: settings.rotationBytes, preallocate: settings.preallocate }, { txId: meta.lastTxId, checksum: meta.lastTxChecksum });
  try {
    if (log.lastTxId !== meta.lastTxId) throw new Error(`the log ends at tx ${log.lastTxId}, the store at ${meta.lastTxId}`);
    for (let seq = 0; seq < count; seq++) {
      const commands: Command[] = [{ op: 'node.put', id: meta.nextNodeId + seq, labels: ['Small'], properties: smallNodeProperties(seq) }];
      log.append(log.lastTxId + 1, Date.now(), encodeCommands(commands));
    }
  } finally {
    log.close(); // fdatasyncs what was appended
  }
  return { transactions: count, ms: round(performance.now() - started), source: 'log' };
}

async function commitLarge(db: Database, txs: number, nodesPerTx: number): Promise<{ nodes: number; ms: number; nodesPerSec: number }> {
  const started = performance.now();
  for (let t = 0; t < txs; t++) {
    const tx = await db.beginWrite();
    for (let i = 0; i < nodesPerTx; i++) {
      tx.createNode(['Large'], new Map<string, PropertyValue>([['seq', BigInt(t * nodesPerTx + i)], ['name', `node ${i}`], ['score', i / 7]]));
    }
    await tx.commit();
  }
  const ms = performance.now() - started;
  return { nodes: txs * nodesPerTx, ms: round(ms), nodesPerSec: round((txs * nodesPerTx) / (ms / 1000)) };
}

function describeRun(label: string, r: CommitRun): void {
  say(
    `${label}: ${r.transactions} tx in ${r.ms} ms = ${r.txPerSec} tx/s, latency p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms, ` +
      `${round(r.transactions / Math.max(1, r.logFsyncs), 2)} commits per log fsync, store apply ${r.applyMsPerTx} ms/tx`,
  );
}

async function main(): Promise<void> {
  const environment = describeEnvironment();
  printEnvironment(environment);
  const workDir = options.get('work-dir') || tmpdir();
  mkdirSync(workDir, { recursive: true });
  const scratch = mkdtempSync(join(workDir, 'quiver-bench-commit-'));
  const warn = (m: string) => say(`warning: ${m}`);
  try {
    // (a), (b), (c) on one database, alternating repetitions so that machine noise spreads evenly.
    const loc = locateDatabase(join(scratch, 'data'), join(scratch, 'data', 'transactions'), 'bench');
    const db = await Database.create('bench', loc, settings, warn);
    const meter = meterApply(db);
    const single: CommitRun[] = [];
    const concurrent: CommitRun[] = [];
    const large: Array<{ nodes: number; ms: number; nodesPerSec: number }> = [];
    try {
      for (let rep = 1; rep <= reps; rep++) {
        const a = await commitSmall(db, numberOption(options, 'single-txs'), 1, meter);
        describeRun(`(a) single, rep ${rep}`, a);
        single.push(a);
        const b = await commitSmall(db, numberOption(options, 'concurrent-txs'), concurrency, meter);
        describeRun(`(b) ${concurrency} in flight, rep ${rep}`, b);
        concurrent.push(b);
        const c = await commitLarge(db, numberOption(options, 'batch-txs'), numberOption(options, 'batch-nodes'));
        say(`(c) batched, rep ${rep}: ${c.nodes} nodes in ${numberOption(options, 'batch-txs')} tx in ${c.ms} ms = ${c.nodesPerSec} nodes/s`);
        large.push(c);
      }
    } finally {
      await db.close();
    }

    // (d) recovery: a store that lacks the last N transactions, and the log that holds them.
    const recoveryTxs = numberOption(options, 'recovery-txs');
    const rloc = locateDatabase(join(scratch, 'recovery'), join(scratch, 'recovery', 'transactions'), 'bench');
    await (await Database.create('bench', rloc, settings, warn)).close(); // store and log at tx 1
    let written: CommitRun | { transactions: number; ms: number; source: 'log' };
    if (recoverySource === 'log') {
      written = appendUnapplied(rloc.storeDir, rloc.logDir, recoveryTxs);
      say(`(d) appended ${recoveryTxs} tx to the log without applying them in ${written.ms} ms`);
    } else {
      const storeBefore = join(scratch, 'store-before');
      cpSync(rloc.storeDir, storeBefore, { recursive: true });
      const writer = Database.open('bench', rloc, settings, warn);
      try {
        written = await commitSmall(writer, recoveryTxs, concurrency, meterApply(writer));
        describeRun(`(d) committing the transactions to replay`, written);
      } finally {
        await writer.close();
      }
      rmSync(rloc.storeDir, { recursive: true });
      cpSync(storeBefore, rloc.storeDir, { recursive: true });
    }
    const started = performance.now();
    const recovered = Database.open('bench', rloc, settings, () => undefined);
    const recoveryMs = performance.now() - started;
    try {
      const expectedTxId = 1 + recoveryTxs;
      if (recovered.lastCommittedTxId() !== expectedTxId) throw new Error(`recovery reached tx ${recovered.lastCommittedTxId()}, expected ${expectedTxId}`);
      const r = recovered.beginRead();
      const nodes = r.countNodes('Small');
      r.close();
      if (nodes !== recoveryTxs) throw new Error(`recovery left ${nodes} nodes, expected ${recoveryTxs}`);
    } finally {
      await recovered.close();
    }
    const recoveryMsPer100k = (recoveryMs * 100_000) / recoveryTxs;
    say(`(d) recovery: replayed ${recoveryTxs} tx in ${round(recoveryMs)} ms = ${round(recoveryMsPer100k)} ms per 100k tx (${round(recoveryTxs / (recoveryMs / 1000))} tx/s)`);

    const singleTxPerSec = median(single.map((r) => r.txPerSec));
    const concurrentTxPerSec = median(concurrent.map((r) => r.txPerSec));
    say(`summary: single ${singleTxPerSec} tx/s, ${concurrency} in flight ${concurrentTxPerSec} tx/s (x${round(concurrentTxPerSec / singleTxPerSec, 2)}), ` +
      `batched ${median(large.map((r) => r.nodesPerSec))} nodes/s, recovery ${round(recoveryMsPer100k)} ms per 100k tx`);
    printJson({
      bench: 'commit',
      environment,
      reps,
      concurrency,
      singleTxPerSec,
      concurrentTxPerSec,
      batchedNodesPerSec: median(large.map((r) => r.nodesPerSec)),
      recoveryMsPer100kTx: round(recoveryMsPer100k),
      recoveryTxs,
      recoverySource,
      single,
      concurrent,
      large,
      recoveryLogWrite: written,
    });
  } finally {
    if (!booleanOption(options, 'keep')) rmSync(scratch, { recursive: true, force: true });
    else say(`kept ${scratch}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/commit failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
