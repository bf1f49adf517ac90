/**
 * One database: a graph store plus its transaction log, with recovery on open, the single-writer
 * commit path (log append → apply → group fsync → acknowledge), checkpoints and log pruning.
 *
 * Visibility note: a transaction becomes visible to readers when it is applied, which happens just
 * before the group fsync completes; it is acknowledged to its client only after the fsync. A crash
 * in between loses only unacknowledged transactions, and the log order guarantees that any
 * acknowledged transaction's predecessors are durable too.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GraphStore } from '../storage/store.js';
import { StoreReader } from '../storage/store-reader.js';
import { type Command, decodeCommands, encodeCommands } from '../txlog/commands.js';
import { chainChecksum } from '../txlog/format.js';
import type { RetentionPolicy } from '../txlog/retention.js';
import { TxLog } from '../txlog/txlog.js';
import { QuiverError } from '../util/errors.js';
import type { DatabaseHandle, ReadTransaction, WriteTransaction } from './api.js';
import { KernelReadTx } from './read-tx.js';
import { type CommitSink, KernelWriteTx } from './write-tx.js';
import { WriterSlot } from './writer-slot.js';

/** Transactions replayed per LMDB transaction during recovery. */
const recoveryBatchTxs = 1000;

export interface DatabaseSettings {
  rotationBytes: number;
  preallocate: boolean;
  retention: RetentionPolicy;
  checkpointIntervalMs: number;
  checkpointIntervalTx: number;
  lockTimeoutMs: number;
}

export const defaultDatabaseSettings: DatabaseSettings = {
  rotationBytes: 256 * 1024 * 1024,
  preallocate: true,
  retention: { kind: 'age', ms: 2 * 24 * 3600 * 1000, bytesMax: undefined },
  checkpointIntervalMs: 15 * 60 * 1000,
  checkpointIntervalTx: 100_000,
  lockTimeoutMs: 30_000,
};

export interface DatabaseLocation {
  storeDir: string;
  logDir: string;
}

export interface DatabaseInfoSnapshot {
  name: string;
  databaseId: string;
  storeId: string;
  lastCommittedTxId: number;
  lastCommittedChecksum: number;
  lastCommitTimeMs: number;
  oldestTxIdInLog: number;
}

export function locateDatabase(dataDir: string, txRoot: string, name: string): DatabaseLocation {
  return { storeDir: join(dataDir, 'databases', name), logDir: join(txRoot, name) };
}

export function storeExists(loc: DatabaseLocation): boolean {
  return existsSync(join(loc.storeDir, 'data.mdb'));
}

export class Database implements DatabaseHandle, CommitSink {
  private readonly slot: WriterSlot;
  private nextNodeId: number;
  private nextRelId: number;
  private failure: QuiverError | null = null;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private txSinceCheckpoint = 0;
  private lastCheckpointMs = Date.now();
  private checkpointRunning: Promise<void> | null = null;
  private closed = false;
  checkpointTxId: number;

  private constructor(
    readonly name: string,
    readonly location: DatabaseLocation,
    readonly store: GraphStore,
    readonly log: TxLog,
    private readonly settings: DatabaseSettings,
    private readonly warn: (m: string) => void,
  ) {
    this.slot = new WriterSlot(name);
    const meta = store.meta();
    this.nextNodeId = meta.nextNodeId;
    this.nextRelId = meta.nextRelId;
    this.checkpointTxId = meta.lastTxId;
  }

  get databaseId(): string {
    return this.store.meta().databaseId;
  }

  /** Creates a new, empty database (store + log) and commits its creation transaction (tx 1). */
  static async create(name: string, loc: DatabaseLocation, settings: DatabaseSettings, warn: (m: string) => void, databaseId = randomUUID()): Promise<Database> {
    if (storeExists(loc)) throw new QuiverError('DatabaseExists', `a store for database "${name}" already exists at "${loc.storeDir}"`);
    const store = GraphStore.create(loc.storeDir, { databaseId, storeId: randomUUID() });
    const log = TxLog.open({ dir: loc.logDir, databaseId, rotationBytes: settings.rotationBytes, preallocate: settings.preallocate, onWarning: warn }, { txId: 0, checksum: 0 });
    const db = new Database(name, loc, store, log, settings, warn);
    await db.slot.acquire(0);
    await db.commit([]);
    db.startCheckpointer();
    return db;
  }

  /** Opens an existing database, replaying committed transactions the store has not applied yet. */
  static open(name: string, loc: DatabaseLocation, settings: DatabaseSettings, warn: (m: string) => void): Database {
    if (!storeExists(loc)) {
      throw new QuiverError('DatabaseNotFound', `no store for database "${name}" at "${loc.storeDir}"`);
    }
    const store = GraphStore.open(loc.storeDir);
    let log: TxLog;
    try {
      const meta = store.meta();
      log = TxLog.open(
        { dir: loc.logDir, databaseId: meta.databaseId, rotationBytes: settings.rotationBytes, preallocate: settings.preallocate, onWarning: warn },
        { txId: meta.lastTxId, checksum: meta.lastTxChecksum },
      );
      if (log.lastTxId > meta.lastTxId) {
        let prevChain = meta.lastTxChecksum;
        let replayed = 0;
        // Replay in batches: one LMDB commit per batch instead of one per transaction.
        let batch: Parameters<GraphStore['applyBatch']>[0][number][] = [];
        for (const { record, raw } of log.readRaw(meta.lastTxId + 1, log.lastTxId)) {
          if (chainChecksum(prevChain, raw) !== record.chainCrc) {
            throw new QuiverError('LogCorrupt', `transaction ${record.txId} in the log of database "${name}" does not follow the store's last applied transaction ${record.txId - 1}`, {
              hint: 'the log and the store come from different histories; restore the database from a backup',
            });
          }
          batch.push({ txId: record.txId, checksum: record.chainCrc, commitTimeMs: record.commitTimeMs, commands: decodeCommands(record.body) });
          if (batch.length >= recoveryBatchTxs) {
            store.applyBatch(batch);
            batch = [];
          }
          prevChain = record.chainCrc;
          replayed++;
        }
        store.applyBatch(batch);
        warn(`database "${name}": recovered ${replayed} transaction(s) from the transaction log (now at tx ${log.lastTxId})`);
      }
    } catch (e) {
      store.close();
      throw e;
    }
    const db = new Database(name, loc, store, log, settings, warn);
    db.startCheckpointer();
    return db;
  }

  private startCheckpointer(): void {
    const tickMs = Math.max(50, Math.min(1000, this.settings.checkpointIntervalMs));
    this.checkpointTimer = setInterval(() => {
      const due = Date.now() - this.lastCheckpointMs >= this.settings.checkpointIntervalMs || this.txSinceCheckpoint >= this.settings.checkpointIntervalTx;
      if (due && !this.checkpointRunning) this.checkpoint().catch((e) => this.warn(`checkpoint of database "${this.name}" failed: ${(e as Error).message}`));
    }, tickMs);
    this.checkpointTimer.unref();
  }

  /** Flushes the store and prunes log segments the retention policy no longer needs. */
  checkpoint(): Promise<void> {
    if (this.checkpointRunning) return this.checkpointRunning;
    this.checkpointRunning = (async () => {
      const txId = this.store.meta().lastTxId;
      this.txSinceCheckpoint = 0;
      this.lastCheckpointMs = Date.now();
      await this.store.flush();
      this.checkpointTxId = txId;
      if (!this.closed) this.log.prune(this.settings.retention, txId, Date.now());
    })().finally(() => {
      this.checkpointRunning = null;
    });
    return this.checkpointRunning;
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new QuiverError('DatabaseUnavailable', `database "${this.name}" is stopped`, { hint: `start it with START DATABASE ${this.name}` });
  }

  beginRead(): ReadTransaction {
    this.assertUsable();
    return new KernelReadTx(StoreReader.begin(this.store));
  }

  async beginWrite(timeoutMs = this.settings.lockTimeoutMs): Promise<WriteTransaction> {
    this.assertUsable();
    await this.slot.acquire(timeoutMs);
    try {
      this.assertUsable();
      return new KernelWriteTx(StoreReader.begin(this.store), this);
    } catch (e) {
      this.slot.release();
      throw e;
    }
  }

  lastCommittedTxId(): number {
    return this.store.meta().lastTxId;
  }

  info(): DatabaseInfoSnapshot {
    const m = this.store.meta();
    return {
      name: this.name,
      databaseId: m.databaseId,
      storeId: m.storeId,
      lastCommittedTxId: m.lastTxId,
      lastCommittedChecksum: m.lastTxChecksum,
      lastCommitTimeMs: m.lastTxTimeMs,
      oldestTxIdInLog: this.log.oldestTxId(),
    };
  }

  // ---- CommitSink ----

  get databaseName(): string {
    return this.name;
  }

  allocateNodeId(): number {
    return this.nextNodeId++;
  }

  allocateRelId(): number {
    return this.nextRelId++;
  }

  abandon(): void {
    this.slot.release();
  }

  async commit(commands: Command[]): Promise<number> {
    let txId: number;
    try {
      this.assertUsable();
      txId = this.log.lastTxId + 1;
      const timeMs = Math.max(Date.now(), this.store.meta().lastTxTimeMs);
      const checksum = this.log.append(txId, timeMs, encodeCommands(commands));
      try {
        this.store.apply(txId, checksum, timeMs, commands);
      } catch (e) {
        // The log holds a transaction the store could not apply: stop accepting work; a restart
        // replays it from the log.
        this.failure = new QuiverError('StoreCorrupt', `database "${this.name}" failed to apply transaction ${txId}: ${(e as Error).message}`, {
          cause: e,
          hint: 'restart the server; recovery replays the transaction from the log',
        });
        throw this.failure;
      }
    } finally {
      this.slot.release();
    }
    await this.log.sync(txId);
    this.txSinceCheckpoint++;
    return txId;
  }

  /** Waits for the running write transaction, checkpoints, and closes store and log. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    try {
      await this.slot.acquire(this.settings.lockTimeoutMs);
    } catch {
      this.warn(`database "${this.name}": closing while a write transaction is still open; it is rolled back`);
    }
    if (this.checkpointRunning) await this.checkpointRunning.catch(() => undefined);
    this.closed = true;
    try {
      if (!this.failure) await this.store.flush();
    } finally {
      this.log.close();
      this.store.close();
    }
  }
}
