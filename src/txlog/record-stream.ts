/**
 * Incremental validation of a stream of raw transaction-log records (a DIFF payload or the
 * backup service's transaction stream): contiguous ids, body checksums, and the checksum chain
 * from a known starting point. Feed chunks as they arrive; it buffers at most one record.
 */
import { checkRecord, type LogRecord, recordHeaderBytes } from './format.js';

/** A record that fails validation. `chainBreak`: well-formed, but it follows another history. */
export class RecordStreamError extends Error {
  constructor(
    message: string,
    readonly chainBreak: boolean,
  ) {
    super(message);
    this.name = 'RecordStreamError';
  }
}

export class RecordStreamParser {
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;
  nextTxId: number;
  lastChecksum: number;
  lastCommitTimeMs = 0;
  count = 0;

  constructor(firstTxId: number, prevChecksum: number) {
    this.nextTxId = firstTxId;
    this.lastChecksum = prevChecksum;
  }

  /** Yields validated records; throws Error with a precise message on the first bad one. */
  *push(chunk: Buffer): Generator<{ record: LogRecord; raw: Buffer }> {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      if (buf.length - pos < recordHeaderBytes) break;
      const len = buf.readUInt32LE(pos);
      if (buf.length - pos < recordHeaderBytes + len) {
        // Let checkRecord reject absurd lengths before we wait for bytes that will never come.
        const c = checkRecord(buf, pos, this.nextTxId, this.lastChecksum);
        if (!c.ok && c.reason === 'corrupt') throw new RecordStreamError(c.detail.replace(/offset (\d+)/, (_, o) => `byte ${this.offset + Number(o)}`), c.chainBreak === true);
        break;
      }
      const c = checkRecord(buf, pos, this.nextTxId, this.lastChecksum);
      if (!c.ok) throw new RecordStreamError(c.detail.replace(/offset (\d+)/, (_, o) => `byte ${this.offset + Number(o)}`), c.chainBreak === true);
      const raw = buf.subarray(pos, pos + c.bytes);
      pos += c.bytes;
      this.nextTxId++;
      this.lastChecksum = c.record.chainCrc;
      this.lastCommitTimeMs = c.record.commitTimeMs;
      this.count++;
      yield { record: c.record, raw };
    }
    this.offset += pos;
    this.pending = Buffer.from(buf.subarray(pos));
  }

  /** Throws when bytes of an incomplete record remain. */
  end(): void {
    if (this.pending.length) throw new RecordStreamError(`transaction stream ends inside a record (${this.pending.length} bytes after transaction ${this.nextTxId - 1})`, false);
  }
}
