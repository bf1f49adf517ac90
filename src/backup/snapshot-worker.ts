/**
 * Worker thread of the backup service: reads a consistent snapshot of one store and sends it to
 * the main thread in chunks. Running here keeps the server's event loop free; credits from the
 * main thread bound the chunks in flight (back-pressure), and an optional byte rate limit keeps
 * the backup from crowding out foreground work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readStoreSnapshot } from './snapshot-reader.js';

interface Input {
  storeDir: string;
  chunkBytes: number;
  maxRateBytesPerSec: number;
  creditsInitial: number;
}

const input = workerData as Input;
const port = parentPort!;
let credits = input.creditsInitial;
let cancelled = false;
let wake: (() => void) | null = null;

port.on('message', (m: { type: 'credit' | 'cancel'; n?: number }) => {
  if (m.type === 'credit') credits += m.n ?? 1;
  if (m.type === 'cancel') cancelled = true;
  wake?.();
  wake = null;
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const started = Date.now();
let sentBytes = 0;

async function emit(chunk: Buffer): Promise<void> {
  while (credits <= 0 && !cancelled) await new Promise<void>((r) => (wake = r));
  if (cancelled) return;
  credits--;
  const ab = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length) as ArrayBuffer;
  port.postMessage({ type: 'chunk', data: ab }, [ab]);
  sentBytes += chunk.length;
  if (input.maxRateBytesPerSec > 0) {
    const dueMs = (sentBytes / input.maxRateBytesPerSec) * 1000 - (Date.now() - started);
    if (dueMs > 1) await sleep(dueMs);
  }
}

readStoreSnapshot(input.storeDir, input.chunkBytes, (s) => port.postMessage({ type: 'start', ...s }), emit, () => cancelled)
  .then((finish) => {
    if (finish) port.postMessage({ type: 'done' });
  })
  .catch((e) => port.postMessage({ type: 'error', message: (e as Error).message }));
