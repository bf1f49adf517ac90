/**
 * Crash test: a child process commits small transactions from several loops (group commit) and is
 * SIGKILLed at a random moment, again and again on the same database. After every kill this
 * process reopens the database (recovery) and proves: every acknowledged transaction is there,
 * no transaction is half-applied, the store is consistent, and the log's checksums chain.
 *
 * Randomness comes from one seed, printed first; replay a failure with QUIVER_CRASH_SEED=<seed>.
 * QUIVER_CRASH_ROUNDS changes the number of rounds (default 22).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Database, type DatabaseSettings, defaultDatabaseSettings, locateDatabase } from '../src/kernel/database.js';
import { checkStoreConsistency } from '../src/storage/consistency.js';
import { decodeCommands } from '../src/txlog/commands.js';
import { readSegmentHeader, scanSegment } from '../src/txlog/segment-scanner.js';
import { mulberry32 } from '../src/util/seeded-random.js';

/** The child must run as compiled JS (dist/test/support/crash-writer.js); from sources, through tsx. */
const here = dirname(fileURLToPath(import.meta.url));
const fromSources = import.meta.url.endsWith('.ts');
const writerArgs = fromSources ? ['--import', 'tsx', join(here, 'support', 'crash-writer.ts')] : [join(here, 'support', 'crash-writer.js')];

const rounds = Number(process.env.QUIVER_CRASH_ROUNDS ?? 22);
const seed = Number(process.env.QUIVER_CRASH_SEED ?? Math.floor(Math.random() * 1_000_000_000));
/** Run time of the writer after it is ready, before the kill. */
const runMsMin = 50;
const runMsMax = 500;
/** A child that is not ready within this has hung (a loaded 2-vCPU machine starts node in ~1 s). */
const readyTimeoutMs = 30_000;
/** Name the child gives the database (test/support/crash-writer.ts). */
const databaseName = 'crash';

interface Ack {
  txId: number;
  k: string;
  nodeA: number;
  nodeB: number;
  relId: number;
}

interface ChildRun {
  acks: Ack[];
  sawReady: boolean;
  stderr: string;
}

/** Starts the writer, kills it `runMs` after it is ready (or after spawn, for `killEarly`). */
function runWriter(folder: string, round: number, settings: Partial<DatabaseSettings>, runMs: number, killEarly: boolean): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...writerArgs, folder, String(round), JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let sawReady = false;
    let pending = '';
    let stderr = '';
    const kill = () => child.kill('SIGKILL');
    const hung = setTimeout(() => {
      kill();
      reject(new Error(`crash-writer was not ready within ${readyTimeoutMs} ms\nstderr:\n${stderr}`));
    }, readyTimeoutMs);
    if (killEarly) setTimeout(kill, runMs);
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!; // an incomplete line is no acknowledgement
      for (const line of lines) {
        const f = line.split(' ');
        if (f[0] === 'ready') {
          sawReady = true;
          clearTimeout(hung);
          if (!killEarly) setTimeout(kill, runMs);
        } else if (f[0] === 'ack' && f.length === 6) {
          acks.push({ txId: Number(f[1]), k: f[2]!, nodeA: Number(f[3]), nodeB: Number(f[4]), relId: Number(f[5]) });
        } else {
          kill();
          reject(new Error(`unexpected line from crash-writer: ${JSON.stringify(line)}`));
        }
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(hung);
      if (signal !== 'SIGKILL') reject(new Error(`crash-writer exited by itself (code ${code}, signal ${signal})\nstderr:\n${stderr}`));
      else resolve({ acks, sawReady, stderr });
    });
  });
}

/** Reopens the database after a kill and checks everything the writer was promised. */
async function verifyAfterCrash(folder: string, settings: Partial<DatabaseSettings>, acked: ReadonlyMap<string, Ack>, where: string): Promise<{ lastTxId: number; segments: number; oldestTxId: number }> {
  const loc = locateDatabase(join(folder, 'data'), join(folder, 'data', 'transactions'), databaseName);
  const warnings: string[] = [];
  const db = Database.open(databaseName, loc, { ...defaultDatabaseSettings, ...settings }, (m) => warnings.push(m));
  try {
    const maxAckTxId = Math.max(0, ...[...acked.values()].map((a) => a.txId));
    assert.ok(db.lastCommittedTxId() >= maxAckTxId, `${where}: store at tx ${db.lastCommittedTxId()}, but tx ${maxAckTxId} was acknowledged`);
    const r = db.beginRead();
    try {
      // Every acknowledged transaction is present, exactly as acknowledged.
      for (const ack of acked.values()) {
        const what = `${where}: acknowledged tx ${ack.txId} (k=${ack.k})`;
        const a = r.getNode(ack.nodeA);
        const b = r.getNode(ack.nodeB);
        const rel = r.getRelationship(ack.relId);
        assert.deepEqual(a && { labels: a.labels, k: a.properties.get('k') }, { labels: ['A'], k: ack.k }, `${what}: node A`);
        assert.deepEqual(b && { labels: b.labels, k: b.properties.get('k') }, { labels: ['B'], k: ack.k }, `${what}: node B`);
        assert.deepEqual(rel && { type: rel.type, startId: rel.startId, endId: rel.endId, k: rel.properties.get('k') }, { type: 'R', startId: ack.nodeA, endId: ack.nodeB, k: ack.k }, `${what}: relationship`);
      }
      // Nothing is half-applied: every entity belongs to one complete (:A)-[:R]->(:B) of its k,
      // acknowledged or not (an unacknowledged transaction may be there, but only whole).
      const byK = new Map<string, { a: number[]; b: number[]; rels: Array<[number, number]> }>();
      const entry = (k: unknown) => {
        assert.equal(typeof k, 'string', `${where}: an entity without its k property`);
        let e = byK.get(k as string);
        if (!e) byK.set(k as string, (e = { a: [], b: [], rels: [] }));
        return e;
      };
      for (const id of r.allNodeIds()) {
        const n = r.getNode(id)!;
        const e = entry(n.properties.get('k'));
        if (n.labels.length === 1 && n.labels[0] === 'A') e.a.push(id);
        else if (n.labels.length === 1 && n.labels[0] === 'B') e.b.push(id);
        else assert.fail(`${where}: node ${id} has labels ${JSON.stringify(n.labels)}`);
      }
      for (const id of r.allRelationshipIds()) {
        const rel = r.getRelationship(id)!;
        assert.equal(rel.type, 'R');
        entry(rel.properties.get('k')).rels.push([rel.startId, rel.endId]);
      }
      for (const [k, e] of byK) {
        assert.ok(e.a.length === 1 && e.b.length === 1 && e.rels.length === 1, `${where}: transaction k=${k} is not whole: ${JSON.stringify(e)}`);
        assert.deepEqual(e.rels[0], [e.a[0], e.b[0]], `${where}: k=${k}: the relationship does not join its own nodes`);
      }
    } finally {
      r.close();
    }

    const report = checkStoreConsistency(db.store);
    assert.deepEqual(report.problems, [], `${where}: the store is inconsistent`);

    // The log: every segment continues the previous one, each scans to a clean end (a torn tail was
    // cut on open), and the store's last applied transaction is the log's last, with the same chain value.
    const segments = db.log.segmentList();
    let expectFirst: number | undefined;
    let expectPrev: number | undefined;
    for (const s of segments) {
      const header = readSegmentHeader(s.path);
      if (expectFirst !== undefined) {
        assert.deepEqual([header.firstTxId, header.prevChecksum], [expectFirst, expectPrev], `${where}: ${s.path} does not chain to the previous segment`);
      }
      const it = scanSegment(s.path);
      let n = it.next();
      while (!n.done) n = it.next();
      assert.equal(n.value.reason, 'end', `${where}: ${s.path}: ${n.value.detail}`);
      assert.equal(n.value.lastTxId, s.lastTxId, `${where}: ${s.path}`);
      expectFirst = n.value.lastTxId + 1;
      expectPrev = n.value.lastChecksum;
    }
    assert.equal(expectFirst! - 1, db.log.lastTxId);
    assert.equal(db.lastCommittedTxId(), db.log.lastTxId, `${where}: store and log end at the same transaction`);
    assert.equal(db.info().lastCommittedChecksum, db.log.lastTxChecksum, `${where}: store and log agree on the last chain value`);

    // Acknowledged transactions still in the log hold what was acknowledged, under the same id.
    const oldest = db.log.oldestTxId();
    const inLog = new Map<number, string>();
    for (const { record } of db.log.readRaw(Math.max(oldest, 2), db.log.lastTxId)) {
      const put = decodeCommands(record.body).find((c) => c.op === 'node.put');
      if (put?.op === 'node.put') inLog.set(record.txId, put.properties.get('k') as string);
    }
    for (const ack of acked.values()) {
      if (ack.txId >= oldest) assert.equal(inLog.get(ack.txId), ack.k, `${where}: log record of acknowledged tx ${ack.txId}`);
    }
    return { lastTxId: db.log.lastTxId, segments: segments.length, oldestTxId: oldest };
  } finally {
    await db.close();
  }
}

test('acknowledged transactions survive SIGKILL at random moments, whole, consistent and chained', { timeout: 300_000 }, async (t) => {
  const random = mulberry32(seed);
  t.diagnostic(`seed ${seed} (replay with QUIVER_CRASH_SEED=${seed}), ${rounds} rounds`);
  const folder = mkdtempSync(join(tmpdir(), 'quiver-crash-'));
  const acked = new Map<string, Ack>();
  let earlyKills = 0;
  let lastTxId = 0;
  try {
    for (let round = 1; round <= rounds; round++) {
      // Tiny segments so that kills land during rotation and checkpoint pruning too; half the
      // rounds preallocate segments, half let them grow.
      const settings: Partial<DatabaseSettings> = {
        rotationBytes: 16 * 1024,
        preallocate: random() < 0.5,
        retention: { kind: 'files', count: 4 },
        checkpointIntervalMs: 100,
        checkpointIntervalTx: 200,
      };
      // Some rounds kill at a random moment from spawn: during start-up or recovery.
      const killEarly = round > 1 && random() < 0.2;
      const runMs = killEarly ? Math.floor(random() * 400) : runMsMin + Math.floor(random() * (runMsMax - runMsMin + 1));
      const where = `seed ${seed}, round ${round} (${killEarly ? 'early ' : ''}kill after ${runMs} ms, preallocate ${settings.preallocate})`;
      const run = await runWriter(folder, round, settings, runMs, killEarly);
      if (killEarly) earlyKills++;
      else assert.ok(run.sawReady, `${where}: the writer never became ready`);
      for (const ack of run.acks) {
        assert.ok(!acked.has(ack.k), `${where}: k=${ack.k} acknowledged twice`);
        acked.set(ack.k, ack);
      }
      const state = await verifyAfterCrash(folder, settings, acked, where);
      assert.ok(state.lastTxId >= lastTxId, `${where}: the log went back from tx ${lastTxId} to ${state.lastTxId}`);
      lastTxId = state.lastTxId;
      t.diagnostic(`round ${round}: ${run.acks.length} acknowledged, log at tx ${state.lastTxId} in ${state.segments} segment(s) from tx ${state.oldestTxId}${killEarly ? ', killed early' : ''}`);
    }
    assert.ok(acked.size > rounds, `seed ${seed}: only ${acked.size} transactions were acknowledged in ${rounds} rounds`);
    t.diagnostic(`${acked.size} acknowledged transactions checked after ${rounds} kills (${earlyKills} early)`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

