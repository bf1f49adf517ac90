/**
 * The transaction log of one database: append-only segments, group commit, rotation, pruning,
 * and the readers that recovery and the backup service use.
 *
 * Durability protocol: `append` writes the record (no fsync); `sync(txId)` resolves once an
 * fdatasync covering that record has finished; concurrent callers share one fdatasync (group
 * commit). Segments are preallocated with zeros because extending a file costs a journal commit
 * on every fsync (5-8 ms measured, against 0.2 ms for overwriting allocated blocks).
 */
import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { QuiverError } from '../util/errors.js';
import { crc32 } from 'node:zlib';
import { encodeRecord, encodeRecordHeader, encodeSegmentHeader, parseSegmentFileName, recordHeaderBytes, segmentFileName, segmentHeaderBytes, txlogFormatVersion } from './format.js';
import { readSegmentHeader, type ScanEnd, scanSegment } from './segment-scanner.js';
import type { LogRecord, SegmentHeader } from './format.js';
import type { RetentionPolicy } from './retention.js';
import { type PrunableSegment, segmentsToPrune } from './retention.js';
import { SlowWarning } from '../util/slow-warning.js';

/** A log sync at least this long is logged (util/slow-warning.ts). */
const slowSyncWarnMs = 1000;

/** Preallocation step: each step costs one metadata journal commit, amortised over this many bytes. */
const preallocateStepBytes = 8 * 1024 * 1024;
const zeroChunk = Buffer.alloc(preallocateStepBytes);
/**
 * The most bytes `appendInPieces` checksums or writes between two pauses: 4 MiB is 2-4 ms of crc32 or
 * of a write into the page cache, so a 40 MB record (a million-node statement) no longer holds the
 * event loop for its whole append (110 ms measured) but for a few milliseconds at a time, like a
 * statement slice (cypher/limits.ts executionSliceMs).
 */
export const appendPieceBytesMax = 4 * 1024 * 1024;
/** Suffix of a segment being created: it gets its final name only once its header is durable. */
const creatingSuffix = '.tmp';

/** A segment as the log tracks it (what retention needs, nothing more). */
export type SegmentInfo = PrunableSegment;

export interface TxLogOptions {
  dir: string;
  databaseId: string;
  rotationBytes: number;
  preallocate: boolean;
  /** Called with warnings such as a truncated torn tail. */
  onWarning?: (message: string) => void;
}

export interface OpenResult {
  log: TxLog;
  /** Committed transactions in the log (for recovery to replay those after the store's last applied tx). */
  lastTxId: number;
}

export class TxLog {
  private segments: SegmentInfo[] = [];
  /** Open readRaw iterations and the first transaction each needs. */
  private readonly readers = new Map<symbol, number>();
  private fd = -1;
  private writePos = 0;
  private preallocatedEnd = 0;
  private lastTxIdWritten = 0;
  private lastChecksum = 0;
  private durableTxId = 0;
  private syncInFlight: Promise<void> | null = null;
  /** Files closed by rotation or close() while an fdatasync on them was queued: closed when it ends. */
  private fdsToCloseAfterSync: number[] = [];
  private fsyncsBySync = 0;
  private failure: Error | null = null;
  private closed = false;

  /** A disk sync this slow makes every commit of its group wait as long: worth a line in the log. */
  private readonly slowSync: SlowWarning;

  private constructor(private readonly opts: TxLogOptions) {
    this.slowSync = new SlowWarning((m) => opts.onWarning?.(m), slowSyncWarnMs);
  }

  /**
   * Opens (creating when absent) the log in `dir`, validating every segment and truncating a torn
   * tail in the newest one. `startAfter` seeds an empty log: the first record will be that id + 1.
   */
  static open(opts: TxLogOptions, startAfter: { txId: number; checksum: number }): TxLog {
    mkdirSync(opts.dir, { recursive: true });
    const log = new TxLog(opts);
    const names = readdirSync(opts.dir);
    // A crash while creating a segment leaves only its temporary file, which holds no records.
    for (const n of names) if (n.endsWith(creatingSuffix) && parseSegmentFileName(n.slice(0, -creatingSuffix.length)) !== undefined) rmSync(join(opts.dir, n), { force: true });
    const seqs = names
      .map((n) => parseSegmentFileName(n))
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => a - b);
    let expectFirst: number | undefined;
    let expectPrev: number | undefined;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i]!;
      const path = join(opts.dir, segmentFileName(seq));
      let header: SegmentHeader;
      try {
        header = readSegmentHeader(path);
      } catch (e) {
        throw new QuiverError('LogCorrupt', (e as Error).message, {
          cause: e,
          hint: 'the segment file was damaged or replaced; restore the database from a backup',
        });
      }
      if (header.databaseId !== opts.databaseId) {
        throw new QuiverError('LogCorrupt', `transaction log segment "${path}" belongs to database id ${header.databaseId}, not ${opts.databaseId}`, {
          hint: 'transaction logs of another database were copied into this folder; move them away',
        });
      }
      if (expectFirst !== undefined && (header.firstTxId !== expectFirst || header.prevChecksum !== expectPrev)) {
        throw new QuiverError('LogCorrupt', `transaction log segment "${path}" does not continue the previous segment (starts at tx ${header.firstTxId}, expected ${expectFirst})`, {
          hint: 'a segment is missing or was replaced; restore the database from a backup',
        });
      }
      const it = scanSegment(path);
      let end: ScanEnd;
      for (;;) {
        const n = it.next();
        if (n.done) {
          end = n.value;
          break;
        }
      }
      const isLast = i === seqs.length - 1;
      if (end.reason !== 'end') {
        if (!isLast) {
          throw new QuiverError('LogCorrupt', `transaction log segment "${path}" is damaged: ${end.detail}`, {
            hint: 'restore the database from a backup; the log cannot be replayed past this point',
          });
        }
        opts.onWarning?.(`transaction log "${path}": discarding an incomplete tail after transaction ${end.lastTxId} (${end.detail}); it was never acknowledged`);
      }
      log.segments.push({
        seq,
        path,
        firstTxId: header.firstTxId,
        lastTxId: end.lastTxId,
        lastCommitTimeMs: end.lastCommitTimeMs,
        usedBytes: end.validEndOffset - segmentHeaderBytes,
      });
      expectFirst = end.lastTxId + 1;
      expectPrev = end.lastChecksum;
      if (isLast) {
        log.lastTxIdWritten = end.lastTxId;
        log.lastChecksum = end.lastChecksum;
        log.openForAppend(path, end.validEndOffset, true);
      }
    }
    if (log.segments.length === 0) {
      log.lastTxIdWritten = startAfter.txId;
      log.lastChecksum = startAfter.checksum;
      log.createSegment(0, startAfter.txId + 1, startAfter.checksum);
    } else if (log.lastTxIdWritten < startAfter.txId) {
      // The store is ahead of the log (an OS crash lost log pages the store had flushed, or the
      // log was removed by hand). Start a new segment after the store's position: the gap makes
      // differential backups across it impossible, so they fall back to FULL.
      // The old segments are kept aside (renamed), never deleted: they are evidence.
      opts.onWarning?.(`transaction log of database ${opts.databaseId} ends at tx ${log.lastTxIdWritten} but the store is at tx ${startAfter.txId}; setting the old log aside and starting a new one`);
      if (log.fd >= 0) closeSync(log.fd);
      log.fd = -1;
      const suffix = `.detached-${Date.now()}`;
      for (const s of log.segments) renameSync(s.path, s.path + suffix);
      const nextSeq = log.segments[log.segments.length - 1]!.seq + 1;
      log.segments = [];
      log.lastTxIdWritten = startAfter.txId;
      log.lastChecksum = startAfter.checksum;
      log.createSegment(nextSeq, startAfter.txId + 1, startAfter.checksum);
    }
    // A killed process may have left records in the page cache only: sync them before the store
    // (recovery) or a commit builds on them, so the store never gets ahead of the durable log.
    if (log.fd >= 0) fdatasyncSync(log.fd);
    log.durableTxId = log.lastTxIdWritten;
    return log;
  }

  private openForAppend(path: string, offset: number, zeroTail: boolean): void {
    this.fd = openSync(path, 'r+');
    this.writePos = offset;
    this.preallocatedEnd = fstatSync(this.fd).size;
    if (zeroTail && offset < this.preallocatedEnd) {
      // Overwrite whatever a torn write left after the last valid record: all of it, since a record
      // appended in pieces may have left its body far past the first 8 MiB, where a later record's
      // end (or a rotation) would otherwise read it as a corrupt record rather than the end of the log.
      for (let at = offset; at < this.preallocatedEnd; at += preallocateStepBytes) {
        writeSync(this.fd, zeroChunk, 0, Math.min(preallocateStepBytes, this.preallocatedEnd - at), at);
      }
      fdatasyncSync(this.fd);
    }
  }

  private createSegment(seq: number, firstTxId: number, prevChecksum: number): void {
    const path = join(this.opts.dir, segmentFileName(seq));
    if (existsSync(path)) throw new QuiverError('LogCorrupt', `transaction log segment "${path}" already exists`);
    // Temp name → fsync → rename → fsync folder: a crash never leaves a segment without its header.
    const creatingPath = path + creatingSuffix;
    const fd = openSync(creatingPath, 'w');
    const header = encodeSegmentHeader({ formatVersion: txlogFormatVersion, seq, firstTxId, prevChecksum, databaseId: this.opts.databaseId });
    writeSync(fd, header, 0, header.length, 0);
    let end = segmentHeaderBytes;
    if (this.opts.preallocate) {
      writeSync(fd, zeroChunk, 0, preallocateStepBytes, segmentHeaderBytes);
      end += preallocateStepBytes;
    }
    fdatasyncSync(fd);
    renameSync(creatingPath, path);
    fsyncFolder(this.opts.dir);
    this.fd = fd;
    this.writePos = segmentHeaderBytes;
    this.preallocatedEnd = end;
    this.segments.push({ seq, path, firstTxId, lastTxId: firstTxId - 1, lastCommitTimeMs: 0, usedBytes: 0 });
  }

  private rotateTo(firstTxId: number, prevChecksum: number, force: boolean): void {
    const current = this.segments[this.segments.length - 1];
    if (!force && current && current.usedBytes === 0) return;
    if (this.fd >= 0) {
      fdatasyncSync(this.fd);
      this.durableTxId = this.lastTxIdWritten;
      this.retireFd(this.fd);
      this.fd = -1;
    }
    this.createSegment((current?.seq ?? -1) + 1, firstTxId, prevChecksum);
  }

  get lastTxId(): number {
    return this.lastTxIdWritten;
  }

  get lastTxChecksum(): number {
    return this.lastChecksum;
  }

  /** Oldest transaction id still readable from the log; lastTxId + 1 when the log holds none. */
  oldestTxId(): number {
    for (const s of this.segments) if (s.lastTxId >= s.firstTxId) return s.firstTxId;
    return this.lastTxIdWritten + 1;
  }

  segmentList(): readonly SegmentInfo[] {
    return this.segments;
  }

  /** Number of fdatasyncs `sync()` has completed: commits per fsync measures group commit. */
  get syncCount(): number {
    return this.fsyncsBySync;
  }

  /** Appends one transaction (no fsync). Returns its chain checksum. */
  append(txId: number, commitTimeMs: number, body: Buffer): number {
    this.assertWritable();
    if (txId !== this.lastTxIdWritten + 1) throw new Error(`assertion: appending tx ${txId} after ${this.lastTxIdWritten}`);
    const { bytes, chainCrc } = encodeRecord(txId, commitTimeMs, body, this.lastChecksum);
    const seg = this.segmentFor(txId, bytes.length);
    for (let left = this.preallocationNeeded(bytes.length); left > 0; ) left -= this.preallocateStep(left);
    this.writeFully(bytes, this.writePos);
    this.appended(seg, txId, commitTimeMs, bytes.length, chainCrc);
    return chainCrc;
  }

  /**
   * Appends one transaction (no fsync) like `append`, but checksums and writes a body larger than
   * `appendPieceBytesMax` in pieces, awaiting `pause` between them. The caller must not append
   * anything else meanwhile (the database holds its writer slot). The body goes first and the
   * header last: a process killed in between leaves a zero length where the record starts, which
   * reads as the end of the log, and opening the log zeroes the body left behind. A power loss can
   * still tear the record like any other; its checksums catch that.
   */
  async appendInPieces(txId: number, commitTimeMs: number, body: Buffer, pause: () => Promise<void>): Promise<number> {
    if (recordHeaderBytes + body.length <= appendPieceBytesMax) return this.append(txId, commitTimeMs, body);
    this.assertWritable();
    if (txId !== this.lastTxIdWritten + 1) throw new Error(`assertion: appending tx ${txId} after ${this.lastTxIdWritten}`);
    let bodyCrc = 0;
    for (let at = 0; at < body.length; at += appendPieceBytesMax) {
      bodyCrc = crc32(body.subarray(at, at + appendPieceBytesMax), bodyCrc);
      await pause();
    }
    this.assertWritable();
    if (txId !== this.lastTxIdWritten + 1) throw new Error(`assertion: tx ${txId} appended in pieces, but another append came in between`);
    const { header, chainCrc } = encodeRecordHeader(txId, commitTimeMs, body.length, bodyCrc, this.lastChecksum);
    const recordBytes = recordHeaderBytes + body.length;
    const seg = this.segmentFor(txId, recordBytes);
    const start = this.writePos;
    for (let left = this.preallocationNeeded(recordBytes); left > 0; ) {
      left -= this.preallocateStep(left);
      await pause();
    }
    for (let at = 0; at < body.length; at += appendPieceBytesMax) {
      this.writeFully(body.subarray(at, at + appendPieceBytesMax), start + recordHeaderBytes + at);
      await pause();
      this.assertWritable();
    }
    if (this.writePos !== start || txId !== this.lastTxIdWritten + 1) throw new Error(`assertion: the log moved while tx ${txId} was appended in pieces`);
    this.writeFully(header, start);
    this.appended(seg, txId, commitTimeMs, recordBytes, chainCrc);
    return chainCrc;
  }

  /** The segment a record of `recordBytes` goes to: the current one, or a new one when it would pass the rotation size. */
  private segmentFor(txId: number, recordBytes: number): SegmentInfo {
    const seg = this.segments[this.segments.length - 1]!;
    if (seg.usedBytes > 0 && seg.usedBytes + recordBytes > this.opts.rotationBytes) {
      this.rotateTo(txId, this.lastChecksum, false);
      return this.segments[this.segments.length - 1]!;
    }
    return seg;
  }

  /** Bytes of zeros to write ahead of the write position so that a record of `recordBytes` fits (0: it fits). */
  private preallocationNeeded(recordBytes: number): number {
    if (!this.opts.preallocate || this.writePos + recordBytes <= this.preallocatedEnd) return 0;
    return Math.max(preallocateStepBytes, recordBytes);
  }

  /** Writes one step of zeros (at most `preallocateStepBytes` of `bytesLeft`) at the preallocated end; returns its size. */
  private preallocateStep(bytesLeft: number): number {
    const n = Math.min(preallocateStepBytes, bytesLeft);
    writeSync(this.fd, zeroChunk, 0, n, this.preallocatedEnd);
    this.preallocatedEnd += n;
    return n;
  }

  private writeFully(bytes: Buffer, position: number): void {
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written, position + written);
    } catch (e) {
      this.fail(e);
      throw this.failure;
    }
  }

  /** Records a record of `recordBytes` as written after the last one. */
  private appended(seg: SegmentInfo, txId: number, commitTimeMs: number, recordBytes: number, chainCrc: number): void {
    this.writePos += recordBytes;
    seg.usedBytes += recordBytes;
    seg.lastTxId = txId;
    seg.lastCommitTimeMs = commitTimeMs;
    this.lastTxIdWritten = txId;
    this.lastChecksum = chainCrc;
  }

  /** Resolves once everything up to `txId` is on disk. Concurrent callers share fdatasyncs. */
  async sync(txId: number): Promise<void> {
    while (this.durableTxId < txId) {
      this.assertWritable();
      if (!this.syncInFlight) {
        const target = this.lastTxIdWritten;
        const fd = this.fd;
        const started = performance.now();
        this.syncInFlight = new Promise<void>((resolve, reject) => {
          fdatasync(fd, (err) => {
            this.syncInFlight = null;
            this.slowSync.report(performance.now() - started, (ms) => `transaction log of database ${this.opts.databaseId}: a disk sync took ${ms} ms, and the commits it covered waited as long (a slow or overloaded disk)`);
            for (const retired of this.fdsToCloseAfterSync.splice(0)) closeSync(retired);
            if (err) {
              this.fail(err);
              reject(this.failure);
            } else {
              this.fsyncsBySync++;
              if (target > this.durableTxId) this.durableTxId = target;
              resolve();
            }
          });
        });
      }
      await this.syncInFlight;
    }
  }

  /**
   * Closes a file that no more records go to. An fdatasync queued on it may not have started yet:
   * closing now would fail it with EBADF (or sync whichever file reuses the number), so such a
   * file is closed when that fdatasync ends.
   */
  private retireFd(fd: number): void {
    if (this.syncInFlight) this.fdsToCloseAfterSync.push(fd);
    else closeSync(fd);
  }

  private fail(e: unknown): void {
    // After a failed write or fsync the state of the file is unknown: refuse further commits
    // rather than acknowledge transactions that may not be durable.
    this.failure ??= new QuiverError('IoError', `transaction log write failed: ${(e as Error).message}`, {
      cause: e,
      hint: 'check free disk space and the disk; restart the database to recover from the last durable transaction',
    });
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new QuiverError('DatabaseUnavailable', 'transaction log is closed');
  }

  /**
   * Raw records (header + body) with txIdFirst <= txId <= txIdLast, in order. Throws
   * TransactionsPruned when txIdFirst is no longer in the log.
   */
  *readRaw(txIdFirst: number, txIdLast: number): Generator<{ record: LogRecord; raw: Buffer }> {
    if (txIdFirst > txIdLast) return;
    const oldest = this.oldestTxId();
    if (txIdFirst < oldest) {
      throw new QuiverError('TransactionsPruned', `transactions from ${txIdFirst} are no longer in the transaction log (oldest available: ${oldest})`, {
        hint: 'take a FULL backup; raise db.tx_log.rotation.retention_policy so that differentials can reach back further',
      });
    }
    // Pin the segments being read: a checkpoint must not prune them under a running backup.
    const pin = Symbol('reader');
    this.readers.set(pin, txIdFirst);
    try {
      yield* this.scanRange(txIdFirst, txIdLast);
    } finally {
      this.readers.delete(pin);
    }
  }

  private *scanRange(txIdFirst: number, txIdLast: number): Generator<{ record: LogRecord; raw: Buffer }> {
    const segs = this.segments.filter((s) => s.lastTxId >= txIdFirst && s.firstTxId <= txIdLast);
    for (const s of segs) {
      const it = scanSegment(s.path);
      for (;;) {
        const n = it.next();
        if (n.done) {
          if (n.value.lastTxId < Math.min(s.lastTxId, txIdLast)) {
            throw new QuiverError('LogCorrupt', `transaction log segment "${s.path}" could not be read up to tx ${Math.min(s.lastTxId, txIdLast)}: ${n.value.detail}`);
          }
          break;
        }
        const { record } = n.value;
        if (record.txId < txIdFirst) continue;
        if (record.txId > txIdLast) return;
        yield n.value;
      }
    }
  }

  /** Removes whole segments the policy no longer keeps; never one holding a tx after `checkpointTxId`. */
  prune(policy: RetentionPolicy, checkpointTxId: number, nowMs: number): number {
    // Segments a running reader still needs count as needed by recovery.
    let keepFrom = checkpointTxId;
    for (const from of this.readers.values()) keepFrom = Math.min(keepFrom, from - 1);
    const victims = segmentsToPrune(this.segments, policy, keepFrom, nowMs);
    for (const v of victims) {
      rmSync(v.path, { force: true });
    }
    const gone = new Set(victims.map((v) => v.seq));
    this.segments = this.segments.filter((s) => !gone.has(s.seq));
    return victims.length;
  }

  /** Starts a new segment now (used by tests and by `rotation.size` changes). */
  rotate(): void {
    this.rotateTo(this.lastTxIdWritten + 1, this.lastChecksum, false);
  }

  totalBytes(): number {
    return this.segments.reduce((sum, s) => sum + statSafe(s.path), 0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd >= 0) {
      try {
        if (!this.failure) {
          fdatasyncSync(this.fd);
          // Waiters on an fdatasync still in flight are acknowledged by this one.
          this.durableTxId = this.lastTxIdWritten;
        }
      } finally {
        this.retireFd(this.fd);
        this.fd = -1;
      }
    }
  }
}

/** Makes a folder's entries (a created, renamed or removed file) durable. */
function fsyncFolder(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function statSafe(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
