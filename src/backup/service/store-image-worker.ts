/**
 * Worker thread of the store image reader (store-image.ts): reads its share of the blocks of a
 * store's data file (every `workerCount`-th block, starting at `workerIndex`), zstd-compresses each
 * one, and sends it to the main thread as an encoded artifact block. Reading and compressing here
 * keeps the server's event loop free; credits from the main thread bound the blocks in flight.
 *
 * The worker lowers its own scheduling priority (server.backup.cpu_priority): on a busy server,
 * foreground queries win the CPU and the backup takes what is left; on an idle one it still gets
 * every spare cycle.
 */
import { parentPort, workerData } from 'node:worker_threads';
import zstd from 'zstd-napi/binding.js';
import { blockFlagZstd, encodeBlockHeader } from '../artifact/artifact-block.js';
import { lowerThreadPriority } from '../../util/cpu-priority.js';
import { readAllSync } from '../../util/file-write.js';
import { pause, RatePacer } from './rate-pacer.js';
import { freePageRuns, metaDbRoot, PageFile, runPages, type PageRun } from '../../storage/lmdb-pages.js';
import type { StoreImageWorkerInput, StoreImageWorkerMessage } from './store-image.js';

const input = workerData as StoreImageWorkerInput;
const port = parentPort!;
let credits = input.creditsInitial;
let cancelled = false;
let wake: (() => void) | null = null;

port.on('message', (m: { type: 'credit' | 'cancel' }) => {
  if (m.type === 'credit') credits += 1;
  if (m.type === 'cancel') cancelled = true;
  wake?.();
  wake = null;
});

function post(message: StoreImageWorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/**
 * The pages to send as zeros: those the free-space database lists at the image's transaction
 * (storage/lmdb-pages.ts). When the list does not parse, every page is copied as found, as before
 * free pages were blanked: still a correct image, only larger; the main thread logs why.
 */
function freeRuns(): PageRun[] {
  if (!input.blankFreePages) return [];
  try {
    const runs = freePageRuns(new PageFile(input.fd, input.pageSize, input.pageCount), metaDbRoot(input.metaPages, 0, 0));
    if (input.workerIndex === 0) post({ type: 'free-pages', pages: runPages(runs) });
    return runs;
  } catch (e) {
    if (input.workerIndex === 0) post({ type: 'free-pages', pages: 0, problem: e instanceof Error ? e.message : String(e) });
    return [];
  }
}

/**
 * Fills `raw` (the file's bytes from `start` on) by reading only the bytes outside the free `runs`
 * and zeroing the others; returns the bytes read. `cursor` is the first run that may still matter:
 * runs are sorted and each worker reads its blocks in increasing order.
 */
function readBlock(raw: Buffer, start: number, runs: PageRun[], cursor: { run: number }): number {
  const pageSize = input.pageSize;
  const end = start + raw.length;
  while (cursor.run < runs.length && (runs[cursor.run]!.start + runs[cursor.run]!.count) * pageSize <= start) cursor.run++;
  let at = start;
  let read = 0;
  for (let r = cursor.run; at < end; r++) {
    const run = r < runs.length ? runs[r]! : null;
    const liveEnd = run ? Math.min(Math.max(run.start * pageSize, at), end) : end;
    if (liveEnd > at) {
      readRange(raw, at - start, liveEnd - at, at);
      read += liveEnd - at;
    }
    at = liveEnd;
    if (!run || at >= end) break;
    const freeEnd = Math.min((run.start + run.count) * pageSize, end);
    raw.fill(0, at - start, freeEnd - start);
    at = freeEnd;
  }
  return read;
}

function readRange(raw: Buffer, at: number, length: number, position: number): void {
  const n = readAllSync(input.fd, raw, at, length, position);
  if (n < length) throw new Error(`the data file ended at byte ${position + n}, before page ${input.pageCount} (it shrank while being read)`);
}

async function run(): Promise<void> {
  lowerThreadPriority(input.priority);
  const runs = freeRuns();
  const cursor = { run: 0 };
  const totalBytes = input.pageCount * input.pageSize;
  const blockCount = Math.ceil(totalBytes / input.blockRawBytes);
  const cctx = input.compress ? new zstd.CCtx() : null;
  const scratch = cctx ? new Uint8Array(zstd.compressBound(input.blockRawBytes)) : null;
  // server.backup.max_rate, shared evenly by the workers.
  const pacer = new RatePacer(input.maxRateBytesPerSec / input.workerCount);
  for (let index = input.workerIndex; index < blockCount; index += input.workerCount) {
    while (credits <= 0 && !cancelled) await new Promise<void>((resolve) => (wake = resolve));
    if (cancelled) return;
    credits -= 1;
    const start = index * input.blockRawBytes;
    const raw = Buffer.allocUnsafe(Math.min(input.blockRawBytes, totalBytes - start));
    const blockReadBytes = readBlock(raw, start, runs, cursor);
    // The meta pages come from the moment the snapshot was taken, not from the live file.
    if (start < input.metaPages.length) Buffer.from(input.metaPages).copy(raw, 0, start, Math.min(input.metaPages.length, start + raw.length));
    let stored: Uint8Array = raw;
    let flags = 0;
    if (cctx && scratch) {
      const n = cctx.compress(scratch, raw, input.level);
      // A block zstd cannot shrink is stored raw: stored bytes never exceed raw bytes.
      if (n < raw.length) {
        stored = scratch.subarray(0, n);
        flags = blockFlagZstd;
      }
    }
    const header = encodeBlockHeader(raw.length, flags, stored);
    const encoded = new Uint8Array(header.length + stored.length);
    encoded.set(header, 0);
    encoded.set(stored, header.length);
    // server.backup.max_rate: a block leaves only once the bytes read, this one's included, fit the
    // rate. Free pages are not read, so a stretch of them costs no waiting.
    const wait = pacer.delayAfter(blockReadBytes);
    if (wait > 1) {
      await pause(wait);
      if (cancelled) return;
    }
    post({ type: 'block', index, rawBytes: raw.length, readBytes: blockReadBytes, encoded }, [encoded.buffer as ArrayBuffer]);
  }
  post({ type: 'done' });
}

run().catch((e) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
