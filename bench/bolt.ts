/**
 * Bolt and Cypher benchmark: a real server (bin/quiver, started through the test harness) measured
 * through the official neo4j-driver, so every figure includes the wire, PackStream, the query
 * service, Cypher and the kernel:
 *   (a) bulk create: `UNWIND $rows AS r CREATE (:P {id: r.id, name: r.name})` in batches: nodes/s;
 *   (b) point lookups `MATCH (n:P {id: $id}) RETURN n` without an index (label scan), then with a
 *       range index on :P(id): p50/p99 latency and lookups/s (one session, one at a time);
 *   (c) 2-hop expansion `MATCH (a:P {id: $id})-[:R]->()-[:R]->(c) RETURN count(c)` over a random
 *       graph of fixed out-degree: queries/s and expansions/s (relationships traversed).
 * Prints plain lines, then one JSON line with every figure. Removes its server home at the end.
 *
 *   node dist/bench/bolt.js [--nodes=200000] [--batch-rows=10000] [--lookups=2000] [--scan-lookups=30]
 *                           [--graph-nodes=20000] [--out-degree=8] [--hops-queries=500] [--work-dir=/tmp]
 * (--store-mb and --reps, shared with the other benchmarks, do not apply here.)
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import neo4j, { type Driver, type Session } from 'neo4j-driver';
import { createServer_, type TestServer } from '../test/support/harness.js';
import { makeScratchDir, removeTree } from './support/home.js';
import { booleanOption, numberOption, parseBenchOptions } from './support/options.js';
import { describeEnvironment, printEnvironment, printJson, say } from './support/report.js';
import { percentile, round } from './support/stats.js';
import { xorshift32 } from '../src/util/seeded-random.js';

const options = parseBenchOptions(
  process.argv.slice(2),
  [
    { name: 'nodes', defaultValue: '200000', doc: '(a) :P nodes created through the driver' },
    { name: 'batch-rows', defaultValue: '10000', doc: '(a) rows per UNWIND batch (one auto-commit transaction each)' },
    { name: 'scan-lookups', defaultValue: '30', doc: '(b) point lookups without an index (each scans every :P node)' },
    { name: 'lookups', defaultValue: '2000', doc: '(b) point lookups with the index' },
    { name: 'graph-nodes', defaultValue: '20000', doc: '(c) :P nodes (the first ids) that get outgoing :R relationships' },
    { name: 'out-degree', defaultValue: '8', doc: '(c) :R relationships from each of those nodes, to random ones among them' },
    { name: 'hops-queries', defaultValue: '500', doc: '(c) 2-hop queries from random start nodes' },
  ],
  'node dist/bench/bolt.js [options]',
);
const nodes = numberOption(options, 'nodes');
const batchRows = Math.max(1, numberOption(options, 'batch-rows'));
const graphNodes = Math.min(nodes, numberOption(options, 'graph-nodes'));
const outDegree = numberOption(options, 'out-degree');

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

interface LatencyFigures {
  queries: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `query` once per parameter set, one at a time in one session, and measures each round trip. */
async function timeQueries(session: Session, query: string, params: Record<string, unknown>[], check: (rows: number, value: unknown) => void): Promise<{ figures: LatencyFigures; values: unknown[] }> {
  const latenciesMs: number[] = [];
  const values: unknown[] = [];
  const started = performance.now();
  for (const p of params) {
    const t0 = performance.now();
    const { records } = await session.run(query, p);
    latenciesMs.push(performance.now() - t0);
    const value = records[0]?.get(0);
    check(records.length, value);
    values.push(value);
  }
  const ms = performance.now() - started;
  return {
    figures: { queries: params.length, perSec: round(params.length / (ms / 1000)), p50Ms: round(percentile(latenciesMs, 50), 2), p99Ms: round(percentile(latenciesMs, 99), 2) },
    values,
  };
}

async function createNodes(driver: Driver): Promise<{ nodes: number; ms: number; nodesPerSec: number; batchP50Ms: number }> {
  const batchMs: number[] = [];
  const started = performance.now();
  for (let from = 0; from < nodes; from += batchRows) {
    const rows = Array.from({ length: Math.min(batchRows, nodes - from) }, (_, i) => ({ id: neo4j.int(from + i), name: `person-${from + i}` }));
    const t0 = performance.now();
    const { summary } = await driver.executeQuery('UNWIND $rows AS r CREATE (:P {id: r.id, name: r.name})', { rows }, { database: 'neo4j' });
    batchMs.push(performance.now() - t0);
    if (summary.counters.updates().nodesCreated !== rows.length) throw new Error(`batch at ${from} created ${summary.counters.updates().nodesCreated} nodes, expected ${rows.length}`);
  }
  const ms = performance.now() - started;
  return { nodes, ms: Math.round(ms), nodesPerSec: Math.round(nodes / (ms / 1000)), batchP50Ms: round(percentile(batchMs, 50)) };
}

async function lookups(session: Session, count: number, random: () => number): Promise<LatencyFigures> {
  const params = Array.from({ length: count }, () => ({ id: neo4j.int(Math.floor(random() * nodes)) }));
  const { figures } = await timeQueries(session, 'MATCH (n:P {id: $id}) RETURN n', params, (rows) => {
    if (rows !== 1) throw new Error(`a point lookup returned ${rows} rows, expected 1`);
  });
  return figures;
}

async function createRelationships(driver: Driver, random: () => number): Promise<{ relationships: number; ms: number; relationshipsPerSec: number }> {
  const total = graphNodes * outDegree;
  const relsPerBatch = Math.max(1, Math.floor(batchRows / 2));
  let pending: { a: ReturnType<typeof neo4j.int>; b: ReturnType<typeof neo4j.int> }[] = [];
  const started = performance.now();
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const rels = pending;
    pending = [];
    const { summary } = await driver.executeQuery('UNWIND $rels AS r MATCH (a:P {id: r.a}), (b:P {id: r.b}) CREATE (a)-[:R]->(b)', { rels }, { database: 'neo4j' });
    if (summary.counters.updates().relationshipsCreated !== rels.length) throw new Error(`created ${summary.counters.updates().relationshipsCreated} relationships, expected ${rels.length}`);
  };
  for (let a = 0; a < graphNodes; a++) {
    for (let k = 0; k < outDegree; k++) pending.push({ a: neo4j.int(a), b: neo4j.int(Math.floor(random() * graphNodes)) });
    if (pending.length >= relsPerBatch) await flush();
  }
  await flush();
  const ms = performance.now() - started;
  return { relationships: total, ms: Math.round(ms), relationshipsPerSec: Math.round(total / (ms / 1000)) };
}

async function twoHops(session: Session, count: number, random: () => number): Promise<LatencyFigures & { expansionsPerSec: number; meanResultCount: number }> {
  const params = Array.from({ length: count }, () => ({ id: neo4j.int(Math.floor(random() * graphNodes)) }));
  const started = performance.now();
  const { figures, values } = await timeQueries(session, 'MATCH (a:P {id: $id})-[:R]->()-[:R]->(c) RETURN count(c)', params, (rows) => {
    if (rows !== 1) throw new Error(`a 2-hop count returned ${rows} rows`);
  });
  const ms = performance.now() - started;
  const counted = values.reduce<number>((sum, v) => sum + (neo4j.isInt(v) ? v.toNumber() : Number(v)), 0);
  // Each query traverses out-degree first hops, then one relationship per counted row.
  const expansions = counted + count * outDegree;
  return { ...figures, expansionsPerSec: Math.round(expansions / (ms / 1000)), meanResultCount: round(counted / count) };
}

async function main(): Promise<void> {
  const environment = describeEnvironment();
  printEnvironment(environment);
  const scratch = makeScratchDir(options.get('work-dir') ?? '', 'quiver-bench-bolt-');
  let server: TestServer | null = null;
  let driver: Driver | null = null;
  try {
    server = await createServer_({ home: join(scratch, 'home') });
    await server.start();
    driver = server.driver();
    await driver.verifyConnectivity();
    const info = await driver.getServerInfo();
    say(`server ${info.agent} over Bolt ${info.protocolVersion?.toString()} at ${server.boltUri}, pid ${server.pid}`);

    say(`(a) creating ${nodes} :P nodes in batches of ${batchRows} rows...`);
    const created = await createNodes(driver);
    say(`(a) ${created.nodes} nodes in ${created.ms} ms: ${created.nodesPerSec} nodes/s (median batch ${created.batchP50Ms} ms); server RSS ${Math.round(rssMiB(server.pid))} MiB`);

    const nextInt = xorshift32(20260101);
    const random = () => nextInt() / 2 ** 32;
    const session = driver.session({ database: 'neo4j' });
    let withoutIndex: LatencyFigures;
    let withIndex: LatencyFigures;
    let relationships: Awaited<ReturnType<typeof createRelationships>>;
    let hops: Awaited<ReturnType<typeof twoHops>>;
    try {
      withoutIndex = await lookups(session, numberOption(options, 'scan-lookups'), random);
      say(`(b) point lookup without index (label scan of ${nodes}): p50 ${withoutIndex.p50Ms} ms, p99 ${withoutIndex.p99Ms} ms, ${withoutIndex.perSec} lookups/s (${withoutIndex.queries} lookups)`);
      const indexStarted = performance.now();
      await session.run('CREATE INDEX p_id IF NOT EXISTS FOR (n:P) ON (n.id)');
      const indexMs = Math.round(performance.now() - indexStarted);
      say(`(b) CREATE INDEX on :P(id) over ${nodes} nodes: ${indexMs} ms`);
      withIndex = await lookups(session, numberOption(options, 'lookups'), random);
      say(`(b) point lookup with index: p50 ${withIndex.p50Ms} ms, p99 ${withIndex.p99Ms} ms, ${withIndex.perSec} lookups/s (${withIndex.queries} lookups)`);

      say(`(c) creating ${graphNodes * outDegree} :R relationships (${graphNodes} nodes, out-degree ${outDegree})...`);
      relationships = await createRelationships(driver, random);
      say(`(c) ${relationships.relationships} relationships in ${relationships.ms} ms: ${relationships.relationshipsPerSec} relationships/s (each row: two index seeks and a create)`);
      hops = await twoHops(session, numberOption(options, 'hops-queries'), random);
      say(`(c) 2-hop count: ${hops.perSec} queries/s, ${hops.expansionsPerSec} expansions/s (mean count ${hops.meanResultCount}), p50 ${hops.p50Ms} ms, p99 ${hops.p99Ms} ms`);
    } finally {
      await session.close();
    }
    const rss = Math.round(rssMiB(server.pid));
    say(`server RSS at the end: ${rss} MiB`);
    printJson({ bench: 'bolt', environment, created, withoutIndex, withIndex, relationships, hops, serverRssMiB: rss });
  } finally {
    await driver?.close();
    await server?.stop();
    if (!booleanOption(options, 'keep')) removeTree(scratch);
    else say(`kept ${scratch}`);
  }
}

await main();
