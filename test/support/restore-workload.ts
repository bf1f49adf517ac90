/**
 * Test support for the restore tests: a seeded random graph workload (creates, updates, deletes,
 * label changes, relationships, index and constraint changes) that records the logical digest of
 * the database after every transaction, and an in-process DBMS with its backup service so that
 * FULL and DIFF backups are taken exactly as `quiver-admin database backup` takes them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackup, type DatabaseOutcome } from '../../src/backup/client/backup-client.js';
import { type BackupService, startBackupService } from '../../src/backup/service/backup-service.js';
import type { WriteTransaction } from '../../src/kernel/api.js';
import { type Database, type DatabaseSettings, defaultDatabaseSettings } from '../../src/kernel/database.js';
import { Dbms } from '../../src/kernel/dbms.js';
import { logicalDigest } from '../../src/storage/digest.js';
import { FileTarget } from '../../src/targets/file-target.js';
import { isQuiverError } from '../../src/util/errors.js';
import { QDate, QDateTime, QLocalTime } from '../../src/values/temporal.js';
import type { Properties, PropertyValue, ScalarValue } from '../../src/values/value.js';

/** The seed of a randomized test: QUIVER_SEED when set (to rerun a failure), otherwise fresh. */
export function testSeed(): number {
  const fromEnv = process.env['QUIVER_SEED'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`QUIVER_SEED must be a non-negative integer, got "${fromEnv}"`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/** A small, fast, seedable generator (mulberry32). */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick of an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Distinct sample of up to n items. */
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    const out: T[] = [];
    while (out.length < n && copy.length > 0) out.push(copy.splice(Math.floor(this.next() * copy.length), 1)[0]!);
    return out;
  }
}

/** What the database looked like right after one transaction committed. */
export interface TxState {
  txId: number;
  commitTimeMs: number;
  digest: string;
}

const labels = ['Person', 'City', 'Tag', 'Unique'] as const;
const relTypes = ['KNOWS', 'LIVES_IN', 'TAGGED'] as const;
const propertyKeys = ['name', 'age', 'score', 'flag', 'tags', 'when', 'blob', 'pop'] as const;
/** Indexes the workload creates and drops; (Unique, uid) is reserved for the constraint. */
const indexTargets = [['Person', 'name'], ['City', 'pop'], ['Tag', 'score'], ['Person', 'age']] as const;
const constraintName = 'unique_uid';

function randomScalar(rng: Rng): ScalarValue {
  switch (rng.int(0, 8)) {
    case 0:
      return BigInt(rng.int(-1000, 1000));
    case 1:
      return BigInt.asIntN(64, BigInt(rng.int(0, 2 ** 31)) * BigInt(rng.int(0, 2 ** 31)) * (rng.chance(0.5) ? -1n : 1n));
    case 2:
      return rng.pick([0.5, -0, 1e-300, 3.141592653589793, -2.5e10, rng.next()]);
    case 3:
      return `s${rng.int(0, 50)}`;
    case 4:
      return rng.pick(['', 'ünïcödé ✓', 'line\nbreak', 'quote"s', '🦀']);
    case 5:
      return rng.chance(0.5);
    case 6:
      return Uint8Array.from({ length: rng.int(0, 6) }, () => rng.int(0, 255));
    case 7:
      return new QDate(rng.int(1900, 2100), rng.int(1, 12), rng.int(1, 28));
    default:
      return rng.chance(0.5) ? new QDateTime(BigInt(rng.int(0, 2 ** 31)), rng.int(0, 999_999_999), rng.pick([0, 3600, -19800])) : new QLocalTime(BigInt(rng.int(0, 86_399)) * 1_000_000_000n);
  }
}

function randomValue(rng: Rng): PropertyValue {
  if (rng.chance(0.15)) {
    const n = rng.int(0, 4);
    return rng.chance(0.5) ? Array.from({ length: n }, () => BigInt(rng.int(-9, 9))) : Array.from({ length: n }, () => `t${rng.int(0, 9)}`);
  }
  return randomScalar(rng);
}

function randomProperties(rng: Rng, max: number): Properties {
  const props: Properties = new Map();
  for (const key of rng.sample(propertyKeys, rng.int(0, max))) props.set(key, randomValue(rng));
  return props;
}

/**
 * Drives random transactions against one database through the kernel API and records, after each
 * commit, the digest of a read transaction opened right after it.
 */
export class Workload {
  readonly history = new Map<number, TxState>();
  private nextUid = 1;
  /** Transactions that were rolled back by the kernel (uniqueness), for the log. */
  rolledBack = 0;

  constructor(
    readonly rng: Rng,
    readonly db: Database,
  ) {
    this.record(db.lastCommittedTxId());
  }

  private record(txId: number): TxState {
    const read = this.db.beginRead();
    let digest: string;
    try {
      digest = logicalDigest(read);
    } finally {
      read.close();
    }
    const info = this.db.info();
    if (info.lastCommittedTxId !== txId) throw new Error(`workload: expected the database at tx ${txId}, it is at ${info.lastCommittedTxId}`);
    const state = { txId, commitTimeMs: info.lastCommitTimeMs, digest };
    this.history.set(txId, state);
    return state;
  }

  get lastTxId(): number {
    return this.db.lastCommittedTxId();
  }

  /** Runs one random transaction that changes something; returns its state. */
  async step(): Promise<TxState> {
    for (let attempt = 0; ; attempt++) {
      const tx = await this.db.beginWrite();
      const before = this.db.lastCommittedTxId();
      try {
        const ops = this.rng.int(1, 3);
        for (let i = 0; i < ops; i++) this.randomOperation(tx);
        // An operation may find nothing to do (no nodes yet): make sure the transaction writes.
        tx.createNode(['Tick'], new Map([['n', BigInt(before)]]));
        const { txId } = await tx.commit();
        if (txId !== before + 1) throw new Error(`workload: commit returned tx ${txId}, expected ${before + 1}`);
        return this.record(txId);
      } catch (e) {
        tx.rollback();
        if (isQuiverError(e, 'ConstraintViolation') && attempt < 20) {
          this.rolledBack++;
          continue;
        }
        throw e;
      }
    }
  }

  private nodeIds(tx: WriteTransaction): number[] {
    return [...tx.allNodeIds()];
  }

  private randomOperation(tx: WriteTransaction): void {
    const rng = this.rng;
    const nodes = this.nodeIds(tx);
    const rels = [...tx.allRelationshipIds()];
    const op = rng.int(0, 99);
    if (op < 25 || nodes.length < 3) {
      for (let i = rng.int(1, 4); i > 0; i--) {
        const ls = rng.sample(labels, rng.int(0, 2));
        const props = randomProperties(rng, 4);
        if (ls.includes('Unique')) props.set('uid', BigInt(this.nextUid++));
        tx.createNode(ls, props);
      }
    } else if (op < 40) {
      const id = rng.pick(nodes);
      tx.setNodeProperty(id, rng.pick(propertyKeys), rng.chance(0.2) ? null : randomValue(rng));
    } else if (op < 45) {
      const id = rng.pick(nodes);
      const keep = tx.getNode(id)!.properties.get('uid');
      const props = randomProperties(rng, 3);
      if (keep !== undefined) props.set('uid', keep);
      tx.replaceNodeProperties(id, props);
    } else if (op < 53) {
      const id = rng.pick(nodes);
      const label = rng.pick(labels);
      if (rng.chance(0.5)) {
        tx.addLabels(id, [label]);
        if (label === 'Unique' && !tx.getNode(id)!.properties.has('uid')) tx.setNodeProperty(id, 'uid', BigInt(this.nextUid++));
      } else tx.removeLabels(id, [label]);
    } else if (op < 60) {
      tx.deleteNode(rng.pick(nodes), true);
    } else if (op < 75) {
      for (let i = rng.int(1, 3); i > 0; i--) tx.createRelationship(rng.pick(relTypes), rng.pick(nodes), rng.pick(nodes), randomProperties(rng, 2));
    } else if (op < 83) {
      if (rels.length) tx.deleteRelationship(rng.pick(rels));
    } else if (op < 90) {
      if (rels.length) tx.setRelationshipProperty(rng.pick(rels), rng.pick(propertyKeys), rng.chance(0.2) ? null : randomValue(rng));
    } else if (op < 96) {
      const [label, property] = rng.pick(indexTargets);
      const name = `idx_${label}_${property}`.toLowerCase();
      if (tx.indexes().some((i) => i.name === name)) tx.dropIndex(name, false);
      else tx.createIndex(name, label, property, false);
    } else if (tx.constraints().some((c) => c.name === constraintName)) {
      tx.dropConstraint(constraintName, false);
    } else {
      tx.createUniqueConstraint(constraintName, 'Unique', 'uid', false);
    }
  }

  /** The state a restore up to (not including) `txId` must reproduce. */
  stateBefore(txId: number): TxState {
    const s = this.history.get(txId - 1);
    if (!s) throw new Error(`workload: no recorded state at tx ${txId - 1}`);
    return s;
  }

  /** The state a restore of everything committed before `epochMs` must reproduce. */
  stateBeforeTime(epochMs: number): TxState {
    let best: TxState | undefined;
    for (const s of this.history.values()) if (s.commitTimeMs < epochMs && (!best || s.txId > best.txId)) best = s;
    if (!best) throw new Error(`workload: no transaction committed before ${epochMs}`);
    return best;
  }
}

/** A DBMS and its backup service in this process, on a loopback port chosen by the OS. */
export interface InProcessServer {
  dir: string;
  dbms: Dbms;
  backup: BackupService;
  address: string;
  database(name?: string): Database;
  /** Takes one backup of `database` into `folder` exactly as the admin tool does. */
  takeBackup(folder: string, type: 'FULL' | 'DIFF' | 'AUTO', database?: string): Promise<DatabaseOutcome>;
  close(): Promise<void>;
}

/** Settings for test databases: small log segments and no preallocation keep them fast. */
export const testDatabaseSettings: DatabaseSettings = { ...defaultDatabaseSettings, preallocate: false, rotationBytes: 256 * 1024 };

export async function startInProcessServer(): Promise<InProcessServer> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-inproc-'));
  const dataDir = join(dir, 'data');
  const dbms = await Dbms.start({ dataDir, txRoot: join(dataDir, 'transactions'), defaultDatabase: 'neo4j', settings: testDatabaseSettings, log: () => undefined });
  const backup = await startBackupService({ host: '127.0.0.1', port: 0, dbms, serverId: 'test-server', maxRateBytesPerSec: 0, log: () => undefined });
  const address = `127.0.0.1:${backup.address.port}`;
  return {
    dir,
    dbms,
    backup,
    address,
    database: (name = 'neo4j') => dbms.database(name),
    async takeBackup(folder, type, database = 'neo4j') {
      mkdirSync(folder, { recursive: true });
      const r = await runBackup({
        databases: [database],
        from: [address],
        target: new FileTarget(folder),
        type,
        compress: true,
        keepFailed: false,
        tempPath: undefined,
        includeMetadata: 'none',
        verbose: false,
        log: () => undefined,
      });
      const outcome = r.outcomes[0];
      if (r.exitCode !== 0 || !outcome || outcome.outcome !== 'ok') throw new Error(`backup of "${database}" failed: ${outcome?.error ?? JSON.stringify(r)}`);
      return outcome;
    },
    async close() {
      await backup.close();
      await dbms.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
