/**
 * A small pool of worker threads that zstd-compress and decompress artifact blocks, so that the
 * calling thread (the server, or the admin tool's event loop) never runs zstd itself. Callers bound
 * how many blocks they keep in flight (OrderedQueue); the pool runs whatever it is given.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../util/worker-path.js';
import { compressionWorkersMax, zstdLevelDefault } from '../limits.js';
import { type CompressionReply, type CompressionRequest, FileWriteError } from './compression-protocol.js';

export interface CompressionPoolOptions {
  /** Worker threads; default min(2, cores). */
  workers?: number;
  /** zstd level; default 1. */
  level?: number;
}

/** A block as it goes into the file: zstd-compressed, or the raw bytes when zstd could not shrink them. */
export interface StoredBlock {
  stored: Buffer;
  compressed: boolean;
  rawBytes: number;
}

interface Pending {
  resolve: (reply: CompressionReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class CompressionPool {
  private readonly workersMax: number;
  private readonly level: number;
  private readonly slots: Slot[] = [];
  /**
   * One flag shared by this pool's workers: only the worker holding it writes to a file through the
   * page cache (`decompressTo` where O_DIRECT is not possible). Linux serialises buffered writes to
   * one file on its inode lock anyway, and a writer waiting there spins on the CPU (measured with
   * perf during a 2 GiB restore: 17% of all CPU samples in `rwsem_spin_on_owner`); waiting on this
   * flag sleeps instead, leaving the CPU to the other worker's decompression. O_DIRECT writes do not
   * take it (see compression-worker.ts).
   */
  private readonly writeTurn = new SharedArrayBuffer(4);
  private nextId = 1;
  private closed = false;

  constructor(options: CompressionPoolOptions = {}) {
    this.workersMax = options.workers ?? Math.max(1, Math.min(compressionWorkersMax, availableParallelism()));
    this.level = options.level ?? zstdLevelDefault;
    if (!Number.isInteger(this.workersMax) || this.workersMax < 1) throw new Error(`compression workers must be a positive integer, got ${this.workersMax}`);
  }

  /**
   * Compresses one block. `raw` is handed over to a worker (its memory may be transferred):
   * the caller must not use it afterwards.
   */
  async compress(raw: Buffer): Promise<StoredBlock> {
    const rawBytes = raw.length;
    const reply = await this.run({ id: 0, op: 'compress', bytes: raw }, true);
    return { stored: asBuffer(reply.bytes), compressed: reply.compressed, rawBytes };
  }

  /** Decompresses one zstd frame that must hold exactly `rawBytes` bytes. */
  async decompress(stored: Uint8Array, rawBytes: number): Promise<Buffer> {
    const reply = await this.run({ id: 0, op: 'decompress', bytes: stored, rawBytes }, false);
    return asBuffer(reply.bytes);
  }

  /**
   * Decompresses one zstd frame of exactly `rawBytes` bytes and writes it at `position` of the open
   * file `fd`, in the worker: the caller keeps the descriptors open until the promise settles.
   * `directFd`, the same file opened with O_DIRECT, is used instead when the worker can align its
   * buffer for it (see compression-worker.ts); otherwise the write goes through `fd`.
   */
  async decompressTo(stored: Uint8Array, rawBytes: number, fd: number, position: number, directFd?: number): Promise<void> {
    await this.run({ id: 0, op: 'decompressTo', bytes: stored, rawBytes, fd, position, ...(directFd === undefined ? {} : { directFd }) }, false);
  }

  /** Stops the workers; pending calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map(async (slot) => {
      failAll(slot, new Error('compression pool closed'));
      await slot.worker.terminate();
    }));
  }

  /** `handOver`: the caller gives up `request.bytes`, so its memory may be moved to the worker instead of copied. */
  private run(request: CompressionRequest, handOver: boolean): Promise<CompressionReply & { ok: true }> {
    if (this.closed) return Promise.reject(new Error('compression pool is closed'));
    const slot = this.pickSlot();
    const id = this.nextId++;
    const bytes = handOver ? ownedView(request.bytes) : new Uint8Array(request.bytes);
    return new Promise((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...request, id, bytes }, [bytes.buffer as ArrayBuffer]);
    });
  }

  /** The least busy worker, starting a new one while below the pool size. */
  private pickSlot(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots) if (!best || slot.pending.size < best.pending.size) best = slot;
    if (best && (best.pending.size === 0 || this.slots.length >= this.workersMax)) return best;
    const slot = this.startWorker();
    this.slots.push(slot);
    return slot;
  }

  private startWorker(): Slot {
    const slot: Slot = { worker: spawnWorker(this.level, this.writeTurn), pending: new Map() };
    // An idle worker must not keep the process alive; a busy one must (its caller awaits it).
    slot.worker.unref();
    slot.worker.on('message', (reply: CompressionReply) => {
      const pending = slot.pending.get(reply.id);
      if (!pending) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) slot.worker.unref();
      if (reply.ok) pending.resolve(reply);
      else pending.reject(reply.writeFailed ? new FileWriteError(reply.message, reply.code) : new Error(reply.message));
    });
    const retire = (error: Error) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      failAll(slot, error);
    };
    slot.worker.on('error', (e) => retire(new Error(`compression worker failed: ${e.message}`, { cause: e })));
    slot.worker.on('exit', (code) => retire(new Error(`compression worker exited with code ${code}`)));
    return slot;
  }
}

function failAll(slot: Slot, error: Error): void {
  for (const pending of slot.pending.values()) pending.reject(error);
  slot.pending.clear();
}

/** The worker module sits next to this one (compression-worker.ts under tsx, .js when compiled). */
function spawnWorker(level: number, writeTurn: SharedArrayBuffer): Worker {
  return startWorker(import.meta.url, 'compression-worker', { workerData: { level, writeTurn } });
}

/**
 * A view that owns its whole ArrayBuffer, so transferring it moves exactly these bytes (transferring
 * a view into a larger buffer would move, and detach, all of it). `new Uint8Array(view)` copies;
 * Buffer#slice would not.
 */
function ownedView(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

let shared: CompressionPool | undefined;

/** One pool per process, started on first use; its idle workers do not keep the process alive. */
export function sharedCompressionPool(): CompressionPool {
  shared ??= new CompressionPool();
  return shared;
}
