/**
 * Large single statements through a real server (bin/quiver) and the official neo4j-driver: one
 * auto-commit statement per measurement, so every figure includes Bolt, Cypher, the transaction's
 * own change set (tx state), the log append and its fsync, and the store apply that follows:
 *   (a) `UNWIND range(1, $n) AS i CREATE (:N {id: i})` for each --create-sizes: nodes/s, µs/node;
 *   (b) `UNWIND $rows AS r MERGE (b:B {id: r.id}) SET b.name = r.name` with a RANGE index on :B(id),
 *       into an empty database (every row creates its node; each MERGE seeks the statement's own
 *       writes), for each --merge-sizes: rows/s, µs/row; then the same statement again in a new
 *       transaction (every row matches a stored node through the store's index).
 * Authentication is on by default (--auth), as in a default installation: writes then pass the
 * privilege checks of the secure graph, as a Neo4j user's would.
 * One untimed CREATE and MERGE of 10k rows warm the server up first. Each timed statement starts with
 * the server idle (its CPU under 10% of a core over 250 ms): the store applies a statement after its
 * acknowledgement, and that apply must not be charged to the next figure.
 * Each size runs in a database of its own (CREATE DATABASE, dropped afterwards). Rows travel as one
 * parameter list up to --param-rows-max; larger sizes generate the same rows on the server with
 * `UNWIND range(1, $n) AS i WITH {id: i, name: 'name-' + toString(i)} AS r ...` (a 1M-row
 * parameter is about 27 MB of PackStream, under the 64 MiB message bound but slow to build in the
 * driver; the report says which form each size used). Flatness: µs/row at the largest size over
 * µs/row at the smallest (the target is at most 2). Every result is checked: node counts, a name.
 * Prints plain lines, then one JSON line with every figure. Removes its server home at the end.
 *
 *   node dist/bench/large-statement.js [--create-sizes=10000,100000,1000000]
 *        [--merge-sizes=10000,100000,1000000] [--param-rows-max=100000] [--statement-timeout-ms=900000]
 * (--store-mb and --reps, shared with the other benchmarks, do not apply here.)
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import neo4j, { type Driver, type ResultSummary } from 'neo4j-driver';
import { createServer_, runAdmin, type TestServer } from '../test/support/harness.js';
import { makeScratchDir, removeTree } from './support/home.js';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { processCpuMs } from './support/process.js';
import { round } from './support/stats.js';

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 'create-sizes', defaultValue: '10000,100000,1000000', doc: '(a) nodes per CREATE statement, comma-separated' },
    { name: 'merge-sizes', defaultValue: '10000,100000,1000000', doc: '(b) rows per MERGE statement, comma-separated' },
    { name: 'param-rows-max', defaultValue: '100000', doc: '(b) largest row count sent as a $rows parameter; larger sizes generate rows on the server' },
    { name: 'auth', defaultValue: 'true', doc: 'run with authentication on (the default configuration, as a Neo4j user runs it): the admin user writes through the privilege checks' },
    { name: 'statement-timeout-ms', defaultValue: '900000', doc: 'a statement running longer is reported as not finished (the driver gives up; the server may go on)' },
  ],
  'node dist/bench/large-statement.js [options]',
);

function sizesOption(name: string): number[] {
  const text = options.get(name) ?? '';
  if (text === '') return [];
  return text.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must list positive integers, got "${s}"`);
    return n;
  });
}

const createSizes = sizesOption('create-sizes');
const mergeSizes = sizesOption('merge-sizes');
const paramRowsMax = numberOption(options, 'param-rows-max');
const statementTimeoutMs = numberOption(options, 'statement-timeout-ms');
const auth = booleanOption(options, 'auth');
const benchPassword = 'bench-password';
/** Rows of the untimed warm-up statements of each form. */
const warmUpRows = 10_000;

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

interface StatementFigures {
  rows: number;
  ms: number;
  rowsPerSec: number;
  usPerRow: number;
  /** 'parameter': rows sent as $rows; 'server': generated with UNWIND range(). */
  rowsFrom: 'parameter' | 'server' | 'range';
  serverRssMiB: number;
}

function figures(rows: number, ms: number, rowsFrom: StatementFigures['rowsFrom'], server: TestServer): StatementFigures {
  return { rows, ms: Math.round(ms), rowsPerSec: Math.round(rows / (ms / 1000)), usPerRow: round((ms * 1000) / rows, 2), rowsFrom, serverRssMiB: rssMiB(server.pid) };
}

async function withDatabase<T>(driver: Driver, name: string, body: () => Promise<T>): Promise<T> {
  await driver.executeQuery(`CREATE DATABASE \`${name}\``, {}, { database: 'system' });
  try {
    return await body();
  } finally {
    await driver.executeQuery(`DROP DATABASE \`${name}\``, {}, { database: 'system' });
  }
}

async function count(driver: Driver, database: string, query: string): Promise<number> {
  const { records } = await driver.executeQuery(query, {}, { database });
  const v = records[0]?.get(0);
  return neo4j.isInt(v) ? v.toNumber() : Number(v);
}

/** The server under test (set once it runs). */
let serverPid: number | undefined;

/** Server CPU below this share of one core over a sample counts as idle. */
const idleCpuShare = 0.1;
const idleSampleMs = 250;
const settleMaxMs = 60_000;

/**
 * Waits until the server is idle: the store applies a statement after acknowledging it, so without
 * this a figure would include the apply of the statement before (the 10k-row MERGE measured after
 * the 1M-node CREATE ran beside its 5 s apply and came out at half its rate).
 */
async function serverSettled(): Promise<void> {
  if (serverPid === undefined) return;
  const deadline = performance.now() + settleMaxMs;
  while (performance.now() < deadline) {
    const before = processCpuMs(serverPid);
    await new Promise((r) => setTimeout(r, idleSampleMs));
    if (processCpuMs(serverPid) - before < idleCpuShare * idleSampleMs) return;
  }
}

/**
 * Runs one auto-commit statement; null when it did not finish within --statement-timeout-ms (a
 * client-side guard: the session is abandoned, and the server may still be working on it).
 */
async function timed(driver: Driver, database: string, query: string, params: Record<string, unknown>): Promise<{ ms: number; summary: ResultSummary } | null> {
  await serverSettled();
  const session = driver.session({ database });
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), statementTimeoutMs)));
  try {
    const summary = await Promise.race([session.run(query, params).summary(), expired]);
    return summary ? { ms: performance.now() - t0, summary } : null;
  } finally {
    clearTimeout(timer);
    void session.close();
  }
}

async function createRun(driver: Driver, server: TestServer, n: number): Promise<StatementFigures | null> {
  const database = `bench-create-${n}`;
  return withDatabase(driver, database, async () => {
    const r = await timed(driver, database, 'UNWIND range(1, $n) AS i CREATE (:N {id: i})', { n: neo4j.int(n) });
    if (!r) return null;
    const created = r.summary.counters.updates().nodesCreated;
    if (created !== n) throw new Error(`CREATE of ${n} reported ${created} nodes created`);
    const stored = await count(driver, database, 'MATCH (x:N) RETURN count(x)');
    if (stored !== n) throw new Error(`CREATE of ${n}: ${stored} :N nodes afterwards`);
    return figures(n, r.ms, 'range', server);
  });
}

interface MergeFigures {
  createPass: StatementFigures | null;
  matchPass: StatementFigures | null;
}

async function mergeRun(driver: Driver, server: TestServer, n: number): Promise<MergeFigures> {
  const database = `bench-merge-${n}`;
  return withDatabase(driver, database, async () => {
    await driver.executeQuery('CREATE RANGE INDEX b_id FOR (b:B) ON (b.id)', {}, { database });
    const fromParameter = n <= paramRowsMax;
    const query = fromParameter
      ? 'UNWIND $rows AS r MERGE (b:B {id: r.id}) SET b.name = r.name'
      : "UNWIND range(1, $n) AS i WITH {id: i, name: 'name-' + toString(i)} AS r MERGE (b:B {id: r.id}) SET b.name = r.name";
    const params = fromParameter ? { rows: Array.from({ length: n }, (_, k) => ({ id: neo4j.int(k + 1), name: `name-${k + 1}` })) } : { n: neo4j.int(n) };
    const rowsFrom = fromParameter ? 'parameter' : 'server';
    const passes: (StatementFigures | null)[] = [];
    for (const pass of ['create', 'match'] as const) {
      const r = await timed(driver, database, query, params);
      if (!r) {
        passes.push(null);
        break;
      }
      const created = r.summary.counters.updates().nodesCreated;
      if (created !== (pass === 'create' ? n : 0)) throw new Error(`MERGE of ${n} (${pass} pass) reported ${created} nodes created`);
      passes.push(figures(n, r.ms, rowsFrom, server));
    }
    const stored = await count(driver, database, 'MATCH (b:B) RETURN count(b)');
    if (passes[0] && stored !== n) throw new Error(`MERGE of ${n}: ${stored} :B nodes afterwards`);
    const { records } = await driver.executeQuery('MATCH (b:B {id: $id}) RETURN b.name', { id: neo4j.int(n) }, { database });
    if (passes[0] && records[0]?.get(0) !== `name-${n}`) throw new Error(`MERGE of ${n}: node ${n} is named ${String(records[0]?.get(0))}`);
    return { createPass: passes[0] ?? null, matchPass: passes[1] ?? null };
  });
}

function describe(what: string, f: StatementFigures | null): string {
  if (!f) return `${what}: did not finish within ${statementTimeoutMs} ms`;
  return `${what}: ${f.ms} ms, ${f.rowsPerSec} rows/s, ${f.usPerRow} µs/row (rows from ${f.rowsFrom}; server RSS ${f.serverRssMiB} MiB)`;
}

/** µs/row at the largest finished size over µs/row at the smallest. */
function flatness(runs: { n: number; f: StatementFigures | null }[]): number | null {
  const done = runs.filter((r) => r.f !== null);
  if (done.length < 2) return null;
  return round(done[done.length - 1]!.f!.usPerRow / done[0]!.f!.usPerRow, 2);
}

async function main(): Promise<void> {
  const environment = describeEnvironment();
  printEnvironment(environment);
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-bench-large-');
  let server: TestServer | null = null;
  let driver: Driver | null = null;
  try {
    const home = join(scratch, 'home');
    server = await createServer_({ home, auth });
    if (auth) {
      const set = await runAdmin(['dbms', 'set-initial-password', benchPassword], { home });
      if (set.code !== 0) throw new Error(`set-initial-password failed: ${set.stderr}`);
    }
    await server.start();
    driver = auth ? server.driver({ user: 'neo4j', password: benchPassword }) : server.driver();
    await driver.verifyConnectivity();
    say(`server at ${server.boltUri}, pid ${server.pid}, authentication ${auth ? 'on' : 'off'}`);
    serverPid = server.pid;

    // Warm-up, untimed: the first statements of a fresh server run before the JIT has compiled the
    // executor and the kernel, which made the smallest size look up to 5x slower per row.
    await createRun(driver, server, warmUpRows);
    await mergeRun(driver, server, warmUpRows);
    const creates: { n: number; f: StatementFigures | null }[] = [];
    for (const n of createSizes) {
      const f = await createRun(driver, server, n);
      creates.push({ n, f });
      say(describe(`(a) CREATE ${n} nodes in one statement`, f));
      if (!f) break;
    }
    const merges: { n: number; m: MergeFigures }[] = [];
    for (const n of mergeSizes) {
      const m = await mergeRun(driver, server, n);
      merges.push({ n, m });
      say(describe(`(b) indexed MERGE of ${n} rows into an empty database`, m.createPass));
      say(describe(`(b) indexed MERGE of ${n} rows again (every row matches)`, m.matchPass));
      if (!m.createPass) break;
    }
    const createFlatness = flatness(creates);
    const mergeFlatness = flatness(merges.map(({ n, m }) => ({ n, f: m.createPass })));
    say(`flatness (µs/row at the largest size over the smallest): CREATE ${createFlatness ?? 'n/a'}, MERGE ${mergeFlatness ?? 'n/a'} (target: at most 2)`);
    printJson({ bench: 'large-statement', environment, auth, creates, merges, createFlatness, mergeFlatness });
  } finally {
    await driver?.close();
    await server?.stop();
    if (!booleanOption(options, 'keep')) removeTree(scratch);
    else say(`kept ${scratch}`);
  }
}

await main();
