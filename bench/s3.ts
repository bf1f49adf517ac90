/**
 * S3 target benchmark, with the real `quiver-admin` processes: FULL backup of a generated store
 * (2 GiB by default) to a local folder and to a local S3 server (s3rver plus the test front layer,
 * in this process, loopback), alternating; then restore of that FULL from each. Reports times,
 * throughput, the S3/folder ratios (target: backup >= 0.7) and the client's peak RSS (target < 300 MiB).
 * Prints plain lines, then one JSON line with every figure. Removes everything it wrote.
 *
 *   node dist/bench/s3.js [--store-mb=2048] [--reps=2]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestS3Server } from '../src/targets/s3/s3-test-server.js';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { adminBin, type BenchHome, cleanupOnInterrupt, createBenchHome, fileBytes, onlyFile, makeScratchDir, removeTree } from './support/home.js';
import { runTimedOk, type TimedRun } from './support/process.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { mebibyte, median, mibPerSec, round } from './support/stats.js';
import { generateStore } from './support/store-gen.js';

const targets = { backupS3VsFolderRatioMin: 0.7, clientPeakRssMibMax: 300 };
const bucket = 'quiver-bench';

const options = parseBenchOptions(process.argv.slice(2), [], 'node dist/bench/s3.js [options]');
const storeBytesTarget = numberOption(options, 'store-mb') * mebibyte;
const reps = Math.max(1, numberOption(options, 'reps'));
const keep = booleanOption(options, 'keep');

async function main(): Promise<void> {
  printEnvironment(describeEnvironment());
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-bench-s3-');
  const s3 = await TestS3Server.start({ buckets: [bucket], directory: join(scratch, 's3') });
  const s3Env = s3.clientEnv() as Record<string, string>;
  const conf = join(scratch, 'admin.conf');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(conf, 'backup.s3.force_path_style=true\n');
  let home: BenchHome | undefined;
  cleanupOnInterrupt(async () => {
    await home?.server.stop().catch(() => undefined);
    await s3.stop();
    removeTree(scratch);
  });
  try {
    home = await createBenchHome(scratch, 'home');
    say(`generating a store of at least ${storeBytesTarget / mebibyte} MiB`);
    const gen = await generateStore(home, 'neo4j', storeBytesTarget, say);
    const storeBytes = gen.storeBytes;
    say(`generated ${round(storeBytes / mebibyte)} MiB in ${round(gen.ms / 1000)} s`);
    await home.server.start();
    const backupTo = (to: string) =>
      runTimedOk(adminBin, ['database', 'backup', `--from=${home!.server.backupAddress}`, `--to-path=${to}`, '--type=FULL', `--additional-config=${conf}`, 'neo4j'], {
        env: { QUIVER_HOME: home!.home, ...s3Env },
      });
    const folderRuns: TimedRun[] = [];
    const s3Runs: TimedRun[] = [];
    let artifactBytes = 0;
    let folderArtifact = '';
    for (let rep = 1; rep <= reps; rep++) {
      const dir = join(scratch, `folder-${rep}`);
      mkdirSync(dir);
      const f = await backupTo(dir);
      folderRuns.push(f);
      folderArtifact = onlyFile(dir, '.backup');
      artifactBytes = fileBytes(folderArtifact);
      say(`rep ${rep} FULL backup to a folder: ${round(f.ms / 1000, 2)} s (${round(mibPerSec(storeBytes, f.ms))} MiB/s of store), peak RSS ${round(f.peakRssBytes / mebibyte)} MiB`);
      const s = await backupTo(`s3://${bucket}/rep-${rep}`);
      s3Runs.push(s);
      say(`rep ${rep} FULL backup to S3:       ${round(s.ms / 1000, 2)} s (${round(mibPerSec(storeBytes, s.ms))} MiB/s of store), peak RSS ${round(s.peakRssBytes / mebibyte)} MiB`);
    }
    await home.server.stop();
    const restoreFrom = (from: string, rep: number, kind: string) => {
      const dst = join(scratch, `restore-${kind}-${rep}`);
      const restoreHome = join(dst, 'home');
      mkdirSync(restoreHome, { recursive: true });
      return runTimedOk(adminBin, ['database', 'restore', `--from-path=${from}`, `--to-path-data=${join(dst, 'data')}`, `--to-path-txn=${join(dst, 'txn')}`, `--additional-config=${conf}`, 'neo4j'], {
        env: { QUIVER_HOME: restoreHome, ...s3Env },
      }).finally(() => removeTree(dst));
    };
    const folderRestores: TimedRun[] = [];
    const s3Restores: TimedRun[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      const f = await restoreFrom(folderArtifact, rep, 'folder');
      folderRestores.push(f);
      say(`rep ${rep} restore from a folder: ${round(f.ms / 1000, 2)} s (${round(mibPerSec(storeBytes, f.ms))} MiB/s of store), peak RSS ${round(f.peakRssBytes / mebibyte)} MiB`);
      const s = await restoreFrom(`s3://${bucket}/rep-1`, rep, 's3');
      s3Restores.push(s);
      say(`rep ${rep} restore from S3:       ${round(s.ms / 1000, 2)} s (${round(mibPerSec(storeBytes, s.ms))} MiB/s of store), peak RSS ${round(s.peakRssBytes / mebibyte)} MiB`);
    }
    const med = (runs: TimedRun[]) => median(runs.map((r) => r.ms));
    const backupRatio = med(folderRuns) / med(s3Runs);
    const restoreRatio = med(folderRestores) / med(s3Restores);
    const peakRssMib = Math.max(...[...s3Runs, ...s3Restores, ...folderRuns, ...folderRestores].map((r) => r.peakRssBytes)) / mebibyte;
    say(`backup throughput S3 / folder: ${round(backupRatio, 2)} (target >= ${targets.backupS3VsFolderRatioMin}); restore S3 / folder: ${round(restoreRatio, 2)}; client peak RSS ${round(peakRssMib)} MiB (target < ${targets.clientPeakRssMibMax})`);
    printJson({
      storeBytes,
      artifactBytes,
      reps,
      backupFolderMs: folderRuns.map((r) => round(r.ms, 0)),
      backupS3Ms: s3Runs.map((r) => round(r.ms, 0)),
      restoreFolderMs: folderRestores.map((r) => round(r.ms, 0)),
      restoreS3Ms: s3Restores.map((r) => round(r.ms, 0)),
      peakRssMib: {
        backupFolder: round(Math.max(...folderRuns.map((r) => r.peakRssBytes)) / mebibyte),
        backupS3: round(Math.max(...s3Runs.map((r) => r.peakRssBytes)) / mebibyte),
        restoreFolder: round(Math.max(...folderRestores.map((r) => r.peakRssBytes)) / mebibyte),
        restoreS3: round(Math.max(...s3Restores.map((r) => r.peakRssBytes)) / mebibyte),
      },
      backupRatio: round(backupRatio, 2),
      restoreRatio: round(restoreRatio, 2),
      targets,
    });
  } finally {
    await home?.server.stop().catch(() => undefined);
    await s3.stop();
    if (!keep) removeTree(scratch);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
