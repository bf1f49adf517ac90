/**
 * openCypher TCK conformance runner: reads every `.feature` file of a TCK checkout, runs each
 * scenario against a real Quiver server (bin/quiver, through the test harness) with the official
 * neo4j-driver, and prints, per area (the folder under tck/features), how many scenarios pass,
 * how many return a wrong answer (rows or side effects that differ, without an error), how many
 * invalid queries are accepted, and how many fail otherwise. The database is cleared before each
 * scenario. TCK files are read from the given path and never copied.
 *
 *   node dist/bench/tck.js <path to tck/features or a checkout> [--filter=substring] [--report=file.json]
 *                          [--uri=bolt://host:port (an already running server)] [--timeout-ms=10000] [--verbose]
 *
 * Outcomes:
 *   pass            the expected rows (or error class) and side effects
 *   wrong-answer    rows or side effects differ and no error was raised
 *   accepted-invalid an error was expected and the query succeeded
 *   late-error      the expected compile-time error came only after records were streamed
 *   wrong-error     an error was expected and another class of error was raised
 *   refused         rows were expected and an error was raised (unsupported or rejected)
 *   timeout         no answer within --timeout-ms
 *   tck-procedure   the scenario needs a TCK-only test procedure (not counted as failing)
 *   skipped         tagged @ignore, or a step the runner does not know
 */
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import neo4j, { type Driver, type Session } from 'neo4j-driver';
import { createServer_, type TestServer } from '../test/support/harness.js';
import { parseFeature, type Scenario } from './tck/gherkin.js';
import { fromDriver, parseTckValue, render, toDriver, type TckValue } from './tck/values.js';

type Outcome = 'pass' | 'wrong-answer' | 'accepted-invalid' | 'late-error' | 'wrong-error' | 'refused' | 'timeout' | 'tck-procedure' | 'skipped';
const outcomes: Outcome[] = ['pass', 'wrong-answer', 'accepted-invalid', 'late-error', 'wrong-error', 'refused', 'timeout', 'tck-procedure', 'skipped'];

interface Result {
  area: string;
  file: string;
  scenario: string;
  line: number;
  outcome: Outcome;
  detail: string;
  query: string;
}

interface QueryRun {
  columns: string[];
  rows: TckValue[][];
  error: { code: string; message: string } | null;
  recordsBeforeError: number;
  timedOut: boolean;
}

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const positional = args.filter((a) => !a.startsWith('--'));
const verbose = args.includes('--verbose');
const timeoutMs = Number(opt('timeout-ms') ?? 10_000);
const filter = opt('filter');

function featuresRoot(path: string): string {
  for (const candidate of [path, join(path, 'features'), join(path, 'tck', 'features')]) {
    if (existsSync(candidate) && statSync(candidate).isDirectory() && readdirSync(candidate).some((f) => f === 'clauses' || f === 'expressions' || f.endsWith('.feature'))) return candidate;
  }
  throw new Error(`cannot find TCK features under "${path}": pass the path of tck/features or of an openCypher checkout`);
}

function listFeatures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFeatures(p));
    else if (e.name.endsWith('.feature')) out.push(p);
  }
  return out.sort();
}

async function runQuery(driver: Driver, query: string, params: Record<string, unknown>): Promise<QueryRun> {
  const session = driver.session();
  const run: QueryRun = { columns: [], rows: [], error: null, recordsBeforeError: 0, timedOut: false };
  const tx = await session.beginTransaction();
  let timer: NodeJS.Timeout | undefined;
  try {
    const work = new Promise<void>((resolve) => {
      tx.run(query, params).subscribe({
        onKeys: (keys) => (run.columns = keys as string[]),
        onNext: (rec) => {
          run.rows.push(rec.keys.map((k) => fromDriver(rec.get(k))));
        },
        onCompleted: () => resolve(),
        onError: (e) => {
          const err = e as { code?: string; message?: string };
          run.error = { code: err.code ?? 'unknown', message: err.message ?? String(e) };
          run.recordsBeforeError = run.rows.length;
          resolve();
        },
      });
    });
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        run.timedOut = true;
        resolve();
      }, timeoutMs);
    });
    await Promise.race([work, timeout]);
    if (run.timedOut) return run;
    if (run.error) await tx.rollback().catch(() => undefined);
    else {
      try {
        await tx.commit();
      } catch (e) {
        const err = e as { code?: string; message?: string };
        run.error = { code: err.code ?? 'unknown', message: err.message ?? String(e) };
        run.recordsBeforeError = run.rows.length;
      }
    }
    return run;
  } finally {
    clearTimeout(timer);
    if (!run.timedOut) await session.close().catch(() => undefined);
    else void session.close().catch(() => undefined);
  }
}

/** The observable state the TCK defines side effects on: nodes, relationships, property triples, labels. */
interface Snapshot {
  nodes: Set<string>;
  rels: Set<string>;
  props: Map<string, number>;
  labels: Set<string>;
}

async function snapshot(session: Session): Promise<Snapshot> {
  const s: Snapshot = { nodes: new Set(), rels: new Set(), props: new Map(), labels: new Set() };
  const addProps = (id: string, props: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(props)) {
      const key = `${id}\u0000${k}\u0000${render(fromDriver(v))}`;
      s.props.set(key, (s.props.get(key) ?? 0) + 1);
    }
  };
  for (const r of (await session.run('MATCH (n) RETURN n')).records) {
    const n = r.get('n');
    s.nodes.add(n.elementId);
    for (const l of n.labels) s.labels.add(l);
    addProps('n' + n.elementId, n.properties);
  }
  for (const r of (await session.run('MATCH ()-[r]->() RETURN r')).records) {
    const rel = r.get('r');
    s.rels.add(rel.elementId);
    addProps('r' + rel.elementId, rel.properties);
  }
  return s;
}

function diff(before: Snapshot, after: Snapshot): Record<string, number> {
  const count = <T>(a: Set<T>, b: Set<T>): number => [...a].filter((x) => !b.has(x)).length;
  const multi = (a: Map<string, number>, b: Map<string, number>): number => {
    let n = 0;
    for (const [k, c] of a) n += Math.max(0, c - (b.get(k) ?? 0));
    return n;
  };
  return {
    '+nodes': count(after.nodes, before.nodes),
    '-nodes': count(before.nodes, after.nodes),
    '+relationships': count(after.rels, before.rels),
    '-relationships': count(before.rels, after.rels),
    '+properties': multi(after.props, before.props),
    '-properties': multi(before.props, after.props),
    '+labels': count(after.labels, before.labels),
    '-labels': count(before.labels, after.labels),
  };
}

/**
 * The TCK's name for the error class of a Neo4j status code: its last segment, except where the
 * TCK names a class Neo4j spells otherwise (a missing procedure is Neo4j's
 * Procedure.ProcedureNotFound, the TCK's ProcedureError; deleting a connected node is Neo4j's
 * Schema.ConstraintValidationFailed, the TCK's ConstraintVerificationFailed).
 */
function errorClass(code: string): string {
  if (code.startsWith('Neo.ClientError.Procedure.')) return 'ProcedureError';
  if (code === 'Neo.ClientError.Schema.ConstraintValidationFailed') return 'ConstraintVerificationFailed';
  return code.split('.').pop() ?? code;
}

function describeRows(run: QueryRun, sortLists: boolean): string {
  const rows = run.rows.map((r) => r.map((v) => render(v, sortLists)).join(' | '));
  return rows.length > 6 ? rows.slice(0, 6).join('; ') + `; … (${rows.length} rows)` : rows.join('; ') || '(no rows)';
}

async function runScenario(driver: Driver, root: string, sc: Scenario, graphs: Map<string, string>): Promise<Omit<Result, 'area' | 'file'>> {
  const base = { scenario: `${sc.feature}: ${sc.name}`, line: sc.line };
  if (sc.tags.includes('@ignore')) return { ...base, outcome: 'skipped', detail: 'tagged @ignore', query: '' };
  let params: Record<string, unknown> = {};
  let last: QueryRun | null = null;
  let lastQuery = '';
  let before: Snapshot | null = null;
  let effects: Record<string, number> | null = null;
  const session = driver.session();
  try {
    await session.run('MATCH (n) DETACH DELETE n');
    for (const step of sc.steps) {
      const t = step.text;
      if (t === 'an empty graph' || t === 'any graph') continue;
      let m: RegExpExecArray | null;
      if ((m = /^the (\S+) graph$/.exec(t))) {
        const cypher = graphs.get(m[1]!);
        if (!cypher) return { ...base, outcome: 'skipped', detail: `unknown graph ${m[1]}`, query: '' };
        await session.run(cypher);
        continue;
      }
      if (/^there exists a procedure/.test(t)) return { ...base, outcome: 'tck-procedure', detail: t, query: step.docString ?? '' };
      if (/^(after )?having executed:?$/.test(t)) {
        const r = await runQuery(driver, step.docString ?? '', {});
        if (r.error || r.timedOut) return { ...base, outcome: 'refused', detail: `setup query failed: ${r.error?.code ?? 'timeout'}: ${r.error?.message ?? ''}`, query: step.docString ?? '' };
        continue;
      }
      if (/^parameters? (values )?are:$/.test(t)) {
        params = Object.fromEntries((step.table ?? []).map(([k, v]) => [k!, toDriver(parseTckValue(v!))]));
        continue;
      }
      if ((m = /^executing (control )?query:?(.*)$/.exec(t))) {
        const query = step.docString ?? m[2]!.trim();
        if (!m[1]) {
          before = await snapshot(session);
          lastQuery = query;
        }
        last = await runQuery(driver, query, m[1] ? {} : params);
        if (last.timedOut) return { ...base, outcome: 'timeout', detail: `no answer within ${timeoutMs} ms`, query };
        if (!m[1] && before && !last.error) effects = diff(before, await snapshot(session));
        continue;
      }
      if (!last) return { ...base, outcome: 'skipped', detail: `step before any query: ${t}`, query: lastQuery };
      if ((m = /^an? (\w+) should be raised at (compile time|runtime|any time): ?(.*)$/.exec(t))) {
        const expected = m[1]!;
        if (!last.error) return { ...base, outcome: 'accepted-invalid', detail: `expected ${expected} (${m[3]}), got ${describeRows(last, false)}`, query: lastQuery };
        const got = errorClass(last.error.code);
        if (got !== expected) return { ...base, outcome: 'wrong-error', detail: `expected ${expected} (${m[3]}), got ${last.error.code}: ${last.error.message.split('\n')[0]}`, query: lastQuery };
        if (m[2] === 'compile time' && last.recordsBeforeError > 0) return { ...base, outcome: 'late-error', detail: `${expected} after ${last.recordsBeforeError} records`, query: lastQuery };
        continue;
      }
      if (/^the result should be/.test(t)) {
        if (last.error) return { ...base, outcome: 'refused', detail: `${last.error.code}: ${last.error.message.split('\n')[0]}`, query: lastQuery };
        const sortLists = t.includes('ignoring element order for lists');
        const ordered = t.includes('in order');
        const table = t === 'the result should be empty' ? [] : (step.table ?? []);
        const [header = [], ...rows] = table;
        let expected: string[];
        try {
          expected = rows.map((r) => r.map((c) => render(parseTckValue(c), sortLists)).join(' | '));
        } catch (e) {
          return { ...base, outcome: 'skipped', detail: `runner cannot read expected value: ${(e as Error).message}`, query: lastQuery };
        }
        const actual = last.rows.map((r) => r.map((v) => render(v, sortLists)).join(' | '));
        const columnsOk = table.length === 0 || header.join('|') === last.columns.join('|');
        const rowsOk = ordered ? expected.join('\n') === actual.join('\n') : [...expected].sort().join('\n') === [...actual].sort().join('\n');
        if (!columnsOk || !rowsOk) {
          const why = !columnsOk ? `columns ${JSON.stringify(last.columns)}, expected ${JSON.stringify(header)}` : `rows ${describeRows(last, sortLists)}; expected ${expected.slice(0, 6).join('; ') || '(no rows)'}`;
          return { ...base, outcome: 'wrong-answer', detail: why, query: lastQuery };
        }
        continue;
      }
      if (t === 'no side effects' || t === 'the side effects should be:') {
        if (last.error || !effects) continue; // errors imply no side effects (the transaction rolled back)
        const want: Record<string, number> = {};
        for (const [k, v] of step.table ?? []) want[k!] = Number(v);
        const bad = Object.entries(effects).filter(([k, v]) => (want[k] ?? 0) !== v);
        if (bad.length) return { ...base, outcome: 'wrong-answer', detail: `side effects ${bad.map(([k, v]) => `${k} ${v} (expected ${want[k] ?? 0})`).join(', ')}`, query: lastQuery };
        continue;
      }
      return { ...base, outcome: 'skipped', detail: `unknown step: ${t}`, query: lastQuery };
    }
    return { ...base, outcome: 'pass', detail: '', query: lastQuery };
  } finally {
    await session.close();
  }
}

async function main(): Promise<void> {
  const path = positional[0];
  if (!path) throw new Error('usage: node dist/bench/tck.js <path to an openCypher checkout or its tck/features> [--filter=…] [--report=file.json]');
  const root = featuresRoot(path);
  const graphs = new Map<string, string>();
  const graphsDir = join(root, '..', 'graphs');
  if (existsSync(graphsDir)) {
    for (const g of readdirSync(graphsDir)) {
      const f = join(graphsDir, g, `${g}.cypher`);
      if (existsSync(f)) graphs.set(g, readFileSync(f, 'utf8').trim().replace(/;$/, ''));
    }
  }
  let server: TestServer | null = null;
  let uri = opt('uri');
  if (!uri) {
    server = await createServer_({});
    await server.start();
    uri = server.boltUri;
  }
  const driver = neo4j.driver(uri, neo4j.auth.basic('neo4j', 'unused'), { logging: { level: 'error', logger: () => undefined } });
  const results: Result[] = [];
  const started = performance.now();
  try {
    for (const file of listFeatures(root)) {
      const rel = relative(root, file);
      const area = rel.split('/').slice(0, -1).join('/') || '.';
      for (const sc of parseFeature(readFileSync(file, 'utf8'))) {
        if (filter && !`${rel} ${sc.feature} ${sc.name}`.includes(filter)) continue;
        let r: Omit<Result, 'area' | 'file'>;
        try {
          r = await runScenario(driver, root, sc, graphs);
        } catch (e) {
          r = { scenario: `${sc.feature}: ${sc.name}`, line: sc.line, outcome: 'refused', detail: `runner: ${(e as Error).message.split('\n')[0]}`, query: '' };
        }
        results.push({ area, file: rel, ...r });
        if (verbose && r.outcome !== 'pass') console.log(`${r.outcome.padEnd(16)} ${rel}:${r.line} ${r.scenario}\n    ${r.detail}`);
      }
    }
  } finally {
    await driver.close();
    if (server) {
      await server.stop();
      server.cleanup();
    }
  }
  printSummary(results, performance.now() - started);
  const report = opt('report');
  if (report) writeFileSync(report, JSON.stringify(results, null, 1));
}

function printSummary(results: Result[], ms: number): void {
  const areas = new Map<string, Map<Outcome, number>>();
  const bump = (area: string, o: Outcome) => {
    const m = areas.get(area) ?? new Map<Outcome, number>();
    m.set(o, (m.get(o) ?? 0) + 1);
    areas.set(area, m);
  };
  for (const r of results) {
    bump(r.area, r.outcome);
    bump(r.area.split('/')[0]!, r.outcome);
    bump('TOTAL', r.outcome);
  }
  const cols = ['pass', 'wrong-answer', 'accepted-invalid', 'late-error', 'wrong-error', 'refused', 'timeout', 'tck-procedure', 'skipped'] as const;
  const short = ['pass', 'wrong', 'acc-inv', 'late', 'wrongerr', 'refused', 'timeout', 'tckproc', 'skip'];
  console.log(`${'area'.padEnd(40)} ${'total'.padStart(6)} ${'pass%'.padStart(6)} ${short.map((s) => s.padStart(8)).join(' ')}`);
  const names = [...areas.keys()].filter((a) => a !== 'TOTAL').sort((a, b) => a.localeCompare(b));
  for (const name of [...names, 'TOTAL']) {
    const m = areas.get(name)!;
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const counted = total - (m.get('tck-procedure') ?? 0) - (m.get('skipped') ?? 0);
    const pct = counted ? (((m.get('pass') ?? 0) / counted) * 100).toFixed(1) : '-';
    const indent = name.includes('/') ? '  ' : '';
    console.log(`${(indent + name).padEnd(40)} ${String(total).padStart(6)} ${pct.padStart(6)} ${cols.map((c) => String(m.get(c) ?? 0).padStart(8)).join(' ')}`);
  }
  console.log(`${results.length} scenarios in ${(ms / 1000).toFixed(1)} s (pass% leaves out tck-procedure and skipped)`);
  void outcomes;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
