/**
 * Reads a consistent snapshot of a store (one LMDB read transaction) as snapshot-v1 chunks.
 * `emit` may wait (back-pressure): the read transaction stays open until the last chunk.
 * The backup service runs this in a worker thread; aggregate-backup runs it in-process.
 */
import { open, type RootDatabase } from 'lmdb';
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
  const sink = new RawEntrySink();
  const dbis = subDbNames.map((name) => [name, openRawHandle(env, name, sink)] as const);
  const txn = env.useReadTransaction();
  try {
    const num = (k: string) => Number(decodeValue((meta as any).getBinary(k, { transaction: txn })) as bigint);
    const start = { txId: num('lastTxId'), txChecksum: num('lastTxChecksum'), txTimeMs: num('lastTxTimeMs') };
    onStart(start);
    const outbox: Buffer[] = [];
    // The encoder starts a new buffer after each chunk, so a chunk can be handed on without a copy.
    const enc = new SnapshotEncoder(chunkBytes, (chunk) => outbox.push(chunk));
    sink.encoder = enc;
    const drain = async () => {
      while (outbox.length && !isCancelled()) await emit(outbox.shift()!);
    };
    let total = 0;
    for (const [name, dbi] of dbis) {
      enc.section(name);
      let count = 0;
      for (const _ of dbi.getRange({ transaction: txn } as any)) {
        // The handle's decoders wrote the entry; check that they did, exactly once.
        if (sink.entries !== ++count) throw new Error(`lmdb read ${count} entries of "${name}" but decoded ${sink.entries}: raw read handles no longer match lmdb-js`);
        if (outbox.length) {
          await drain();
          if (isCancelled()) return null;
        }
      }
      enc.sectionEnd(count);
      sink.entries = 0;
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

/** What the raw handles' decoders return instead of a key or value: the entry is already encoded. */
const rawMarker = Object.freeze({ raw: true });

/**
 * Receives each entry from lmdb-js's own reused buffers and encodes it straight into the snapshot
 * chunk. lmdb-js (pinned at 3.5.6) reads an entry by calling the key encoder's `readKey(buffer,
 * start, end)` and then the value decoder's `decode(buffer, size)`; a decoder without
 * `needsStableBuffer` gets the shared read buffer itself. Reading through `encoding: 'binary'`
 * instead allocates and copies a Buffer for every key and every value, which made the snapshot
 * read 3x slower (docs/performance.md, "Backup").
 */
class RawEntrySink {
  encoder: SnapshotEncoder | null = null;
  entries = 0;
  private keySource: Uint8Array | null = null;
  private keyStart = 0;
  private keyEnd = 0;

  key(source: Uint8Array, start: number, end: number): void {
    if (this.keySource !== null) throw new Error('lmdb read a key without its value: raw read handles no longer match lmdb-js');
    this.keySource = source;
    this.keyStart = start;
    this.keyEnd = end;
  }

  value(source: Uint8Array, bytes: number): void {
    if (this.keySource === null || this.encoder === null) throw new Error('lmdb read a value without its key: raw read handles no longer match lmdb-js');
    this.encoder.entryFrom(this.keySource, this.keyStart, this.keyEnd, source, bytes);
    this.keySource = null;
    this.entries++;
  }
}

/** A handle on sub-database `name` whose reads feed `sink` (only `getRange` is used on it). */
function openRawHandle(env: RootDatabase, name: string, sink: RawEntrySink) {
  return env.openDB({
    name,
    keyEncoder: {
      writeKey: (key: Uint8Array, target: Uint8Array, start: number) => {
        target.set(key, start);
        return start + key.length;
      },
      readKey: (source: Uint8Array, start: number, end: number) => {
        sink.key(source, start, end);
        return rawMarker;
      },
    },
    encoder: {
      encode: (value: unknown) => value as Buffer,
      decode: (source: Uint8Array, bytes: number) => {
        sink.value(source, bytes);
        return rawMarker;
      },
    },
  } as any);
}
