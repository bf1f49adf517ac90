import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteReader, ByteWriter, decodeValue, encodeValue } from './codec.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime } from './temporal.js';
import { NodeValue, PathValue, RelationshipValue, type Value } from './value.js';
import { mulberry32 } from '../util/seeded-random.js';

/** One value of every kind the codec stores, with the edges of each. */
const samples: Array<[string, Value]> = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['integer 0', 0n],
  ['integer -1', -1n],
  ['largest int32', 2147483647n],
  ['smallest int32', -2147483648n],
  ['just past int32', 2147483648n],
  ['just below int32', -2147483649n],
  ['2^53 + 1 (not a safe float)', 2n ** 53n + 1n],
  ['largest int64', 2n ** 63n - 1n],
  ['smallest int64', -(2n ** 63n)],
  ['float 1.0', 1],
  ['float 0.0', 0],
  ['float -0.0', -0],
  ['float NaN', Number.NaN],
  ['float Infinity', Number.POSITIVE_INFINITY],
  ['float -Infinity', Number.NEGATIVE_INFINITY],
  ['float 0.1', 0.1],
  ['smallest subnormal', 5e-324],
  ['largest float', Number.MAX_VALUE],
  ['float 2^53 + 2', 2 ** 53 + 2],
  ['empty string', ''],
  ['ascii string', 'Ada Lovelace'],
  ['string with NUL and multibyte', 'a\u0000b é 漢字 🎉'],
  ['long string', 'x'.repeat(70_000)],
  ['empty bytes', Buffer.alloc(0)],
  ['bytes', Buffer.from([0, 1, 2, 0xfe, 0xff])],
  ['empty list', []],
  ['list of mixed scalars', [1n, 1, 'one', true, null, Buffer.from([1])]],
  ['nested lists', [[1n, [2n, [3n, []]]], [[['deep']]]]],
  ['empty map', new Map()],
  ['nested map', new Map<string, Value>([['a', 1n], ['b', new Map<string, Value>([['c', [1.5, 'x']]])], ['', null]])],
  ['date', new QDate(2024, 2, 29)],
  ['date before the epoch', new QDate(1815, 12, 10)],
  ['date in year 1', new QDate(1, 1, 1)],
  ['date in years 0-99', new QDate(42, 6, 15)],
  ['date in year 9999', new QDate(9999, 12, 31)],
  ['local time', new QLocalTime(12n * 3_600_000_000_000n + 34n * 60_000_000_000n + 56_789_000_001n)],
  ['local time midnight', new QLocalTime(0n)],
  ['time with offset', new QTime(3_600_000_000_000n, -5 * 3600)],
  ['local datetime', new QLocalDateTime(1_700_000_000n, 123_456_789)],
  ['local datetime before the epoch', new QLocalDateTime(-1_000_000_000n, 1)],
  ['datetime with offset', new QDateTime(1_700_000_000n, 5, 3600)],
  ['datetime with zone', new QDateTime(1_700_000_000n, 999_999_999, 3600, 'Europe/Stockholm')],
  ['duration', new QDuration(14n, 3n, 3661n, 500)],
  ['negative duration', new QDuration(-1n, -2n, -3n, -4)],
  ['list of temporals', [new QDate(2000, 1, 1), new QDuration(0n, 0n, 0n, 0)]],
];

function assertSameValue(actual: Value, expected: Value, what: string): void {
  if (expected instanceof Uint8Array) {
    assert.ok(actual instanceof Uint8Array, `${what}: bytes come back as bytes`);
    assert.deepEqual(Buffer.from(actual), Buffer.from(expected), what);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), what);
    assert.equal(actual.length, expected.length, what);
    expected.forEach((e, i) => assertSameValue(actual[i]!, e, `${what}[${i}]`));
    return;
  }
  if (expected instanceof Map) {
    assert.ok(actual instanceof Map, what);
    assert.deepEqual([...actual.keys()], [...expected.keys()], what);
    for (const [k, e] of expected) assertSameValue(actual.get(k)!, e, `${what}.${k}`);
    return;
  }
  // deepStrictEqual compares with Object.is: -0 differs from 0, NaN equals NaN, classes must match.
  assert.deepStrictEqual(actual, expected, what);
}

describe('value codec', () => {
  it('round-trips every value type exactly', () => {
    for (const [what, v] of samples) assertSameValue(decodeValue(encodeValue(v)), v, what);
  });

  it('keeps integers and floats apart', () => {
    assert.equal(typeof decodeValue(encodeValue(1n)), 'bigint');
    assert.equal(typeof decodeValue(encodeValue(1)), 'number');
    assert.notDeepEqual(encodeValue(1n), encodeValue(1));
    assert.ok(Object.is(decodeValue(encodeValue(-0)), -0), '-0.0 keeps its sign');
    assert.equal(decodeValue(encodeValue(2n ** 53n + 1n)), 9007199254740993n, 'no rounding through a float');
  });

  it('uses 4 bytes for integers that fit in int32 and 8 for the rest', () => {
    assert.equal(encodeValue(2147483647n).length, 5);
    assert.equal(encodeValue(2147483648n).length, 9);
    assert.equal(encodeValue(-2147483648n).length, 5);
    assert.equal(encodeValue(-2147483649n).length, 9);
  });

  it('refuses integers outside int64 rather than wrapping them', () => {
    assert.throws(() => encodeValue(2n ** 63n), RangeError);
    assert.throws(() => encodeValue(-(2n ** 63n) - 1n), RangeError);
  });

  it('refuses graph entities, which are not storable', () => {
    const node = new NodeValue(1, [], new Map());
    assert.throws(() => encodeValue(node), /graph entities cannot be stored/);
    assert.throws(() => encodeValue(new RelationshipValue(1, 'R', 1, 2, new Map())), TypeError);
    assert.throws(() => encodeValue(new PathValue([node], [])), TypeError);
  });

  it('throws RangeError for an encoding cut at any byte', () => {
    for (const [what, v] of samples) {
      const bytes = encodeValue(v);
      if (bytes.length > 2000) continue; // the long string: every cut is the same case
      for (let cut = 0; cut < bytes.length; cut++) {
        assert.throws(() => decodeValue(bytes.subarray(0, cut)), RangeError, `${what} cut at ${cut} of ${bytes.length}`);
      }
    }
  });

  it('throws RangeError for trailing bytes, unknown tags and absurd lengths', () => {
    assert.throws(() => decodeValue(Buffer.concat([encodeValue(1n), Buffer.from([0])])), /trailing bytes after value at 5/);
    assert.throws(() => decodeValue(Buffer.from([99])), /unknown value tag 99 at byte 0/);
    // A list or map claiming 2^32-1 entries in a few bytes fails at once, without allocating.
    assert.throws(() => decodeValue(Buffer.from([7, 0xff, 0xff, 0xff, 0xff, 0])), /list length exceeds encoding/);
    assert.throws(() => decodeValue(Buffer.from([8, 0xff, 0xff, 0xff, 0xff, 0])), /map size exceeds encoding/);
    assert.throws(() => decodeValue(Buffer.from([5, 0xff, 0xff, 0xff, 0xff, 0x41])), RangeError);
    assert.throws(() => decodeValue(Buffer.from([6, 0xff, 0xff, 0xff, 0x7f])), RangeError);
  });

  it('throws RangeError for nesting deeper than the decode bound', () => {
    let deep: Value = 1n;
    for (let i = 0; i < 100; i++) deep = [deep];
    assert.throws(() => decodeValue(encodeValue(deep)), /value nesting too deep/);
    let ok: Value = 1n;
    for (let i = 0; i < 60; i++) ok = [ok];
    assert.doesNotThrow(() => decodeValue(encodeValue(ok)));
  });

  it('decodes random garbage to a value or a RangeError, never hanging or throwing anything else', () => {
    const seed = Number(process.env.QUIVER_TEST_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    const started = Date.now();
    for (let round = 0; round < 20_000; round++) {
      const bytes = Buffer.alloc(1 + Math.floor(random() * 40));
      for (let i = 0; i < bytes.length; i++) bytes[i] = random() < 0.5 ? Math.floor(random() * 16) : Math.floor(random() * 256);
      try {
        decodeValue(bytes);
      } catch (e) {
        assert.ok(e instanceof RangeError, `seed ${seed}, input ${bytes.toString('hex')}: ${String(e)}`);
      }
    }
    assert.ok(Date.now() - started < 5000, `seed ${seed}: garbage decoding took too long`);
  });

  it('reads and writes the fixed-width fields it offers to record encoders', () => {
    const w = new ByteWriter(1); // grows from one byte
    w.u8(255);
    w.u32(0xffffffff);
    w.i32(-5);
    w.i64(-(2n ** 40n));
    w.id(2 ** 53 - 1);
    w.f64(-0.5);
    w.bytes(Buffer.from('hi'));
    w.string('é');
    const r = new ByteReader(w.finish());
    assert.deepEqual([r.u8(), r.u32(), r.i32(), r.i64(), r.id(), r.f64(), r.bytes().toString(), r.string()], [255, 0xffffffff, -5, -(2n ** 40n), 2 ** 53 - 1, -0.5, 'hi', 'é']);
    assert.ok(r.done);
    assert.throws(() => r.u8(), /value encoding truncated at byte/);
  });
});

