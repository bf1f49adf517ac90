/**
 * Worker thread of the compression pool: zstd-compresses and decompresses single blocks. zstd-napi
 * runs synchronously on its calling thread, which is why this runs here and never on the server's
 * main thread (deps.md §3). One message in, one reply out, in any order; the pool matches them by id.
 */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import zstd from 'zstd-napi/binding.js';
import type { CompressionReply, CompressionRequest } from './compression-protocol.js';

const level = (workerData as { level: number }).level;
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
function decompressTo(stored: Uint8Array, rawBytes: number, fd: number, position: number): void {
  if (writeScratch.length < rawBytes) writeScratch = new Uint8Array(rawBytes);
  const raw = decompress(stored, rawBytes, writeScratch);
  let done = 0;
  while (done < raw.length) done += writeSync(fd, raw, done, raw.length - done, position + done);
}

function handle(request: CompressionRequest): { reply: CompressionReply; transfer: ArrayBuffer[] } {
  try {
    if (request.op === 'decompressTo') {
      decompressTo(request.bytes, request.rawBytes, request.fd, request.position);
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
