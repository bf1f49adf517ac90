/**
 * The store image (payload format "lmdb-pages-v1", docs/backup-format.md): the used pages of a
 * store's LMDB data file, as they stand at one transaction, cut into artifact blocks. The backup
 * service reads it from a live store while writes go on; aggregate-backup reads it from a closed one.
 *
 * Consistency without stopping writers: Quiver applies every write to LMDB on the main thread
 * (Database.applyCommitted), a large one in several LMDB transactions with pauses between them;
 * `Database.whenStoreIdle` runs the capture when no apply is under way. At such a moment `captureLiveImage` takes a read transaction, reads the two meta pages and notes the Quiver
 * transaction the store holds; from then on LMDB cannot reuse any page the newest meta reaches
 * (a reader may still see it), so reading those pages later, while new writes land on other pages,
 * yields exactly the store at that transaction. The copied meta pages replace the live ones.
 *
 * Pages that LMDB's free list names at that transaction go out as zeros (storage/lmdb-pages.ts):
 * nothing reaches them, and they may hold deleted records. Both meta pages of the image name the
 * captured transaction (storage/lmdb-image.ts), so no way of opening it can reach a blanked page.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Database } from '../../kernel/database.js';
import { headReadBytes, imageHead, type ImageHead } from '../../storage/lmdb-image.js';
import type { CpuPriority } from '../../util/cpu-priority.js';
import { startWorker } from '../../util/worker-path.js';
import { compressionWorkersMax, zstdLevelDefault } from '../limits.js';

export { storeImagePayloadFormat } from '../artifact/payload-formats.js';

/** Blocks each worker may have read ahead of the consumer. */
const creditsPerWorker = 3;

export interface ImageTx {
  txId: number;
  txChecksum: number;
  txTimeMs: number;
}

/** A store image ready to be read: an open data file, the head to put in front, and what holds it consistent. */
export interface StoreImageSnapshot {
  head: ImageHead;
  tx: ImageTx;
  fd: number;
  /** Bytes the image holds: pageCount × pageSize. */
  bytes: number;
  /** Closes the file and ends the read transaction; call once every reader is done. */
  release(): void;
}

/**
 * Takes the image of a live database's store at its last acknowledged transaction: first the store
 * applies the transactions it lags behind (Database.applyCommitted), then the capture runs in one
 * go on the thread that applies writes (the server's main thread): see the module comment.
 */
export async function captureLiveImage(db: Database): Promise<StoreImageSnapshot> {
  // Never between two slices of a large apply: the store then holds part of a transaction.
  return db.whenStoreIdle(() => {
    const store = db.store;
    const txn = store.env.useReadTransaction();
    const endTransaction = () => {
      try {
        txn.done();
      } catch {
        // The database was stopped or dropped meanwhile: closing its store ended the transaction.
      }
    };
    try {
      const meta = store.meta();
      return openImage(store.path, { txId: meta.lastTxId, txChecksum: meta.lastTxChecksum, txTimeMs: meta.lastTxTimeMs }, endTransaction);
    } catch (e) {
      endTransaction();
      throw e;
    }
  });
}

/** The image of a store no process has open (aggregate-backup's staged store). */
export function openClosedImage(storeDir: string, tx: ImageTx): StoreImageSnapshot {
  return openImage(storeDir, tx, () => undefined);
}

/** Opens the data file and reads its head; `onRelease` runs once, after the file is closed. */
function openImage(storeDir: string, tx: ImageTx, onRelease: () => void): StoreImageSnapshot {
  const fd = openSync(join(storeDir, 'data.mdb'), 'r');
  try {
    const head = imageHead(readHead(fd), fstatSync(fd).size);
    let released = false;
    return {
      head,
      tx,
      fd,
      bytes: head.pageCount * head.pageSize,
      release: () => {
        if (released) return;
        released = true;
        closeSync(fd);
        onRelease();
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readHead(fd: number): Buffer {
  const head = Buffer.alloc(headReadBytes);
  const n = readSync(fd, head, 0, head.length, 0);
  return head.subarray(0, n);
}

export interface ImageReadOptions {
  blockRawBytes: number;
  compress: boolean;
  /** Bytes of store per second, 0 for unlimited (server.backup.max_rate). */
  maxRateBytesPerSec: number;
  workers?: number;
  level?: number;
  /** Default 'idle'. */
  priority?: BackupCpuPriority;
  /** Send the pages LMDB lists as free as zeros (default true; storage/lmdb-pages.ts says why). */
  blankFreePages?: boolean;
  /** Told once how many pages went out as zeros, or why none did (the free list did not parse). */
  onFreePages?: (report: FreePagesReport) => void;
}

export interface FreePagesReport {
  /** Pages sent as zeros. */
  pages: number;
  /** Set when the free list could not be read: every page was then copied as found. */
  problem?: string;
}

/** One encoded artifact block (16-byte block header, then the stored bytes) and the raw bytes it holds. */
export interface EncodedBlock {
  index: number;
  rawBytes: number;
  encoded: Buffer;
}

/** A block of a store image as the reader made it. */
export interface ImageBlock extends EncodedBlock {
  /** Bytes read from the data file for it: the raw bytes less the free pages sent as zeros. */
  readBytes: number;
}

export interface StoreImageWorkerInput {
  fd: number;
  pageSize: number;
  pageCount: number;
  metaPages: Uint8Array;
  blockRawBytes: number;
  compress: boolean;
  level: number;
  workerIndex: number;
  workerCount: number;
  maxRateBytesPerSec: number;
  creditsInitial: number;
  priority: BackupCpuPriority;
  blankFreePages: boolean;
}

/** How the image workers compete for the CPU (server.backup.cpu_priority, util/cpu-priority.ts). */
export type BackupCpuPriority = CpuPriority;

export type StoreImageWorkerMessage =
  | { type: 'block'; index: number; rawBytes: number; readBytes: number; encoded: Uint8Array }
  | ({ type: 'free-pages' } & FreePagesReport)
  | { type: 'done' }
  | { type: 'error'; message: string };

/**
 * Reads the image's blocks in worker threads and yields them in order. Stopping the iteration early
 * (break, throw, return) stops the workers. The snapshot is not released here: the caller owns it.
 */
export async function* readImageBlocks(snapshot: StoreImageSnapshot, options: ImageReadOptions): AsyncGenerator<ImageBlock> {
  const blockCount = Math.ceil(snapshot.bytes / options.blockRawBytes);
  const workerCount = Math.max(1, Math.min(options.workers ?? Math.min(compressionWorkersMax, availableParallelism()), blockCount));
  const arrived = new Map<number, ImageBlock>();
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const workers: Worker[] = [];
  for (let workerIndex = 0; workerIndex < workerCount; workerIndex++) {
    const input: StoreImageWorkerInput = {
      fd: snapshot.fd,
      pageSize: snapshot.head.pageSize,
      pageCount: snapshot.head.pageCount,
      metaPages: snapshot.head.metaPages,
      blockRawBytes: options.blockRawBytes,
      compress: options.compress,
      level: options.level ?? zstdLevelDefault,
      workerIndex,
      workerCount,
      maxRateBytesPerSec: options.maxRateBytesPerSec,
      creditsInitial: creditsPerWorker,
      priority: options.priority ?? 'idle',
      blankFreePages: options.blankFreePages ?? true,
    };
    const worker = startWorker(import.meta.url, 'store-image-worker', { workerData: input });
    worker.on('message', (m: StoreImageWorkerMessage) => {
      if (m.type === 'block') arrived.set(m.index, { index: m.index, rawBytes: m.rawBytes, readBytes: m.readBytes, encoded: Buffer.from(m.encoded.buffer, m.encoded.byteOffset, m.encoded.byteLength) });
      else if (m.type === 'free-pages') options.onFreePages?.({ pages: m.pages, ...(m.problem === undefined ? {} : { problem: m.problem }) });
      else if (m.type === 'error') failure ??= new Error(`reading the store image failed: ${m.message}`);
      notify();
    });
    worker.on('error', (e) => {
      failure ??= new Error(`store image worker failed: ${e.message}`, { cause: e });
      notify();
    });
    worker.on('exit', (code) => {
      if (code !== 0) failure ??= new Error(`store image worker exited with code ${code}`);
      notify();
    });
    workers.push(worker);
  }
  try {
    for (let next = 0; next < blockCount; next++) {
      let block = arrived.get(next);
      while (block === undefined) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        block = arrived.get(next);
      }
      arrived.delete(next);
      workers[next % workerCount]!.postMessage({ type: 'credit' });
      yield block;
    }
  } finally {
    // Terminated before the caller may close the file: a worker must never read a closed (or reused) descriptor.
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
