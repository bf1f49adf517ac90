/**
 * Transaction-log format, version 1 (docs/txlog-format.md).
 *
 * A log is a sequence of segment files `txlog.<seq>` (seq zero-padded, so names sort in order).
 * Each segment starts with a 64-byte header; records follow back to back; the unused, preallocated
 * rest of the file is zeros, and a zero length marks the end of the log.
 *
 * Record = 32-byte header + body:
 *   u32 bodyBytes | u32 marker 'QVTX' | u64 txId | u64 commitTimeMs | u32 bodyCrc | u32 chainCrc
 * where bodyCrc = crc32(body) and chainCrc = crc32(txId..bodyCrc bytes, seeded with the previous
 * record's chainCrc). The chain lets anyone holding two adjacent pieces (a store snapshot and the
 * next transactions, or two backup artifacts) prove they belong together.
 */
import { crc32 } from 'node:zlib';

export const txlogFormatVersion = 1;
export const segmentHeaderBytes = 64;
export const recordHeaderBytes = 32;
export const segmentMagic = Buffer.from('QVTXLOG\0', 'latin1');
export const recordMarker = 0x58545651; // 'QVTX' little-endian
/** A single transaction body may not exceed this: it bounds reads of untrusted lengths. */
export const recordBodyBytesMax = 512 * 1024 * 1024;

export interface SegmentHeader {
  formatVersion: number;
  seq: number;
  /** The id the first record in this segment has (or will have). */
  firstTxId: number;
  /** Chain checksum of transaction firstTxId - 1. */
  prevChecksum: number;
  databaseId: string;
}

export interface LogRecord {
  txId: number;
  commitTimeMs: number;
  bodyCrc: number;
  chainCrc: number;
  body: Buffer;
}

export function segmentFileName(seq: number): string {
  return `txlog.${String(seq).padStart(10, '0')}`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const m = /^txlog\.(\d{10})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const b = Buffer.alloc(segmentHeaderBytes);
  segmentMagic.copy(b, 0);
  b.writeUInt32LE(h.formatVersion, 8);
  b.writeUInt32LE(segmentHeaderBytes, 12);
  b.writeBigUInt64LE(BigInt(h.seq), 16);
  b.writeBigUInt64LE(BigInt(h.firstTxId), 24);
  b.writeUInt32LE(h.prevChecksum >>> 0, 32);
  Buffer.from(h.databaseId.replace(/-/g, ''), 'hex').copy(b, 36, 0, 16);
  b.writeUInt32LE(crc32(b.subarray(0, 60)), 60);
  return b;
}

export function decodeSegmentHeader(b: Buffer, fileName: string): SegmentHeader {
  if (b.length < segmentHeaderBytes || !b.subarray(0, 8).equals(segmentMagic)) {
    throw new Error(`"${fileName}" is not a Quiver transaction log segment (bad magic)`);
  }
  if (b.readUInt32LE(60) !== crc32(b.subarray(0, 60))) throw new Error(`"${fileName}" has a corrupt segment header (checksum mismatch)`);
  const hex = b.subarray(36, 52).toString('hex');
  return {
    formatVersion: b.readUInt32LE(8),
    seq: Number(b.readBigUInt64LE(16)),
    firstTxId: Number(b.readBigUInt64LE(24)),
    prevChecksum: b.readUInt32LE(32),
    databaseId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}

export function chainChecksum(prevChain: number, header: Buffer): number {
  // header bytes 8..28 = txId, commitTimeMs, bodyCrc
  return crc32(header.subarray(8, 28), prevChain >>> 0);
}

/** Encodes a complete record (header + body) given the previous record's chain checksum. */
export function encodeRecord(txId: number, commitTimeMs: number, body: Buffer, prevChain: number): { bytes: Buffer; chainCrc: number } {
  const bytes = Buffer.allocUnsafe(recordHeaderBytes + body.length);
  const chainCrc = writeRecordHeader(bytes, txId, commitTimeMs, body.length, crc32(body), prevChain);
  body.copy(bytes, recordHeaderBytes);
  return { bytes, chainCrc };
}

/**
 * The 32-byte header of a record whose body has `bodyBytes` bytes and checksum `bodyCrc` (a caller
 * that writes a large body in pieces computes the checksum in pieces too), given the previous
 * record's chain checksum.
 */
export function encodeRecordHeader(txId: number, commitTimeMs: number, bodyBytes: number, bodyCrc: number, prevChain: number): { header: Buffer; chainCrc: number } {
  const header = Buffer.allocUnsafe(recordHeaderBytes);
  return { header, chainCrc: writeRecordHeader(header, txId, commitTimeMs, bodyBytes, bodyCrc, prevChain) };
}

function writeRecordHeader(to: Buffer, txId: number, commitTimeMs: number, bodyBytes: number, bodyCrc: number, prevChain: number): number {
  to.writeUInt32LE(bodyBytes, 0);
  to.writeUInt32LE(recordMarker, 4);
  to.writeBigUInt64LE(BigInt(txId), 8);
  to.writeBigUInt64LE(BigInt(commitTimeMs), 16);
  to.writeUInt32LE(bodyCrc >>> 0, 24);
  const chainCrc = chainChecksum(prevChain, to);
  to.writeUInt32LE(chainCrc, 28);
  return chainCrc;
}

export type RecordCheck =
  | { ok: true; record: LogRecord; bytes: number }
  | { ok: false; reason: 'end' | 'truncated' | 'corrupt'; detail: string; chainBreak?: true };

/**
 * Validates the record at `offset` of `buf` against the expected tx id and previous chain value.
 * 'end' = zero length (the preallocated tail); 'truncated' = the record runs past the buffer.
 */
export function checkRecord(buf: Buffer, offset: number, expectTxId: number, prevChain: number): RecordCheck {
  if (offset + 4 > buf.length) return { ok: false, reason: offset === buf.length ? 'end' : 'truncated', detail: 'log ends inside a record length' };
  const len = buf.readUInt32LE(offset);
  if (len === 0 && (offset + 8 > buf.length || buf.readUInt32LE(offset + 4) === 0)) return { ok: false, reason: 'end', detail: 'end of log' };
  if (offset + recordHeaderBytes > buf.length) return { ok: false, reason: 'truncated', detail: 'log ends inside a record header' };
  if (buf.readUInt32LE(offset + 4) !== recordMarker) return { ok: false, reason: 'corrupt', detail: `bad record marker at offset ${offset}` };
  if (len > recordBodyBytesMax) return { ok: false, reason: 'corrupt', detail: `record length ${len} at offset ${offset} exceeds the maximum` };
  if (offset + recordHeaderBytes + len > buf.length) return { ok: false, reason: 'truncated', detail: `record at offset ${offset} runs past the end of the log` };
  const header = buf.subarray(offset, offset + recordHeaderBytes);
  const txId = Number(header.readBigUInt64LE(8));
  const body = buf.subarray(offset + recordHeaderBytes, offset + recordHeaderBytes + len);
  const bodyCrc = header.readUInt32LE(24);
  const chainCrc = header.readUInt32LE(28);
  if (crc32(body) !== bodyCrc) return { ok: false, reason: 'corrupt', detail: `body checksum mismatch in transaction ${txId} at offset ${offset}` };
  if (txId !== expectTxId) return { ok: false, reason: 'corrupt', detail: `expected transaction ${expectTxId} at offset ${offset}, found ${txId}` };
  if (chainChecksum(prevChain, header) !== chainCrc) {
    return { ok: false, reason: 'corrupt', chainBreak: true, detail: `chain checksum mismatch at transaction ${txId}: it does not follow the previous transaction` };
  }
  return {
    ok: true,
    bytes: recordHeaderBytes + len,
    record: { txId, commitTimeMs: Number(header.readBigUInt64LE(16)), bodyCrc, chainCrc, body },
  };
}
