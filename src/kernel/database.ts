/**
 * One database: a graph store plus its transaction log, with recovery on open, the commit path,
 * checkpoints and log pruning.
 *
 * Commit path (group commit; visible once durable; the store applied behind): a write transaction
 * holds the single writer slot while it runs; on commit its record is appended to the log (no fsync
 * yet), its changes join the queue of pending transactions, and the slot is released, so the next
 * transaction starts at once (it sees pending transactions through its change-set layers). Commits
 * waiting together share one log fsync (TxLog.sync). Once its record is durable a transaction is
 * acknowledged and visible: read transactions see the store snapshot plus the durable pending
 * transactions as layers (LayeredReadTx). The store catches up a few milliseconds later, applying
 * the durable pending transactions together (`applyCommitted`), so the store's own commit and sync
 * are paid once per many transactions instead of once per fsync group. The store is never ahead of
 * the durable log, even after a power loss; recovery replays what it lacks.
 *
 * No part of a commit holds the main thread much longer than a statement slice: the log record is
 * encoded in slices (the writer slot stays held), and a large apply is cut into several LMDB
 * transactions with the event loop run between them. Meanwhile readers keep the store snapshot from
 * before the apply (with the pending layers over it), the store's meta names the transaction it
 * holds only part of (`applyingTxId`), and `lastTxId` stays at the last one applied whole, so a crash
 * mid-apply is completed on open by replaying that transaction from the log.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileHeadroom } from '../storage/file-headroom.js';
import { type ApplyTx, GraphStore } from '../storage/store.js';
import { StoreReader } from '../storage/store-reader.js';
import { type Command, decodeCommands, encodeCommandsSliced } from '../txlog/commands.js';
import { chainChecksum } from '../txlog/format.js';
import type { RetentionPolicy } from '../txlog/retention.js';
import { TxLog } from '../txlog/txlog.js';
import { QuiverError } from '../util/errors.js';
import type { DatabaseHandle, ReadTransaction, WriteTransaction } from './api.js';
import { KernelReadTx, LayeredReadTx } from './read-tx.js';
import { TransactionMemoryPool, TransactionMemoryTracker } from './transaction-memory.js';
import { TxState } from './tx-state.js';
import { type ChangeSet, type CommitSink, KernelWriteTx } from './write-tx.js';
import { WriterSlot } from './writer-slot.js';
import { SlowWarning } from '../util/slow-warning.js';
import { crashPointEnvVar } from '../targets/crash-points.js';

/** Transactions replayed per LMDB transaction during recovery. */
const recoveryBatchTxs = 1000;

/**
 * How long committed transactions may wait before the store applies them. Each store apply is one
 * LMDB commit with its disk sync, on the main thread; collecting a few milliseconds of commits into
 * one costs readers a few more layers and saves most of those commits. Measured in
 * docs/performance.md ("Store applies behind the log").
 */
const storeApplyDelayMs = 5;

/** A store apply takes at most this many transactions (as recovery does), and starts at once when so many wait. */
const storeApplyMaxTxs = 1000;

/** A store commit at least this long is logged (util/slow-warning.ts): it blocked the main thread. */
const slowApplyWarnMs = 250;

/**
 * The longest one LMDB write transaction of a store apply may run on the main thread before the
 * apply commits it and lets the event loop run: the same bound statements get (cypher/limits.ts),
 * so a million-node commit does not take the server hostage either (README, design decisions).
 */
const storeApplySliceMs = 10;

/**
 * Commands of acknowledged transactions that may wait for the store before the next writer waits
 * (at its begin) for the store to catch up.
 * The store applies behind the log, and its apply runs in slices beside everything else: writers that
 * commit faster than it applies would otherwise pile up change sets in memory without bound (a bulk
 * load of 10k-node transactions held ~0.8 KiB per node until it ran out of heap). About 200 bytes a
 * command: some 50-100 MiB of backlog, many seconds of applies at most.
 */
const storeApplyBacklogCommandsMax = 250_000;

/** The log record of a transaction is encoded in pieces of this long, with the event loop run between. */
const commitEncodeSliceMs = 10;

/** An LMDB read transaction shared by reference count (lmdb-js `useReadTransaction`). */
type StoreSnapshotTxn = { use(): void; done(): void };

export interface DatabaseSettings {
  rotationBytes: number;
  preallocate: boolean;
  retention: RetentionPolicy;
  checkpointIntervalMs: number;
  checkpointIntervalTx: number;
  lockTimeoutMs: number;
  /** db.memory.transaction.max: bytes one transaction's changes may hold (estimated; 0 = unlimited). */
  transactionMemoryMaxBytes: number;
  /** db.memory.transaction.total.max: bytes all transactions of the database may hold together (0 = unlimited). */
  transactionMemoryTotalMaxBytes: number;
  /**
   * Not a setting of the server: tests that need a whole group applied in one LMDB transaction pass
   * Infinity (default `storeApplySliceMs`).
   */
  storeApplySliceMs?: number;
  /** Not a setting of the server: tests lower it (default `storeApplyBacklogCommandsMax`). */
  storeApplyBacklogCommandsMax?: number;
}

export const defaultDatabaseSettings: DatabaseSettings = {
  rotationBytes: 256 * 1024 * 1024,
  preallocate: true,
  retention: { kind: 'age', ms: 2 * 24 * 3600 * 1000, bytesMax: undefined },
  checkpointIntervalMs: 15 * 60 * 1000,
  checkpointIntervalTx: 100_000,
  lockTimeoutMs: 30_000,
  transactionMemoryMaxBytes: 0,
  transactionMemoryTotalMaxBytes: 0,
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
  /** Appended to the log and not yet applied to the store, in commit order; durable up to `visibleTxId`. */
  /** Commands of the transactions in `pending`: what the back-pressure bound counts. */
  private pendingCommands = 0;
  private readonly pending: Array<{ txId: number; checksum: number; commitTimeMs: number; commands: Command[]; changes: ChangeSet }> = [];
  /** Highest transaction durable in the log: acknowledged, and visible to new read transactions. */
  private visibleTxId: number;
  /**
   * While a sliced store apply runs, the snapshot taken before it began: every new reader and writer
   * reads it (with the pending change sets as layers) instead of the store's newest state, which
   * holds part of the transactions being applied. Released in the tick the apply ends.
   */
  private applySnapshot: StoreSnapshotTxn | undefined;
  /** Store applies run one after another, in this chain. */
  private applyChain: Promise<void> = Promise.resolve();
  private applyTimer: NodeJS.Timeout | undefined;
  /** A store apply blocks the main thread (every query waits): a commit slow to reach the disk is logged. */
  private readonly slowApply: SlowWarning;
  private lastCommitTimeMs = 0;
  /** Zeros written ahead at the end of data.mdb, so store syncs stay plain data writes (see FileHeadroom). */
  private readonly headroom: FileHeadroom;
  /** What open write transactions hold: db.memory.transaction.total.max (see transaction-memory.ts). */
  private readonly transactionMemory: TransactionMemoryPool;
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
    this.visibleTxId = meta.lastTxId;
    this.lastCommitTimeMs = meta.lastTxTimeMs;
    this.headroom = new FileHeadroom(join(location.storeDir, 'data.mdb'), warn);
    this.slowApply = new SlowWarning(warn, slowApplyWarnMs);
    this.transactionMemory = new TransactionMemoryPool(settings.transactionMemoryTotalMaxBytes);
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
    await db.commit([], new TxState().freeze());
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
      const interrupted = store.applyingTxId();
      log = TxLog.open(
        { dir: loc.logDir, databaseId: meta.databaseId, rotationBytes: settings.rotationBytes, preallocate: settings.preallocate, onWarning: warn },
        { txId: meta.lastTxId, checksum: meta.lastTxChecksum },
      );
      if (interrupted !== undefined) {
        // A crash stopped a sliced apply (Database.applyCommitted) inside this transaction: the store
        // holds part of it, and the log, durable before any apply began, holds all of it.
        if (interrupted !== meta.lastTxId + 1 || log.lastTxId < interrupted) {
          throw new QuiverError('StoreCorrupt', `the store of database "${name}" holds part of transaction ${interrupted}, but its last whole transaction is ${meta.lastTxId} and the log ends at ${log.lastTxId}`, {
            hint: 'the store and the log come from different histories; restore the database from a backup',
          });
        }
        warn(`database "${name}": the apply of transaction ${interrupted} was interrupted; completing it from the transaction log`);
      }
      if (log.lastTxId > meta.lastTxId) {
        let prevChain = meta.lastTxChecksum;
        let replayed = 0;
        // Replay in batches: one LMDB commit per batch instead of one per transaction.
        let batch: ApplyTx[] = [];
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
      // An index is marked populating only while its transaction is applied in part (applyingTxId),
      // so recovery has rebuilt every one; one left would be read half built.
      const halfBuilt = store.populatingIndexNames();
      if (halfBuilt.length > 0) {
        throw new QuiverError('StoreCorrupt', `the store of database "${name}" holds half-built index(es) ${halfBuilt.map((n) => `"${n}"`).join(', ')} that no transaction in the log rebuilds`, {
          hint: 'the store and the log come from different histories; restore the database from a backup',
        });
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
      await this.applyCommitted();
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
    // Snapshot and layers are taken in the same tick, and a transaction leaves the layers in the
    // tick its apply ends (until then readers get the snapshot from before the apply), so every
    // visible transaction is seen exactly once: in the snapshot or as a layer.
    const snapshot = this.storeSnapshot();
    const layers = this.visibleLayers();
    return layers.length > 0 ? new LayeredReadTx(snapshot, layers) : new KernelReadTx(snapshot);
  }

  /** A reader of the store as every pending transaction's layer expects it: before any is applied. */
  private storeSnapshot(): StoreReader {
    return this.applySnapshot ? StoreReader.share(this.store, this.applySnapshot) : StoreReader.begin(this.store);
  }

  /**
   * Runs `work` when no store apply is under way (none starts until it returns), after the store
   * caught up with every acknowledged transaction: a backup's store image must never catch a
   * sliced apply half done.
   */
  whenStoreIdle<T>(work: () => T): Promise<T> {
    const run = this.applyCommitted().then(() => {
      const next = this.applyChain.then(work);
      this.applyChain = next.then(
        () => undefined,
        () => undefined,
      );
      return next;
    });
    return run;
  }

  /** Change sets of the pending transactions that are durable, in commit order. */
  private visibleLayers(): ChangeSet[] {
    return this.pending.slice(0, this.visibleCount()).map((p) => p.changes);
  }

  /** How many pending transactions, from the oldest, are durable (acknowledged, not yet applied). */
  private visibleCount(): number {
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.txId <= this.visibleTxId) n++;
    return n;
  }

  async beginWrite(timeoutMs = this.settings.lockTimeoutMs): Promise<WriteTransaction> {
    this.assertUsable();
    const startedMs = Date.now();
    await this.slot.acquire(timeoutMs);
    try {
      // Back-pressure, with the writer slot held so that no other writer adds to the backlog
      // meanwhile: a store too far behind catches up before another transaction begins. Waiting
      // here rather than after a commit leaves a single large transaction acknowledged before its
      // own apply (a million-node statement waited 6 s for it), and bounds the backlog to the
      // bound plus one transaction. The wait counts against the same timeout as the slot's.
      if (this.pendingCommands > (this.settings.storeApplyBacklogCommandsMax ?? storeApplyBacklogCommandsMax)) await this.storeCaughtUp(timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - startedMs)) : 0);
      this.assertUsable();
      // Snapshot and pending layers are taken in the same tick, so every committed transaction is
      // seen exactly once: either applied in the snapshot or as a pending layer.
      const memory = new TransactionMemoryTracker(this.settings.transactionMemoryMaxBytes, this.transactionMemory);
      return new KernelWriteTx(this.storeSnapshot(), this, this.pending.map((p) => p.changes), memory);
    } catch (e) {
      this.slot.release();
      throw e;
    }
  }

  /** Waits until the store applied every acknowledged transaction; LockTimeout after `timeoutMs` (0 or less: no limit, as for the slot). */
  private async storeCaughtUp(timeoutMs: number): Promise<void> {
    const applied = this.applyCommitted();
    if (timeoutMs <= 0) return applied;
    // A failed apply is recorded in this.failure: nobody may be left waiting for it after a timeout.
    applied.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new QuiverError('LockTimeout', `timed out waiting to write to database "${this.name}": the store is still applying ${this.pendingCommands} commands of earlier transactions`, {
          hint: 'retry; the store catches up on its own (a slow disk, or bulk writes faster than it applies), or raise db.lock.acquisition.timeout',
        }));
      }, timeoutMs);
    });
    try {
      await Promise.race([applied, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Commands of acknowledged transactions the store has not applied yet (the back-pressure bound counts these). */
  storeBacklogCommands(): number {
    return this.pendingCommands;
  }

  /** Estimated bytes the open write transactions of this database hold (transaction-memory.ts). */
  transactionMemoryUsedBytes(): number {
    return this.transactionMemory.usedBytes;
  }

  /** The last acknowledged transaction (durable in the log; the store may apply it a little later). */
  lastCommittedTxId(): number {
    return this.visibleTxId;
  }

  info(): DatabaseInfoSnapshot {
    const m = this.store.meta();
    const visible = this.visibleCount();
    const last = visible > 0 ? this.pending[visible - 1]! : { txId: m.lastTxId, checksum: m.lastTxChecksum, commitTimeMs: m.lastTxTimeMs };
    return {
      name: this.name,
      databaseId: m.databaseId,
      storeId: m.storeId,
      lastCommittedTxId: last.txId,
      lastCommittedChecksum: last.checksum,
      lastCommitTimeMs: last.commitTimeMs,
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
      // A large record is encoded in slices: the writer slot stays held (no other commit can take
      // this id), while reads and other connections go on.
      const body = await encodeCommandsSliced(commands, commitEncodeSliceMs, yieldToEventLoop);
      this.assertUsable();
      // A large record goes to the log in pieces too (the writer slot keeps other appends out).
      const checksum = await this.log.appendInPieces(txId, commitTimeMs, body, pauseBetweenAppendPieces);
      this.lastCommitTimeMs = commitTimeMs;
      this.pending.push({ txId, checksum, commitTimeMs, commands, changes });
      this.pendingCommands += commands.length;
    } finally {
      this.slot.release();
    }
    await this.makeVisible(txId);
    this.txSinceCheckpoint++;
    // A schema change is in the store before it is acknowledged: readers use only the index rules
    // the store holds, so an index must not be announced before its entries exist.
    if (changes.schema.length > 0) await this.applyCommitted();
    return txId;
  }

  /** Resolves once `txId` is durable in the log, and so acknowledged and visible to readers. */
  private async makeVisible(txId: number): Promise<void> {
    try {
      await this.log.sync(txId);
    } catch (e) {
      this.failure ??= e instanceof QuiverError ? e : new QuiverError('IoError', `database "${this.name}": transaction log sync failed: ${(e as Error).message}`, { cause: e });
      throw this.failure;
    }
    if (this.failure) throw this.failure;
    // The log is durable in order, so every transaction up to `txId` is durable too.
    if (txId > this.visibleTxId) this.visibleTxId = txId;
    this.scheduleApply();
  }

  private scheduleApply(): void {
    const waiting = this.visibleCount();
    if (waiting >= storeApplyMaxTxs) {
      this.applyCommitted().catch(() => undefined); // recorded in this.failure
    } else if (waiting > 0 && !this.applyTimer) {
      this.applyTimer = setTimeout(() => {
        this.applyTimer = undefined;
        this.applyCommitted().catch(() => undefined);
      }, storeApplyDelayMs);
      this.applyTimer.unref();
    }
  }

  /**
   * Applies every durable pending transaction to the store, in LMDB transactions of at most
   * `storeApplyMaxTxs`. Checkpoints, backups and close call it to bring the store up to date.
   */
  applyCommitted(): Promise<void> {
    const run = this.applyChain.then(async () => {
      while (this.visibleCount() > 0) {
        if (this.failure) throw this.failure;
        // No LMDB write may run while zeros are written past the end of the file.
        await this.headroom.idle();
        const end = Math.min(this.visibleCount(), storeApplyMaxTxs);
        const group = this.pending.slice(0, end);
        // Readers that begin while the apply runs in slices read the store as it was before it.
        const snapshot = this.store.env.useReadTransaction() as unknown as StoreSnapshotTxn;
        this.applySnapshot = snapshot;
        try {
          // Only the commits and their disk syncs are timed: a large batch takes long for its size alone.
          const commitMs = await this.store.applyBatchSliced(group, this.settings.storeApplySliceMs ?? storeApplySliceMs, pauseBetweenApplySlices);
          this.slowApply.report(commitMs, (ms) => `database "${this.name}": the store's commit of ${group.length} transaction(s) took ${ms} ms to reach the disk, and the server waited meanwhile (a slow or overloaded disk)`);
          // Applied: removed from the layers in the same tick as the snapshot is released (see beginRead).
          for (const p of this.pending.splice(0, end)) this.pendingCommands -= p.commands.length;
        } catch (e) {
          // The log holds transactions the store could not apply: stop accepting work; a restart
          // replays them from the log.
          this.failure = new QuiverError('StoreCorrupt', `database "${this.name}" failed to apply transactions ${group[0]!.txId}..${group[group.length - 1]!.txId}: ${(e as Error).message}`, {
            cause: e,
            hint: 'restart the server; recovery replays the transactions from the log',
          });
          throw this.failure;
        } finally {
          this.applySnapshot = undefined;
          snapshot.done();
        }
        this.headroom.topUp(this.store.usedBytes());
      }
    });
    this.applyChain = run.catch(() => undefined);
    return run;
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
    if (this.pending.length) {
      await this.makeVisible(this.pending[this.pending.length - 1]!.txId).catch(() => undefined);
      await this.applyCommitted().catch(() => undefined);
    }
    if (this.applyTimer) clearTimeout(this.applyTimer);
    if (this.checkpointRunning) await this.checkpointRunning.catch(() => undefined);
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

/**
 * Named crash point: QUIVER_CRASH_POINT=store.betweenApplySlices kills the process (SIGKILL) at the
 * first pause of a sliced store apply, when the store holds part of a transaction
 * (test/large-apply-crash.test.ts).
 */
export const storeApplyCrashPoint = 'store.betweenApplySlices';

/**
 * Named crash point: QUIVER_CRASH_POINT=txlog.betweenAppendPieces kills the process (SIGKILL) at the
 * first pause of a log append in pieces, when part of a large record's body is in the segment and its
 * header is not (test/log-append-crash.test.ts).
 */
export const logAppendCrashPoint = 'txlog.betweenAppendPieces';

/** A pause that lets the event loop run, and kills the process there when `crashPoint` is armed. */
function pauseAt(crashPoint: string): () => Promise<void> {
  return async () => {
    if (process.env[crashPointEnvVar] === crashPoint) process.kill(process.pid, 'SIGKILL');
    await yieldToEventLoop();
  };
}

const pauseBetweenAppendPieces = pauseAt(logAppendCrashPoint);
const pauseBetweenApplySlices = pauseAt(storeApplyCrashPoint);

/** Lets timers, I/O and other connections run before the caller continues. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
