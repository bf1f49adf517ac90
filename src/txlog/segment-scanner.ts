/**
 * Reads the records of one segment file sequentially with a bounded buffer, validating each
 * record's checksums and its place in the chain. Used by recovery, by the backup service and by
 * restore (which scans artifact payloads with the same checks).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { checkRecord, decodeSegmentHeader, type LogRecord, recordHeaderBytes, type SegmentHeader, segmentHeaderBytes } from './format.js';

/** Read granularity: large enough for throughput, small enough to keep memory flat. */
const scanChunkBytes = 4 * 1024 * 1024;

export interface ScanEnd {
  /** Why scanning stopped: 'end' = clean end of log (zeros or end of file); otherwise the problem found. */
  reason: 'end' | 'truncated' | 'corrupt';
  detail: string;
  /** File offset of the first byte after the last valid record. */
  validEndOffset: number;
  lastTxId: number;
  lastChecksum: number;
  lastCommitTimeMs: number;
}

export function readSegmentHeader(path: string): SegmentHeader {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(segmentHeaderBytes);
    const n = readSync(fd, b, 0, segmentHeaderBytes, 0);
    return decodeSegmentHeader(b.subarray(0, n), path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Iterates the valid records of a segment. The generator's return value says where and why it stopped.
 * `onRecord` receives each record with the raw bytes (header + body) for callers that ship them.
 */
export function* scanSegment(path: string): Generator<{ record: LogRecord; raw: Buffer }, ScanEnd, void> {
  const fd = openSync(path, 'r');
  try {
    const headerBuf = Buffer.alloc(segmentHeaderBytes);
    readSync(fd, headerBuf, 0, segmentHeaderBytes, 0);
    const header = decodeSegmentHeader(headerBuf, path);
    let expectTxId = header.firstTxId;
    let prevChain = header.prevChecksum;
    let lastCommitTimeMs = 0;
    let fileOffset = segmentHeaderBytes; // offset of buf[0]
    let buf: Buffer = Buffer.alloc(0);
    let pos = 0;
    let eof = false;
    const fill = (needBytes: number): void => {
      // Keep unread bytes, then read at least enough for the next record.
      const rest = buf.subarray(pos);
      const want = Math.max(scanChunkBytes, needBytes);
      const next = Buffer.allocUnsafe(rest.length + want);
      rest.copy(next, 0);
      const n = readSync(fd, next, rest.length, want, fileOffset + pos + rest.length);
      if (n < want) eof = true;
      fileOffset += pos;
      buf = next.subarray(0, rest.length + n);
      pos = 0;
    };
    for (;;) {
      let check = checkRecord(buf, pos, expectTxId, prevChain);
      // Refill until the record fits: the first read may not even hold its length field, so one
      // refill is not enough for a record larger than the read size.
      while (!check.ok && check.reason !== 'corrupt' && !eof) {
        const len = buf.length - pos >= 4 ? buf.readUInt32LE(pos) : 0;
        fill(recordHeaderBytes + len);
        check = checkRecord(buf, pos, expectTxId, prevChain);
      }
      if (!check.ok) {
        return {
          reason: check.reason,
          detail: check.detail.replace(/offset (\d+)/, (_, o) => `offset ${fileOffset + Number(o)}`),
          validEndOffset: fileOffset + pos,
          lastTxId: expectTxId - 1,
          lastChecksum: prevChain,
          lastCommitTimeMs,
        };
      }
      const raw = buf.subarray(pos, pos + check.bytes);
      pos += check.bytes;
      expectTxId++;
      prevChain = check.record.chainCrc;
      lastCommitTimeMs = check.record.commitTimeMs;
      yield { record: check.record, raw };
    }
  } finally {
    closeSync(fd);
  }
}
