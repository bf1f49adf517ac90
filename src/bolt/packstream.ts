/**
 * PackStream v1, the value encoding inside Bolt messages, as pure functions over byte buffers.
 * Encoding picks the smallest form for every integer and sends JS numbers as Float64. Decoding
 * turns every integer into a bigint, checks every size against the bytes that remain, bounds nesting,
 * and throws a QuiverError (`BoltMessageMalformed`, or `TypeError` for a well-formed value we do not
 * support) on bad input; it never reads past the buffer.
 */
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { packstreamDepthMax } from './limits.js';
import { Structure, UnboundRelationship, structureToValue, valueToStructure, type StructField, type StructureOptions } from './structures.js';

export type { StructureOptions } from './structures.js';

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Appends PackStream to a growable buffer. One writer can encode many messages (call `reset`). */
export class PackStreamWriter {
  private buf: Uint8Array;
  private view: DataView;
  private length = 0;

  /** Mutable: a connection's options change once after HELLO (the 4.4 "utc" patch). */
  constructor(
    public options: StructureOptions,
    initialBytes = 256,
  ) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** The bytes written since the last reset; a view into the writer's buffer, valid until the next write. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }

  writeValue(v: StructField, depth = 0): void {
    if (depth > packstreamDepthMax) {
      throw new QuiverError('Internal', `cannot encode value: nesting deeper than ${packstreamDepthMax} levels (cyclic value?)`);
    }
    if (v === null) return this.writeByte(0xc0);
    switch (typeof v) {
      case 'boolean':
        return this.writeByte(v ? 0xc3 : 0xc2);
      case 'bigint':
        return this.writeInt(v);
      case 'number':
        return this.writeFloat(v);
      case 'string':
        return this.writeString(v);
    }
    if (v instanceof Uint8Array) return this.writeBytes(v);
    if (Array.isArray(v)) {
      this.writeListHeader(v.length);
      for (const item of v) this.writeValue(item, depth + 1);
      return;
    }
    if (v instanceof Map) {
      this.writeMapHeader(v.size);
      for (const [key, item] of v) {
        this.writeString(key);
        this.writeValue(item, depth + 1);
      }
      return;
    }
    this.writeStructure(valueToStructure(v, this.options), depth);
  }

  writeStructure(s: Structure, depth = 0): void {
    this.writeStructHeader(s.tag, s.fields.length);
    for (const f of s.fields) this.writeValue(f, depth + 1);
  }

  writeStructHeader(tag: number, fieldCount: number): void {
    if (fieldCount > 15 || tag < 0 || tag > 0x7f) {
      throw new QuiverError('Internal', `cannot encode structure 0x${tag.toString(16)} with ${fieldCount} fields`);
    }
    this.ensure(2);
    this.buf[this.length++] = 0xb0 | fieldCount;
    this.buf[this.length++] = tag;
  }

  writeInt(v: bigint): void {
    if (v >= -16n && v <= 127n) return this.writeByte(Number(v) & 0xff);
    if (v >= -128n && v < -16n) {
      this.ensure(2);
      this.buf[this.length++] = 0xc8;
      this.view.setInt8(this.length++, Number(v));
    } else if (v >= -32768n && v <= 32767n) {
      this.ensure(3);
      this.buf[this.length++] = 0xc9;
      this.view.setInt16(this.length, Number(v));
      this.length += 2;
    } else if (v >= -2147483648n && v <= 2147483647n) {
      this.ensure(5);
      this.buf[this.length++] = 0xca;
      this.view.setInt32(this.length, Number(v));
      this.length += 4;
    } else if (v >= int64Min && v <= int64Max) {
      this.ensure(9);
      this.buf[this.length++] = 0xcb;
      this.view.setBigInt64(this.length, v);
      this.length += 8;
    } else {
      throw new QuiverError('ArithmeticError', `cannot send integer ${v}: Bolt integers are 64-bit`);
    }
  }

  writeFloat(v: number): void {
    this.ensure(9);
    this.buf[this.length++] = 0xc1;
    this.view.setFloat64(this.length, v);
    this.length += 8;
  }

  writeString(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto then tells the real length.
    const maxBytes = s.length * 3;
    this.ensure(5 + maxBytes);
    const headerAt = this.length;
    // Reserve the largest header only when the string might need it, so short strings stay compact.
    const headerBytes = maxBytes < 16 ? 1 : maxBytes <= 0xff ? 2 : maxBytes <= 0xffff ? 3 : 5;
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(headerAt + headerBytes));
    const needed = written < 16 ? 1 : written <= 0xff ? 2 : written <= 0xffff ? 3 : 5;
    if (needed !== headerBytes) this.buf.copyWithin(headerAt + needed, headerAt + headerBytes, headerAt + headerBytes + written);
    this.length = headerAt;
    this.writeSizedHeader(written, 0x80, 0xd0);
    this.length += written;
  }

  writeBytes(b: Uint8Array): void {
    this.ensure(5 + b.length);
    if (b.length <= 0xff) {
      this.buf[this.length++] = 0xcc;
      this.buf[this.length++] = b.length;
    } else if (b.length <= 0xffff) {
      this.buf[this.length++] = 0xcd;
      this.view.setUint16(this.length, b.length);
      this.length += 2;
    } else {
      this.buf[this.length++] = 0xce;
      this.view.setUint32(this.length, b.length);
      this.length += 4;
    }
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  writeListHeader(count: number): void {
    this.ensure(5);
    this.writeSizedHeader(count, 0x90, 0xd4);
  }

  writeMapHeader(count: number): void {
    this.ensure(5);
    this.writeSizedHeader(count, 0xa0, 0xd8);
  }

  /** Tiny form (marker | size) below 16, else 8/16/32-bit size after `wideMarker`, `wideMarker+1`, `+2`. */
  private writeSizedHeader(size: number, tinyMarker: number, wideMarker: number): void {
    if (size < 16) {
      this.buf[this.length++] = tinyMarker | size;
    } else if (size <= 0xff) {
      this.buf[this.length++] = wideMarker;
      this.buf[this.length++] = size;
    } else if (size <= 0xffff) {
      this.buf[this.length++] = wideMarker + 1;
      this.view.setUint16(this.length, size);
      this.length += 2;
    } else if (size <= 0x7fffffff) {
      this.buf[this.length++] = wideMarker + 2;
      this.view.setUint32(this.length, size);
      this.length += 4;
    } else {
      throw new QuiverError('Internal', `cannot encode a PackStream container of ${size} entries`);
    }
  }

  private writeByte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  private ensure(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** Reads PackStream values from one buffer. Every size is checked against the bytes that remain. */
export class PackStreamReader {
  private pos = 0;
  private readonly view: DataView;

  /** Decoding needs no version options: every structure tag has one meaning in all versions we speak. */
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Reads one value; nested structures become our value classes. */
  readValue(depth = 0): Value {
    const v = this.readAny(depth, false);
    return v as Value;
  }

  /** Reads a structure header: `{ tag, fieldCount }`. Throws if the next value is not a structure. */
  readStructHeader(): { tag: number; fieldCount: number } {
    const marker = this.u8();
    if (marker < 0xb0 || marker > 0xbf) throw malformed(`expected a structure, found marker 0x${hex(marker)}`);
    return { fieldCount: marker & 0x0f, tag: this.u8() };
  }

  private readAny(depth: number, allowUnbound: boolean): StructField {
    if (depth > packstreamDepthMax) throw malformed(`nesting deeper than ${packstreamDepthMax} levels`);
    const marker = this.u8();
    if (marker <= 0x7f) return BigInt(marker);
    if (marker >= 0xf0) return BigInt(marker - 0x100);
    const high = marker & 0xf0;
    if (high === 0x80) return this.string(marker & 0x0f);
    if (high === 0x90) return this.list(marker & 0x0f, depth, allowUnbound);
    if (high === 0xa0) return this.map(marker & 0x0f, depth);
    if (high === 0xb0) return this.structure(marker & 0x0f, depth, allowUnbound);
    switch (marker) {
      case 0xc0:
        return null;
      case 0xc1:
        return this.view.getFloat64(this.take(8));
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc8:
        return BigInt(this.view.getInt8(this.take(1)));
      case 0xc9:
        return BigInt(this.view.getInt16(this.take(2)));
      case 0xca:
        return BigInt(this.view.getInt32(this.take(4)));
      case 0xcb:
        return this.view.getBigInt64(this.take(8));
      case 0xcc:
        return this.bytes(this.u8());
      case 0xcd:
        return this.bytes(this.u16());
      case 0xce:
        return this.bytes(this.u32());
      case 0xd0:
        return this.string(this.u8());
      case 0xd1:
        return this.string(this.u16());
      case 0xd2:
        return this.string(this.u32());
      case 0xd4:
        return this.list(this.u8(), depth, allowUnbound);
      case 0xd5:
        return this.list(this.u16(), depth, allowUnbound);
      case 0xd6:
        return this.list(this.u32(), depth, allowUnbound);
      case 0xd8:
        return this.map(this.u8(), depth);
      case 0xd9:
        return this.map(this.u16(), depth);
      case 0xda:
        return this.map(this.u32(), depth);
    }
    throw malformed(`reserved marker 0x${hex(marker)}`);
  }

  private string(size: number): string {
    const at = this.take(size);
    try {
      return utf8Decoder.decode(this.buf.subarray(at, at + size));
    } catch (e) {
      throw new QuiverError('BoltMessageMalformed', 'malformed PackStream: string is not valid UTF-8', { cause: e });
    }
  }

  private bytes(size: number): Uint8Array {
    const at = this.take(size);
    // A copy: the caller's buffer may be reused after decoding.
    return this.buf.slice(at, at + size);
  }

  private list(count: number, depth: number, allowUnbound: boolean): StructField[] {
    // Every item takes at least one byte, so a count above the remaining bytes is a lie.
    if (count > this.remaining) throw malformed(`list of ${count} items in ${this.remaining} remaining bytes`);
    const items: StructField[] = [];
    for (let i = 0; i < count; i++) items.push(this.readAny(depth + 1, allowUnbound));
    return items;
  }

  private map(count: number, depth: number): Map<string, Value> {
    if (count * 2 > this.remaining) throw malformed(`map of ${count} entries in ${this.remaining} remaining bytes`);
    const m = new Map<string, Value>();
    for (let i = 0; i < count; i++) {
      const key = this.readAny(depth + 1, false);
      if (typeof key !== 'string') throw malformed('map key is not a string');
      // Duplicate keys: the last one wins (PackStream rule), which Map.set gives us.
      m.set(key, this.readAny(depth + 1, false) as Value);
    }
    return m;
  }

  private structure(fieldCount: number, depth: number, allowUnbound: boolean): Value | UnboundRelationship {
    const tag = this.u8();
    if (fieldCount > this.remaining) throw malformed(`structure of ${fieldCount} fields in ${this.remaining} remaining bytes`);
    // Unbound relationships are only meaningful inside a Path's relationship list.
    const isPath = tag === 0x50;
    const fields: StructField[] = [];
    for (let i = 0; i < fieldCount; i++) fields.push(this.readAny(depth + 1, isPath));
    const v = structureToValue(new Structure(tag, fields));
    if (v instanceof UnboundRelationship && !allowUnbound) {
      throw new QuiverError('TypeError', 'an UnboundRelationship is only valid inside a Path');
    }
    return v;
  }

  private u8(): number {
    return this.buf[this.take(1)] as number;
  }
  private u16(): number {
    return this.view.getUint16(this.take(2));
  }
  private u32(): number {
    return this.view.getUint32(this.take(4));
  }

  /** Claims `n` bytes and returns their offset. */
  private take(n: number): number {
    if (n > this.remaining) throw malformed(`needs ${n} bytes, ${this.remaining} remain`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
}

/** Encodes one value into a fresh buffer. */
export function pack(v: Value, options: StructureOptions): Uint8Array {
  const w = new PackStreamWriter(options);
  w.writeValue(v);
  return w.bytes().slice();
}

/** Decodes exactly one value; trailing bytes are malformed input. */
export function unpack(bytes: Uint8Array): Value {
  const r = new PackStreamReader(bytes);
  const v = r.readValue();
  if (r.remaining !== 0) throw malformed(`${r.remaining} bytes after the value`);
  return v;
}

function malformed(detail: string): QuiverError {
  return new QuiverError('BoltMessageMalformed', `malformed PackStream: ${detail}`);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
