/**
 * A benchmark's scratch folder and the Quiver home inside it: a real server (bin/quiver) started
 * through the test harness, with its store and transaction log locations, and a sweep that
 * removes everything the benchmark wrote (stores and artifacts are gigabytes on a shared disk).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminBin, createServer_, type TestServer } from '../../test/support/harness.js';

export { adminBin };

export interface BenchHome {
  server: TestServer;
  home: string;
  /** `data/databases`: the folder tar archives for the baseline. */
  databasesDir: string;
  storeDir(database: string): string;
  logDir(database: string): string;
}

export function makeScratchDir(parent: string, prefix: string): string {
  const base = parent || tmpdir();
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, prefix));
}

/**
 * Creates a home under `scratch` and starts its server once, so that the system database and the
 * default database `neo4j` exist; returns with the server stopped.
 */
export async function createBenchHome(scratch: string, name: string, conf: Record<string, string> = {}): Promise<BenchHome> {
  const home = join(scratch, name);
  const server = await createServer_({ home, conf });
  await server.start();
  await server.stop();
  const databasesDir = join(home, 'data', 'databases');
  return {
    server,
    home,
    databasesDir,
    storeDir: (db) => join(databasesDir, db),
    logDir: (db) => join(home, 'data', 'transactions', db),
  };
}

export function fileBytes(path: string): number {
  return statSync(path).size;
}

/** Total size of the regular files under `dir` (an artifact folder, a restored store). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

/** The single file in `dir` whose name ends with `suffix`; throws when there is not exactly one. */
export function onlyFile(dir: string, suffix: string): string {
  const names = readdirSync(dir).filter((n) => n.endsWith(suffix));
  if (names.length !== 1) throw new Error(`expected exactly one "*${suffix}" in "${dir}", found ${names.length}: ${names.join(', ')}`);
  return join(dir, names[0]!);
}

export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/**
 * On Ctrl-C or SIGTERM, runs `cleanup` (stop servers, remove the scratch folder: gigabytes on a
 * shared disk) before exiting with 130, instead of leaving everything behind.
 */
export function cleanupOnInterrupt(cleanup: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

/** Sets one setting in the home's conf/quiver.conf (replacing an earlier value); restart the server to apply it. */
export function setServerConf(home: string, key: string, value: string): void {
  const path = join(home, 'conf', 'quiver.conf');
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith(`${key}=`));
  writeFileSync(path, [...lines, `${key}=${value}`, ''].join('\n'));
}
