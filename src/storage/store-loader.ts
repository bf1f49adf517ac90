/**
 * Bulk-loads a store from a snapshot stream: raw key/value pairs per sub-database, in key order,
 * into a fresh LMDB environment, many entries per LMDB transaction. Every put is checked (an
 * out-of-order append silently returns false in lmdb-js).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { QuiverError } from '../util/errors.js';
import { subDbNames, type SubDbName } from './store.js';

/** Entries per LMDB write transaction: large enough to amortise commits, small enough for memory. */
const loadBatchEntries = 50_000;

export class StoreLoader {
  private readonly env: RootDatabase;
  private readonly dbs = new Map<string, Database<Buffer, Buffer>>();
  private batch: Array<[Database<Buffer, Buffer>, Buffer, Buffer]> = [];
  private current: Database<Buffer, Buffer> | null = null;
  entries = 0;

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    if (readdirSync(path).length > 0) throw new QuiverError('DestinationExists', `cannot load a store into "${path}": the folder is not empty`);
    this.env = open({ path, maxDbs: 16, compression: false });
    for (const name of subDbNames) this.dbs.set(name, this.env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' }) as unknown as Database<Buffer, Buffer>);
  }

  section(name: string): void {
    const db = this.dbs.get(name);
    if (!db) throw new QuiverError('ArtifactCorrupt', `snapshot names an unknown sub-database "${name}"`);
    this.flush();
    this.current = db;
  }

  entry(key: Buffer, value: Buffer): void {
    if (!this.current) throw new QuiverError('ArtifactCorrupt', 'snapshot entry outside a section');
    // Copy: the parser's buffers are reused.
    this.batch.push([this.current, Buffer.from(key), Buffer.from(value)]);
    if (this.batch.length >= loadBatchEntries) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.env.transactionSync(() => {
      for (const [db, k, v] of batch) {
        if (!(db.putSync(k, v, { append: true } as any) as unknown as boolean)) {
          throw new QuiverError('ArtifactCorrupt', `snapshot entries are out of order in a sub-database (entry ${this.entries})`);
        }
        this.entries++;
      }
    });
  }

  async close(): Promise<void> {
    this.flush();
    await this.env.flushed;
    await this.env.close();
  }

  static subDbNames(): readonly SubDbName[] {
    return subDbNames;
  }
}
