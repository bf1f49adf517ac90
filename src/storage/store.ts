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
import { decodeNode, decodeRel, encodeNode, encodeRel, indexKeyValue, presentMarker, type StoredNode, type StoredRel } from './records.js';

export const storeFormatVersion = 1;

/** Sub-databases of a store, in the order a snapshot streams them. */
export const subDbNames = ['meta', 'tokens', 'schema', 'nodes', 'rels', 'adj', 'labels', 'pidx'] as const;
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

type StoreKey = number | string | ReadonlyArray<number | string | bigint>;

/** Where `applyCommand` reads the records it replaces and sends its writes. */
interface StoreWrites {
  getNode(id: number): Buffer | undefined;
  getRel(id: number): Buffer | undefined;
  put(db: SubDbName, key: StoreKey, value: Buffer): void;
  remove(db: SubDbName, key: StoreKey): void;
}

/**
 * Writes collected for lmdb-js's write thread (`GraphStore.applyGroup`). Reads see the committed
 * store plus the writes collected so far; only node and relationship records are read back.
 */
class QueuedWrites implements StoreWrites {
  private readonly ops: Array<{ db: SubDbName; key: StoreKey; value: Buffer | null }> = [];
  private readonly nodes = new Map<number, Buffer | null>();
  private readonly rels = new Map<number, Buffer | null>();

  constructor(private readonly dbs: Record<SubDbName, Database<Buffer, any>>) {}

  getNode(id: number): Buffer | undefined {
    const own = this.nodes.get(id);
    return own !== undefined ? (own ?? undefined) : this.dbs.nodes.getBinary(id);
  }

  getRel(id: number): Buffer | undefined {
    const own = this.rels.get(id);
    return own !== undefined ? (own ?? undefined) : this.dbs.rels.getBinary(id);
  }

  put(db: SubDbName, key: StoreKey, value: Buffer): void {
    this.ops.push({ db, key, value });
    if (db === 'nodes') this.nodes.set(key as number, value);
    else if (db === 'rels') this.rels.set(key as number, value);
  }

  remove(db: SubDbName, key: StoreKey): void {
    this.ops.push({ db, key, value: null });
    if (db === 'nodes') this.nodes.set(key as number, null);
    else if (db === 'rels') this.rels.set(key as number, null);
  }

  /** Queues every collected write, in order; call inside one `batch`, so they commit together. */
  issue(): void {
    for (const { db, key, value } of this.ops) {
      if (value === null) void this.dbs[db].remove(key as any);
      else void this.dbs[db].put(key as any, value);
    }
  }
}

function isSchemaCommand(c: Command): boolean {
  return c.op.startsWith('index.') || c.op.startsWith('constraint.');
}

/** One committed transaction as the store applies it. */
export interface AppliedTx {
  txId: number;
  checksum: number;
  commitTimeMs: number;
  commands: readonly Command[];
}

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

export class GraphStore {
  readonly env: RootDatabase;
  readonly db: Record<SubDbName, Database<Buffer, any>>;
  private readonly tokenIds = { L: new Map<string, number>(), T: new Map<string, number>(), P: new Map<string, number>() };
  private readonly tokenNames = { L: new Map<number, string>(), T: new Map<number, string>(), P: new Map<number, string>() };
  private indexRules = new Map<string, IndexRule>();
  private constraintRules = new Map<string, ConstraintRule>();
  private cachedMeta: StoreMeta | undefined;

  private constructor(readonly path: string, readOnly: boolean) {
    this.env = open({ path, maxDbs: 16, readOnly, compression: false, maxFreeSpaceToLoad: freePagesToLoad } as Parameters<typeof open>[0]);
    const db = {} as Record<SubDbName, Database<Buffer, any>>;
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
    this.indexRules.clear();
    this.constraintRules.clear();
    for (const { key, value } of this.db.schema.getRange({})) {
      const [kind, name] = key as unknown as [string, string];
      const rule = JSON.parse(value.toString('utf8'));
      if (kind === 'index') this.indexRules.set(name, rule as IndexRule);
      else if (kind === 'constraint') this.constraintRules.set(name, rule as ConstraintRule);
    }
    this.cachedMeta = this.readMeta();
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

  indexFor(label: string, property: string): IndexRule | undefined {
    for (const r of this.indexRules.values()) if (r.label === label && r.property === property) return r;
    return undefined;
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
   * recovery replay: one commit per batch instead of one per transaction). Commits and syncs on the
   * calling thread.
   */
  applyBatch(txs: readonly AppliedTx[]): void {
    if (txs.length === 0) return;
    const writes = this.directWrites();
    let publish: (() => void) | undefined;
    this.env.transactionSync(() => {
      publish = this.writeBatch(txs, writes);
    }, applyTxnFlags as any);
    publish!();
  }

  /**
   * Applies a group of committed transactions through lmdb-js's write thread (the live commit path;
   * the transaction log, not the store, makes a transaction durable). This thread only works out
   * the writes, reading the records they replace from the committed store plus the group's own
   * earlier writes; the B-tree updates, the LMDB commit and its disk sync run on the write thread,
   * as one LMDB transaction, while this thread goes on serving sessions. Resolves once the group is
   * visible to new read transactions; a read transaction begun before that may or may not see it,
   * so a caller that must know reads `lastTxId` from its own snapshot (`StoreReader.lastAppliedTxId`).
   * Call it again only after the previous call resolved: the next group reads the committed store.
   *
   * New token names are published as the writes are queued, before the commit: a reader that
   * resolves a name to an id its snapshot does not use yet finds no data for it, which is what the
   * snapshot holds. Groups that change index or constraint rules are applied synchronously
   * (`applyBatch`), because populating or dropping an index reads ranges of the store, and a rule
   * published before or after its entries would make readers use an index that does not match
   * their snapshot.
   */
  async applyGroup(txs: readonly AppliedTx[]): Promise<void> {
    if (txs.length === 0) return;
    if (txs.some((t) => t.commands.some(isSchemaCommand))) {
      this.applyBatch(txs);
      return;
    }
    const writes = new QueuedWrites(this.db);
    const publish = this.writeBatch(txs, writes);
    // Only put and remove calls from here: nothing left that can throw halfway through the group.
    const committed = this.env.batch(() => writes.issue());
    publish.tokens();
    await committed;
    publish();
  }

  /** Writes into the current LMDB write transaction, which sees its own writes. */
  private directWrites(): StoreWrites {
    return {
      getNode: (id) => this.db.nodes.getBinary(id),
      getRel: (id) => this.db.rels.getBinary(id),
      put: (db, key, value) => void this.db[db].put(key as any, value),
      remove: (db, key) => void this.db[db].remove(key as any),
    };
  }

  /**
   * Sends the writes of consecutive transactions to `writes`; returns what publishes the new tokens,
   * rules and meta to this object's caches once those writes are committed (`tokens` may run earlier).
   */
  private writeBatch(txs: readonly AppliedTx[], writes: StoreWrites): (() => void) & { tokens: () => void } {
    const newTokens: Array<[TokenKind, string, number]> = [];
    const schemaChanged = txs.some((t) => t.commands.some(isSchemaCommand));
    const meta = this.meta();
    let nextNodeId = meta.nextNodeId;
    let nextRelId = meta.nextRelId;
    // Rules may change within the transaction; work on copies and publish after commit.
    const indexRules = new Map(this.indexRules);
    const constraintRules = new Map(this.constraintRules);
    const pendingIds = { L: new Map<string, number>(), T: new Map<string, number>(), P: new Map<string, number>() };
    const pendingNames = { L: new Map<number, string>(), T: new Map<number, string>(), P: new Map<number, string>() };
    const token = (kind: TokenKind, name: string): number => {
      const known = this.tokenIds[kind].get(name) ?? pendingIds[kind].get(name);
      if (known !== undefined) return known;
      const id = this.tokenIds[kind].size + pendingIds[kind].size;
      pendingIds[kind].set(name, id);
      pendingNames[kind].set(id, name);
      newTokens.push([kind, name, id]);
      writes.put('tokens', [kind, name], encodeValue(BigInt(id)));
      writes.put('tokens', [kind.toLowerCase(), id], encodeValue(name));
      return id;
    };
    const labelName = (id: number): string => pendingNames.L.get(id) ?? this.tokenName('L', id);
    const propName = (id: number): string => pendingNames.P.get(id) ?? this.tokenName('P', id);
    const last = txs[txs.length - 1]!;

    for (const tx of txs) {
      for (const c of tx.commands) {
        const ids = this.applyCommand(c, writes, indexRules, constraintRules, token, labelName, propName);
        if (ids.node !== undefined && ids.node >= nextNodeId) nextNodeId = ids.node + 1;
        if (ids.rel !== undefined && ids.rel >= nextRelId) nextRelId = ids.rel + 1;
      }
    }
    writes.put('meta', 'lastTxId', encodeValue(BigInt(last.txId)));
    writes.put('meta', 'lastTxChecksum', encodeValue(BigInt(last.checksum)));
    writes.put('meta', 'lastTxTimeMs', encodeValue(BigInt(last.commitTimeMs)));
    writes.put('meta', 'nextNodeId', encodeValue(BigInt(nextNodeId)));
    writes.put('meta', 'nextRelId', encodeValue(BigInt(nextRelId)));

    let tokensPublished = false;
    const tokens = () => {
      if (tokensPublished) return;
      tokensPublished = true;
      for (const [kind, name, id] of newTokens) {
        this.tokenIds[kind].set(name, id);
        this.tokenNames[kind].set(id, name);
      }
    };
    const publish = () => {
      tokens();
      if (schemaChanged) {
        this.indexRules = indexRules;
        this.constraintRules = constraintRules;
      }
      this.cachedMeta = { ...meta, lastTxId: last.txId, lastTxChecksum: last.checksum, lastTxTimeMs: last.commitTimeMs, nextNodeId, nextRelId };
    };
    return Object.assign(publish, { tokens });
  }

  private applyCommand(
    c: Command,
    writes: StoreWrites,
    indexRules: Map<string, IndexRule>,
    constraintRules: Map<string, ConstraintRule>,
    token: (kind: TokenKind, name: string) => number,
    labelName: (id: number) => string,
    propName: (id: number) => string,
  ): { node?: number; rel?: number } {
    switch (c.op) {
      case 'node.put': {
        const oldBytes = writes.getNode(c.id);
        const old = oldBytes ? decodeNode(oldBytes) : undefined;
        const labelIds = c.labels.map((l) => token('L', l));
        const props = new Map<number, PropertyValue>();
        for (const [k, v] of c.properties) props.set(token('P', k), v);
        const rec: StoredNode = { labelIds, props };
        writes.put('nodes', c.id, encodeNode(rec));
        const oldLabels = new Set(old?.labelIds ?? []);
        const newLabels = new Set(labelIds);
        for (const l of oldLabels) if (!newLabels.has(l)) writes.remove('labels', [l, c.id]);
        for (const l of newLabels) if (!oldLabels.has(l)) writes.put('labels', [l, c.id], presentMarker);
        this.updatePropertyIndexes(writes, indexRules, c.id, old, rec, labelName, propName);
        return { node: c.id };
      }
      case 'node.delete': {
        const oldBytes = writes.getNode(c.id);
        if (!oldBytes) return {};
        const old = decodeNode(oldBytes);
        for (const l of old.labelIds) writes.remove('labels', [l, c.id]);
        this.updatePropertyIndexes(writes, indexRules, c.id, old, undefined, labelName, propName);
        writes.remove('nodes', c.id);
        return {};
      }
      case 'rel.put': {
        const typeId = token('T', c.type);
        const props = new Map<number, PropertyValue>();
        for (const [k, v] of c.properties) props.set(token('P', k), v);
        const exists = writes.getRel(c.id) !== undefined;
        writes.put('rels', c.id, encodeRel({ typeId, startId: c.startId, endId: c.endId, props }));
        if (!exists) {
          writes.put('adj', [c.startId, 0, typeId, c.id, c.endId], presentMarker);
          writes.put('adj', [c.endId, 1, typeId, c.id, c.startId], presentMarker);
        }
        return { rel: c.id };
      }
      case 'rel.delete': {
        const oldBytes = writes.getRel(c.id);
        if (!oldBytes) return {};
        const old: StoredRel = decodeRel(oldBytes);
        writes.remove('adj', [old.startId, 0, old.typeId, c.id, old.endId]);
        writes.remove('adj', [old.endId, 1, old.typeId, c.id, old.startId]);
        writes.remove('rels', c.id);
        return {};
      }
      case 'index.create': {
        if (indexRules.has(c.name)) return {};
        const id = this.metaNumber('nextIndexId');
        writes.put('meta', 'nextIndexId', encodeValue(BigInt(id + 1)));
        const rule: IndexRule = { id, name: c.name, label: c.label, property: c.property, unique: c.unique, constraintName: c.constraintName };
        indexRules.set(c.name, rule);
        writes.put('schema', ['index', c.name], Buffer.from(JSON.stringify(rule)));
        this.populateIndex(rule, token);
        return {};
      }
      case 'index.drop': {
        const rule = indexRules.get(c.name);
        if (!rule) return {};
        indexRules.delete(c.name);
        writes.remove('schema', ['index', c.name]);
        for (const key of this.db.pidx.getKeys({ start: [rule.id] as any, end: [rule.id + 1] as any })) this.db.pidx.remove(key);
        return {};
      }
      case 'constraint.create': {
        if (constraintRules.has(c.name)) return {};
        const rule: ConstraintRule = { name: c.name, label: c.label, property: c.property, indexName: c.indexName };
        constraintRules.set(c.name, rule);
        writes.put('schema', ['constraint', c.name], Buffer.from(JSON.stringify(rule)));
        return {};
      }
      case 'constraint.drop': {
        if (!constraintRules.delete(c.name)) return {};
        writes.remove('schema', ['constraint', c.name]);
        return {};
      }
    }
  }

  private updatePropertyIndexes(
    writes: StoreWrites,
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
      if (kb) writes.remove('pidx', [rule.id, kb[0], kb[1], nodeId]);
      if (ka) writes.put('pidx', [rule.id, ka[0], ka[1], nodeId], presentMarker);
    }
  }

  private populateIndex(rule: IndexRule, token: (kind: TokenKind, name: string) => number): void {
    const labelId = token('L', rule.label);
    const propId = token('P', rule.property);
    for (const key of this.db.labels.getKeys({ start: [labelId] as any, end: [labelId + 1] as any })) {
      const nodeId = (key as unknown as [number, number])[1];
      const bytes = this.db.nodes.getBinary(nodeId);
      if (!bytes) continue;
      const v = decodeNode(bytes).props.get(propId);
      if (v === undefined) continue;
      const k = indexKeyValue(v);
      this.db.pidx.put([rule.id, k[0], k[1], nodeId] as any, presentMarker);
    }
  }
}
