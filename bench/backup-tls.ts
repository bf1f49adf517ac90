/**
 * FULL backup over TLS against plain, on the same store in one run (issue #16: TLS must cost under 15% of
 * throughput). Generates a store through the kernel API, a throw-away CA and certificate with openssl, then
 * alternates per repetition a plaintext server and one with dbms.ssl.policy.backup (mutual TLS, the
 * defaults: TLSv1.2-1.3, Node.js's cipher order), each measured with the real `quiver-admin database backup`
 * (compressed and --compress=false), the page cache warmed before each run. The client and server share
 * the home, so they share the policy folder (the certificate names 127.0.0.1 and carries both usages).
 * Prints the negotiated protocol and cipher, the server's CPU seconds per backup, the ratios, one JSON line.
 *
 *   node dist/bench/backup-tls.js [--store-mb=2048] [--reps=3] [--ciphers=<policy ciphers>] [--help]
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '../src/config/config.js';
import { loadClientTls, connectOptions } from '../src/tls/client-tls.js';
import { writePolicyFolder } from '../src/tls/test-policy-home.js';
import { TestPki } from '../src/tls/test-pki.js';
import { parseBenchOptions, numberOption, booleanOption } from './support/options.js';
import { adminBin, cleanupOnInterrupt, createBenchHome, fileBytes, removeTree, setServerConf, makeScratchDir, treeBytes } from './support/home.js';
import { runTimedOk, warmPageCache } from './support/process.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { mebibyte, median, mibPerSec, round } from './support/stats.js';
import { generateStore } from './support/store-gen.js';

/** From the issue: TLS may cost at most 15% of the FULL backup's throughput. */
const tlsThroughputRatioMin = 0.85;

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 'ciphers', defaultValue: '', doc: 'dbms.ssl.policy.backup.ciphers for the TLS runs (empty: the defaults)' },
    { name: 'tls-versions', defaultValue: '', doc: 'dbms.ssl.policy.backup.tls_versions for the TLS runs (empty: the default TLSv1.2,TLSv1.3)' },
    { name: 'raw', defaultValue: 'true', doc: 'also measure --compress=false (every store byte crosses TLS)' },
  ],
  'node dist/bench/backup-tls.js [options]',
);
const storeBytesTarget = numberOption(options, 'store-mb') * mebibyte;
const reps = Math.max(1, numberOption(options, 'reps'));
const measureRaw = booleanOption(options, 'raw');
const keep = booleanOption(options, 'keep');

type Mode = 'plain' | 'tls';
type Variant = 'zstd' | 'raw';
interface Run {
  mode: Mode;
  variant: Variant;
  rep: number;
  ms: number;
  mibPerSec: number;
  artifactBytes: number;
  serverCpuSeconds: number;
  /** quiver-admin's user + system CPU (this process's reaped children). */
  clientCpuSeconds: number;
  clientPeakRssBytes: number;
}

/** User + system CPU seconds of a process so far, from /proc (Linux). */
function processCpuSeconds(pid: number, firstField = 11): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[firstField]) + Number(fields[firstField + 1])) / 100;
}

/** User + system CPU seconds of this process's waited-for children (cutime + cstime). */
function childrenCpuSeconds(): number {
  return processCpuSeconds(process.pid, 13);
}

/** Dials the backup port with the home's client policy: what the backup client negotiates. */
async function negotiated(home: string, port: number): Promise<{ protocol: string; cipher: string }> {
  const config = loadConfig({ home, files: ['quiver.conf'], expandCommands: false, env: process.env, onWarning: () => undefined });
  const client = loadClientTls(config.getSslPolicy('backup'), () => undefined);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...connectOptions(client, '127.0.0.1'), ALPNProtocols: ['h2'] }, () => {
      const r = { protocol: socket.getProtocol() ?? '?', cipher: socket.getCipher().standardName };
      socket.destroy();
      resolve(r);
    });
    socket.once('error', reject);
  });
}

async function main(): Promise<void> {
  const env = describeEnvironment();
  printEnvironment(env);
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-bench-backup-tls-');
  const pki = new TestPki();
  say(`scratch folder ${scratch}`);
  const h = await createBenchHome(scratch, 'home', { 'server.backup.cpu_priority': 'idle' });
  cleanupOnInterrupt(async () => {
    await h.server.stop().catch(() => undefined);
    removeTree(scratch);
    pki.cleanup();
  });
  const ca = pki.ca('Bench CA');
  writePolicyFolder(join(h.home, 'certificates', 'backup'), { identity: ca.issue('bench-server'), trusted: [ca.cert] });
  const ciphers = options.get('ciphers') ?? '';
  const versions = options.get('tls-versions') ?? '';
  if (ciphers) setServerConf(h.home, 'dbms.ssl.policy.backup.ciphers', ciphers);
  if (versions) setServerConf(h.home, 'dbms.ssl.policy.backup.tls_versions', versions);
  const runs: Run[] = [];
  let cipher = { protocol: '', cipher: '' };
  try {
    say(`generating a store of at least ${storeBytesTarget / mebibyte} MiB through the kernel API`);
    const gen = await generateStore(h, 'neo4j', storeBytesTarget, say);
    const dataMdb = join(h.storeDir('neo4j'), 'data.mdb');
    say(`generated ${round(gen.storeBytes / mebibyte)} MiB in ${round(gen.ms / 1000)} s`);
    const storeBytes = fileBytes(dataMdb);

    const measure = async (mode: Mode, rep: number): Promise<void> => {
      setServerConf(h.home, 'dbms.ssl.policy.backup.enabled', mode === 'tls' ? 'true' : 'false');
      await h.server.start();
      try {
        if (mode === 'tls' && !cipher.cipher) {
          cipher = await negotiated(h.home, h.server.backupPort);
          say(`TLS: ${cipher.protocol} ${cipher.cipher}`);
        }
        for (const variant of measureRaw ? (['zstd', 'raw'] as const) : (['zstd'] as const)) {
          const dir = join(scratch, `full-${mode}-${variant}-${rep}`);
          mkdirSync(dir, { recursive: true });
          await warmPageCache(dataMdb);
          const cpuBefore = processCpuSeconds(h.server.pid!);
          const clientCpuBefore = childrenCpuSeconds();
          const r = await runTimedOk(adminBin, ['database', 'backup', `--from=${h.server.backupAddress}`, `--to-path=${dir}`, '--type=FULL', ...(variant === 'raw' ? ['--compress=false'] : []), 'neo4j'], { env: { QUIVER_HOME: h.home } });
          const run: Run = { mode, variant, rep, ms: round(r.ms, 0), mibPerSec: round(mibPerSec(storeBytes, r.ms)), artifactBytes: treeBytes(dir), serverCpuSeconds: round(processCpuSeconds(h.server.pid!) - cpuBefore, 2), clientCpuSeconds: round(childrenCpuSeconds() - clientCpuBefore, 2), clientPeakRssBytes: r.peakRssBytes };
          runs.push(run);
          removeTree(dir);
          say(`rep ${rep} ${mode.padEnd(5)} FULL ${variant === 'raw' ? '--compress=false' : '(zstd)         '}: ${round(r.ms / 1000, 2)} s, ${run.mibPerSec} MiB/s, artifact ${round(run.artifactBytes / mebibyte)} MiB, server CPU ${run.serverCpuSeconds} s, client CPU ${run.clientCpuSeconds} s`);
        }
      } finally {
        await h.server.stop();
      }
    };
    for (let rep = 1; rep <= reps; rep++) {
      // Alternate which mode goes first, so a drift in the machine's load does not favour one.
      for (const mode of rep % 2 === 1 ? (['plain', 'tls'] as const) : (['tls', 'plain'] as const)) await measure(mode, rep);
    }
    const med = (mode: Mode, variant: Variant) => median(runs.filter((r) => r.mode === mode && r.variant === variant).map((r) => r.ms));
    const ratios: Record<string, number> = {};
    for (const variant of measureRaw ? (['zstd', 'raw'] as const) : (['zstd'] as const)) {
      const ratio = med('plain', variant) / med('tls', variant);
      ratios[variant] = round(ratio, 3);
      const cpu = (mode: Mode, who: 'serverCpuSeconds' | 'clientCpuSeconds') => median(runs.filter((r) => r.mode === mode && r.variant === variant).map((r) => r[who]));
      say(`FULL ${variant}: CPU seconds (medians) server plain ${cpu('plain', 'serverCpuSeconds')} / TLS ${cpu('tls', 'serverCpuSeconds')}, client plain ${cpu('plain', 'clientCpuSeconds')} / TLS ${cpu('tls', 'clientCpuSeconds')}`);
      say(`FULL ${variant}: plain ${round(mibPerSec(storeBytes, med('plain', variant)))} MiB/s, TLS ${round(mibPerSec(storeBytes, med('tls', variant)))} MiB/s (medians of ${reps}); TLS / plain throughput ${round(ratio, 3)} (target >= ${tlsThroughputRatioMin}: ${ratio >= tlsThroughputRatioMin ? 'met' : 'MISSED'})`);
    }
    printJson({ bench: 'backup-tls', env, storeBytes, reps, tls: cipher, ciphers: ciphers || null, tlsVersions: versions || null, runs, ratios, target: tlsThroughputRatioMin });
  } finally {
    if (keep) say(`kept ${scratch}`);
    else removeTree(scratch);
    pki.cleanup();
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
