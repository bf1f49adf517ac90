/**
 * Bulk-loads a store from a snapshot stream: raw key/value pairs per sub-database, in key order,
 * into a fresh LMDB environment, many entries per LMDB transaction. Every put is checked (an
 * out-of-order append silently returns false in lmdb-js).
 *
 * The load is not durable until `close()`: the environment is opened with `noSync` (no fsync per
 * commit) and `close()` fsyncs data.mdb once at the end. A crash in between leaves a half-loaded
 * folder, which restore never uses (it builds in a staging folder and moves it into place only
 * when complete). Entries are staged by copying their bytes into one reused buffer rather than one
 * Buffer each, so a load allocates almost nothing per entry (garbage collection took a third of
 * the restore time before; docs/performance.md, "Restore").
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { QuiverError } from '../util/errors.js';
import { subDbNames, type SubDbName } from './store.js';

/** Entries per LMDB write transaction at most: large enough to amortise commits. */
const loadBatchEntries = 50_000;
/** Key and value bytes staged per LMDB write transaction at most: bounds the loader's memory. */
const loadBatchBytes = 8 * 1024 * 1024;

export class StoreLoader {
  private readonly env: RootDatabase;
  private readonly dbs = new Map<string, Database<Buffer, Buffer>>();
  private current: Database<Buffer, Buffer> | null = null;
  /** Staged entries of `current`: key and value bytes back to back, with their end offsets. */
  private readonly staged = Buffer.allocUnsafeSlow(loadBatchBytes);
  private readonly stagedEnds = new Uint32Array(loadBatchEntries * 2);
  private stagedBytes = 0;
  private stagedEntries = 0;
  private closed = false;
  entries = 0;

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    if (readdirSync(path).length > 0) throw new QuiverError('DestinationExists', `cannot load a store into "${path}": the folder is not empty`);
    this.env = open({ path, maxDbs: 16, compression: false, noSync: true });
    for (const name of subDbNames) this.dbs.set(name, this.env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' }) as unknown as Database<Buffer, Buffer>);
  }

  section(name: string): void {
    const db = this.dbs.get(name);
    if (!db) throw new QuiverError('ArtifactCorrupt', `snapshot names an unknown sub-database "${name}"`);
    this.flush();
    this.current = db;
  }

  /** Stages one entry; `key` and `value` are copied, so the caller may reuse their memory. */
  entry(key: Uint8Array, value: Uint8Array): void {
    if (!this.current) throw new QuiverError('ArtifactCorrupt', 'snapshot entry outside a section');
    const bytes = key.length + value.length;
    if (this.stagedEntries === loadBatchEntries || this.stagedBytes + bytes > this.staged.length) this.flush();
    if (bytes > this.staged.length) {
      // Larger than the staging buffer: load it on its own, straight from the caller's memory.
      this.load((put) => put(key, value));
      return;
    }
    this.staged.set(key, this.stagedBytes);
    this.stagedBytes += key.length;
    this.stagedEnds[2 * this.stagedEntries] = this.stagedBytes;
    this.staged.set(value, this.stagedBytes);
    this.stagedBytes += value.length;
    this.stagedEnds[2 * this.stagedEntries + 1] = this.stagedBytes;
    this.stagedEntries++;
  }

  flush(): void {
    if (this.stagedEntries === 0) return;
    const { staged, stagedEnds } = this;
    const count = this.stagedEntries;
    this.load((put) => {
      let start = 0;
      for (let i = 0; i < count; i++) {
        const keyEnd = stagedEnds[2 * i]!;
        const valueEnd = stagedEnds[2 * i + 1]!;
        put(staged.subarray(start, keyEnd), staged.subarray(keyEnd, valueEnd));
        start = valueEnd;
      }
    });
    this.stagedEntries = 0;
    this.stagedBytes = 0;
  }

  /** One LMDB write transaction of appends to the current sub-database. */
  private load(fill: (put: (key: Uint8Array, value: Uint8Array) => void) => void): void {
    const db = this.current!;
    this.env.transactionSync(() => {
      fill((key, value) => {
        if (!(db.putSync(key as Buffer, value as Buffer, { append: true } as any) as unknown as boolean)) {
          throw new QuiverError('ArtifactCorrupt', `snapshot entries are out of order in a sub-database (entry ${this.entries})`);
        }
        this.entries++;
      });
    });
  }

  /** Loads what is staged, closes the environment and makes the whole load durable (one fsync). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      await this.env.close();
    }
    // The file, then its folder entry (the folder is new).
    for (const path of [join(this.path, 'data.mdb'), this.path]) {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  static subDbNames(): readonly SubDbName[] {
    return subDbNames;
  }
}
