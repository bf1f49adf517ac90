// PackStream codec: exact encodings, round trips of every type and structure, and bounded, typed failure on malformed input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuiverError, isQuiverError } from '../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, type Value } from '../values/value.js';
import { QDate, QDateTime, QDuration, QLocalDateTime, QLocalTime, QTime } from '../values/temporal.js';
import { pack, unpack } from './packstream.js';
import type { StructureOptions } from './structures.js';

const bolt5: StructureOptions = { elementIds: true, utcDateTime: true };
const bolt44: StructureOptions = { elementIds: false, utcDateTime: false };

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
function bytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
}
function roundTrip(v: Value, o: StructureOptions = bolt5): Value {
  return unpack(pack(v, o));
}

describe('PackStream integers', () => {
  const cases: [bigint, string][] = [
    [0n, '00'],
    [1n, '01'],
    [127n, '7f'],
    [-1n, 'ff'],
    [-16n, 'f0'],
    [-17n, 'c8ef'],
    [-128n, 'c880'],
    [128n, 'c90080'],
    [-129n, 'c9ff7f'],
    [32767n, 'c97fff'],
    [-32768n, 'c98000'],
    [32768n, 'ca00008000'],
    [2147483647n, 'ca7fffffff'],
    [-2147483648n, 'ca80000000'],
    [2147483648n, 'cb0000000080000000'],
    [2n ** 53n + 1n, 'cb0020000000000001'],
    [2n ** 63n - 1n, 'cb7fffffffffffffff'],
    [-(2n ** 63n), 'cb8000000000000000'],
  ];
  for (const [n, encoded] of cases) {
    it(`encodes ${n} in the smallest form and decodes it back to a bigint`, () => {
      assert.equal(hex(pack(n, bolt5)), encoded);
      assert.equal(unpack(bytes(encoded)), n);
    });
  }

  it('refuses integers beyond 64 bits', () => {
    assert.throws(() => pack(2n ** 63n, bolt5), (e) => isQuiverError(e, 'ArithmeticError'));
  });

  it('sends every JS number as a Float64, even whole ones', () => {
    assert.equal(hex(pack(1, bolt5)), 'c13ff0000000000000');
    assert.equal(unpack(pack(1, bolt5)), 1);
    assert.equal(roundTrip(-0.5), -0.5);
    assert.ok(Number.isNaN(roundTrip(NaN)));
    assert.equal(roundTrip(Infinity), Infinity);
  });
});

describe('PackStream scalars and containers', () => {
  it('round-trips null, booleans, strings of every header size, and bytes', () => {
    assert.equal(hex(pack(null, bolt5)), 'c0');
    assert.equal(hex(pack(true, bolt5)), 'c3');
    assert.equal(hex(pack(false, bolt5)), 'c2');
    for (const len of [0, 1, 15, 16, 255, 256, 65535, 65536]) {
      const s = 'x'.repeat(len);
      assert.equal(roundTrip(s), s, `string of ${len} bytes`);
    }
    assert.equal(hex(pack('A', bolt5)), '8141');
    assert.equal(hex(pack('é€😀', bolt5)), '89c3a9e282acf09f9880', 'sizes count UTF-8 bytes');
    const multi = 'é'.repeat(20); // 40 bytes: needs the 8-bit size header even though 20 chars
    assert.equal(hex(pack(multi, bolt5)).slice(0, 4), 'd028');
    assert.equal(roundTrip(multi), multi);
    assert.deepEqual(roundTrip(new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]));
    assert.equal(hex(pack(new Uint8Array(0), bolt5)), 'cc00');
    assert.deepEqual(roundTrip(new Uint8Array(70000).fill(7)), new Uint8Array(70000).fill(7));
  });

  it('round-trips lists and maps of every header size, nested', () => {
    for (const len of [0, 15, 16, 300, 70000]) {
      const list = Array.from({ length: len }, (_, i) => BigInt(i));
      assert.deepEqual(roundTrip(list), list);
      const map = new Map<string, Value>(list.map((v) => [`k${v}`, v]));
      assert.deepEqual(roundTrip(map), map);
    }
    const nested = new Map<string, Value>([['a', [1n, 'two', [3.5, null, new Map([['deep', true]])]]]]);
    assert.deepEqual(roundTrip(nested), nested);
    assert.equal(hex(pack(new Map([['a', 1n]]), bolt5)), 'a1816101');
  });

  it('lets the last of duplicate map keys win', () => {
    assert.deepEqual(unpack(bytes('a2 8161 01 8161 02')), new Map([['a', 2n]]));
  });
});

describe('PackStream temporal structures', () => {
  const values: Value[] = [
    new QDate(2024, 2, 29),
    new QDate(1, 1, 1),
    new QDate(-200, 12, 31),
    new QDate(99, 3, 1),
    new QDate(999_999_999, 12, 31),
    new QDate(-999_999_999, 1, 1),
    new QTime(3_600_000_000_123n, 3600),
    new QLocalTime(86_399_999_999_999n),
    new QLocalDateTime(1_700_000_000n, 999_999_999),
    new QLocalDateTime(-62_135_596_800n, 0),
    new QDateTime(1_700_000_000n, 5, -18000),
    new QDateTime(1_700_000_000n, 5, 3600, 'Europe/Paris'),
    new QDuration(14n, -3n, 3_661n, 500),
    new QDuration(0n, 0n, -1n, -5),
  ];
  for (const o of [bolt5, bolt44]) {
    for (const v of values) {
      it(`round-trips ${v?.constructor.name} ${String(v)} (utcDateTime=${o.utcDateTime})`, () => {
        assert.deepEqual(roundTrip(v, o), v);
      });
    }
  }

  it('counts Date days from the epoch on the proleptic Gregorian calendar', () => {
    assert.equal(hex(pack(new QDate(1970, 1, 1), bolt5)), 'b14400');
    assert.equal(hex(pack(new QDate(1969, 12, 31), bolt5)), 'b144ff');
    assert.equal(hex(pack(new QDate(2000, 3, 1), bolt5)), 'b144c92b09'); // 11017 days
    assert.equal(hex(pack(new QDate(1, 1, 1), bolt5)), 'b144cafff506c6'); // -719162 days
  });

  it('uses the UTC DateTime tags in 5.x and the legacy local-seconds ones otherwise', () => {
    const dt = new QDateTime(0n, 0, 3600);
    assert.equal(hex(pack(dt, bolt5)), 'b3490000c90e10');
    assert.equal(hex(pack(dt, bolt44)), 'b346c90e1000c90e10', 'legacy seconds are local: 0 + 3600');
    const zoned = new QDateTime(1_700_000_000n, 0, 3600, 'Europe/Paris');
    assert.equal(pack(zoned, bolt5)[1], 0x69);
    assert.equal(pack(zoned, bolt44)[1], 0x66);
  });

  it('computes the offset of a named zone from its rules', () => {
    // 2024-07-01T00:00Z is summer time in Paris (+02:00).
    const summer = unpack(bytes('b3 69 ca 66 81 f1 80 00 8c 4575726f70652f5061726973')) as QDateTime;
    assert.equal(summer.epochSeconds, 1719792000n);
    assert.equal(summer.offsetSeconds, 7200);
    assert.equal(summer.zoneId, 'Europe/Paris');
  });

  it('refuses unknown zones and out-of-range fields with a TypeError', () => {
    assert.throws(() => unpack(bytes('b3 69 00 00 83 4e6f2f')), (e) => isQuiverError(e, 'TypeError'));
    assert.throws(() => unpack(bytes('b2 54 ff 00')), (e) => isQuiverError(e, 'TypeError'), 'negative nano of day');
    assert.throws(() => unpack(bytes('b1 44 cb 0000010000000000')), (e) => isQuiverError(e, 'TypeError'), 'date beyond year 999,999,999');
  });
});

describe('PackStream graph structures', () => {
  const a = new NodeValue(1, ['A', 'B'], new Map([['name', 'a']]));
  const b = new NodeValue(2, [], new Map());
  const c = new NodeValue(3, ['C'], new Map([['xs', [1n, 2n]]]));
  const r = new RelationshipValue(10, 'R', 1, 2, new Map([['w', 0.5]]));
  const s = new RelationshipValue(11, 'S', 3, 2, new Map());

  it('encodes Node with an element id in 5.x and without in 4.4', () => {
    assert.equal(pack(a, bolt5)[0], 0xb4);
    assert.equal(pack(a, bolt44)[0], 0xb3);
    assert.equal(pack(r, bolt5)[0], 0xb8);
    assert.equal(pack(r, bolt44)[0], 0xb5);
  });

  for (const o of [bolt5, bolt44]) {
    it(`round-trips nodes, relationships and paths (elementIds=${o.elementIds})`, () => {
      assert.deepEqual(roundTrip(a, o), a);
      assert.deepEqual(roundTrip(r, o), r);
      const path = new PathValue([a, b, c, b], [r, s, s]);
      assert.deepEqual(roundTrip(path, o), path);
      const single = new PathValue([a], []);
      assert.deepEqual(roundTrip(single, o), single);
    });
  }

  it('writes path indices with negative relationship indices for reversed traversal', () => {
    const decoded = unpack(pack(new PathValue([a, b, c], [r, s]), bolt44));
    assert.ok(decoded instanceof PathValue);
    // Re-encode and read the raw indices list: [1, 1, -2, 2].
    const raw = hex(pack(new PathValue([a, b, c], [r, s]), bolt44));
    assert.ok(raw.endsWith('940101fe02'), raw);
  });

  it('refuses unbound relationships outside a path, points, and unknown tags', () => {
    assert.throws(() => unpack(bytes('b3 72 01 8152 a0')), (e) => isQuiverError(e, 'TypeError'));
    assert.throws(() => unpack(bytes('b3 58 00 c1 0000000000000000 c1 0000000000000000')), (e) => isQuiverError(e, 'TypeError'));
    assert.throws(() => unpack(bytes('b0 7a')), (e) => isQuiverError(e, 'TypeError'));
  });
});

describe('PackStream decoding of malformed input', () => {
  const isMalformed = (e: unknown): boolean => isQuiverError(e, 'BoltMessageMalformed');

  it('throws BoltMessageMalformed for reserved markers, lying sizes, bad UTF-8 and non-string keys', () => {
    for (const m of ['c4', 'c5', 'c6', 'c7', 'cf', 'd3', 'd7', 'db', 'dc', 'dd', 'e0', 'ef']) {
      assert.throws(() => unpack(bytes(m)), isMalformed, m);
    }
    assert.throws(() => unpack(bytes('d6 7fffffff')), isMalformed, 'list count beyond the buffer');
    assert.throws(() => unpack(bytes('da 7fffffff')), isMalformed, 'map count beyond the buffer');
    assert.throws(() => unpack(bytes('d2 7fffffff 41')), isMalformed, 'string size beyond the buffer');
    assert.throws(() => unpack(bytes('ce ffffffff')), isMalformed, 'bytes size beyond the buffer');
    assert.throws(() => unpack(bytes('82 c3 28')), isMalformed, 'invalid UTF-8');
    assert.throws(() => unpack(bytes('a1 01 01')), isMalformed, 'integer map key');
    assert.throws(() => unpack(bytes('01 02')), isMalformed, 'trailing bytes');
  });

  it('bounds nesting depth', () => {
    const deep = new Uint8Array(200).fill(0x91);
    assert.throws(() => unpack(Uint8Array.of(...deep, 0x01)), isMalformed);
  });

  it('throws a QuiverError, never anything else, for every truncation of a rich value', () => {
    const rich = pack(
      new Map<string, Value>([
        ['n', new PathValue([new NodeValue(1, ['L'], new Map([['p', 'é€']]))], [])],
        ['t', new QDateTime(1_700_000_000n, 1, 0, 'UTC')],
        ['l', [1n, 2n ** 40n, 1.5, new Uint8Array([9, 9]), 'x'.repeat(300)]],
      ]),
      bolt5,
    );
    for (let cut = 0; cut < rich.length; cut++) {
      assert.throws(() => unpack(rich.subarray(0, cut)), (e) => e instanceof QuiverError, `cut at ${cut}`);
    }
    assert.ok(unpack(rich) instanceof Map);
  });
});
