/**
 * Worker thread that reads a consistent snapshot of one store (one LMDB read transaction) and
 * sends it to the main thread as snapshot-v1 chunks. Running here keeps the server's event loop
 * free; credits from the main thread bound the chunks in flight (back-pressure), and an optional
 * byte rate limit keeps the backup from crowding out foreground work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open } from 'lmdb';
import { subDbNames } from '../storage/store.js';
import { decodeValue } from '../values/codec.js';
import { SnapshotEncoder } from './snapshot-format.js';

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

async function run(): Promise<void> {
  const env = open({ path: input.storeDir, maxDbs: 16, compression: false });
  const txn = env.useReadTransaction();
  try {
    const meta = env.openDB({ name: 'meta', encoding: 'binary' });
    const num = (k: string) => Number(decodeValue((meta as any).getBinary(k, { transaction: txn })) as bigint);
    const txId = num('lastTxId');
    const txChecksum = num('lastTxChecksum');
    const txTimeMs = num('lastTxTimeMs');
    port.postMessage({ type: 'start', txId, txChecksum, txTimeMs });

    const outbox: Buffer[] = [];
    const enc = new SnapshotEncoder(input.chunkBytes, (chunk) => outbox.push(Buffer.from(chunk)));
    const started = Date.now();
    let sentBytes = 0;
    const drain = async () => {
      while (outbox.length) {
        while (credits <= 0 && !cancelled) await new Promise<void>((r) => (wake = r));
        if (cancelled) return;
        const chunk = outbox.shift()!;
        credits--;
        const ab = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length);
        port.postMessage({ type: 'chunk', data: ab }, [ab as ArrayBuffer]);
        sentBytes += chunk.length;
        if (input.maxRateBytesPerSec > 0) {
          const dueMs = (sentBytes / input.maxRateBytesPerSec) * 1000 - (Date.now() - started);
          if (dueMs > 1) await sleep(dueMs);
        }
      }
    };

    let total = 0;
    for (const name of subDbNames) {
      const dbi = env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' });
      enc.section(name);
      let count = 0;
      for (const { key, value } of dbi.getRange({ transaction: txn } as any)) {
        enc.entry(key as unknown as Buffer, value as Buffer);
        count++;
        if (outbox.length) {
          await drain();
          if (cancelled) return;
        }
      }
      enc.sectionEnd(count);
      total += count;
    }
    enc.finish({ txId, txChecksum, txTimeMs, totalEntries: total });
    await drain();
    if (!cancelled) port.postMessage({ type: 'done' });
  } finally {
    txn.done();
    await env.close();
  }
}

run().catch((e) => port.postMessage({ type: 'error', message: (e as Error).message }));
