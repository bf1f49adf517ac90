/**
 * A compact, self-describing binary encoding for values, used by the store records and the
 * transaction log. Unlike msgpack it keeps integers (bigint) and floats (number) apart, so
 * `1` and `1.0` survive a round trip. Format version 1; documented in docs/store-format.md.
 */
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime } from './temporal.js';
import type { Value } from './value.js';
import { NodeValue, PathValue, RelationshipValue } from './value.js';

const enum Tag {
  Null = 0,
  False = 1,
  True = 2,
  Int64 = 3,
  Float64 = 4,
  String = 5,
  Bytes = 6,
  List = 7,
  Map = 8,
  Int32 = 9,
  Date = 10,
  LocalTime = 11,
  Time = 12,
  LocalDateTime = 13,
  DateTime = 14,
  Duration = 15,
}

/** Nesting bound for decoding untrusted bytes (artifacts, log records). */
const decodeDepthMax = 64;

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;
  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
  }
  i64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(v, this.pos);
    this.pos += 8;
  }
  /** Non-negative integer ids up to 2^53 as u64. */
  id(v: number): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.pos);
    this.pos += 8;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  string(s: string): void {
    const len = Buffer.byteLength(s);
    this.u32(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }
  value(v: Value): void {
    writeValue(this, v);
  }
  /** A copy of the bytes written so far. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class ByteReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`value encoding truncated at byte ${this.pos}`);
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  id(): number {
    this.need(8);
    const v = Number(this.buf.readBigUInt64LE(this.pos));
    this.pos += 8;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(): Buffer {
    const len = this.u32();
    this.need(len);
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return b;
  }
  string(): string {
    const len = this.u32();
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  value(): Value {
    return readValue(this, 0);
  }
}

function writeValue(w: ByteWriter, v: Value): void {
  if (v === null) return w.u8(Tag.Null);
  switch (typeof v) {
    case 'boolean':
      return w.u8(v ? Tag.True : Tag.False);
    case 'bigint':
      if (v >= -2147483648n && v <= 2147483647n) {
        w.u8(Tag.Int32);
        return w.i32(Number(v));
      }
      w.u8(Tag.Int64);
      return w.i64(v);
    case 'number':
      w.u8(Tag.Float64);
      return w.f64(v);
    case 'string':
      w.u8(Tag.String);
      return w.string(v);
  }
  if (v instanceof Uint8Array) {
    w.u8(Tag.Bytes);
    return w.bytes(v);
  }
  if (Array.isArray(v)) {
    w.u8(Tag.List);
    w.u32(v.length);
    for (const e of v) writeValue(w, e);
    return;
  }
  if (v instanceof Map) {
    w.u8(Tag.Map);
    w.u32(v.size);
    for (const [k, e] of v) {
      w.string(k);
      writeValue(w, e);
    }
    return;
  }
  if (v instanceof QDate) {
    w.u8(Tag.Date);
    return w.i32(v.epochDays());
  }
  if (v instanceof QLocalTime) {
    w.u8(Tag.LocalTime);
    return w.i64(v.nanoOfDay);
  }
  if (v instanceof QTime) {
    w.u8(Tag.Time);
    w.i64(v.nanoOfDay);
    return w.i32(v.offsetSeconds);
  }
  if (v instanceof QLocalDateTime) {
    w.u8(Tag.LocalDateTime);
    w.i64(v.epochSeconds);
    return w.i32(v.nanos);
  }
  if (v instanceof QDateTime) {
    w.u8(Tag.DateTime);
    w.i64(v.epochSeconds);
    w.i32(v.nanos);
    w.i32(v.offsetSeconds);
    return w.string(v.zoneId ?? '');
  }
  if (v instanceof QDuration) {
    w.u8(Tag.Duration);
    w.i64(v.months);
    w.i64(v.days);
    w.i64(v.seconds);
    return w.i32(v.nanos);
  }
  if (v instanceof NodeValue || v instanceof RelationshipValue || v instanceof PathValue) {
    throw new TypeError('graph entities cannot be stored as values');
  }
  throw new TypeError(`cannot encode value of type ${typeof v}`);
}

function readValue(r: ByteReader, depth: number): Value {
  if (depth > decodeDepthMax) throw new RangeError('value nesting too deep');
  const tag = r.u8();
  switch (tag) {
    case Tag.Null:
      return null;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Int32:
      return BigInt(r.i32());
    case Tag.Int64:
      return r.i64();
    case Tag.Float64:
      return r.f64();
    case Tag.String:
      return r.string();
    case Tag.Bytes:
      return r.bytes();
    case Tag.List: {
      const n = r.u32();
      if (n > r.buf.length - r.pos) throw new RangeError('list length exceeds encoding');
      const out: Value[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
      return out;
    }
    case Tag.Map: {
      const n = r.u32();
      if (n > r.buf.length - r.pos) throw new RangeError('map size exceeds encoding');
      const out = new Map<string, Value>();
      for (let i = 0; i < n; i++) out.set(r.string(), readValue(r, depth + 1));
      return out;
    }
    case Tag.Date:
      return QDate.fromEpochDays(r.i32());
    case Tag.LocalTime:
      return new QLocalTime(r.i64());
    case Tag.Time:
      return new QTime(r.i64(), r.i32());
    case Tag.LocalDateTime:
      return new QLocalDateTime(r.i64(), r.i32());
    case Tag.DateTime: {
      const s = r.i64();
      const n = r.i32();
      const o = r.i32();
      const z = r.string();
      return new QDateTime(s, n, o, z === '' ? null : z);
    }
    case Tag.Duration:
      return new QDuration(r.i64(), r.i64(), r.i64(), r.i32());
    default:
      throw new RangeError(`unknown value tag ${tag} at byte ${r.pos - 1}`);
  }
}

export function encodeValue(v: Value): Buffer {
  const w = new ByteWriter(32);
  writeValue(w, v);
  return w.finish();
}

export function decodeValue(b: Buffer): Value {
  const r = new ByteReader(b);
  const v = r.value();
  if (!r.done) throw new RangeError(`trailing bytes after value at ${r.pos}`);
  return v;
}
