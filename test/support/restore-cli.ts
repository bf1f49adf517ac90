/**
 * Test support for the process-level restore tests: backups and inspection through the real admin
 * tool, a sample graph written through the driver, a summary of a database as the driver sees it
 * (to compare a restored database with its source), snapshots of folders (to prove a refused
 * command modified nothing), and artifact damage (flipped bytes, truncation).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Driver, Session } from 'neo4j-driver';
import { blockHeaderBytes } from '../../src/backup/artifact/artifact-block.js';
import { type CliResult, runAdmin, type TestServer } from './harness.js';

/** The transaction id in a Quiver bookmark `quiver:<db>:<txId>`. */
export function txIdOfBookmarks(bookmarks: string[]): number {
  const ids = bookmarks.map((b) => /^quiver:[^:]+:(\d+)$/.exec(b)?.[1]).filter((x): x is string => x !== undefined).map(Number);
  assert.ok(ids.length > 0, `no Quiver bookmark in ${JSON.stringify(bookmarks)}`);
  return Math.max(...ids);
}

/** Runs a write in its own session and returns the transaction id it committed. */
export async function writeTx(driver: Driver, database: string, query: string, params: Record<string, unknown> = {}): Promise<number> {
  const session = driver.session({ database });
  try {
    await session.executeWrite((tx) => tx.run(query, params));
    return txIdOfBookmarks(session.lastBookmarks());
  } finally {
    await session.close();
  }
}

export async function runQuery(driver: Driver, database: string, query: string, params: Record<string, unknown> = {}): Promise<Array<Record<string, unknown>>> {
  const session: Session = driver.session({ database });
  try {
    const r = await session.run(query, params);
    return r.records.map((rec) => rec.toObject());
  } finally {
    await session.close();
  }
}

/** Writes `batches` transactions of a small social graph; returns the last transaction id. */
export async function writeSampleGraph(driver: Driver, database: string, firstPerson: number, batches: number): Promise<number> {
  let txId = 0;
  for (let b = 0; b < batches; b++) {
    const from = firstPerson + b * 10;
    txId = await writeTx(
      driver,
      database,
      `UNWIND range($from, $from + 9) AS i
       CREATE (p:Person {id: i, name: 'person-' + toString(i), score: i * 1.5, tags: ['t' + toString(i % 3)], born: date('1990-01-01') + duration({days: i})})
       WITH p, i WHERE i > $from
       MATCH (q:Person {id: i - 1}) CREATE (q)-[:KNOWS {since: 2000 + i}]->(p)`,
      { from },
    );
  }
  return txId;
}

/** What a database looks like through the driver: counts, values, and its schema. */
export async function graphSummary(driver: Driver, database: string): Promise<Record<string, unknown>> {
  const one = async (q: string) => (await runQuery(driver, database, q))[0];
  return {
    nodes: await one('MATCH (n) RETURN count(n) AS c'),
    labels: await runQuery(driver, database, 'MATCH (n) UNWIND labels(n) AS l RETURN l, count(*) AS c ORDER BY l'),
    relationships: await runQuery(driver, database, 'MATCH ()-[r]->() RETURN type(r) AS t, count(r) AS c, sum(r.since) AS since ORDER BY t'),
    people: await runQuery(driver, database, 'MATCH (p:Person) RETURN p.id AS id, p.name AS name, p.score AS score, p.tags AS tags, toString(p.born) AS born ORDER BY id'),
    indexes: await runQuery(driver, database, 'SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, owningConstraint RETURN * ORDER BY name'),
    constraints: await runQuery(driver, database, 'SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN * ORDER BY name'),
  };
}

export interface InspectedArtifact {
  file: string;
  error: string | null;
  databaseName: string;
  databaseId: string;
  kind: 'FULL' | 'DIFF';
  lowestTx: number;
  highestTx: number;
  highestTxCommitTimeMs: number;
  createdAt: string;
  headerBytes: number;
}

/** `quiver-admin database backup --from=... --to-path=... --type=...`, which must succeed. */
export async function backupCli(server: TestServer, folder: string, type: 'FULL' | 'DIFF' | 'AUTO', database: string): Promise<CliResult> {
  const r = await runAdmin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${folder}`, `--type=${type}`, database], { home: server.home });
  assert.equal(r.code, 0, `backup of ${database} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The artifacts in a folder, oldest first, as `--inspect-path --format=json` lists them. */
export async function inspectCli(folder: string, home?: string): Promise<InspectedArtifact[]> {
  const r = await runAdmin(['database', 'backup', `--inspect-path=${folder}`, '--format=json'], home ? { home } : {});
  assert.equal(r.code, 0, `inspect failed:\n${r.stdout}\n${r.stderr}`);
  const list = JSON.parse(r.stdout) as InspectedArtifact[];
  const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return list.sort((a, b) => order(a.createdAt, b.createdAt) || order(a.file, b.file));
}

/** File name of an inspected artifact. */
export function fileNameOf(a: InspectedArtifact): string {
  return decodeURIComponent(a.file.replace(/^file:\/\//, '')).split('/').at(-1)!;
}

/**
 * Every file and folder under `root` with size and content hash: equal snapshots mean nothing was
 * added, removed or changed (LMDB lock files excepted: readers touch them).
 */
export function treeSnapshot(root: string): string[] {
  if (!existsSync(root)) return ['(absent)'];
  const out: string[] = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const rel = relative(root, path);
    if (entry.isDirectory()) out.push(`${rel}/`);
    else if (entry.name === 'lock.mdb') out.push(rel);
    else out.push(`${rel} ${statSync(path).size} ${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}`);
  }
  return out.sort();
}

/** Names of restore staging folders left anywhere under `root`. */
export function stagingLeftovers(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\.(restore|aggregate|check)-/.test(e.name))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

/** Flips one byte of a file (artifacts are read-only: the mode is restored after writing). */
export function flipByte(file: string, offset: number): void {
  const mode = statSync(file).mode;
  chmodSync(file, 0o644);
  const bytes = readFileSync(file);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(file, bytes);
  chmodSync(file, mode);
}

/** Cuts a file to `bytes` bytes. */
export function truncateFile(file: string, bytes: number): void {
  const mode = statSync(file).mode;
  chmodSync(file, 0o644);
  truncateSync(file, bytes);
  chmodSync(file, mode);
}

/** Offset of a byte inside the stored bytes of an artifact's first block (past header and block header). */
export function firstBlockByte(a: InspectedArtifact): number {
  return a.headerBytes + blockHeaderBytes + 1;
}

/** Asserts a refused admin command: exit code, one error line naming the problem, a hint. */
export function assertRefusal(r: CliResult, code: number, message: RegExp, hint?: RegExp): void {
  const context = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, code, context);
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errorLines.length, 1, `exactly one error line: ${context}`);
  assert.match(errorLines[0]!, message, context);
  if (hint) assert.match(r.stderr.split('\n').find((l) => l.startsWith('hint: ')) ?? '', hint, context);
}
