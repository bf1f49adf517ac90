/**
 * Backup benchmark: generates a store (2 GiB by default) through the kernel API, starts a real
 * server on it and measures, with the real `quiver-admin` processes:
 *   - FULL backup throughput (MiB of data.mdb per second of the backup process), compressed and not,
 *     against `tar | zstd -1 -T2` of the same store folder measured in the same run, alternating;
 *   - DIFF backup time after 10k small transactions;
 *   - foreground write throughput and p99 latency through the driver before, during and after a
 *     concurrent FULL backup with the server's default settings (server.backup.max_rate_under_load
 *     paces a backup while commits happen), then unpaced (max_rate_under_load=0), then throttled by
 *     server.backup.max_rate (the operator's knob), the default once more (the second backup reuses
 *     the pages the first one made the store append), with how much data.mdb grew meanwhile, the
 *     foreground rate in 5 s windows during the backup, and the server's CPU per transaction;
 *   - peak RSS of the backup client.
 * Prints plain lines, then one JSON line with every figure. Removes everything it wrote.
 *
 *   node dist/bench/backup.js [--store-mb=2048] [--reps=2] [--foreground=true] [--again=true] [--unpaced=true] [--limited-rate-mb=8] [--help]
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { adminBin, cleanupOnInterrupt, createBenchHome, fileBytes, makeScratchDir, removeTree, setServerConf, treeBytes } from './support/home.js';
import { runPipeline, runTimedOk, shellQuote, type TimedRun, warmPageCache } from './support/process.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { mebibyte, median, mibPerSec, round } from './support/stats.js';
import { generateStore } from './support/store-gen.js';
import { commitSmallTransactions, WriteLoad, type WindowStats } from './support/write-load.js';

/** Targets from the brief, checked and printed at the end. */
const targets = {
  fullVsBaselineRatioMin: 0.8,
  foregroundDuringBackupRatioMin: 0.85,
  clientPeakRssBytesMax: 300 * mebibyte,
};

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 'diff-transactions', defaultValue: '10000', doc: 'small transactions committed before the DIFF backup' },
    { name: 'writers', defaultValue: '8', doc: 'concurrent driver sessions of the foreground write load' },
    { name: 'foreground-seconds', defaultValue: '20', doc: 'length of the baseline window before (and after) the concurrent backup' },
    { name: 'max-rate', defaultValue: '0', doc: 'server.backup.max_rate in bytes per second for the whole run (0: unlimited)' },
    { name: 'foreground', defaultValue: 'true', doc: 'measure foreground writes during a concurrent backup (false: FULL and DIFF figures only)' },
    { name: 'max-rate-under-load', defaultValue: '', doc: 'server.backup.max_rate_under_load for the default phase (empty: the server default)' },
    { name: 'again', defaultValue: 'true', doc: 'repeat the default-settings measurement once: the second backup finds the free pages the first one left (the steady state of regular backups)' },
    { name: 'unpaced', defaultValue: 'true', doc: 'repeat the foreground measurement with server.backup.max_rate_under_load=0 (no pacing under load)' },
    { name: 'limited-rate-mb', defaultValue: '8', doc: 'repeat the foreground measurement with server.backup.max_rate at this many MiB/s (0: skip)' },
    { name: 'cpu-priority', defaultValue: 'idle', doc: 'server.backup.cpu_priority for the server and the backup client (idle, low, normal)' },
  ],
  'node dist/bench/backup.js [options]',
);
const storeBytesTarget = numberOption(options, 'store-mb') * mebibyte;
const reps = Math.max(1, numberOption(options, 'reps'));
const diffTransactions = numberOption(options, 'diff-transactions');
const writers = Math.max(1, numberOption(options, 'writers'));
const foregroundMs = numberOption(options, 'foreground-seconds') * 1000;
const maxRate = numberOption(options, 'max-rate');
const limitedRateMiB = numberOption(options, 'limited-rate-mb');
const measureForeground = booleanOption(options, 'foreground');
const maxRateUnderLoad = options.get('max-rate-under-load') ?? '';
const measureUnpaced = booleanOption(options, 'unpaced');
const measureAgain = booleanOption(options, 'again');
const keep = booleanOption(options, 'keep');

interface FullRun {
  ms: number;
  mibPerSec: number;
  artifactBytes: number;
  peakRssBytes?: number;
}

function summarize(runs: FullRun[]) {
  return {
    runs,
    medianMs: round(median(runs.map((r) => r.ms)), 0),
    medianMiBPerSec: round(median(runs.map((r) => r.mibPerSec))),
  };
}

interface ForegroundPhase {
  before: WindowStats;
  during: WindowStats;
  after: WindowStats;
  withoutBackupTxPerSec: number;
  ratioDuringToWithout: number;
  backupMs: number;
  peakRssBytes: number;
  storeBytesAtStart: number;
  storeGrowthBytes: number;
  /** Size of the FULL artifact the backup under load wrote. */
  artifactBytes: number;
  /** Foreground tx/s in consecutive 5 s windows during the backup: shows whether the cost changes as the pin lasts. */
  duringSeriesTxPerSec: number[];
  /** CPU time of the server process (all threads, image workers included) per foreground transaction, µs. */
  serverCpuUsPerTx: { before: number; during: number; after: number };
  errors: number;
}

/** User + system CPU seconds of a process so far, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function windowLine(label: string, w: WindowStats): string {
  return `${label}: ${round(w.txPerSec)} tx/s over ${round(w.seconds)} s (${w.transactions} tx), latency p50 ${round(w.p50Ms, 2)} ms, p99 ${round(w.p99Ms, 2)} ms, max ${round(w.maxMs, 1)} ms`;
}

async function main(): Promise<void> {
  const env = describeEnvironment();
  printEnvironment(env);
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-bench-backup-');
  say(`scratch folder ${scratch}`);
  // quiver.conf is read by the server and by quiver-admin, so one setting covers both sides.
  const conf: Record<string, string> = {
    'server.backup.cpu_priority': options.get('cpu-priority') ?? 'idle',
    ...(maxRate > 0 ? { 'server.backup.max_rate': String(maxRate) } : {}),
    ...(maxRateUnderLoad ? { 'server.backup.max_rate_under_load': maxRateUnderLoad } : {}),
  };
  const h = await createBenchHome(scratch, 'home', conf);
  cleanupOnInterrupt(async () => {
    await h.server.stop().catch(() => undefined);
    removeTree(scratch);
  });
  let serverRunning = false;
  try {
    say(`generating a store of at least ${storeBytesTarget / mebibyte} MiB through the kernel API`);
    const gen = await generateStore(h, 'neo4j', storeBytesTarget, say);
    const dataMdb = join(h.storeDir('neo4j'), 'data.mdb');
    say(`generated ${round(gen.storeBytes / mebibyte)} MiB (${gen.nodes} nodes, ${gen.relationships} relationships, ${gen.transactions} transactions) in ${round(gen.ms / 1000)} s`);
    await h.server.start();
    serverRunning = true;
    const from = `--from=${h.server.backupAddress}`;
    const adminEnv = { QUIVER_HOME: h.home };

    const backup = async (dir: string, extra: string[]): Promise<TimedRun> => {
      mkdirSync(dir, { recursive: true });
      return runTimedOk(adminBin, ['database', 'backup', from, `--to-path=${dir}`, ...extra, 'neo4j'], { env: adminEnv });
    };

    // ---- FULL backup against tar | zstd, alternating, same bytes, page cache warmed before each ----
    const baselineRuns: FullRun[] = [];
    const compressedRuns: FullRun[] = [];
    const uncompressedRuns: FullRun[] = [];
    const chainDir = join(scratch, 'chain');
    for (let rep = 1; rep <= reps; rep++) {
      const storeBytes = fileBytes(dataMdb);
      const tarFile = join(scratch, 'baseline.tar.zst');
      await warmPageCache(dataMdb);
      const b = await runPipeline(`tar -c -C ${shellQuote(h.databasesDir)} neo4j | zstd -1 -T2 -q -o ${shellQuote(tarFile)}`);
      baselineRuns.push({ ms: round(b.ms, 0), mibPerSec: round(mibPerSec(storeBytes, b.ms)), artifactBytes: fileBytes(tarFile) });
      rmSync(tarFile);
      say(`rep ${rep} baseline tar | zstd -1 -T2: ${round(b.ms / 1000, 2)} s, ${round(mibPerSec(storeBytes, b.ms))} MiB/s, output ${round(baselineRuns.at(-1)!.artifactBytes / mebibyte)} MiB`);

      // The last compressed FULL is kept: the DIFF below continues its chain.
      const dir = rep === reps ? chainDir : join(scratch, `full-${rep}`);
      await warmPageCache(dataMdb);
      const c = await backup(dir, ['--type=FULL']);
      compressedRuns.push({ ms: round(c.ms, 0), mibPerSec: round(mibPerSec(storeBytes, c.ms)), artifactBytes: treeBytes(dir), peakRssBytes: c.peakRssBytes });
      if (dir !== chainDir) removeTree(dir);
      say(`rep ${rep} quiver FULL (zstd): ${round(c.ms / 1000, 2)} s, ${round(mibPerSec(storeBytes, c.ms))} MiB/s, artifact ${round(compressedRuns.at(-1)!.artifactBytes / mebibyte)} MiB, client peak RSS ${round(c.peakRssBytes / mebibyte)} MiB`);

      const rawDir = join(scratch, `full-raw-${rep}`);
      await warmPageCache(dataMdb);
      const u = await backup(rawDir, ['--type=FULL', '--compress=false']);
      uncompressedRuns.push({ ms: round(u.ms, 0), mibPerSec: round(mibPerSec(storeBytes, u.ms)), artifactBytes: treeBytes(rawDir), peakRssBytes: u.peakRssBytes });
      removeTree(rawDir);
      say(`rep ${rep} quiver FULL (--compress=false): ${round(u.ms / 1000, 2)} s, ${round(mibPerSec(storeBytes, u.ms))} MiB/s, artifact ${round(uncompressedRuns.at(-1)!.artifactBytes / mebibyte)} MiB, client peak RSS ${round(u.peakRssBytes / mebibyte)} MiB`);
    }
    const baseline = summarize(baselineRuns);
    const compressed = summarize(compressedRuns);
    const uncompressed = summarize(uncompressedRuns);
    const fullRatio = baseline.medianMs / compressed.medianMs;
    say(`FULL (zstd) / baseline throughput ratio: ${round(fullRatio, 2)} (median of ${reps}; target >= ${targets.fullVsBaselineRatioMin})`);

    // ---- DIFF after small transactions ----
    const driver = h.server.driver();
    const committed = await commitSmallTransactions(driver, diffTransactions, writers).finally(() => driver.close());
    say(`committed ${diffTransactions} small transactions through the driver in ${round(committed.ms / 1000, 2)} s (${round(diffTransactions / (committed.ms / 1000))} tx/s, ${writers} sessions)`);
    const diffBefore = treeBytes(chainDir);
    const d = await backup(chainDir, ['--type=DIFF']);
    say(`quiver DIFF of ${diffTransactions} transactions: ${round(d.ms / 1000, 2)} s, artifact ${round((treeBytes(chainDir) - diffBefore) / 1024)} KiB, client peak RSS ${round(d.peakRssBytes / mebibyte)} MiB`);
    removeTree(chainDir);

    // ---- foreground writes before, during and after a concurrent FULL backup ----
    const foreground = async (label: string): Promise<ForegroundPhase> => {
      const session = h.server.driver();
      const load = new WriteLoad(session, writers);
      try {
        load.start();
        await sleep(3000); // warm-up: connections, query cache
        const serverPid = h.server.pid!;
        const logFrom = h.server.output.length;
        const beforeFrom = performance.now();
        const cpuBefore = processCpuSeconds(serverPid);
        await sleep(foregroundMs);
        const duringFrom = performance.now();
        const cpuDuring = processCpuSeconds(serverPid);
        const storeBytesBefore = fileBytes(dataMdb);
        const concurrentDir = join(scratch, 'concurrent');
        const concurrent = await backup(concurrentDir, ['--type=FULL']);
        const duringTo = performance.now();
        const cpuAfter = processCpuSeconds(serverPid);
        // Pages the backup's read transaction pins cannot be reused, so writes during it grow the file.
        const storeGrowthBytes = fileBytes(dataMdb) - storeBytesBefore;
        await sleep(foregroundMs);
        const afterTo = performance.now();
        const cpuEnd = processCpuSeconds(serverPid);
        await load.stop();
        const artifactBytes = treeBytes(concurrentDir);
        removeTree(concurrentDir);
        const before = load.window(beforeFrom, duringFrom);
        const during = load.window(duringFrom, duringTo);
        const after = load.window(duringTo, afterTo);
        const duringSeriesTxPerSec: number[] = [];
        for (let t = duringFrom; t + 5000 <= duringTo; t += 5000) duringSeriesTxPerSec.push(round(load.window(t, t + 5000).txPerSec));
        const cpuPerTx = (seconds: number, w: WindowStats) => round((seconds * 1e6) / Math.max(1, w.transactions));
        const serverCpuUsPerTx = { before: cpuPerTx(cpuDuring - cpuBefore, before), during: cpuPerTx(cpuAfter - cpuDuring, during), after: cpuPerTx(cpuEnd - cpuAfter, after) };
        // Without a backup = the windows before and after it: the shared VM drifts, and writes made
        // during the backup (pages pinned by its read transaction) can change the store's speed.
        const withoutBackupTxPerSec = (before.txPerSec + after.txPerSec) / 2;
        const ratio = during.txPerSec / withoutBackupTxPerSec;
        say(windowLine(`${label}: foreground writes before the backup`, before));
        say(windowLine(`${label}: foreground writes during a FULL backup`, during));
        say(windowLine(`${label}: foreground writes after the backup`, after));
        // The server's own warnings over the phase: pauses of its main thread, slow syncs and applies.
        const warnings = h.server.output.slice(logFrom).split('\n').filter((l) => / WARN /.test(l));
        for (const w of warnings.slice(0, 10)) say(`${label}: server log: ${w}`);
        if (warnings.length > 10) say(`${label}: server log: ${warnings.length - 10} more warnings`);
        say(`${label}: concurrent FULL backup took ${round(concurrent.ms / 1000, 2)} s (${round(mibPerSec(storeBytesBefore, concurrent.ms))} MiB/s of the store at its start), client peak RSS ${round(concurrent.peakRssBytes / mebibyte)} MiB, artifact ${round(artifactBytes / mebibyte)} MiB; data.mdb grew by ${round(storeGrowthBytes / mebibyte)} MiB during it (${during.transactions} transactions)`);
        say(`${label}: foreground throughput during the backup / without (mean of before and after): ${round(ratio, 2)} (target >= ${targets.foregroundDuringBackupRatioMin}); during / before ${round(during.txPerSec / before.txPerSec, 2)}, during / after ${round(during.txPerSec / after.txPerSec, 2)}`);
        if (duringSeriesTxPerSec.length > 1) say(`${label}: foreground tx/s in 5 s windows during the backup: ${duringSeriesTxPerSec.join(' ')}`);
        say(`${label}: server CPU per foreground transaction before / during / after: ${serverCpuUsPerTx.before} / ${serverCpuUsPerTx.during} / ${serverCpuUsPerTx.after} µs (during includes the backup's own work)`);
        if (load.errors.length) say(`${label}: foreground errors: ${load.errors.length}, first: ${load.errors[0]}`);
        return { before, during, after, withoutBackupTxPerSec: round(withoutBackupTxPerSec), ratioDuringToWithout: round(ratio, 3), backupMs: round(concurrent.ms, 0), peakRssBytes: concurrent.peakRssBytes, storeBytesAtStart: storeBytesBefore, storeGrowthBytes, artifactBytes, duringSeriesTxPerSec, serverCpuUsPerTx, errors: load.errors.length };
      } finally {
        await load.stop();
        await session.close();
      }
    };
    const restartWith = async (key: string, value: string) => {
      await h.server.stop();
      serverRunning = false;
      setServerConf(h.home, key, value);
      await h.server.start();
      serverRunning = true;
    };
    const defaultLabel = `default settings (max_rate ${maxRate > 0 ? maxRate : 0}, max_rate_under_load ${maxRateUnderLoad || 'default'})`;
    const defaults = measureForeground ? await foreground(defaultLabel) : null;
    // The first backup under load grows data.mdb (the pinned pages cannot be reused); the next one
    // reuses those pages instead, as every later backup of a store under regular backups does.
    const again = measureForeground && measureAgain ? await foreground(`${defaultLabel}, second backup`) : null;
    let unpaced: ForegroundPhase | null = null;
    if (measureForeground && measureUnpaced && maxRate === 0) {
      // The same without pacing under load: the backup takes whatever CPU the database leaves.
      await restartWith('server.backup.max_rate_under_load', '0');
      unpaced = await foreground('unpaced (max_rate_under_load 0)');
    }
    let limited: ForegroundPhase | null = null;
    if (measureForeground && limitedRateMiB > 0 && maxRate === 0) {
      // The same measurement with the backup service throttled (server.backup.max_rate), the knob an
      // operator has when foreground work matters more than backup speed.
      await restartWith('server.backup.max_rate', `${limitedRateMiB}m`);
      limited = await foreground(`max_rate ${limitedRateMiB} MiB/s`);
    }
    const foregroundRatio = defaults?.ratioDuringToWithout ?? NaN;

    const peakRssBytes = Math.max(...compressedRuns.map((r) => r.peakRssBytes ?? 0), ...uncompressedRuns.map((r) => r.peakRssBytes ?? 0), d.peakRssBytes, defaults?.peakRssBytes ?? 0, again?.peakRssBytes ?? 0, unpaced?.peakRssBytes ?? 0, limited?.peakRssBytes ?? 0);
    say(`backup client peak RSS over all runs: ${round(peakRssBytes / mebibyte)} MiB (target < ${targets.clientPeakRssBytesMax / mebibyte} MiB)`);
    const met = {
      fullVsBaseline: fullRatio >= targets.fullVsBaselineRatioMin,
      foregroundDuringBackup: defaults ? foregroundRatio >= targets.foregroundDuringBackupRatioMin : null,
      clientPeakRss: peakRssBytes < targets.clientPeakRssBytesMax,
    };
    say(`targets met: ${Object.entries(met).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    printJson({
      benchmark: 'backup',
      environment: env,
      environmentAtEnd: describeEnvironment(),
      options: Object.fromEntries(options),
      store: { bytes: fileBytes(dataMdb), generated: gen },
      full: { baseline, compressed, uncompressed, ratioCompressedToBaseline: round(fullRatio, 3), ratioUncompressedToBaseline: round(baseline.medianMs / uncompressed.medianMs, 3) },
      diff: { transactions: diffTransactions, commitMs: round(committed.ms, 0), backupMs: round(d.ms, 0), peakRssBytes: d.peakRssBytes },
      foreground: { writers, defaults, again, unpaced, limited, limitedRateMiBPerSec: limited ? limitedRateMiB : null },
      clientPeakRssBytes: peakRssBytes,
      targets,
      met,
    });
  } finally {
    if (serverRunning) await h.server.stop();
    if (keep) say(`kept ${scratch}`);
    else removeTree(scratch);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().catch((e) => {
  process.stderr.write(`backup benchmark failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
