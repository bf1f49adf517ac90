/**
 * Test harness for process-level tests: real `bin/quiver` servers in temporary homes on free
 * loopback ports, the real `bin/quiver-admin` as a child process, and the official neo4j-driver.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import neo4j, { type Driver } from 'neo4j-driver';

/** Repository root (works from dist/test/support and test/support). */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!dir.endsWith('/test/support')) dir = dirname(dir);
  const candidate = resolve(dir, '..', '..');
  return candidate.endsWith('/dist') ? dirname(candidate) : candidate;
})();

export const quiverBin = join(repoRoot, 'bin', 'quiver');
export const adminBin = join(repoRoot, 'bin', 'quiver-admin');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export function tempDir(prefix = 'quiver-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ServerOptions {
  /** Extra settings for conf/quiver.conf. */
  conf?: Record<string, string>;
  /** Reuse a home (for restarts); default: a fresh temporary one. */
  home?: string;
  /** Default false: most tests do not exercise authentication. */
  auth?: boolean;
}

export class TestServer {
  private proc: ChildProcess | null = null;
  output = '';
  constructor(
    readonly home: string,
    readonly boltPort: number,
    readonly backupPort: number,
  ) {}

  get boltUri(): string {
    return `bolt://127.0.0.1:${this.boltPort}`;
  }

  get backupAddress(): string {
    return `127.0.0.1:${this.backupPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts `bin/quiver console` and waits for "Started.". */
  async start(timeoutMs = 30_000): Promise<void> {
    const proc = spawn(quiverBin, ['console'], { env: { ...process.env, QUIVER_HOME: this.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.output = '';
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`server did not start within ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const onData = (b: Buffer) => {
        this.output += b.toString();
        if (this.output.includes(' Started.')) {
          clearTimeout(timer);
          res();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', (b: Buffer) => (this.output += b.toString()));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`server exited with code ${code} before starting:\n${this.output}`));
      });
    });
    proc.removeAllListeners('exit');
  }

  /** Clean shutdown (SIGTERM) and wait for exit. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** Crash: SIGKILL and wait for exit. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<number | null> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    proc.kill(sig);
    const code = await exited;
    this.proc = null;
    return code;
  }

  driver(auth?: { user: string; password: string }): Driver {
    return neo4j.driver(this.boltUri, auth ? neo4j.auth.basic(auth.user, auth.password) : neo4j.auth.basic('neo4j', 'unused'), {
      logging: { level: 'error', logger: () => undefined },
    });
  }

  /** Removes the home folder (the server must be stopped). */
  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** A server in a fresh home with its own ports. Call start() on the result. */
export async function createServer_(options: ServerOptions = {}): Promise<TestServer> {
  const home = options.home ?? tempDir('quiver-home-');
  const boltPort = await freePort();
  const backupPort = await freePort();
  mkdirSync(join(home, 'conf'), { recursive: true });
  const conf: Record<string, string> = {
    'server.bolt.listen_address': `127.0.0.1:${boltPort}`,
    'server.bolt.advertised_address': `127.0.0.1:${boltPort}`,
    'server.backup.listen_address': `127.0.0.1:${backupPort}`,
    'dbms.security.auth_enabled': options.auth ? 'true' : 'false',
    ...options.conf,
  };
  writeFileSync(join(home, 'conf', 'quiver.conf'), Object.entries(conf).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return new TestServer(home, boltPort, backupPort);
}

/** Creates and starts a server. */
export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const s = await createServer_(options);
  await s.start();
  return s;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/quiver-admin` with `args` and the given home; never throws on a non-zero exit. */
export function runAdmin(args: string[], options: { home?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return runProcess(adminBin, args, options);
}

export function runProcess(bin: string, args: string[], options: { home?: string; env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    if (options.home) env['QUIVER_HOME'] = options.home;
    const p = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      rej(new Error(`${bin} ${args.join(' ')} timed out\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}
