/**
 * Helpers for the backup process tests: run `quiver-admin database backup` against a TestServer,
 * read its log lines and `--inspect-path` table, restore an artifact chain into a temporary folder,
 * and a deterministic write workload whose expected graph is known at every transaction id.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Driver } from 'neo4j-driver';
import { KernelReadTx } from '../../src/kernel/read-tx.js';
import { GraphStore } from '../../src/storage/store.js';
import { StoreReader } from '../../src/storage/store-reader.js';
import { adminBin, type CliResult, runAdmin, tempDir, type TestServer } from './harness.js';

/** `quiver-admin database backup --from=<server> --to-path=<to> ...args`, with the server's home. */
export function backup(server: TestServer, to: string, args: string[] = [], timeoutMs?: number): Promise<CliResult> {
  return runAdmin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${to}`, ...args], {
    home: server.home,
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

/** Everything a CLI run printed, for assertion messages. */
export function describeRun(r: CliResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** A log line `<date> <time> <LEVEL> <message>` with exactly this message; the regex matches the whole line. */
export function logLine(level: 'INFO' | 'WARN' | 'ERROR', message: RegExp | string): RegExp {
  const body = typeof message === 'string' ? escapeRegExp(message) : message.source;
  return new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d{4} ${level.padEnd(5)} ${body}$`, 'm');
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Neo4j's duration format as Quiver prints it: 38ms, 1s 234ms, 2m 3s. */
export const durationPattern = '\\d+(?:h|m|s|ms)(?: \\d+(?:h|m|s|ms))*';

/** The artifact names of the `Finished artifact creation '<file>' for database '<db>', took <d>.` lines. */
export function finishedArtifacts(output: string, database: string): string[] {
  const re = new RegExp(logLine('INFO', new RegExp(`Finished artifact creation '([^']+\\.backup)' for database '${escapeRegExp(database)}', took ${durationPattern}\\.`)).source, 'gm');
  return [...output.matchAll(re)].map((m) => m[1]!);
}

export interface InspectRow {
  FILE: string;
  DATABASE: string;
  'DATABASE ID': string;
  'TIME (UTC)': string;
  FULL: string;
  COMPRESSED: string;
  'LOWEST TX': string;
  'HIGHEST TX': string;
  ERROR?: string;
  [column: string]: string | undefined;
}

export const inspectHeader = '| FILE | DATABASE | DATABASE ID | TIME (UTC) | FULL | COMPRESSED | LOWEST TX | HIGHEST TX |';

/** Splits `| a | b |` into trimmed cells. */
export function cells(line: string): string[] {
  assert.match(line, /^\| .* \|$/, `not a table line: ${line}`);
  return line.slice(1, -1).split('|').map((c) => c.trim());
}

/** The header row with padding removed, e.g. `| FILE | DATABASE | ... |`. */
export function normalizedRow(line: string): string {
  return `| ${cells(line).join(' | ')} |`;
}

/** Parses the `--inspect-path` table; every line must be a table line. */
export function parseInspectTable(stdout: string): { header: string; rows: InspectRow[] } {
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length >= 1, 'inspect printed nothing');
  const names = cells(lines[0]!);
  const rows = lines.slice(1).map((line) => {
    const values = cells(line);
    assert.equal(values.length, names.length, `row has ${values.length} cells, header ${names.length}: ${line}`);
    return Object.fromEntries(names.map((n, i) => [n, values[i]!])) as InspectRow;
  });
  return { header: normalizedRow(lines[0]!), rows };
}

/** Runs restore into a fresh folder (and a fresh, server-less home) and returns where the store is. */
export async function restoreToTemp(fromPath: string, options: { until?: number; name?: string } = {}): Promise<{ result: CliResult; storeDir: string; cleanup: () => void }> {
  const root = tempDir('quiver-restore-');
  const home = join(root, 'home');
  mkdirSync(home);
  const name = options.name ?? 'restored';
  const args = ['database', 'restore', `--from-path=${fromPath}`, `--to-path-data=${join(root, 'data')}`, `--to-path-txn=${join(root, 'txn')}`];
  if (options.until !== undefined) args.push(`--restore-until=${options.until}`);
  args.push(name);
  const result = await runAdmin(args, { home });
  return { result, storeDir: join(root, 'data', 'databases', name), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

// ---- the workload ----

/** One committed write of the workload, with the transaction id the server gave it. */
type Op =
  | { kind: 'create'; txId: number; k: number; v: string }
  | { kind: 'update'; txId: number; k: number; v: string }
  | { kind: 'link'; txId: number; i: number; from: number; to: number }
  | { kind: 'delete'; txId: number; k: number };

/** An op before the server gave it a transaction id (Omit applied to each member of the union). */
type OpInput = Op extends infer T ? (T extends Op ? Omit<T, 'txId'> : never) : never;

function txIdOf(bookmarks: string[]): number {
  const m = /^quiver:neo4j:(\d+)$/.exec(bookmarks[0] ?? '');
  assert.ok(m, `unexpected bookmarks ${JSON.stringify(bookmarks)}`);
  return Number(m[1]);
}

/**
 * A single writer that commits small transactions back to back through the driver: creates nodes
 * `(:W {k, v})`, updates `v`, links two nodes with `[:R {i}]`, deletes nodes (DETACH). It is the
 * only writer of its database, and each transaction's id is read from the bookmark the server
 * returns, so the graph expected at any transaction id is the replay of the ops up to that id.
 */
export class Workload {
  readonly ops: Op[] = [];
  private alive: number[] = [];
  private seq = 0;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  error: unknown = null;

  constructor(private readonly driver: Driver, private readonly database = 'neo4j') {}

  get committed(): number {
    return this.ops.length;
  }

  get lastTxId(): number {
    return this.ops.at(-1)?.txId ?? 0;
  }

  /** Runs one transaction; for setup statements outside the model (e.g. an index). */
  async runOnce(cypher: string): Promise<number> {
    const session = this.driver.session({ database: this.database });
    try {
      await session.run(cypher);
      return txIdOf(session.lastBookmarks());
    } finally {
      await session.close();
    }
  }

  start(): void {
    assert.equal(this.loop, null, 'workload already running');
    this.stopping = false;
    this.loop = this.run().catch((e) => {
      this.error = e;
      for (const w of this.waiters) w.resolve();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    this.loop = null;
    if (this.error) throw this.error;
  }

  /** Resolves once `n` more transactions have committed. */
  async advance(n: number): Promise<void> {
    const count = this.committed + n;
    if (this.committed >= count) return;
    await new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    if (this.error) throw this.error;
  }

  private async run(): Promise<void> {
    const session = this.driver.session({ database: this.database });
    try {
      while (!this.stopping) {
        const op = this.next();
        await session.run(op.cypher, op.params);
        const txId = txIdOf(session.lastBookmarks());
        assert.ok(txId > this.lastTxId, `transaction ids must grow: ${txId} after ${this.lastTxId}`);
        this.apply({ ...op.op, txId } as Op);
        this.waiters = this.waiters.filter((w) => (this.committed >= w.count ? (w.resolve(), false) : true));
      }
    } finally {
      await session.close();
    }
  }

  /** The next statement: mostly creates, with updates, links and deletes mixed in, all deterministic. */
  private next(): { cypher: string; params: Record<string, unknown>; op: OpInput } {
    const i = ++this.seq;
    const pick = (salt: number) => this.alive[(i * 7 + salt) % this.alive.length]!;
    const v = `v${i}-${'x'.repeat(i % 13)}`;
    if (this.alive.length >= 4) {
      if (i % 11 === 0) {
        const k = pick(0);
        return { cypher: 'MATCH (w:W {k: $k}) DETACH DELETE w', params: { k }, op: { kind: 'delete', k } };
      }
      if (i % 5 === 0) {
        const k = pick(1);
        return { cypher: 'MATCH (w:W {k: $k}) SET w.v = $v', params: { k, v }, op: { kind: 'update', k, v } };
      }
      if (i % 3 === 0) {
        const from = pick(2);
        const to = pick(3);
        return { cypher: 'MATCH (a:W {k: $from}), (b:W {k: $to}) CREATE (a)-[:R {i: $i}]->(b)', params: { from, to, i }, op: { kind: 'link', i, from, to } };
      }
    }
    return { cypher: 'CREATE (:W {k: $k, v: $v})', params: { k: i, v }, op: { kind: 'create', k: i, v } };
  }

  private apply(op: Op): void {
    this.ops.push(op);
    if (op.kind === 'create') this.alive.push(op.k);
    if (op.kind === 'delete') this.alive = this.alive.filter((k) => k !== op.k);
  }

  /** The expected graph after transaction `txId`, as sorted canonical lines (see graphLinesOfStore). */
  expectedAt(txId: number): string[] {
    const nodes = new Map<number, string>();
    const rels = new Map<number, { from: number; to: number }>();
    for (const op of this.ops) {
      if (op.txId > txId) break;
      switch (op.kind) {
        case 'create':
        case 'update':
          nodes.set(op.k, op.v);
          break;
        case 'link':
          rels.set(op.i, { from: op.from, to: op.to });
          break;
        case 'delete':
          nodes.delete(op.k);
          for (const [i, r] of rels) if (r.from === op.k || r.to === op.k) rels.delete(i);
          break;
      }
    }
    return canonical(
      [...nodes].map(([k, v]) => ({ k, v })),
      [...rels].map(([i, r]) => ({ i, from: r.from, to: r.to })),
    );
  }
}

function canonical(nodes: Array<{ k: number; v: string }>, rels: Array<{ i: number; from: number; to: number }>): string[] {
  return [...nodes.map((n) => `N k=${n.k} v=${n.v}`), ...rels.map((r) => `R i=${r.i} ${r.from}->${r.to}`)].sort();
}

/**
 * The workload's part of a store (nodes labelled W, relationships of type R), as the same
 * canonical lines as Workload.expectedAt: independent of internal ids. Also the store's last tx.
 */
export function graphLinesOfStore(storeDir: string): { lines: string[]; lastTxId: number } {
  const store = GraphStore.open(storeDir, { readOnly: true });
  try {
    const tx = new KernelReadTx(StoreReader.begin(store));
    try {
      const keyOf = new Map<number, number>();
      const nodes: Array<{ k: number; v: string }> = [];
      for (const id of tx.nodeIdsByLabel('W')) {
        const n = tx.getNode(id)!;
        const k = Number(n.properties.get('k') as bigint);
        keyOf.set(id, k);
        nodes.push({ k, v: String(n.properties.get('v')) });
      }
      const rels: Array<{ i: number; from: number; to: number }> = [];
      for (const id of tx.allRelationshipIds()) {
        const r = tx.getRelationship(id)!;
        if (r.type !== 'R') continue;
        rels.push({ i: Number(r.properties.get('i') as bigint), from: keyOf.get(r.startId) ?? -1, to: keyOf.get(r.endId) ?? -1 });
      }
      return { lines: canonical(nodes, rels), lastTxId: store.meta().lastTxId };
    } finally {
      tx.close();
    }
  } finally {
    store.close();
  }
}

/** Runs `fn` with a driver session on `database` (default: system), closing it afterwards. */
export async function withSession<T>(driver: Driver, database: string, fn: (run: (cypher: string, params?: Record<string, unknown>) => Promise<unknown>) => Promise<T>): Promise<T> {
  const session = driver.session({ database });
  try {
    return await fn(async (cypher, params) => (await session.run(cypher, params ?? {})).records);
  } finally {
    await session.close();
  }
}

/** A `quiver-admin` run that the test can kill: its process, its output so far, and its exit. */
export interface AdminProcess {
  proc: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

export function spawnAdmin(args: string[], home: string): AdminProcess {
  const proc = spawn(adminBin, args, { env: { ...process.env, QUIVER_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  proc.stdout!.on('data', (b: Buffer) => (output.stdout += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (output.stderr += b.toString()));
  const exited = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal, ...output }));
  });
  return { proc, output, exited };
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Artifact folders made by a test suite, removed together in its `after`. */
export function tempFolders(prefix = 'quiver-backups-'): { folder: () => string; removeAll: () => void } {
  const made: string[] = [];
  return {
    folder: () => {
      const f = tempDir(prefix);
      made.push(f);
      return f;
    },
    removeAll: () => {
      for (const f of made.splice(0)) rmSync(f, { recursive: true, force: true });
    },
  };
}

/**
 * Creates `batches` x 1000 `(:P {i, name, pad})` nodes with random padding: a store image that stays
 * large after compression, so that a transfer takes a while (or a paced one measurably longer).
 */
export async function writeBarelyCompressibleNodes(server: TestServer, database: string, batches: number): Promise<void> {
  const driver = server.driver();
  try {
    await withSession(driver, database, async (run) => {
      for (let k = 0; k < batches; k++) {
        const pads = Array.from({ length: 1000 }, () => randomBytes(150).toString('base64'));
        await run('UNWIND range(0, 999) AS i CREATE (:P {i: i, name: "n" + toString(i), pad: $pads[i]})', { pads });
      }
    });
  } finally {
    await driver.close();
  }
}
