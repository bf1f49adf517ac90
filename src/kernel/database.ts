/**
 * One database: a graph store plus its transaction log, with recovery on open, the commit path,
 * checkpoints and log pruning.
 *
 * Commit path (group commit without visibility before durability): a write transaction holds the
 * single writer slot while it runs; on commit its record is appended to the log (no fsync yet), its
 * changes join the queue of pending transactions, and the slot is released, so the next transaction
 * starts at once (it sees pending transactions through its change-set layers). One flusher then
 * fsyncs the log for every transaction appended so far and applies them to the store in one LMDB
 * transaction; only then are they visible to readers and acknowledged. The store is therefore never
 * ahead of the durable log, even after a power loss.
 *
 * The LMDB commit of a group, with its disk sync, runs on lmdb-js's write thread
 * (`GraphStore.applyGroup`), so the main thread goes on serving sessions meanwhile. A group leaves
 * the pending queue only once its commit is visible; a write transaction begun in between reads from
 * its own snapshot which transactions it already holds, and layers only the others.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileHeadroom } from '../storage/file-headroom.js';
import { GraphStore } from '../storage/store.js';
import { StoreReader } from '../storage/store-reader.js';
import { type Command, decodeCommands, encodeCommands } from '../txlog/commands.js';
import { chainChecksum } from '../txlog/format.js';
import type { RetentionPolicy } from '../txlog/retention.js';
import { TxLog } from '../txlog/txlog.js';
import { QuiverError } from '../util/errors.js';
import type { DatabaseHandle, ReadTransaction, WriteTransaction } from './api.js';
import { KernelReadTx } from './read-tx.js';
import { type ChangeSet, type CommitSink, KernelWriteTx } from './write-tx.js';
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
  /** Set when close() begins and never cleared: a store snapshot taken before then is no longer pinned. */
  private closing = false;
  /** Appended to the log, not yet durable and applied, in commit order. */
  private readonly pending: Array<{ txId: number; checksum: number; commitTimeMs: number; commands: Command[]; changes: ChangeSet }> = [];
  /** Highest transaction id known to be durable in the log. */
  private durableTxId: number;
  private logSyncing = false;
  private applying = false;
  /** Commits waiting for their transaction to be applied (or for a failure). */
  private readonly progressWaiters: Array<() => void> = [];
  /** Store applies and quiet sections (`whileStoreQuiet`) run one at a time, in this chain. */
  private storeTurn: Promise<unknown> = Promise.resolve();
  private lastCommitTimeMs = 0;
  /** Zeros written ahead at the end of data.mdb, so store syncs stay plain data writes (see FileHeadroom). */
  private readonly headroom: FileHeadroom;
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
    // Recovery has applied everything the log holds: it was on disk when the server started.
    this.durableTxId = log.lastTxId;
    this.lastCommitTimeMs = meta.lastTxTimeMs;
    this.headroom = new FileHeadroom(join(location.storeDir, 'data.mdb'), warn);
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
    await db.commit([], { nodes: new Map(), rels: new Map(), schema: [] });
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
      // Every committed transaction is seen exactly once: either applied in the snapshot or as a
      // pending layer. A group whose commit is under way may be in the snapshot and still pending,
      // so the snapshot says which transactions it holds.
      const snapshot = StoreReader.begin(this.store);
      try {
        const applied = this.pending.length ? snapshot.lastAppliedTxId() : 0;
        return new KernelWriteTx(snapshot, this, this.pending.filter((p) => p.txId > applied).map((p) => p.changes));
      } catch (e) {
        snapshot.close();
        throw e;
      }
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

  async commit(commands: Command[], changes: ChangeSet): Promise<number> {
    let txId: number;
    try {
      this.assertUsable();
      txId = this.log.lastTxId + 1;
      const commitTimeMs = Math.max(Date.now(), this.lastCommitTimeMs);
      const checksum = this.log.append(txId, commitTimeMs, encodeCommands(commands));
      this.lastCommitTimeMs = commitTimeMs;
      this.pending.push({ txId, checksum, commitTimeMs, commands, changes });
    } finally {
      this.slot.release();
    }
    await this.flushThrough(txId);
    this.txSinceCheckpoint++;
    return txId;
  }

  /** Resolves once `txId` is durable in the log and applied to the store. */
  private async flushThrough(txId: number): Promise<void> {
    while (this.store.meta().lastTxId < txId) {
      if (this.failure) throw this.failure;
      const progressed = new Promise<void>((resolve) => this.progressWaiters.push(resolve));
      this.pump();
      await progressed;
    }
  }

  /**
   * Keeps the two stages of the commit path busy, each one operation at a time: an fsync of the log
   * for everything appended so far, and the apply of the oldest durable transactions to the store
   * as one group. While a group is applied, the next one's log fsync runs.
   */
  private pump(): void {
    if (this.failure) {
      this.wakeWaiters();
      return;
    }
    if (!this.logSyncing && this.log.lastTxId > this.durableTxId) {
      this.logSyncing = true;
      const target = this.log.lastTxId;
      this.log
        .sync(target)
        .then(
          () => {
            if (target > this.durableTxId) this.durableTxId = target;
          },
          (e) => {
            this.failure ??= e instanceof QuiverError ? e : new QuiverError('IoError', `database "${this.name}": transaction log sync failed: ${(e as Error).message}`, { cause: e });
          },
        )
        .finally(() => {
          this.logSyncing = false;
          this.pump();
        });
    }
    if (!this.applying && this.pending.length > 0 && this.pending[0]!.txId <= this.durableTxId) {
      this.applying = true;
      this.applyDurable()
        .catch(() => undefined) // recorded in this.failure
        .finally(() => {
          this.applying = false;
          this.wakeWaiters();
          this.pump();
        });
    }
  }

  private wakeWaiters(): void {
    for (const wake of this.progressWaiters.splice(0)) wake();
  }

  /** Applies every pending transaction that is durable in the log, as one group. */
  private applyDurable(): Promise<void> {
    return this.inStoreTurn(async () => {
      // No LMDB write may run while zeros are written past the end of the file.
      await this.headroom.idle();
      const durable = this.durableTxId;
      const end = this.pending.findIndex((p) => p.txId > durable);
      const group = this.pending.slice(0, end < 0 ? this.pending.length : end);
      if (group.length === 0) return;
      try {
        await this.store.applyGroup(group);
      } catch (e) {
        // The log holds transactions the store could not apply: stop accepting work; a restart
        // replays them from the log.
        this.failure = new QuiverError('StoreCorrupt', `database "${this.name}" failed to apply transactions ${group[0]!.txId}..${group[group.length - 1]!.txId}: ${(e as Error).message}`, {
          cause: e,
          hint: 'restart the server; recovery replays the transactions from the log',
        });
        throw this.failure;
      }
      // Visible now: new write transactions find the group in their snapshot.
      this.pending.splice(0, group.length);
      this.headroom.topUp(this.store.usedBytes());
    });
  }

  /**
   * Runs `fn` between two store applies: no LMDB write transaction is in flight while it runs, and
   * none starts until it returns. A live store image is captured this way (store-image.ts).
   */
  whileStoreQuiet<T>(fn: () => T): Promise<T> {
    return this.inStoreTurn(async () => fn());
  }

  private inStoreTurn<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.storeTurn.then(fn);
    this.storeTurn = turn.catch(() => undefined);
    return turn;
  }

  /** True once this database began to close (STOP DATABASE, DROP, shutdown). A restart is a new instance. */
  get closingOrClosed(): boolean {
    return this.closing || this.closed;
  }

  /** Waits for the running write transaction, checkpoints, and closes store and log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    try {
      await this.slot.acquire(this.settings.lockTimeoutMs);
    } catch {
      this.warn(`database "${this.name}": closing while a write transaction is still open; it is rolled back`);
    }
    if (this.pending.length) await this.flushThrough(this.pending[this.pending.length - 1]!.txId).catch(() => undefined);
    if (this.checkpointRunning) await this.checkpointRunning.catch(() => undefined);
    await this.storeTurn;
    this.closed = true;
    try {
      if (!this.failure) await this.store.flush();
      await this.headroom.close();
    } finally {
      this.log.close();
      this.store.close();
    }
  }
}
