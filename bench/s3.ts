/**
 * S3 target benchmark, with the real `quiver-admin` processes: FULL backup of a generated store
 * (2 GiB by default) to a local folder and to a local S3 server, alternating in one run (ABBA order,
 * so a drift in the machine's load hits both sides alike); then restore of that FULL from each.
 * Reports, for every timed run, the time, throughput, the client's CPU time and peak RSS, the CPU
 * time of the Quiver server streaming the backup and of the S3 server, and the machine's load
 * average just before it; then the S3/folder ratios (target: backup >= 0.7) and the client's peak
 * RSS (target < 300 MiB). Prints plain lines, then one JSON line with every figure. Removes
 * everything it wrote.
 *
 * The S3 server (s3rver plus the test front layer) runs in a process of its own by default, as a
 * real store would be: in the benchmark's process it would share the event loop and be charged to
 * no one. `--s3-server-in-process=true` reproduces the earlier setup, for comparison.
 * `--s3-https=true` serves S3 over https (a certificate from a CA made by openssl for the run, trusted
 * by the client through NODE_EXTRA_CA_CERTS), as real stores are reached; parts then go unsigned.
 *
 *   node dist/bench/s3.js [--store-mb=2048] [--reps=2] [--s3-https=true] [--cpu-prof-dir=<dir>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestS3Server } from '../src/targets/s3/s3-test-server.js';
import { TestPki } from '../src/tls/test-pki.js';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { adminBin, type BenchHome, cleanupOnInterrupt, createBenchHome, fileBytes, onlyFile, makeScratchDir, removeTree } from './support/home.js';
import { processCpuMs, runTimedOk, type TimedRun } from './support/process.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { startS3ServerProcess } from './support/s3-server-process.js';
import { mebibyte, median, mibPerSec, round } from './support/stats.js';
import { generateStore } from './support/store-gen.js';

/** This build's quiver-admin script (what bin/quiver-admin runs). */
const adminJs = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'quiver-admin.js');

const targets = { backupS3VsFolderRatioMin: 0.7, clientPeakRssMibMax: 300 };
const bucket = 'quiver-bench';

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 's3-server-in-process', defaultValue: 'false', doc: 'run the S3 server inside the benchmark process (the setup before 2026-12-07) instead of a child process of its own' },
    { name: 's3-https', defaultValue: 'false', doc: 'serve S3 over https (certificate from a CA made by openssl for the run, trusted through NODE_EXTRA_CA_CERTS)' },
    { name: 'cpu-prof-dir', defaultValue: '', doc: 'write a --cpu-prof profile of every quiver-admin run into this folder' },
    { name: 'before-admin-js', defaultValue: '', doc: 'quiver-admin.js of an earlier build: each repetition then also backs up to and restores from S3 with it, for a before/after comparison under the same load' },
  ],
  'node dist/bench/s3.js [options]',
);
const storeBytesTarget = numberOption(options, 'store-mb') * mebibyte;
const reps = Math.max(1, numberOption(options, 'reps'));
const keep = booleanOption(options, 'keep');
const s3InProcess = booleanOption(options, 's3-server-in-process');
const s3Https = booleanOption(options, 's3-https');
const cpuProfDir = options.get('cpu-prof-dir') ?? '';
const beforeAdminJs = options.get('before-admin-js') ?? '';
/** The client run: this build's quiver-admin, or the earlier build's under `--before-admin-js`. */
const clientCommand = (before: boolean, args: string[]): [string, string[]] => {
  // --cpu-prof is not allowed in NODE_OPTIONS (Node 20): profiled runs start node on the script itself.
  const prof = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  if (before) return [process.execPath, [...prof, beforeAdminJs, ...args]];
  return cpuProfDir ? [process.execPath, [...prof, adminJs, ...args]] : [adminBin, args];
};

/** One timed run with what else it cost the machine. */
interface Measured extends TimedRun {
  /** 1-minute load average just before the run. */
  load1m: number;
  /** CPU time the Quiver server (the backup's source) used during the run, in ms; 0 for restores. */
  serverCpuMs: number;
  /** CPU time the S3 server used during the run, in ms (0 for folder runs, and when it runs in this process). */
  s3CpuMs: number;
}

interface S3Server {
  clientEnv: Record<string, string>;
  cpuMs(): number;
  stop(): Promise<void>;
}

async function startS3(directory: string): Promise<S3Server> {
  let tls: { keyPath: string; certPath: string } | undefined;
  let trust: Record<string, string> = {};
  let pki: TestPki | undefined;
  if (s3Https) {
    pki = new TestPki();
    const ca = pki.ca('bench S3 CA');
    const cert = ca.issue('s3-server');
    tls = { keyPath: cert.key, certPath: cert.cert };
    trust = { NODE_EXTRA_CA_CERTS: ca.cert };
  }
  const stopPki = () => pki?.cleanup();
  if (!s3InProcess) {
    const child = await startS3ServerProcess(directory, [bucket], tls);
    return { clientEnv: { ...child.clientEnv, ...trust }, cpuMs: () => child.cpuMs(), stop: () => child.stop().finally(stopPki) };
  }
  const s3 = await TestS3Server.start({ buckets: [bucket], directory, ...(tls ? { tls } : {}) });
  return { clientEnv: { ...(s3.clientEnv() as Record<string, string>), ...trust }, cpuMs: () => 0, stop: () => s3.stop().finally(stopPki) };
}

async function measure(run: () => Promise<TimedRun>, s3: S3Server, serverPid: number | undefined): Promise<Measured> {
  const load1m = round(loadavg()[0]!, 2);
  const server0 = serverPid === undefined ? 0 : processCpuMs(serverPid);
  const s30 = s3.cpuMs();
  const r = await run();
  return { ...r, load1m, serverCpuMs: serverPid === undefined ? 0 : processCpuMs(serverPid) - server0, s3CpuMs: s3.cpuMs() - s30 };
}

function describe(what: string, r: Measured, storeBytes: number): string {
  const s3 = r.s3CpuMs > 0 ? `, S3 server CPU ${round(r.s3CpuMs / 1000, 2)} s` : '';
  const server = r.serverCpuMs > 0 ? `, Quiver server CPU ${round(r.serverCpuMs / 1000, 2)} s` : '';
  return `${what}: ${round(r.ms / 1000, 2)} s (${round(mibPerSec(storeBytes, r.ms))} MiB/s of store), client CPU ${round(r.cpuMs / 1000, 2)} s${server}${s3}, peak RSS ${round(r.peakRssBytes / mebibyte)} MiB, load ${r.load1m}`;
}

async function main(): Promise<void> {
  printEnvironment(describeEnvironment());
  say(`S3 server: ${s3InProcess ? 'inside this process' : 'a child process of its own'}, over ${s3Https ? 'https' : 'http'}`);
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-bench-s3-');
  const s3 = await startS3(join(scratch, 's3'));
  const s3Env = s3.clientEnv;
  const conf = join(scratch, 'admin.conf');
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
    const backupTo = (to: string, before = false) =>
      measure(
        () =>
          runTimedOk(...clientCommand(before, ['database', 'backup', `--from=${home!.server.backupAddress}`, `--to-path=${to}`, '--type=FULL', `--additional-config=${conf}`, 'neo4j']), {
            env: { QUIVER_HOME: home!.home, ...s3Env},
          }),
        s3,
        home!.server.pid,
      );
    const folderRuns: Measured[] = [];
    const s3Runs: Measured[] = [];
    const s3BeforeRuns: Measured[] = [];
    let artifactBytes = 0;
    let folderArtifact = '';
    const backupToFolder = async (rep: number) => {
      const dir = join(scratch, `folder-${rep}`);
      mkdirSync(dir);
      const f = await backupTo(dir);
      folderRuns.push(f);
      folderArtifact = onlyFile(dir, '.backup');
      artifactBytes = fileBytes(folderArtifact);
      say(describe(`rep ${rep} FULL backup to a folder`, f, storeBytes));
    };
    const backupToS3 = async (rep: number) => {
      const s = await backupTo(`s3://${bucket}/rep-${rep}`);
      s3Runs.push(s);
      say(describe(`rep ${rep} FULL backup to S3      `, s, storeBytes));
      if (!beforeAdminJs) return;
      const b = await backupTo(`s3://${bucket}/before-${rep}`, true);
      s3BeforeRuns.push(b);
      say(describe(`rep ${rep} FULL backup to S3 (earlier build)`, b, storeBytes));
    };
    for (let rep = 1; rep <= reps; rep++) {
      if (rep % 2 === 1) {
        await backupToFolder(rep);
        await backupToS3(rep);
      } else {
        await backupToS3(rep);
        await backupToFolder(rep);
      }
    }
    await home.server.stop();
    const restoreFrom = (from: string, rep: number, kind: string, before = false) => {
      const dst = join(scratch, `restore-${kind}-${rep}`);
      const restoreHome = join(dst, 'home');
      mkdirSync(restoreHome, { recursive: true });
      return measure(
        () =>
          runTimedOk(...clientCommand(before, ['database', 'restore', `--from-path=${from}`, `--to-path-data=${join(dst, 'data')}`, `--to-path-txn=${join(dst, 'txn')}`, `--additional-config=${conf}`, 'neo4j']), {
            env: { QUIVER_HOME: restoreHome, ...s3Env},
          }),
        s3,
        undefined,
      ).finally(() => removeTree(dst));
    };
    const folderRestores: Measured[] = [];
    const s3Restores: Measured[] = [];
    const s3BeforeRestores: Measured[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      const restoreFolder = async () => {
        const f = await restoreFrom(folderArtifact, rep, 'folder');
        folderRestores.push(f);
        say(describe(`rep ${rep} restore from a folder`, f, storeBytes));
      };
      const restoreS3 = async () => {
        const s = await restoreFrom(`s3://${bucket}/rep-1`, rep, 's3');
        s3Restores.push(s);
        say(describe(`rep ${rep} restore from S3      `, s, storeBytes));
        if (!beforeAdminJs) return;
        const b = await restoreFrom(`s3://${bucket}/rep-1`, rep, 's3-before', true);
        s3BeforeRestores.push(b);
        say(describe(`rep ${rep} restore from S3 (earlier build)`, b, storeBytes));
      };
      if (rep % 2 === 1) {
        await restoreFolder();
        await restoreS3();
      } else {
        await restoreS3();
        await restoreFolder();
      }
    }
    const med = (runs: Measured[]) => median(runs.map((r) => r.ms));
    const backupRatio = med(folderRuns) / med(s3Runs);
    const restoreRatio = med(folderRestores) / med(s3Restores);
    const peakRssMib = Math.max(...[...s3Runs, ...s3Restores, ...folderRuns, ...folderRestores].map((r) => r.peakRssBytes)) / mebibyte;
    say(`backup throughput S3 / folder: ${round(backupRatio, 2)} (target >= ${targets.backupS3VsFolderRatioMin}); restore S3 / folder: ${round(restoreRatio, 2)}; client peak RSS ${round(peakRssMib)} MiB (target < ${targets.clientPeakRssMibMax})`);
    if (beforeAdminJs) say(`earlier build: backup S3 / folder ${round(med(folderRuns) / med(s3BeforeRuns), 2)}, restore S3 / folder ${round(med(folderRestores) / med(s3BeforeRestores), 2)}`);
    const figures = (runs: Measured[]) => ({
      ms: runs.map((r) => round(r.ms, 0)),
      clientCpuMs: runs.map((r) => round(r.cpuMs, 0)),
      serverCpuMs: runs.map((r) => round(r.serverCpuMs, 0)),
      s3CpuMs: runs.map((r) => round(r.s3CpuMs, 0)),
      peakRssMib: round(Math.max(...runs.map((r) => r.peakRssBytes)) / mebibyte),
      load1m: runs.map((r) => r.load1m),
    });
    printJson({
      storeBytes,
      artifactBytes,
      reps,
      s3ServerInProcess: s3InProcess,
      s3Https,
      backupFolder: figures(folderRuns),
      backupS3: figures(s3Runs),
      restoreFolder: figures(folderRestores),
      restoreS3: figures(s3Restores),
      ...(beforeAdminJs ? { backupS3EarlierBuild: figures(s3BeforeRuns), restoreS3EarlierBuild: figures(s3BeforeRestores), backupRatioEarlierBuild: round(med(folderRuns) / med(s3BeforeRuns), 2), restoreRatioEarlierBuild: round(med(folderRestores) / med(s3BeforeRestores), 2) } : {}),
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
