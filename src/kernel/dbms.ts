/**
 * The DBMS: hosts the `system` database and the user databases. Which databases exist, their ids
 * and whether they should be online is recorded as `:Database` nodes in `system`, so that every
 * change is a transaction in the system database's own log (and is backed up with it).
 */
import { rmSync } from 'node:fs';
import { QuiverError } from '../util/errors.js';
import type { WriteTransaction } from './api.js';
import { Database, type DatabaseSettings, locateDatabase, storeExists } from './database.js';
import { normalizeDatabaseName, systemDatabaseName } from './database-name.js';

export interface DbmsOptions {
  dataDir: string;
  txRoot: string;
  defaultDatabase: string;
  settings: DatabaseSettings;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export type DatabaseStatus = 'online' | 'offline';

export interface DatabaseEntry {
  name: string;
  databaseId: string;
  requestedStatus: DatabaseStatus;
  currentStatus: DatabaseStatus | 'failed';
  statusMessage: string;
  isDefault: boolean;
  creationTimeMs: number;
  lastStartTimeMs: number | null;
  lastStopTimeMs: number | null;
}

const registryLabel = 'Database';

export class Dbms {
  private readonly online = new Map<string, Database>();
  private readonly failures = new Map<string, string>();
  private readonly startTimes = new Map<string, number>();
  private readonly stopTimes = new Map<string, number>();
  private system!: Database;

  private constructor(private readonly opts: DbmsOptions) {}

  static async start(opts: DbmsOptions): Promise<Dbms> {
    const dbms = new Dbms(opts);
    await dbms.boot();
    return dbms;
  }

  private warn = (m: string): void => this.opts.log('warn', m);

  private location(name: string) {
    return locateDatabase(this.opts.dataDir, this.opts.txRoot, name);
  }

  private async boot(): Promise<void> {
    const sysLoc = this.location(systemDatabaseName);
    const firstStart = !storeExists(sysLoc);
    this.system = firstStart
      ? await Database.create(systemDatabaseName, sysLoc, this.opts.settings, this.warn)
      : Database.open(systemDatabaseName, sysLoc, this.opts.settings, this.warn);
    this.online.set(systemDatabaseName, this.system);
    this.startTimes.set(systemDatabaseName, Date.now());
    if (firstStart) {
      const defaultName = normalizeDatabaseName(this.opts.defaultDatabase);
      const tx = await this.system.beginWrite();
      this.registerInTx(tx, systemDatabaseName, this.system.databaseId, true);
      await tx.commit();
      this.opts.log('info', `first start: created the system database`);
      await this.createDatabase(defaultName, { ifNotExists: true, isDefault: true });
    }
    for (const entry of this.entries()) {
      if (entry.name === systemDatabaseName || entry.requestedStatus !== 'online' || this.online.has(entry.name)) continue;
      this.openRegistered(entry.name, entry.databaseId);
    }
  }

  private openRegistered(name: string, expectedId: string): void {
    try {
      const db = Database.open(name, this.location(name), this.opts.settings, this.warn);
      if (db.databaseId !== expectedId) {
        // A store restored over an existing database keeps the backed-up id; adopt it.
        this.opts.log('info', `database "${name}" now has database id ${db.databaseId} (was ${expectedId}): the store was replaced`);
        void this.updateEntry(name, { databaseId: db.databaseId });
      }
      this.online.set(name, db);
      this.failures.delete(name);
      this.startTimes.set(name, Date.now());
      this.opts.log('info', `database "${name}" started (id ${db.databaseId}, last committed tx ${db.lastCommittedTxId()})`);
    } catch (e) {
      const message = (e as Error).message;
      this.failures.set(name, message);
      this.opts.log('error', `database "${name}" failed to start: ${message}`);
    }
  }

  private registerInTx(tx: WriteTransaction, name: string, databaseId: string, online: boolean, isDefault = false): void {
    tx.createNode(
      [registryLabel],
      new Map<string, any>([
        ['name', name],
        ['databaseId', databaseId],
        ['status', online ? 'online' : 'offline'],
        ['default', isDefault],
        ['createdAt', BigInt(Date.now())],
      ]),
    );
  }

  private findEntryNode(tx: { nodeIdsByLabel(l: string): Iterable<number>; getNode(id: number): any }, name: string): number | undefined {
    for (const id of tx.nodeIdsByLabel(registryLabel)) if (tx.getNode(id)?.properties.get('name') === name) return id;
    return undefined;
  }

  private async updateEntry(name: string, change: { status?: DatabaseStatus; databaseId?: string }): Promise<void> {
    const tx = await this.system.beginWrite();
    try {
      const id = this.findEntryNode(tx, name);
      if (id === undefined) throw new QuiverError('DatabaseNotFound', `Database does not exist. Database name: '${name}'.`);
      if (change.status) tx.setNodeProperty(id, 'status', change.status);
      if (change.databaseId) tx.setNodeProperty(id, 'databaseId', change.databaseId);
      await tx.commit();
    } catch (e) {
      tx.rollback();
      throw e;
    }
  }

  /** Registered databases with their state. */
  entries(): DatabaseEntry[] {
    const r = this.system.beginRead();
    try {
      const out: DatabaseEntry[] = [];
      for (const id of r.nodeIdsByLabel(registryLabel)) {
        const p = r.getNode(id)!.properties;
        const name = p.get('name') as string;
        const requested = p.get('status') as DatabaseStatus;
        const failure = this.failures.get(name);
        out.push({
          name,
          databaseId: p.get('databaseId') as string,
          requestedStatus: requested,
          currentStatus: this.online.has(name) ? 'online' : failure ? 'failed' : 'offline',
          statusMessage: failure ?? '',
          isDefault: p.get('default') === true,
          creationTimeMs: Number(p.get('createdAt') ?? 0n),
          lastStartTimeMs: this.startTimes.get(name) ?? null,
          lastStopTimeMs: this.stopTimes.get(name) ?? null,
        });
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    } finally {
      r.close();
    }
  }

  get defaultDatabaseName(): string {
    return this.entries().find((e) => e.isDefault)?.name ?? this.opts.defaultDatabase;
  }

  /** An online database, or a DatabaseNotFound / DatabaseUnavailable error naming it. */
  database(rawName: string): Database {
    const name = rawName.toLowerCase();
    const db = this.online.get(name);
    if (db) return db;
    const entry = this.entries().find((e) => e.name === name);
    if (!entry) throw new QuiverError('DatabaseNotFound', `Database does not exist. Database name: '${rawName}'.`);
    throw new QuiverError('DatabaseUnavailable', `Database '${name}' is unavailable: it is ${entry.currentStatus}${entry.statusMessage ? ` (${entry.statusMessage})` : ''}.`, {
      hint: `start it with START DATABASE ${name}`,
    });
  }

  onlineDatabases(): Database[] {
    return [...this.online.values()];
  }

  /**
   * Creates a database. When a store already exists in data/databases/<name> (for example one
   * written by `quiver-admin database restore`), it is adopted with its own database id.
   */
  async createDatabase(rawName: string, opts: { ifNotExists?: boolean; isDefault?: boolean } = {}): Promise<{ created: boolean; adopted: boolean }> {
    const name = normalizeDatabaseName(rawName);
    if (this.entries().some((e) => e.name === name)) {
      if (opts.ifNotExists) return { created: false, adopted: false };
      throw new QuiverError('DatabaseExists', `Failed to create the specified database '${name}': The database already exists.`);
    }
    const loc = this.location(name);
    const adopted = storeExists(loc);
    const db = adopted ? Database.open(name, loc, this.opts.settings, this.warn) : await Database.create(name, loc, this.opts.settings, this.warn);
    const tx = await this.system.beginWrite();
    try {
      this.registerInTx(tx, name, db.databaseId, true, opts.isDefault ?? false);
      await tx.commit();
    } catch (e) {
      tx.rollback();
      await db.close();
      throw e;
    }
    this.online.set(name, db);
    this.startTimes.set(name, Date.now());
    this.opts.log('info', `database "${name}" ${adopted ? 'adopted from an existing store' : 'created'} (id ${db.databaseId})`);
    return { created: true, adopted };
  }

  async stopDatabase(rawName: string): Promise<void> {
    const name = rawName.toLowerCase();
    if (name === systemDatabaseName) throw new QuiverError('UsageInvalid', 'the system database cannot be stopped');
    if (!this.entries().some((e) => e.name === name)) throw new QuiverError('DatabaseNotFound', `Database does not exist. Database name: '${rawName}'.`);
    await this.updateEntry(name, { status: 'offline' });
    const db = this.online.get(name);
    if (db) {
      this.online.delete(name);
      await db.close();
      this.stopTimes.set(name, Date.now());
      this.opts.log('info', `database "${name}" stopped`);
    }
  }

  async startDatabase(rawName: string): Promise<void> {
    const name = rawName.toLowerCase();
    const entry = this.entries().find((e) => e.name === name);
    if (!entry) throw new QuiverError('DatabaseNotFound', `Database does not exist. Database name: '${rawName}'.`);
    if (this.online.has(name)) return;
    await this.updateEntry(name, { status: 'online' });
    this.openRegistered(name, entry.databaseId);
    const failure = this.failures.get(name);
    if (failure) throw new QuiverError('DatabaseUnavailable', `database "${name}" failed to start: ${failure}`);
  }

  async dropDatabase(rawName: string, opts: { ifExists?: boolean } = {}): Promise<void> {
    const name = rawName.toLowerCase();
    if (name === systemDatabaseName) throw new QuiverError('UsageInvalid', 'the system database cannot be dropped');
    const entry = this.entries().find((e) => e.name === name);
    if (!entry) {
      if (opts.ifExists) return;
      throw new QuiverError('DatabaseNotFound', `Database does not exist. Database name: '${rawName}'.`);
    }
    if (entry.isDefault) throw new QuiverError('UsageInvalid', `the default database "${name}" cannot be dropped`);
    const db = this.online.get(name);
    if (db) {
      this.online.delete(name);
      await db.close();
    }
    const tx = await this.system.beginWrite();
    const id = this.findEntryNode(tx, name);
    if (id !== undefined) tx.deleteNode(id, true);
    await tx.commit();
    const loc = this.location(name);
    rmSync(loc.storeDir, { recursive: true, force: true });
    rmSync(loc.logDir, { recursive: true, force: true });
    this.opts.log('info', `database "${name}" dropped`);
  }

  systemDatabase(): Database {
    return this.system;
  }

  async shutdown(): Promise<void> {
    const dbs = [...this.online.values()].filter((d) => d !== this.system);
    this.online.clear();
    for (const db of dbs) await db.close().catch((e) => this.opts.log('error', `closing "${db.name}": ${(e as Error).message}`));
    await this.system.close();
  }
}
