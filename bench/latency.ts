/**
 * Latency beside heavy statements (issue #15): how long `RETURN 1` takes on one connection while
 * another runs a long statement, on a real server through the official driver:
 *   (a) RETURN 1 alone: p50/p99 of auto-commit `session.run('RETURN 1')` and of `executeQuery`
 *       (a managed transaction: BEGIN, RUN+PULL, COMMIT);
 *   (b) the same beside a heavy read (a count over a range of --read-rows numbers, all filtered);
 *   (c) the same beside a large write (`UNWIND range(1, --write-rows) AS x CREATE (:W {x: x})`
 *       in one statement), until the write commits.
 * Then, in-process, the slice length study behind executionSliceMs: for several slice lengths, the
 * heavy read's time (the cost of pausing) and the event loop's lag beside it (a 1 ms timer's delay),
 * and what handing rows to a worker thread would cost (structured clone through postMessage).
 * Prints plain lines, then one JSON line with every figure. Removes its server home at the end.
 *
 *   node dist/bench/latency.js [--probes=300] [--read-rows=200000000] [--write-rows=1000000] [--study-rows=5000000]
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Driver, Session } from 'neo4j-driver';
import { ExecutionSlice, slicePause } from '../src/cypher/execution-slice.js';
import { prepare } from '../src/cypher/index.js';
import { openScratchDatabase } from '../src/kernel/testing.js';
import { createServer_, type TestServer } from '../test/support/harness.js';
import { makeScratchDir, removeTree } from './support/home.js';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { percentile, round } from './support/stats.js';

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 'probes', defaultValue: '300', doc: 'RETURN 1 round trips per phase and kind' },
    { name: 'read-rows', defaultValue: '200000000', doc: '(b) numbers the heavy read counts over (it is terminated once the probes are done)' },
    { name: 'write-rows', defaultValue: '1000000', doc: '(c) nodes the large write creates in one statement' },
    { name: 'study-rows', defaultValue: '5000000', doc: 'rows of the in-process heavy read per slice length' },
  ],
  'node dist/bench/latency.js [options]',
);
const probes = numberOption(options, 'probes');
const heavyRead = (rows: number): string => `UNWIND range(1, ${rows}) AS x WITH x WHERE x < 0 RETURN count(*) AS n`;

interface Latency {
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function latencyOf(samplesMs: number[]): Latency {
  return { probes: samplesMs.length, p50Ms: round(percentile(samplesMs, 50), 2), p99Ms: round(percentile(samplesMs, 99), 2), maxMs: round(Math.max(...samplesMs), 2) };
}

/** `count` RETURN 1 round trips of each kind, or fewer when `stop()` turns true first. */
async function probe(session: Session, driver: Driver, count: number, stop: () => boolean = () => false): Promise<{ autoCommit: Latency; executeQuery: Latency }> {
  const auto: number[] = [];
  const managed: number[] = [];
  for (let i = 0; i < count && !stop(); i++) {
    let t = performance.now();
    await session.run('RETURN 1');
    auto.push(performance.now() - t);
    t = performance.now();
    await driver.executeQuery('RETURN 1');
    managed.push(performance.now() - t);
  }
  return { autoCommit: latencyOf(auto), executeQuery: latencyOf(managed) };
}

function show(phase: string, r: { autoCommit: Latency; executeQuery: Latency }): void {
  say(`${phase}: session.run p50 ${r.autoCommit.p50Ms} ms, p99 ${r.autoCommit.p99Ms} ms, max ${r.autoCommit.maxMs} ms; executeQuery p50 ${r.executeQuery.p50Ms} ms, p99 ${r.executeQuery.p99Ms} ms (${r.autoCommit.probes} probes each)`);
}

async function serverPhases(scratch: string): Promise<unknown> {
  let server: TestServer | undefined;
  let driver: Driver | undefined;
  let heavyDriver: Driver | undefined;
  try {
    server = await createServer_({ home: join(scratch, 'home') });
    await server.start();
    driver = server.driver();
    heavyDriver = server.driver();
    const session = driver.session();
    try {
      await probe(session, driver, 50); // warm up connections and plans
      const alone = await probe(session, driver, probes);
      show('(a) RETURN 1 alone', alone);

      const heavySession = heavyDriver.session();
      const readStarted = performance.now();
      const read = heavySession.run(heavyRead(numberOption(options, 'read-rows'))).then(
        () => 'finished',
        (e: { code?: string }) => e.code ?? 'failed',
      );
      await new Promise((r) => setTimeout(r, 200));
      const besideRead = await probe(session, driver, probes);
      const tx = await driver.executeQuery("SHOW TRANSACTIONS YIELD transactionId, currentQuery WHERE currentQuery STARTS WITH 'UNWIND range' RETURN transactionId");
      for (const r of tx.records) await driver.executeQuery('TERMINATE TRANSACTION $id', { id: r.get('transactionId') });
      const readEnd = await read;
      await heavySession.close();
      show('(b) RETURN 1 beside a heavy read', besideRead);
      say(`(b) the heavy read ran ${Math.round(performance.now() - readStarted)} ms and ended: ${readEnd}`);

      const writeRows = numberOption(options, 'write-rows');
      const writeSession = heavyDriver.session();
      let writeDone = false;
      const writeStarted = performance.now();
      const write = writeSession.run(`UNWIND range(1, ${writeRows}) AS x CREATE (:W {x: x})`).then(() => {
        writeDone = true;
        return performance.now() - writeStarted;
      });
      await new Promise((r) => setTimeout(r, 200));
      const besideWrite = await probe(session, driver, probes * 100, () => writeDone);
      const writeMs = Math.round(await write);
      await writeSession.close();
      show(`(c) RETURN 1 beside a ${writeRows}-node write`, besideWrite);
      say(`(c) the write took ${writeMs} ms (${Math.round(writeRows / (writeMs / 1000))} nodes/s)`);
      return { alone, besideRead, readEnd, besideWrite, writeRows, writeMs };
    } finally {
      await session.close();
    }
  } finally {
    await driver?.close();
    await heavyDriver?.close();
    await server?.stop();
  }
}

/** The heavy read in-process with slices of `sliceMs`, beside a 1 ms timer measuring the event loop's lag. */
async function sliceStudy(rows: number, sliceMs: number): Promise<{ sliceMs: number; readMs: number; timerLagP99Ms: number; timerLagMaxMs: number }> {
  const scratch = await openScratchDatabase();
  const lags: number[] = [];
  let expected = performance.now() + 1;
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - expected));
    expected = now + 1;
  }, 1);
  try {
    const tx = scratch.db.beginRead();
    const slice = new ExecutionSlice(sliceMs);
    const started = performance.now();
    const it = prepare(heavyRead(rows)).execute(tx, new Map(), { slice }).rows();
    for (let r = it.next(); !r.done; r = it.next()) {
      if (r.value === slicePause) {
        await new Promise((resolve) => setImmediate(resolve));
        slice.start();
      }
    }
    const readMs = performance.now() - started;
    tx.close();
    return { sliceMs, readMs: Math.round(readMs), timerLagP99Ms: round(percentile(lags, 99), 2), timerLagMaxMs: round(Math.max(0, ...lags), 2) };
  } finally {
    clearInterval(timer);
    await scratch.close();
  }
}

/** Rows per second through a worker thread's postMessage (what a worker executor would pay to hand rows back). */
async function workerTransfer(rows: number): Promise<{ rows: number; ms: number; rowsPerSec: number }> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (n) => {
       for (let i = 0; i < n; i += 1000) parentPort.postMessage(Array.from({ length: Math.min(1000, n - i) }, (_, k) => [i + k, 'name-' + (i + k)]));
       parentPort.postMessage(null);
     });`,
    { eval: true },
  );
  try {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      worker.on('message', (m) => {
        if (m === null) resolve();
      });
      worker.postMessage(rows);
    });
    const ms = performance.now() - started;
    return { rows, ms: Math.round(ms), rowsPerSec: Math.round(rows / (ms / 1000)) };
  } finally {
    await worker.terminate();
  }
}

async function main(): Promise<void> {
  const environment = describeEnvironment();
  printEnvironment(environment);
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-latency-');
  try {
    const server = await serverPhases(scratch);
    const studyRows = numberOption(options, 'study-rows');
    const study = [];
    for (const sliceMs of [1, 5, 10, 50, Infinity]) {
      const r = await sliceStudy(studyRows, sliceMs);
      study.push(r);
      say(`slice ${sliceMs} ms: heavy read of ${studyRows} rows ${r.readMs} ms; a 1 ms timer's lag p99 ${r.timerLagP99Ms} ms, max ${r.timerLagMaxMs} ms`);
    }
    const worker = await workerTransfer(1_000_000);
    say(`worker thread hand-back: ${worker.rows} two-column rows in ${worker.ms} ms (${worker.rowsPerSec} rows/s)`);
    printJson({ bench: 'latency', environment, server, study, worker });
  } finally {
    if (!booleanOption(options, 'keep')) removeTree(scratch);
  }
}

await main();
