/**
 * The graph store: one LMDB environment per database holding nodes, relationships, adjacency,
 * the label index, property indexes, schema rules, tokens and the `meta` record.
 *
 * Writes arrive only as transaction commands (after-images) through `apply`, which runs one LMDB
 * write transaction that also records the last applied transaction id; readers use LMDB snapshots
 * and never wait. See docs/store-format.md.
 */
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Command } from '../txlog/commands.js';
import { QuiverError } from '../util/errors.js';
import { decodeValue, encodeValue } from '../values/codec.js';
import type { PropertyValue } from '../values/value.js';
import { IndexPopulation, populatingKey } from './index-population.js';
import { PropertyIndexEntries } from './property-index.js';
import { decodeNode, decodeRel, encodeNode, encodeRel, indexKeyValue, presentMarker, type StoredNode, type StoredRel } from './records.js';

/** 2: `pidxValues` added (property-index.ts); a format 1 store is upgraded when opened for writing. */
export const storeFormatVersion = 2;

/** Sub-databases of a store, in the order a snapshot streams them. */
export const subDbNames = ['meta', 'tokens', 'schema', 'nodes', 'rels', 'adj', 'labels', 'pidx', 'pidxValues'] as const;
export type SubDbName = (typeof subDbNames)[number];

export type TokenKind = 'L' | 'T' | 'P';

export interface IndexRule {
  id: number;
  name: string;
  label: string;
  property: string;
  unique: boolean;
  constraintName: string | null;
}

export interface ConstraintRule {
  name: string;
  label: string;
  property: string;
  indexName: string;
}

export interface StoreMeta {
  databaseId: string;
  storeId: string;
  formatVersion: number;
  /** Last transaction applied to this store (1 = the creation transaction). */
  lastTxId: number;
  /** Chained checksum of that transaction's log record. */
  lastTxChecksum: number;
  lastTxTimeMs: number;
  nextNodeId: number;
  nextRelId: number;
}

/** LMDB write flags: abortable, and the commit waits until the store is on disk. Each call applies a
 * whole group of transactions that are already durable in the log, so the store never runs ahead of
 * the log and one store sync serves the whole group. */
const applyTxnFlags = 0x3;

/**
 * How many free page numbers LMDB (lmdb-js's build) loads from its free list into memory before it
 * allocates past the end of the file instead. lmdb-js's default is 50 000. Each commit merges the
 * pages it freed into that in-memory list, one sorted insert per page, so a long list makes every
 * commit slower. The list gets long after a read transaction pinned the store for a while, which is
 * what a FULL backup does: the pinned period leaves hundreds of thousands of free pages behind.
 * Measured (docs/store-format.md, "Free pages kept in memory", and docs/performance.md, "Backup",
 * night runs): 50 s of pin left commits
 * 0.79 of their rate before it, for as long as observed and across restarts; with 100, 0.98-1.02.
 * Reuse does not stop at 100: when the loaded pages run out, the next ones load. Cost: on a churn of
 * multi-page values the file grew 13% more, while each commit took 40% less CPU.
 */
const freePagesToLoad = 100;

/** Commands applied between two clock reads of a sliced apply (a command costs 2-20 µs). */
const applyClockEveryCommands = 32;

/** Meta key naming a transaction only part of which the store holds (absent when none). */
const applyingTxIdKey = 'applyingTxId';

/** One committed transaction as the store applies it. */
export interface ApplyTx {
  txId: number;
  checksum: number;
  commitTimeMs: number;
  commands: readonly Command[];
}

/** The index and constraint rules a snapshot of the `schema` sub-database holds. */
export interface SchemaRules {
  indexes: Map<string, IndexRule>;
  constraints: Map<string, ConstraintRule>;
}

/**
 * The rules in `schema` as of the read transaction in `opts`. An index marked populating is left
 * out: a crash interrupted its population (never read it; recovery rebuilds it from the log's
 * index.create, and Database.open refuses a store where one is left).
 */
export function schemaRules(schema: Database<Buffer, any>, opts: { transaction?: unknown }): SchemaRules {
  const indexes = new Map<string, IndexRule>();
  const constraints = new Map<string, ConstraintRule>();
  const populating: string[] = [];
  for (const { key, value } of schema.getRange({ ...opts } as any)) {
    const [kind, name] = key as unknown as [string, string];
    if (kind === 'populating') populating.push(name);
    else if (kind === 'index') indexes.set(name, JSON.parse((value as Buffer).toString('utf8')) as IndexRule);
    else if (kind === 'constraint') constraints.set(name, JSON.parse((value as Buffer).toString('utf8')) as ConstraintRule);
  }
  for (const name of populating) indexes.delete(name);
  return { indexes, constraints };
}

/** The rule among `rules` that indexes `property` of nodes with `label`. */
export function indexRuleFor(rules: Iterable<IndexRule>, label: string, property: string): IndexRule | undefined {
  for (const r of rules) if (r.label === label && r.property === property) return r;
  return undefined;
}

/** Resumable work on an index inside a sliced apply: its population, or the removal of a dropped one's entries. */
interface IndexWork {
  /** Works until `deadlineMs` (performance.now(); Infinity: to the end); true once done. */
  continue(deadlineMs: number): boolean;
}

/** The schema key that marks the entries of dropped index `indexId` as still being removed. */
function droppingKey(indexId: number): [string, number] {
  return ['dropping', indexId];
}

export class GraphStore {
  readonly env: RootDatabase;
  readonly db: Record<SubDbName, Database<Buffer, any>>;
  private readonly tokenIds = { L: new Map<string, number>(), T: new Map<string, number>(), P: new Map<string, number>() };
  private readonly tokenNames = { L: new Map<number, string>(), T: new Map<number, string>(), P: new Map<number, string>() };
  private indexRules = new Map<string, IndexRule>();
  private constraintRules = new Map<string, ConstraintRule>();
  private cachedMeta: StoreMeta | undefined;
  /** The property indexes' entries (set by loadCaches, which knows the format version). */
  propertyIndex!: PropertyIndexEntries;

  private constructor(readonly path: string, private readonly readOnly: boolean) {
    this.env = open({ path, maxDbs: 16, readOnly, compression: false, maxFreeSpaceToLoad: freePagesToLoad } as Parameters<typeof open>[0]);
    const db = {} as Record<SubDbName, Database<Buffer, any>>;
    // Read-only, a sub-database the store lacks (pidxValues of format 1) opens as undefined.
    for (const name of subDbNames) db[name] = this.env.openDB({ name, encoding: 'binary' });
    this.db = db;
  }

  /** Opens an existing store; throws StoreCorrupt when the meta record is missing. */
  static open(path: string, options: { readOnly?: boolean } = {}): GraphStore {
    const store = new GraphStore(path, options.readOnly ?? false);
    if (store.db.meta.getBinary('databaseId') === undefined) {
      store.close();
      throw new QuiverError('StoreCorrupt', `store at "${path}" has no meta record`, {
        hint: 'the folder is not a Quiver store, or its creation did not finish',
      });
    }
    store.loadCaches();
    return store;
  }

  /** Creates a new empty store with the given identity. The folder must not hold a store. */
  static create(path: string, identity: { databaseId: string; storeId: string }): GraphStore {
    mkdirSync(path, { recursive: true });
    const store = new GraphStore(path, false);
    if (store.db.meta.getBinary('databaseId') !== undefined) {
      store.close();
      throw new QuiverError('DatabaseExists', `a store already exists at "${path}"`);
    }
    store.env.transactionSync(() => {
      const m = store.db.meta;
      m.put('databaseId', encodeValue(identity.databaseId));
      m.put('storeId', encodeValue(identity.storeId));
      m.put('formatVersion', encodeValue(BigInt(storeFormatVersion)));
      m.put('lastTxId', encodeValue(0n));
      m.put('lastTxChecksum', encodeValue(0n));
      m.put('lastTxTimeMs', encodeValue(0n));
      m.put('nextNodeId', encodeValue(0n));
      m.put('nextRelId', encodeValue(0n));
      m.put('nextIndexId', encodeValue(1n));
    });
    store.loadCaches();
    return store;
  }

  close(): void {
    this.env.close();
  }

  /**
   * Gives the store a new database id and store id (a restored copy under a new name is a new
   * database: it must not share an id, and so a backup chain, with its source).
   */
  assignNewIdentity(identity: { databaseId: string; storeId: string }): void {
    this.env.transactionSync(() => {
      this.db.meta.put('databaseId', encodeValue(identity.databaseId));
      this.db.meta.put('storeId', encodeValue(identity.storeId));
    });
    this.cachedMeta = { ...this.meta(), databaseId: identity.databaseId, storeId: identity.storeId };
  }

  /** Waits until every applied transaction is on disk (a checkpoint). */
  async flush(): Promise<void> {
    await this.env.flushed;
  }

  /** Bytes of data.mdb that LMDB uses: up to the end of its last page (the file may be longer). */
  usedBytes(): number {
    const stats = this.env.getStats() as { pageSize: number; lastPageNumber: number };
    return (stats.lastPageNumber + 1) * stats.pageSize;
  }

  meta(): StoreMeta {
    if (!this.cachedMeta) this.cachedMeta = this.readMeta();
    return this.cachedMeta;
  }

  private metaNumber(key: string): number {
    const b = this.db.meta.getBinary(key);
    if (b === undefined) throw new QuiverError('StoreCorrupt', `store at "${this.path}" lacks meta key "${key}"`);
    return Number(decodeValue(b) as bigint);
  }

  private metaString(key: string): string {
    const b = this.db.meta.getBinary(key);
    if (b === undefined) throw new QuiverError('StoreCorrupt', `store at "${this.path}" lacks meta key "${key}"`);
    return decodeValue(b) as string;
  }

  private readMeta(): StoreMeta {
    return {
      databaseId: this.metaString('databaseId'),
      storeId: this.metaString('storeId'),
      formatVersion: this.metaNumber('formatVersion'),
      lastTxId: this.metaNumber('lastTxId'),
      lastTxChecksum: this.metaNumber('lastTxChecksum'),
      lastTxTimeMs: this.metaNumber('lastTxTimeMs'),
      nextNodeId: this.metaNumber('nextNodeId'),
      nextRelId: this.metaNumber('nextRelId'),
    };
  }

  private loadCaches(): void {
    const fv = this.metaNumber('formatVersion');
    if (fv > storeFormatVersion) {
      throw new QuiverError('StoreCorrupt', `store at "${this.path}" has format version ${fv}, newer than this Quiver supports (${storeFormatVersion})`, {
        hint: 'upgrade Quiver to open it',
      });
    }
    for (const { key, value } of this.db.tokens.getRange({})) {
      const [kind, name] = key as unknown as [string, string | number];
      if (kind === 'L' || kind === 'T' || kind === 'P') {
        const id = Number(decodeValue(value) as bigint);
        this.tokenIds[kind].set(name as string, id);
        this.tokenNames[kind].set(id, name as string);
      }
    }
    const rules = schemaRules(this.db.schema, {});
    this.indexRules = rules.indexes;
    this.constraintRules = rules.constraints;
    if (fv < 2 && !this.readOnly) this.upgradeFromFormat1();
    // By the version, not by the sub-database's presence: a format 1 store once opened for writing
    // by a build that crashed before upgrading has an empty one.
    this.propertyIndex = new PropertyIndexEntries(this.db.pidx, fv < 2 && this.readOnly ? undefined : this.db.pidxValues);
    if (!this.readOnly) this.finishIndexRemovals();
    this.cachedMeta = this.readMeta();
  }

  /**
   * Format 1 → 2: counts every property index's values into `pidxValues`, from the node records,
   * in one LMDB transaction with the new version (a crash leaves format 1, upgraded again next time).
   */
  private upgradeFromFormat1(): void {
    const entries = new PropertyIndexEntries(this.db.pidx, this.db.pidxValues);
    this.env.transactionSync(() => {
      // Each index is rebuilt whole, its entries with their counts, the way a new index is populated.
      for (const rule of this.indexRules.values()) {
        entries.removeAll(rule.id);
        const labelId = this.tokenIds.L.get(rule.label);
        const propId = this.tokenIds.P.get(rule.property);
        if (labelId !== undefined && propId !== undefined) new IndexPopulation(this.db, entries, rule, labelId, propId).continue(Infinity);
      }
      this.db.meta.put('formatVersion', encodeValue(BigInt(storeFormatVersion)));
    });
  }

  tokenId(kind: TokenKind, name: string): number | undefined {
    return this.tokenIds[kind].get(name);
  }

  tokenName(kind: TokenKind, id: number): string {
    const name = this.tokenNames[kind].get(id);
    if (name === undefined) throw new QuiverError('StoreCorrupt', `store at "${this.path}" refers to unknown token ${kind}${id}`);
    return name;
  }

  tokenNamesOf(kind: TokenKind): string[] {
    return [...this.tokenIds[kind].keys()];
  }

  indexes(): IndexRule[] {
    return [...this.indexRules.values()];
  }

  constraints(): ConstraintRule[] {
    return [...this.constraintRules.values()];
  }

  /** Names of indexes whose population a crash interrupted and no recovery has completed yet. */
  populatingIndexNames(): string[] {
    const names: string[] = [];
    for (const key of this.db.schema.getKeys({})) {
      const [kind, name] = key as unknown as [string, string];
      if (kind === 'populating') names.push(name);
    }
    return names;
  }

  indexFor(label: string, property: string): IndexRule | undefined {
    return indexRuleFor(this.indexRules.values(), label, property);
  }

  /**
   * Applies one committed transaction. Idempotent per command; records `lastTxId` in the same
   * LMDB transaction so that recovery knows where to resume.
   */
  apply(txId: number, checksum: number, commitTimeMs: number, commands: readonly Command[]): void {
    this.applyBatch([{ txId, checksum, commitTimeMs, commands }]);
  }

  /**
   * Applies several consecutive committed transactions in one LMDB transaction (restore and
   * recovery replay: one commit per batch instead of one per transaction). Returns how long LMDB's
   * commit took, its disk syncs included, after the changes were written into the transaction: the
   * part of an apply that depends on the disk rather than on the size of the batch.
   */
  applyBatch(txs: readonly ApplyTx[]): number {
    if (txs.length === 0) return 0;
    const run = this.beginApply(txs);
    const commitMs = run.step(Infinity);
    if (!run.done) throw new Error('assertion: an unbounded apply step left commands unapplied');
    return commitMs;
  }

  /**
   * Applies `txs` in as many LMDB transactions as it takes for none to hold the thread much longer
   * than `sliceMs` (the server's main thread: every query waits meanwhile), awaiting `pause`
   * between them. A transaction may end up split over several LMDB transactions: the meta record
   * then names it as `applyingTxId` while `lastTxId` stays at the last transaction applied whole,
   * so a crash in between leaves a store that recovery completes by replaying that transaction
   * from the log (commands are after-images: replaying one over its own partial result is exact).
   * Readers must not take a new snapshot until it resolves (Database pins one for them): the
   * snapshots in between hold part of a transaction. A new index over existing nodes is populated
   * in slices as well (index-population.ts); index rules are published only once the whole apply
   * is done, so no reader uses an index before every entry of it exists.
   */
  async applyBatchSliced(txs: readonly ApplyTx[], sliceMs: number, pause: () => Promise<void>): Promise<number> {
    if (txs.length === 0) return 0;
    const run = this.beginApply(txs);
    let commitMs = run.step(sliceMs);
    while (!run.done) {
      await pause();
      commitMs += run.step(sliceMs);
    }
    return commitMs;
  }

  /** The state of an apply that may span several LMDB transactions (see applyBatchSliced). */
  private beginApply(txs: readonly ApplyTx[]): { readonly done: boolean; step(sliceMs: number): number } {
    const schemaChanged = txs.some((t) => t.commands.some((c) => c.op.startsWith('index.') || c.op.startsWith('constraint.')));
    const meta = this.meta();
    let nextNodeId = meta.nextNodeId;
    let nextRelId = meta.nextRelId;
    // Rules may change within the transaction; work on copies and publish after commit.
    const indexRules = new Map(this.indexRules);
    const constraintRules = new Map(this.constraintRules);
    let newTokens: Array<[TokenKind, string, number]> = [];
    const pendingIds = { L: new Map<string, number>(), T: new Map<string, number>(), P: new Map<string, number>() };
    const pendingNames = { L: new Map<number, string>(), T: new Map<number, string>(), P: new Map<number, string>() };
    const token = (kind: TokenKind, name: string): number => {
      const known = this.tokenIds[kind].get(name) ?? pendingIds[kind].get(name);
      if (known !== undefined) return known;
      const id = this.tokenIds[kind].size + pendingIds[kind].size;
      pendingIds[kind].set(name, id);
      pendingNames[kind].set(id, name);
      newTokens.push([kind, name, id]);
      this.db.tokens.put([kind, name] as any, encodeValue(BigInt(id)));
      this.db.tokens.put([kind.toLowerCase(), id] as any, encodeValue(name));
      return id;
    };
    const labelName = (id: number): string => pendingNames.L.get(id) ?? this.tokenName('L', id);
    const propName = (id: number): string => pendingNames.P.get(id) ?? this.tokenName('P', id);
    /** Position: the next command to apply is txs[txIndex].commands[commandIndex]. */
    let txIndex = 0;
    let commandIndex = 0;
    /** An index's population or removal still running: it ends before the next command is applied. */
    let indexWork: IndexWork | null = null;
    let lastWhole: ApplyTx | undefined;
    const state = {
      done: false,
      step: (sliceMs: number): number => {
        if (state.done) return 0;
        const deadline = sliceMs === Infinity ? Infinity : performance.now() + sliceMs;
        let changesWrittenAt = 0;
        this.env.transactionSync(() => {
          let sinceClock = 0;
          while (txIndex < txs.length) {
            const tx = txs[txIndex]!;
            const commands = tx.commands;
            let outOfTime = false;
            while (!outOfTime) {
              if (indexWork !== null) {
                if (!indexWork.continue(deadline)) break;
                indexWork = null;
              }
              if (commandIndex >= commands.length) break;
              const c = commands[commandIndex++]!;
              // An id at or above the next id has never been written: no old record to read and undo.
              const fresh = c.op === 'node.put' ? c.id >= nextNodeId : c.op === 'rel.put' ? c.id >= nextRelId : false;
              const ids = this.applyCommand(c, fresh, indexRules, constraintRules, token, labelName, propName);
              if (ids.node !== undefined && ids.node >= nextNodeId) nextNodeId = ids.node + 1;
              if (ids.rel !== undefined && ids.rel >= nextRelId) nextRelId = ids.rel + 1;
              if (ids.indexWork) indexWork = ids.indexWork;
              if (++sinceClock >= applyClockEveryCommands) {
                sinceClock = 0;
                outOfTime = performance.now() >= deadline;
              }
            }
            if (indexWork !== null || commandIndex < commands.length) break;
            lastWhole = tx;
            txIndex++;
            commandIndex = 0;
            if (outOfTime) break;
          }
          const m = this.db.meta;
          if (lastWhole) {
            m.put('lastTxId', encodeValue(BigInt(lastWhole.txId)));
            m.put('lastTxChecksum', encodeValue(BigInt(lastWhole.checksum)));
            m.put('lastTxTimeMs', encodeValue(BigInt(lastWhole.commitTimeMs)));
          }
          m.put('nextNodeId', encodeValue(BigInt(nextNodeId)));
          m.put('nextRelId', encodeValue(BigInt(nextRelId)));
          // Part of a transaction is in the store: name it, so that recovery knows why the store
          // holds more than `lastTxId` says, and completes it from the log.
          if (commandIndex > 0) m.put(applyingTxIdKey, encodeValue(BigInt(txs[txIndex]!.txId)));
          else m.remove(applyingTxIdKey);
          changesWrittenAt = performance.now();
        }, applyTxnFlags as any);
        const commitMs = performance.now() - changesWrittenAt;
        for (const [kind, name, id] of newTokens) {
          this.tokenIds[kind].set(name, id);
          this.tokenNames[kind].set(id, name);
          pendingIds[kind].delete(name);
          pendingNames[kind].delete(id);
        }
        newTokens = [];
        state.done = txIndex >= txs.length;
        if (state.done && schemaChanged) {
          this.indexRules = indexRules;
          this.constraintRules = constraintRules;
        }
        const whole = lastWhole ?? { txId: meta.lastTxId, checksum: meta.lastTxChecksum, commitTimeMs: meta.lastTxTimeMs };
        this.cachedMeta = { ...meta, lastTxId: whole.txId, lastTxChecksum: whole.checksum, lastTxTimeMs: whole.commitTimeMs, nextNodeId, nextRelId };
        return commitMs;
      },
    };
    return state;
  }

  /** The transaction a crash interrupted in the middle of its apply, if any (see applyBatchSliced). */
  applyingTxId(): number | undefined {
    const b = this.db.meta.getBinary(applyingTxIdKey);
    return b === undefined ? undefined : Number(decodeValue(b) as bigint);
  }

  /** One command inside the current LMDB write transaction; returns the entity id it created or touched. */
  private applyCommand(
    c: Command,
    fresh: boolean,
    indexRules: Map<string, IndexRule>,
    constraintRules: Map<string, ConstraintRule>,
    token: (kind: TokenKind, name: string) => number,
    labelName: (id: number) => string,
    propName: (id: number) => string,
  ): { node?: number; rel?: number; indexWork?: IndexWork } {
    switch (c.op) {
      case 'node.put': {
        const oldBytes = fresh ? undefined : this.db.nodes.getBinary(c.id);
        const old = oldBytes ? decodeNode(oldBytes) : undefined;
        const labelIds = c.labels.map((l) => token('L', l));
        const props = new Map<number, PropertyValue>();
        for (const [k, v] of c.properties) props.set(token('P', k), v);
        const rec: StoredNode = { labelIds, props };
        this.db.nodes.put(c.id, encodeNode(rec));
        const oldLabels = new Set(old?.labelIds ?? []);
        const newLabels = new Set(labelIds);
        for (const l of oldLabels) if (!newLabels.has(l)) this.db.labels.remove([l, c.id] as any);
        for (const l of newLabels) if (!oldLabels.has(l)) this.db.labels.put([l, c.id] as any, presentMarker);
        this.updatePropertyIndexes(indexRules, c.id, old, rec, labelName, propName);
        return { node: c.id };
      }
      case 'node.delete': {
        const oldBytes = this.db.nodes.getBinary(c.id);
        if (!oldBytes) return {};
        const old = decodeNode(oldBytes);
        for (const l of old.labelIds) this.db.labels.remove([l, c.id] as any);
        this.updatePropertyIndexes(indexRules, c.id, old, undefined, labelName, propName);
        this.db.nodes.remove(c.id);
        return {};
      }
      case 'rel.put': {
        const typeId = token('T', c.type);
        const props = new Map<number, PropertyValue>();
        for (const [k, v] of c.properties) props.set(token('P', k), v);
        const exists = !fresh && this.db.rels.getBinary(c.id) !== undefined;
        this.db.rels.put(c.id, encodeRel({ typeId, startId: c.startId, endId: c.endId, props }));
        if (!exists) {
          this.db.adj.put([c.startId, 0, typeId, c.id, c.endId] as any, presentMarker);
          this.db.adj.put([c.endId, 1, typeId, c.id, c.startId] as any, presentMarker);
        }
        return { rel: c.id };
      }
      case 'rel.delete': {
        const oldBytes = this.db.rels.getBinary(c.id);
        if (!oldBytes) return {};
        const old: StoredRel = decodeRel(oldBytes);
        this.db.adj.remove([old.startId, 0, old.typeId, c.id, old.endId] as any);
        this.db.adj.remove([old.endId, 1, old.typeId, c.id, old.startId] as any);
        this.db.rels.remove(c.id);
        return {};
      }
      case 'index.create': {
        if (indexRules.has(c.name)) return {};
        // A crash interrupted this index's population (recovery replays its transaction): rebuild it
        // under its id, from no entries, rather than trust where the population had got to.
        const interrupted = this.db.schema.getBinary(populatingKey(c.name) as any) !== undefined ? this.storedIndexRule(c.name) : undefined;
        let id: number;
        if (interrupted) {
          id = interrupted.id;
          this.propertyIndex.removeAll(id);
        } else {
          id = this.metaNumber('nextIndexId');
          this.db.meta.put('nextIndexId', encodeValue(BigInt(id + 1)));
        }
        const rule: IndexRule = { id, name: c.name, label: c.label, property: c.property, unique: c.unique, constraintName: c.constraintName };
        indexRules.set(c.name, rule);
        this.db.schema.put(['index', c.name] as any, Buffer.from(JSON.stringify(rule)));
        this.db.schema.put(populatingKey(c.name) as any, Buffer.from(JSON.stringify({ id })));
        return { indexWork: new IndexPopulation(this.db, this.propertyIndex, rule, token('L', rule.label), token('P', rule.property)) };
      }
      case 'index.drop': {
        const rule = indexRules.get(c.name);
        if (!rule) return {};
        indexRules.delete(c.name);
        this.db.schema.remove(['index', c.name] as any);
        // The rule is gone with this LMDB transaction, so nothing reads the entries any more; they are
        // removed in slices (a million take about a second), under a mark that a crash leaves for
        // the next open to finish (finishIndexRemovals).
        this.db.schema.put(droppingKey(rule.id) as any, Buffer.from(JSON.stringify({ id: rule.id, name: rule.name })));
        return { indexWork: this.indexRemoval(rule.id) };
      }
      case 'constraint.create': {
        if (constraintRules.has(c.name)) return {};
        const rule: ConstraintRule = { name: c.name, label: c.label, property: c.property, indexName: c.indexName };
        constraintRules.set(c.name, rule);
        this.db.schema.put(['constraint', c.name] as any, Buffer.from(JSON.stringify(rule)));
        return {};
      }
      case 'constraint.drop': {
        if (!constraintRules.delete(c.name)) return {};
        this.db.schema.remove(['constraint', c.name] as any);
        return {};
      }
    }
  }

  private updatePropertyIndexes(
    rules: Map<string, IndexRule>,
    nodeId: number,
    old: StoredNode | undefined,
    next: StoredNode | undefined,
    labelName: (id: number) => string,
    propName: (id: number) => string,
  ): void {
    if (rules.size === 0) return;
    const valueFor = (rec: StoredNode | undefined, rule: IndexRule): PropertyValue | undefined => {
      if (!rec) return undefined;
      if (!rec.labelIds.some((l) => labelName(l) === rule.label)) return undefined;
      for (const [k, v] of rec.props) if (propName(k) === rule.property) return v;
      return undefined;
    };
    for (const rule of rules.values()) {
      const before = valueFor(old, rule);
      const after = valueFor(next, rule);
      const kb = before === undefined ? undefined : indexKeyValue(before);
      const ka = after === undefined ? undefined : indexKeyValue(after);
      if (kb && ka && kb[0] === ka[0] && kb[1] === ka[1]) continue;
      if (kb) this.propertyIndex.remove(rule.id, kb, nodeId);
      if (ka) this.propertyIndex.add(rule.id, ka, nodeId);
    }
  }

  /** Removes the entries of dropped index `indexId` in slices, then its dropping mark. */
  private indexRemoval(indexId: number): IndexWork {
    return {
      continue: (deadlineMs: number): boolean => {
        if (!this.propertyIndex.removeUntil(indexId, deadlineMs)) return false;
        this.db.schema.remove(droppingKey(indexId) as any);
        return true;
      },
    };
  }

  /**
   * Finishes the removal of indexes dropped before a crash stopped it (their marks are left): the
   * rule is gone, the entries would only take space. Runs when a store is opened for writing.
   */
  private finishIndexRemovals(): void {
    const marks: number[] = [];
    for (const key of this.db.schema.getKeys({})) {
      const [kind, indexId] = key as unknown as [string, unknown];
      if (kind === 'dropping') marks.push(indexId as number);
    }
    if (marks.length === 0) return;
    this.env.transactionSync(() => {
      for (const indexId of marks) this.indexRemoval(indexId).continue(Infinity);
    });
  }

  /** The rule stored under `name`, loaded or not (an interrupted population's rule is not loaded). */
  private storedIndexRule(name: string): IndexRule | undefined {
    const b = this.db.schema.getBinary(['index', name] as any);
    return b === undefined ? undefined : (JSON.parse(b.toString('utf8')) as IndexRule);
  }
}
