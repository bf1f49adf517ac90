/**
 * Restore benchmark: measures, with the real `quiver-admin` processes,
 *   - restore of a FULL artifact of a generated store (2 GiB by default) against
 *     `zstd -d -c | tar -x` of a `tar | zstd -1 -T2` archive of the same store folder, alternating,
 *     in the same run;
 *   - replay rate of a chain of a FULL plus 10 DIFFs holding 100k small transactions, sequential
 *     and with --parallel-recovery=true (the FULL-only restore of the same chain is subtracted);
 *   - aggregate-backup time of that chain.
 * Prints plain lines, then one JSON line with every figure. Removes everything it wrote.
 *
 *   node dist/bench/restore.js [--store-mb=2048] [--reps=2] [--chain-transactions=100000]
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { adminBin, type BenchHome, cleanupOnInterrupt, createBenchHome, fileBytes, makeScratchDir, onlyFile, removeTree, treeBytes } from './support/home.js';
import { dropPageCache, runPipeline, runTimedOk, shellQuote, type TimedRun, warmPageCache } from './support/process.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { mebibyte, median, mibPerSec, round } from './support/stats.js';
import { generateStore } from './support/store-gen.js';
import { commitSmallTransactions } from './support/write-load.js';

/** Targets from the brief, checked and printed at the end. */
const targets = { restoreVsBaselineRatioMin: 0.8 };

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 'chain-transactions', defaultValue: '100000', doc: 'small transactions in the DIFF chain' },
    { name: 'drop-caches', defaultValue: 'true', doc: 'empty the page cache before every timed FULL restore run, baseline and Quiver alike (needs root)' },
    { name: 'chain-diffs', defaultValue: '10', doc: 'DIFF artifacts the chain transactions are spread over' },
    { name: 'chain', defaultValue: 'true', doc: 'measure the DIFF chain replay and aggregate-backup (false: FULL restore only)' },
    { name: 'writers', defaultValue: '16', doc: 'concurrent driver sessions committing the chain transactions (more sessions share each log fsync)' },
  ],
  'node dist/bench/restore.js [options]',
);
const storeBytesTarget = numberOption(options, 'store-mb') * mebibyte;
const reps = Math.max(1, numberOption(options, 'reps'));
const chainTransactions = numberOption(options, 'chain-transactions');
const chainDiffs = Math.max(1, numberOption(options, 'chain-diffs'));
const writers = Math.max(1, numberOption(options, 'writers'));
const keep = booleanOption(options, 'keep');
const measureChain = booleanOption(options, 'chain');

interface RestoreResultJson {
  transactionsReplayed: number;
  lastTxId: number;
}

function parseRestoreJson(run: TimedRun): RestoreResultJson {
  const start = run.stdout.indexOf('{');
  if (start < 0) throw new Error(`restore printed no JSON result:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout.slice(start)) as RestoreResultJson;
}

async function main(): Promise<void> {
  const env = describeEnvironment();
  printEnvironment(env);
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-bench-restore-');
  say(`scratch folder ${scratch}`);
  const running = new Set<BenchHome>();
  cleanupOnInterrupt(async () => {
    for (const h of running) await h.server.stop().catch(() => undefined);
    removeTree(scratch);
  });
  try {
    // ---- a FULL artifact and a tar.zst of the same store ----
    const big = await createBenchHome(scratch, 'home-full');
    say(`generating a store of at least ${storeBytesTarget / mebibyte} MiB through the kernel API`);
    const gen = await generateStore(big, 'neo4j', storeBytesTarget, say);
    say(`generated ${round(gen.storeBytes / mebibyte)} MiB (${gen.nodes} nodes, ${gen.relationships} relationships) in ${round(gen.ms / 1000)} s`);
    await big.server.start();
    running.add(big);
    const fullDir = join(scratch, 'full');
    mkdirSync(fullDir);
    const fullBackup = await runTimedOk(adminBin, ['database', 'backup', `--from=${big.server.backupAddress}`, `--to-path=${fullDir}`, '--type=FULL', 'neo4j'], { env: { QUIVER_HOME: big.home } });
    await big.server.stop();
    running.delete(big);
    const artifact = onlyFile(fullDir, '.backup');
    const storeBytes = fileBytes(join(big.storeDir('neo4j'), 'data.mdb'));
    const tarFile = join(scratch, 'baseline.tar.zst');
    const tarRun = await runPipeline(`tar -c -C ${shellQuote(big.databasesDir)} neo4j | zstd -1 -T2 -q -o ${shellQuote(tarFile)}`);
    const artifactBytes = fileBytes(artifact);
    const tarBytes = fileBytes(tarFile);
    say(`store ${round(storeBytes / mebibyte)} MiB; FULL artifact ${round(artifactBytes / mebibyte)} MiB (backup ${round(fullBackup.ms / 1000, 2)} s); tar.zst ${round(tarBytes / mebibyte)} MiB (${round(tarRun.ms / 1000, 2)} s)`);
    // The source store and its log are no longer needed: free the disk before restoring copies.
    removeTree(big.storeDir('neo4j'));
    removeTree(big.logDir('neo4j'));

    // ---- restore FULL against zstd -d | tar -x, alternating ----
    const restoreHome = join(scratch, 'restore-home');
    mkdirSync(restoreHome);
    // Same memory state before every timed run, for both sides (see dropPageCache).
    const dropCaches = booleanOption(options, 'drop-caches') && (await dropPageCache());
    say(dropCaches ? 'page cache emptied before every timed run (same memory state for both sides)' : 'page cache NOT emptied between runs (not permitted, or --drop-caches=false): expect the order of steps to sway the figures');
    const baselineRuns: Array<{ ms: number; syncMs: number; mibPerSec: number }> = [];
    const quiverRuns: Array<{ ms: number; mibPerSec: number; restoredStoreBytes: number; peakRssBytes: number }> = [];
    for (let rep = 1; rep <= reps; rep++) {
      const tarDst = join(scratch, 'tar-dst');
      mkdirSync(tarDst);
      if (dropCaches) await dropPageCache();
      await warmPageCache(tarFile);
      const b = await runPipeline(`zstd -d -q -c ${shellQuote(tarFile)} | tar -x -C ${shellQuote(tarDst)}`);
      // tar does not fsync; a restore must be durable, so the flush to disk is reported separately.
      const s = await runPipeline(`sync ${shellQuote(join(tarDst, 'neo4j', 'data.mdb'))}`);
      baselineRuns.push({ ms: round(b.ms, 0), syncMs: round(s.ms, 0), mibPerSec: round(mibPerSec(storeBytes, b.ms)) });
      removeTree(tarDst);
      say(`rep ${rep} baseline zstd -d | tar -x: ${round(b.ms / 1000, 2)} s (${round(mibPerSec(storeBytes, b.ms))} MiB/s of store), then fsync of data.mdb ${round(s.ms / 1000, 2)} s`);

      const dst = join(scratch, 'quiver-dst');
      if (dropCaches) await dropPageCache();
      await warmPageCache(artifact);
      const q = await runTimedOk(
        adminBin,
        ['database', 'restore', `--from-path=${artifact}`, `--to-path-data=${join(dst, 'data')}`, `--to-path-txn=${join(dst, 'transactions')}`, '--format=json', 'neo4j'],
        { env: { QUIVER_HOME: restoreHome } },
      );
      const restoredStoreBytes = fileBytes(join(dst, 'data', 'databases', 'neo4j', 'data.mdb'));
      quiverRuns.push({ ms: round(q.ms, 0), mibPerSec: round(mibPerSec(storeBytes, q.ms)), restoredStoreBytes, peakRssBytes: q.peakRssBytes });
      removeTree(dst);
      say(`rep ${rep} quiver restore of the FULL artifact: ${round(q.ms / 1000, 2)} s (${round(mibPerSec(storeBytes, q.ms))} MiB/s of source store, ${round(mibPerSec(restoredStoreBytes, q.ms))} MiB/s of the restored ${round(restoredStoreBytes / mebibyte)} MiB), peak RSS ${round(q.peakRssBytes / mebibyte)} MiB`);
    }
    rmSync(tarFile);
    removeTree(fullDir);
    const baselineMs = median(baselineRuns.map((r) => r.ms));
    const baselineSyncedMs = median(baselineRuns.map((r) => r.ms + r.syncMs));
    const quiverMs = median(quiverRuns.map((r) => r.ms));
    const restoreRatio = baselineMs / quiverMs;
    say(`restore throughput ratio quiver / baseline: ${round(restoreRatio, 2)} (median of ${reps}; target >= ${targets.restoreVsBaselineRatioMin}); against baseline + fsync: ${round(baselineSyncedMs / quiverMs, 2)}`);

    // ---- a chain: small FULL, then DIFFs holding the small transactions ----
    const chainPhase = async () => {
      const small = await createBenchHome(scratch, 'home-chain');
      await small.server.start();
      running.add(small);
      const chainDir = join(scratch, 'chain');
      mkdirSync(chainDir);
      const backupChain = (type: string) =>
        runTimedOk(adminBin, ['database', 'backup', `--from=${small.server.backupAddress}`, `--to-path=${chainDir}`, `--type=${type}`, 'neo4j'], { env: { QUIVER_HOME: small.home } });
      await backupChain('FULL');
      const chainFull = onlyFile(chainDir, '.backup');
      const driver = small.server.driver();
      let commitMs = 0;
      let diffMs = 0;
      try {
        const perDiff = Math.ceil(chainTransactions / chainDiffs);
        for (let i = 0, left = chainTransactions; i < chainDiffs && left > 0; i++, left -= perDiff) {
          commitMs += (await commitSmallTransactions(driver, Math.min(perDiff, left), writers)).ms;
          diffMs += (await backupChain('DIFF')).ms;
        }
      } finally {
        await driver.close();
      }
      await small.server.stop();
      running.delete(small);
      removeTree(small.storeDir('neo4j'));
      removeTree(small.logDir('neo4j'));
      const chainArtifacts = readdirSync(chainDir).filter((n) => n.endsWith('.backup')).length;
      say(`chain: ${chainArtifacts} artifacts, ${round(treeBytes(chainDir) / mebibyte)} MiB; ${chainTransactions} transactions committed in ${round(commitMs / 1000, 1)} s (${round(chainTransactions / (commitMs / 1000))} tx/s through the driver), DIFF backups took ${round(diffMs / 1000, 1)} s in total`);

      const restoreChain = async (from: string, extra: string[]): Promise<{ run: TimedRun; result: RestoreResultJson }> => {
        const dst = join(scratch, 'chain-dst');
        try {
          const run = await runTimedOk(
            adminBin,
            ['database', 'restore', `--from-path=${from}`, `--to-path-data=${join(dst, 'data')}`, `--to-path-txn=${join(dst, 'transactions')}`, '--format=json', ...extra, 'neo4j'],
            { env: { QUIVER_HOME: restoreHome } },
          );
          return { run, result: parseRestoreJson(run) };
        } finally {
          removeTree(dst);
        }
      };
      const fullOnlyRuns: number[] = [];
      const sequentialRuns: number[] = [];
      const parallelRuns: number[] = [];
      let replayed = 0;
      for (let rep = 1; rep <= reps; rep++) {
        const f = await restoreChain(chainFull, []);
        fullOnlyRuns.push(round(f.run.ms, 0));
        const s = await restoreChain(chainDir, []);
        sequentialRuns.push(round(s.run.ms, 0));
        replayed = s.result.transactionsReplayed;
        const p = await restoreChain(chainDir, ['--parallel-recovery=true']);
        parallelRuns.push(round(p.run.ms, 0));
        if (p.result.transactionsReplayed !== replayed || p.result.lastTxId !== s.result.lastTxId) {
          throw new Error(`--parallel-recovery restored to tx ${p.result.lastTxId} (${p.result.transactionsReplayed} replayed), sequential to tx ${s.result.lastTxId} (${replayed})`);
        }
        say(`rep ${rep} restore: FULL only ${round(f.run.ms / 1000, 2)} s; chain sequential ${round(s.run.ms / 1000, 2)} s; chain --parallel-recovery ${round(p.run.ms / 1000, 2)} s (${replayed} transactions replayed, to tx ${s.result.lastTxId})`);
      }
      const replayRate = (ms: number) => replayed / ((ms - median(fullOnlyRuns)) / 1000);
      const sequentialRate = replayRate(median(sequentialRuns));
      const parallelRate = replayRate(median(parallelRuns));
      say(`replay rate (chain restore minus FULL-only restore): sequential ${round(sequentialRate)} tx/s, --parallel-recovery ${round(parallelRate)} tx/s`);

      const aggregate = await runTimedOk(adminBin, ['database', 'aggregate-backup', `--from-path=${chainDir}`, 'neo4j'], { env: { QUIVER_HOME: restoreHome } });
      const afterAggregate = readdirSync(chainDir).filter((n) => n.endsWith('.backup'));
      say(`aggregate-backup of the chain (${chainArtifacts} artifacts, ${replayed} transactions): ${round(aggregate.ms / 1000, 2)} s, ${afterAggregate.length} artifact(s) left, peak RSS ${round(aggregate.peakRssBytes / mebibyte)} MiB`);
      removeTree(chainDir);
      return {
        artifacts: chainArtifacts,
        transactions: replayed,
        commitMs: round(commitMs, 0),
        diffBackupsMs: round(diffMs, 0),
        fullOnlyRestoreMs: fullOnlyRuns,
        sequentialRestoreMs: sequentialRuns,
        parallelRestoreMs: parallelRuns,
        sequentialTxPerSec: round(sequentialRate),
        parallelTxPerSec: round(parallelRate),
        aggregateMs: round(aggregate.ms, 0),
        aggregatePeakRssBytes: aggregate.peakRssBytes,
      };
    };

    const chain = measureChain ? await chainPhase() : null;

    const met = { restoreVsBaseline: restoreRatio >= targets.restoreVsBaselineRatioMin };
    say(`targets met: restoreVsBaseline=${met.restoreVsBaseline}`);
    printJson({
      benchmark: 'restore',
      environment: env,
      environmentAtEnd: describeEnvironment(),
      options: Object.fromEntries(options),
      store: { bytes: storeBytes, generated: gen, artifactBytes, tarZstBytes: tarBytes },
      full: {
        baseline: { runs: baselineRuns, medianMs: baselineMs, medianMsWithFsync: baselineSyncedMs, medianMiBPerSec: round(mibPerSec(storeBytes, baselineMs)) },
        quiver: { runs: quiverRuns, medianMs: quiverMs, medianMiBPerSec: round(mibPerSec(storeBytes, quiverMs)) },
        ratioQuiverToBaseline: round(restoreRatio, 3),
        ratioQuiverToBaselineWithFsync: round(baselineSyncedMs / quiverMs, 3),
      },
      chain,
      targets,
      met,
    });
  } finally {
    for (const h of running) await h.server.stop().catch(() => undefined);
    if (keep) say(`kept ${scratch}`);
    else removeTree(scratch);
  }
}

main().catch((e) => {
  process.stderr.write(`restore benchmark failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
