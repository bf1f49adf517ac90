/**
 * Reads a consistent snapshot of a store (one LMDB read transaction) as snapshot-v1 chunks.
 * `emit` may wait (back-pressure): the read transaction stays open until the last chunk.
 * The backup service runs this in a worker thread; aggregate-backup runs it in-process.
 */
import { open } from 'lmdb';
import { subDbNames } from '../storage/store.js';
import { decodeValue } from '../values/codec.js';
import { SnapshotEncoder, type SnapshotFinish } from './snapshot-format.js';

export interface SnapshotStart {
  txId: number;
  txChecksum: number;
  txTimeMs: number;
}

export async function readStoreSnapshot(
  storeDir: string,
  chunkBytes: number,
  onStart: (s: SnapshotStart) => void,
  emit: (chunk: Buffer) => Promise<void>,
  isCancelled: () => boolean = () => false,
): Promise<SnapshotFinish | null> {
  const env = open({ path: storeDir, maxDbs: 16, compression: false });
  // Every sub-database must be opened before the read transaction starts: LMDB does not let a
  // transaction use a database handle opened after it began.
  const meta = env.openDB({ name: 'meta', encoding: 'binary' });
  const dbis = subDbNames.map((name) => [name, env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' })] as const);
  const txn = env.useReadTransaction();
  try {
    const num = (k: string) => Number(decodeValue((meta as any).getBinary(k, { transaction: txn })) as bigint);
    const start = { txId: num('lastTxId'), txChecksum: num('lastTxChecksum'), txTimeMs: num('lastTxTimeMs') };
    onStart(start);
    const outbox: Buffer[] = [];
    const enc = new SnapshotEncoder(chunkBytes, (chunk) => outbox.push(Buffer.from(chunk)));
    const drain = async () => {
      while (outbox.length && !isCancelled()) await emit(outbox.shift()!);
    };
    let total = 0;
    for (const [name, dbi] of dbis) {
      enc.section(name);
      let count = 0;
      for (const { key, value } of dbi.getRange({ transaction: txn } as any)) {
        enc.entry(key as unknown as Buffer, value as Buffer);
        count++;
        if (outbox.length) {
          await drain();
          if (isCancelled()) return null;
        }
      }
      enc.sectionEnd(count);
      total += count;
    }
    const finish = { ...start, totalEntries: total };
    enc.finish(finish);
    await drain();
    return isCancelled() ? null : finish;
  } finally {
    txn.done();
    await env.close();
  }
}
