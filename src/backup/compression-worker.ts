/**
 * Worker thread of the compression pool: zstd-compresses and decompresses single blocks. zstd-napi
 * runs synchronously on its calling thread, which is why this runs here and never on the server's
 * main thread (deps.md §3). One message in, one reply out, in any order; the pool matches them by id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import zstd from 'zstd-napi/binding.js';
import { writeSync } from 'node:fs';
import { writeAllSync } from '../util/file-write.js';
import type { CompressionReply, CompressionRequest } from './compression-protocol.js';

const { level, writeTurn } = workerData as { level: number; writeTurn: SharedArrayBuffer };
/** 0: no worker of the pool is writing; 1: one is (see CompressionPool.writeTurn). */
const writing = new Int32Array(writeTurn);

function withWriteTurn<T>(write: () => T): T {
  while (Atomics.compareExchange(writing, 0, 0, 1) !== 0) Atomics.wait(writing, 0, 1);
  try {
    return write();
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
function decompressTo(stored: Uint8Array, rawBytes: number, fd: number, position: number, directFd: number | undefined): void {
  if (directFd !== undefined && direct.usable && decompressToDirect(stored, rawBytes, directFd, position)) return;
  if (writeScratch.length < rawBytes) writeScratch = new Uint8Array(rawBytes);
  const raw = decompress(stored, rawBytes, writeScratch);
  withWriteTurn(() => writeAllSync(fd, raw, position));
}

/**
 * O_DIRECT writes: the bytes go from this buffer to the disk without being copied into the page
 * cache. On this project's VM that copy was the largest cost of a restore, and the slowest to
 * predict (docs/performance.md, "Restore"); a restore also no longer pushes a running server's
 * store out of the page cache. O_DIRECT needs the buffer's address aligned to the device's block size,
 * and JavaScript cannot ask for an aligned buffer: so the worker over-allocates by 4 KiB and tries
 * start offsets (16 bytes apart, malloc's alignment) until a write is accepted. A rejected O_DIRECT
 * write (EINVAL) writes nothing; the bytes are moved to the next offset and tried again. When no
 * offset works, the worker writes through the page cache from then on.
 */
const direct = { usable: true, buffer: new Uint8Array(0), offset: -1 };
const directAlignmentMax = 4096;
const mallocAlignment = 16;

function decompressToDirect(stored: Uint8Array, rawBytes: number, directFd: number, position: number): boolean {
  if (direct.buffer.length < rawBytes + directAlignmentMax) {
    direct.buffer = new Uint8Array(rawBytes + directAlignmentMax);
    direct.offset = -1;
  }
  let offset = direct.offset < 0 ? 0 : direct.offset;
  decompress(stored, rawBytes, direct.buffer.subarray(offset));
  return withWriteTurn(() => {
    for (;;) {
      try {
        let done = 0;
        while (done < rawBytes) done += writeSync(directFd, direct.buffer, offset + done, rawBytes - done, position + done);
        direct.offset = offset;
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        if (direct.offset >= 0 || offset + mallocAlignment >= directAlignmentMax) {
          // The found offset stopped working (a length or position the device rejects) or none
          // works: page cache from now on, for this block too.
          direct.usable = false;
          return false;
        }
        direct.buffer.copyWithin(offset + mallocAlignment, offset, offset + rawBytes);
        offset += mallocAlignment;
      }
    }
  });
}

function handle(request: CompressionRequest): { reply: CompressionReply; transfer: ArrayBuffer[] } {
  try {
    if (request.op === 'decompressTo') {
      decompressTo(request.bytes, request.rawBytes, request.fd, request.position, request.directFd);
      return { reply: { id: request.id, ok: true, bytes: new Uint8Array(0), compressed: false }, transfer: [] };
    }
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
  const { reply, transfer } = handle(request);
  port.postMessage(reply, transfer);
});
