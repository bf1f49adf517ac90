/**
 * The local S3 server of bench/s3.ts in a process of its own, as a real store would be: the
 * benchmark's client (`quiver-admin`) then pays only for its own work, and the server's CPU (request
 * parsing, MD5 of every part, writing parts and concatenating them on completion) is measured
 * apart from it. `startS3ServerProcess` spawns this file; run as a script it starts s3rver plus the
 * test front layer (src/targets/s3/s3-test-server.ts), prints one JSON line with its endpoint and
 * client environment, and serves until SIGTERM.
 *
 *   node dist/bench/support/s3-server-process.js [--tls-key=<pem> --tls-cert=<pem>] <directory> <bucket>...
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TestS3Server } from '../../src/targets/s3/s3-test-server.js';
import { processCpuMs } from './process.js';

/** How long the child may take to print its endpoint before the benchmark gives up. */
const s3ServerStartTimeoutMs = 30_000;

export interface S3ServerProcess {
  pid: number;
  clientEnv: Record<string, string>;
  /** CPU time (user + system) the server process has used since it started, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** PEM key and certificate files: the server then speaks https. */
export interface S3ServerTls {
  keyPath: string;
  certPath: string;
}

export async function startS3ServerProcess(directory: string, buckets: string[], tls?: S3ServerTls): Promise<S3ServerProcess> {
  const tlsArgs = tls ? [`--tls-key=${tls.keyPath}`, `--tls-cert=${tls.certPath}`] : [];
  // The child's stdin stays open as long as this process lives: when the benchmark dies without
  // cleaning up (a fatal out-of-memory), the pipe closes and the server exits instead of lingering.
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), ...tlsArgs, directory, ...buckets], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the S3 server process did not start within ${s3ServerStartTimeoutMs} ms`)), s3ServerStartTimeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the S3 server process exited with code ${code} before it started`));
    });
  });
  const { clientEnv } = JSON.parse(first) as { clientEnv: Record<string, string> };
  const pid = child.pid!;
  return {
    pid,
    clientEnv,
    cpuMs: () => processCpuMs(pid),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const [directory, ...buckets] = argv.filter((a) => !a.startsWith('--'));
  const keyPath = flag('tls-key');
  const certPath = flag('tls-cert');
  if (directory === undefined || buckets.length === 0 || (keyPath === undefined) !== (certPath === undefined)) {
    throw new Error('usage: s3-server-process.js [--tls-key=<pem> --tls-cert=<pem>] <directory> <bucket>...');
  }
  const server = await TestS3Server.start({ buckets, directory, ...(keyPath !== undefined && certPath !== undefined ? { tls: { keyPath, certPath } } : {}) });
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, clientEnv: server.clientEnv() })}\n`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.stdin.once('close', stop);
  process.stdin.resume();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
