/**
 * Worker thread of the compression pool: zstd-compresses and decompresses single blocks. zstd-napi
 * runs synchronously on its calling thread, which is why this runs here and never on the server's
 * main thread (deps.md §3). One message in, one reply out, in any order; the pool matches them by id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import zstd from 'zstd-napi/binding.js';
import { DirectBuffer, positionalWriteTo } from '../../util/direct-buffer.js';
import { writeAllSync } from '../../util/file-write.js';
import { type CompressionReply, type CompressionRequest, FileWriteError } from './compression-protocol.js';

const { level, writeTurn } = workerData as { level: number; writeTurn: SharedArrayBuffer };
/** 0: no worker of the pool is writing; 1: one is (see CompressionPool.writeTurn). */
const writing = new Int32Array(writeTurn);

function withWriteTurn<T>(fn: () => T): T {
  while (Atomics.compareExchange(writing, 0, 0, 1) !== 0) Atomics.wait(writing, 0, 1);
  try {
    return fn();
  } finally {
    Atomics.store(writing, 0, 0);
    Atomics.notify(writing, 0, 1);
  }
}
const cctx = new zstd.CCtx();
const dctx = new zstd.DCtx();
let scratch = new Uint8Array(0);

function compress(raw: Uint8Array): { bytes: Uint8Array; compressed: boolean } {
  const bound = zstd.compressBound(raw.length);
  if (scratch.length < bound) scratch = new Uint8Array(bound);
  const storedBytes = cctx.compress(scratch, raw, level);
  // A block that zstd cannot shrink is stored as is: stored bytes never exceed raw bytes.
  if (storedBytes >= raw.length) return { bytes: raw, compressed: false };
  return { bytes: scratch.slice(0, storedBytes), compressed: true };
}

function decompress(stored: Uint8Array, rawBytes: number, into?: Uint8Array): Uint8Array {
  const declared = zstd.getFrameContentSize(stored);
  if (declared !== rawBytes) throw new Error(`zstd frame declares ${declared ?? 'no'} content size, the block header says ${rawBytes} bytes`);
  const frameBytes = zstd.findFrameCompressedSize(stored);
  if (frameBytes !== stored.length) throw new Error(`zstd frame is ${frameBytes} bytes but the block stores ${stored.length}`);
  const raw = into ? into.subarray(0, rawBytes) : new Uint8Array(rawBytes);
  const written = dctx.decompress(raw, stored);
  if (written !== rawBytes) throw new Error(`zstd frame decompressed to ${written} bytes, the block header says ${rawBytes}`);
  return raw;
}

/** Reused output buffer of decompressTo: the bytes go to the file, never back to the caller. */
let writeScratch = new Uint8Array(0);

/** Decompresses one block and writes it at its place in the file, so the bytes never cross back to the calling thread. */
async function decompressTo(stored: Uint8Array, rawBytes: number, fd: number, position: number, directFd: number | undefined): Promise<void> {
  if (directFd !== undefined && direct.usable && (await decompressToDirect(stored, rawBytes, directFd, position))) return;
  if (writeScratch.length < rawBytes) writeScratch = new Uint8Array(rawBytes);
  const raw = decompress(stored, rawBytes, writeScratch);
  try {
    withWriteTurn(() => writeAllSync(fd, raw, position));
  } catch (e) {
    throw FileWriteError.of(e);
  }
}

/**
 * O_DIRECT writes: the bytes go from a worker's buffer to the disk without being copied into the
 * page cache. On this project's VM that copy was the largest cost of a restore, and the slowest to
 * predict (docs/performance.md, "Restore"); a restore also no longer pushes a running server's store
 * out of the page cache. How the buffers get aligned: util/direct-buffer.ts. When O_DIRECT refuses a
 * write, this worker writes through the page cache from then on.
 *
 * Two buffers per worker, and the write itself runs asynchronously (on libuv's thread pool), so the
 * worker decompresses the next block while the disk takes the last one: measured, each worker spent
 * as long waiting for its write as decompressing. The kernel orders O_DIRECT writes that extend a
 * file on its own (they sleep on the inode lock while the disk works, rather than spin), so these
 * writes need no write turn.
 */
/** A buffer slot; its buffer is made on first use and replaced when a larger block comes. */
interface DirectSlot {
  buffer?: DirectBuffer;
}
const direct = { usable: true, free: [] as DirectSlot[], created: 0, waiting: [] as Array<(slot: DirectSlot) => void> };
const directSlotsMax = 2;

function acquireDirectSlot(): Promise<DirectSlot> | DirectSlot {
  const free = direct.free.pop();
  if (free) return free;
  if (direct.created < directSlotsMax) {
    direct.created += 1;
    return {};
  }
  return new Promise((resolve) => direct.waiting.push(resolve));
}

function releaseDirectSlot(slot: DirectSlot): void {
  const next = direct.waiting.shift();
  if (next) next(slot);
  else direct.free.push(slot);
}

/** Decompresses one block and writes it with O_DIRECT; false when this worker cannot (then nothing was written). */
async function decompressToDirect(stored: Uint8Array, rawBytes: number, directFd: number, position: number): Promise<boolean> {
  const slot = await acquireDirectSlot();
  try {
    if (!slot.buffer || slot.buffer.capacity < rawBytes) slot.buffer = new DirectBuffer(rawBytes);
    decompress(stored, rawBytes, slot.buffer.view(rawBytes));
    if (!direct.usable) return false;
    let written: boolean;
    try {
      written = await slot.buffer.write(positionalWriteTo(directFd), rawBytes, position);
    } catch (e) {
      throw FileWriteError.of(e);
    }
    if (!written) direct.usable = false;
    return written;
  } finally {
    releaseDirectSlot(slot);
  }
}

/** decompressTo runs asynchronously (its O_DIRECT write overlaps the next block's decompression). */
async function handleDecompressTo(request: CompressionRequest & { op: 'decompressTo' }): Promise<CompressionReply> {
  try {
    await decompressTo(request.bytes, request.rawBytes, request.fd, request.position, request.directFd);
    return { id: request.id, ok: true, bytes: new Uint8Array(0), compressed: false };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return e instanceof FileWriteError ? { id: request.id, ok: false, message, writeFailed: true, ...(e.code === undefined ? {} : { code: e.code }) } : { id: request.id, ok: false, message };
  }
}

function handle(request: CompressionRequest): { reply: CompressionReply; transfer: ArrayBuffer[] } {
  try {
    if (request.op === 'decompressTo') throw new Error('decompressTo is handled asynchronously');
    const result = request.op === 'compress'
      ? compress(request.bytes)
      : { bytes: decompress(request.bytes, request.rawBytes), compressed: false };
    const bytes = ownedCopy(result.bytes);
    return { reply: { id: request.id, ok: true, bytes, compressed: result.compressed }, transfer: [bytes.buffer as ArrayBuffer] };
  } catch (e) {
    return { reply: { id: request.id, ok: false, message: e instanceof Error ? e.message : String(e) }, transfer: [] };
  }
}

/** A view that owns its whole ArrayBuffer, so transferring it moves exactly these bytes. */
function ownedCopy(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

const port = parentPort;
if (!port) throw new Error('compression-worker must run in a worker thread');
port.on('message', (request: CompressionRequest) => {
  if (request.op === 'decompressTo') {
    void handleDecompressTo(request).then((reply) => port.postMessage(reply));
    return;
  }
  const { reply, transfer } = handle(request);
  port.postMessage(reply, transfer);
});
