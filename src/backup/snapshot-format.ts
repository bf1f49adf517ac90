/**
 * The store snapshot stream (payload format "snapshot-v1"): every key/value pair of every LMDB
 * sub-database exactly as stored, read from one read transaction, so that a restore can bulk-load
 * them in key order. Frames:
 *   0x01 section  : u8 nameBytes, name                 (starts a sub-database)
 *   0x02 entry    : u16 keyBytes, u32 valueBytes, key, value
 *   0x03 end      : u64 entryCount                     (ends the current sub-database)
 *   0x04 finish   : u64 txId, u32 txChecksum, u64 txTimeMs, u64 totalEntries (ends the snapshot)
 * The snapshot is consistent at transaction `txId`.
 */
export const snapshotPayloadFormat = 'snapshot-v1';
export const txlogPayloadFormat = 'txlog-v1';

export const Frame = { Section: 1, Entry: 2, SectionEnd: 3, Finish: 4 } as const;

/** LMDB keys are at most 1978 bytes; anything larger in a stream is corruption. */
export const snapshotKeyBytesMax = 4096;
/** Values larger than this in a stream are treated as corruption (bounds allocation). */
export const snapshotValueBytesMax = 256 * 1024 * 1024;

export interface SnapshotFinish {
  txId: number;
  txChecksum: number;
  txTimeMs: number;
  totalEntries: number;
}

export type SnapshotEvent =
  | { type: 'section'; name: string }
  | { type: 'entry'; key: Buffer; value: Buffer }
  | { type: 'sectionEnd'; entryCount: number }
  | { type: 'finish'; finish: SnapshotFinish };

/**
 * Incremental parser: feed it byte chunks as they arrive, get events back. Bounded: it never
 * buffers more than one frame beyond what it was given.
 */
export class SnapshotParser {
  private pending: Buffer = Buffer.alloc(0);
  private finished = false;
  private offset = 0;
  private readonly yieldEntries: boolean;
  /** Bytes of an entry that is checked but not yielded, still to arrive: skipped, never buffered. */
  private skipBytes = 0;

  /**
   * `entries: false` checks entry frames without yielding them: the backup client only needs the
   * other events, and creating two views per entry was a third of its CPU time (docs/performance.md).
   */
  constructor(options: { entries?: boolean } = {}) {
    this.yieldEntries = options.entries ?? true;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Total bytes consumed so far (for error messages). */
  get position(): number {
    return this.offset;
  }

  *push(chunk: Buffer): Generator<SnapshotEvent> {
    if (this.skipBytes > 0) {
      const skipped = Math.min(this.skipBytes, chunk.length);
      this.skipBytes -= skipped;
      this.offset += skipped;
      chunk = chunk.subarray(skipped);
      if (chunk.length === 0) return;
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let pos = 0;
    const buf = this.pending;
    for (;;) {
      if (pos >= buf.length) break;
      if (this.finished) throw new Error(`snapshot stream has data after its end at byte ${this.offset + pos}`);
      const type = buf[pos]!;
      let need: number;
      switch (type) {
        case Frame.Section:
          if (pos + 2 > buf.length) break;
          need = 2 + buf[pos + 1]!;
          if (pos + need > buf.length) break;
          yield { type: 'section', name: buf.toString('utf8', pos + 2, pos + need) };
          pos += need;
          continue;
        case Frame.Entry: {
          if (pos + 7 > buf.length) break;
          const kl = buf.readUInt16LE(pos + 1);
          const vl = buf.readUInt32LE(pos + 3);
          if (kl > snapshotKeyBytesMax || vl > snapshotValueBytesMax) throw new Error(`snapshot entry at byte ${this.offset + pos} has an impossible size`);
          need = 7 + kl + vl;
          if (pos + need > buf.length) {
            if (this.yieldEntries) break;
            this.skipBytes = pos + need - buf.length;
            pos = buf.length;
            continue;
          }
          if (this.yieldEntries) yield { type: 'entry', key: buf.subarray(pos + 7, pos + 7 + kl), value: buf.subarray(pos + 7 + kl, pos + need) };
          pos += need;
          continue;
        }
        case Frame.SectionEnd:
          if (pos + 9 > buf.length) break;
          yield { type: 'sectionEnd', entryCount: Number(buf.readBigUInt64LE(pos + 1)) };
          pos += 9;
          continue;
        case Frame.Finish:
          if (pos + 29 > buf.length) break;
          this.finished = true;
          yield {
            type: 'finish',
            finish: {
              txId: Number(buf.readBigUInt64LE(pos + 1)),
              txChecksum: buf.readUInt32LE(pos + 9),
              txTimeMs: Number(buf.readBigUInt64LE(pos + 13)),
              totalEntries: Number(buf.readBigUInt64LE(pos + 21)),
            },
          };
          pos += 29;
          continue;
        default:
          throw new Error(`snapshot stream has an unknown frame type ${type} at byte ${this.offset + pos}`);
      }
      break; // incomplete frame: wait for more bytes
    }
    this.offset += pos;
    this.pending = buf.subarray(pos);
  }

  /** Throws unless the stream ended exactly after its finish frame. */
  end(): void {
    if (!this.finished) throw new Error(`snapshot stream ended early at byte ${this.offset + this.pending.length} (no finish frame)`);
    if (this.pending.length) throw new Error(`snapshot stream has ${this.pending.length} trailing bytes`);
  }
}

/** Below this length a byte loop copies faster than `Uint8Array#set` plus the view it needs. */
const shortCopyBytes = 64;

/** Appends frames into fixed-size chunks, handing each full chunk to `emit`. */
export class SnapshotEncoder {
  private buf: Buffer;
  private pos = 0;
  constructor(
    private readonly chunkBytes: number,
    private readonly emit: (chunk: Buffer) => void,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }
  flush(): void {
    if (this.pos === 0) return;
    this.emit(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, 0));
    this.pos = 0;
  }
  section(name: string): void {
    const n = Buffer.from(name);
    this.room(2 + n.length);
    this.buf[this.pos] = Frame.Section;
    this.buf[this.pos + 1] = n.length;
    n.copy(this.buf, this.pos + 2);
    this.pos += 2 + n.length;
  }
  entry(key: Uint8Array, value: Uint8Array): void {
    this.room(7 + key.length + value.length);
    const b = this.buf;
    b[this.pos] = Frame.Entry;
    b.writeUInt16LE(key.length, this.pos + 1);
    b.writeUInt32LE(value.length, this.pos + 3);
    b.set(key, this.pos + 7);
    b.set(value, this.pos + 7 + key.length);
    this.pos += 7 + key.length + value.length;
  }
  /**
   * Same frame as `entry`, copied from ranges of buffers the caller reuses (LMDB's shared read
   * buffers, see snapshot-reader.ts): no view or Buffer is allocated per entry, and short ranges
   * are copied byte by byte, which is faster than `set` below about 64 bytes.
   */
  entryFrom(keySource: Uint8Array, keyStart: number, keyEnd: number, valueSource: Uint8Array, valueBytes: number): void {
    const keyBytes = keyEnd - keyStart;
    this.room(7 + keyBytes + valueBytes);
    const b = this.buf;
    let p = this.pos;
    b[p] = Frame.Entry;
    b[p + 1] = keyBytes & 0xff;
    b[p + 2] = keyBytes >>> 8;
    b[p + 3] = valueBytes & 0xff;
    b[p + 4] = (valueBytes >>> 8) & 0xff;
    b[p + 5] = (valueBytes >>> 16) & 0xff;
    b[p + 6] = valueBytes >>> 24;
    p += 7;
    if (keyBytes < shortCopyBytes) for (let i = keyStart; i < keyEnd; i++) b[p++] = keySource[i]!;
    else {
      b.set(keySource.subarray(keyStart, keyEnd), p);
      p += keyBytes;
    }
    if (valueBytes < shortCopyBytes) for (let i = 0; i < valueBytes; i++) b[p++] = valueSource[i]!;
    else {
      b.set(valueSource.subarray(0, valueBytes), p);
      p += valueBytes;
    }
    this.pos = p;
  }
  sectionEnd(count: number): void {
    this.room(9);
    this.buf[this.pos] = Frame.SectionEnd;
    this.buf.writeBigUInt64LE(BigInt(count), this.pos + 1);
    this.pos += 9;
  }
  finish(f: SnapshotFinish): void {
    this.room(29);
    const b = this.buf;
    b[this.pos] = Frame.Finish;
    b.writeBigUInt64LE(BigInt(f.txId), this.pos + 1);
    b.writeUInt32LE(f.txChecksum >>> 0, this.pos + 9);
    b.writeBigUInt64LE(BigInt(f.txTimeMs), this.pos + 13);
    b.writeBigUInt64LE(BigInt(f.totalEntries), this.pos + 21);
    this.pos += 29;
    this.flush();
  }
}
