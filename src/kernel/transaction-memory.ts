/**
 * Transaction memory: a cheap running estimate of what a write transaction's change set (tx state)
 * holds on the heap, checked against `db.memory.transaction.max` (one transaction) and
 * `db.memory.transaction.total.max` (every transaction of one database, as in Neo4j 5).
 *
 * What is counted, charged before each change is made (so a refused change leaves the tx state as
 * it was): every node and relationship record the transaction created or copied to change it
 * (a fixed overhead per record, per label and per property, plus the property values: 8 bytes per
 * number, 2 per string character, the sum of a list's elements), and one word per entry of the tx
 * state's label index and created-entity lists. Not counted: the lazily built property-value
 * indexes over the tx state (one entry per changed node, per index that a statement seeks), rows
 * held by the executor while a statement runs (sorts, collect()), and the log record a commit
 * encodes, nor a committed change set waiting for the store to apply it: it is released when the
 * commit has appended it to the log, because the store applies it within milliseconds (a pending
 * set held against the total made a client's back-to-back transactions fail at a third of it).
 * Calibrated against the heap: 200 000 nodes with one label, an integer and a 10-character string
 * grew the heap by 394 bytes each (after a full GC) and are estimated at 445 each.
 */
import { QuiverError } from '../util/errors.js';
import type { Properties, PropertyValue } from '../values/value.js';

/** A node or relationship record in the tx state: the map entry, the record object, its label array and property map. */
export const recordOverheadBytes = 240;
/** One label on a record, or one entry of the tx state's label index or created-entity lists. */
export const indexEntryBytes = 16;
/** One property on a record: the map entry and the key reference, without the value. */
export const propertyOverheadBytes = 48;

/** Estimated heap bytes of one property value. */
export function valueBytes(v: PropertyValue): number {
  switch (typeof v) {
    case 'boolean':
      return 4;
    case 'number':
      return 8;
    case 'bigint':
      return 24;
    case 'string':
      return 16 + 2 * v.length;
  }
  if (v instanceof Uint8Array) return 64 + v.byteLength;
  if (Array.isArray(v)) {
    let n = 16 + 8 * v.length;
    for (const e of v) n += valueBytes(e);
    return n;
  }
  return 64; // a temporal value object
}

export function propertyBytes(value: PropertyValue): number {
  return propertyOverheadBytes + valueBytes(value);
}

export function propertiesBytes(props: Properties): number {
  let n = 0;
  for (const v of props.values()) n += propertyBytes(v);
  return n;
}

export function nodeRecordBytes(labels: readonly string[], props: Properties): number {
  return recordOverheadBytes + 2 * indexEntryBytes * labels.length + propertiesBytes(props);
}

export function relRecordBytes(props: Properties): number {
  return recordOverheadBytes + 2 * indexEntryBytes + propertiesBytes(props);
}

/** Human-readable size in Neo4j's style: `10.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/**
 * The bytes all transactions of one database hold (its open write transactions). 0 = unlimited.
 */
export class TransactionMemoryPool {
  private usedBytes_ = 0;
  constructor(
    readonly limitBytes: number,
    readonly settingName = 'db.memory.transaction.total.max',
  ) {}

  get usedBytes(): number {
    return this.usedBytes_;
  }

  /** Throws MemoryPoolOutOfMemory, reserving nothing, when `bytes` more would pass the limit. */
  reserve(bytes: number): void {
    if (this.limitBytes > 0 && this.usedBytes_ + bytes > this.limitBytes) {
      throw outOfMemory('MemoryPoolOutOfMemory', bytes, this.limitBytes, this.usedBytes_, this.settingName);
    }
    this.usedBytes_ += bytes;
  }

  release(bytes: number): void {
    this.usedBytes_ -= bytes;
    if (this.usedBytes_ < 0) throw new Error(`assertion: transaction memory pool released ${bytes} bytes more than it held`);
  }
}

/** One write transaction's estimate, under its own limit and its database's pool. */
export class TransactionMemoryTracker {
  private usedBytes_ = 0;
  constructor(
    readonly limitBytes: number,
    private readonly pool: TransactionMemoryPool | null,
    readonly settingName = 'db.memory.transaction.max',
  ) {}

  get usedBytes(): number {
    return this.usedBytes_;
  }

  /** Charges a change of `deltaBytes` (negative when the change frees memory); throws before anything is reserved. */
  charge(deltaBytes: number): void {
    if (deltaBytes <= 0) {
      const freed = Math.min(-deltaBytes, this.usedBytes_);
      this.usedBytes_ -= freed;
      this.pool?.release(freed);
      return;
    }
    if (this.limitBytes > 0 && this.usedBytes_ + deltaBytes > this.limitBytes) {
      throw outOfMemory('TransactionOutOfMemory', deltaBytes, this.limitBytes, this.usedBytes_, this.settingName);
    }
    this.pool?.reserve(deltaBytes);
    this.usedBytes_ += deltaBytes;
  }

  /** Gives everything back to the pool (rollback or commit). Idempotent. */
  releaseAll(): void {
    this.pool?.release(this.usedBytes_);
    this.usedBytes_ = 0;
  }
}

function outOfMemory(code: 'TransactionOutOfMemory' | 'MemoryPoolOutOfMemory', bytes: number, limitBytes: number, usedBytes: number, settingName: string): QuiverError {
  // Neo4j's wording, which tools and people search for, ends with "<setting> threshold reached".
  const scope = code === 'TransactionOutOfMemory' ? 'this transaction' : 'the transactions of this database together';
  return new QuiverError(
    code,
    `The allocation of an extra ${formatBytes(bytes)} would use more than the limit ${formatBytes(limitBytes)}. Currently using ${formatBytes(usedBytes)}. ${settingName} threshold reached`,
    { hint: `${scope} may hold at most ${settingName}=${limitBytes} bytes of changes: split the work into smaller transactions (CALL { ... } IN TRANSACTIONS), or raise ${settingName}` },
  );
}
