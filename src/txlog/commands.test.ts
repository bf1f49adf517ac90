import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QDate, QDateTime, QDuration } from '../values/temporal.js';
import type { Properties } from '../values/value.js';
import { type Command, decodeCommands, encodeCommands } from './commands.js';
import { mulberry32 } from '../util/seeded-random.js';

const richProperties: Properties = new Map<string, Properties extends Map<string, infer V> ? V : never>([
  ['name', 'Ada'],
  ['born', 1815n],
  ['big', 2n ** 62n + 7n],
  ['ratio', 0.5],
  ['negZero', -0],
  ['nan', Number.NaN],
  ['flag', false],
  ['tags', ['a', 'b']],
  ['scores', [1n, 2.5]],
  ['blob', Buffer.from([0, 255])],
  ['day', new QDate(1815, 12, 10)],
  ['at', new QDateTime(1_700_000_000n, 1, 0, 'UTC')],
  ['span', new QDuration(1n, 2n, 3n, 4)],
  ['', 'empty key'],
]);

/** One command of every op, with the edges of each field. */
const everyCommand: Command[] = [
  { op: 'node.put', id: 0, labels: [], properties: new Map() },
  { op: 'node.put', id: 2 ** 53 - 1, labels: ['Person', 'Émigré', ''], properties: richProperties },
  { op: 'node.delete', id: 17 },
  { op: 'rel.put', id: 3, type: 'KNOWS', startId: 0, endId: 2 ** 40, properties: new Map([['since', 1833n]]) },
  { op: 'rel.put', id: 4, type: '', startId: 5, endId: 5, properties: new Map() },
  { op: 'rel.delete', id: 3 },
  { op: 'index.create', name: 'person_name', label: 'Person', property: 'name', unique: false, constraintName: null },
  { op: 'index.create', name: 'person_email', label: 'Person', property: 'email', unique: true, constraintName: 'person_email' },
  { op: 'index.drop', name: 'person_name' },
  { op: 'constraint.create', name: 'person_email', label: 'Person', property: 'email', indexName: 'person_email' },
  { op: 'constraint.drop', name: 'person_email' },
];

describe('transaction commands', () => {
  it('round-trip every command op, each alone and all together', () => {
    for (const c of everyCommand) assert.deepStrictEqual(decodeCommands(encodeCommands([c])), [c], c.op);
    assert.deepStrictEqual(decodeCommands(encodeCommands(everyCommand)), everyCommand);
  });

  it('round-trip an empty command list (the creation transaction)', () => {
    const body = encodeCommands([]);
    assert.equal(body.length, 4);
    assert.deepEqual(decodeCommands(body), []);
  });

  it('keep property values exactly: integers beyond 2^53, -0, NaN, floats against integers', () => {
    const [c] = decodeCommands(encodeCommands([everyCommand[1]!]));
    assert.ok(c?.op === 'node.put');
    assert.equal(c.properties.get('big'), 2n ** 62n + 7n);
    assert.ok(Object.is(c.properties.get('negZero'), -0));
    assert.ok(Number.isNaN(c.properties.get('nan')));
    assert.deepStrictEqual(c.properties.get('scores'), [1n, 2.5]);
    assert.deepEqual([...c.properties.keys()], [...richProperties.keys()], 'property order is kept');
  });

  it('throw RangeError for a body cut at any byte', () => {
    const body = encodeCommands(everyCommand);
    for (let cut = 0; cut < body.length; cut++) {
      assert.throws(() => decodeCommands(body.subarray(0, cut)), RangeError, `cut at ${cut} of ${body.length}`);
    }
  });

  it('throw RangeError for unknown ops, trailing bytes and absurd counts', () => {
    assert.throws(() => decodeCommands(Buffer.from([1, 0, 0, 0, 9])), /unknown command op 9 at byte 4/);
    assert.throws(() => decodeCommands(Buffer.concat([encodeCommands([]), Buffer.from([0])])), /trailing bytes after commands at 4/);
    assert.throws(() => decodeCommands(Buffer.from([0xff, 0xff, 0xff, 0xff])), /command count 4294967295 exceeds record size/);
    const absurdLabels = Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), Buffer.alloc(8), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    assert.throws(() => decodeCommands(absurdLabels), /label count exceeds record size/);
    // node.put with no labels and 2^31-1 properties in a 21-byte body: fails on the first missing byte.
    const absurdProps = Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), Buffer.alloc(8), Buffer.alloc(4), Buffer.from([0xff, 0xff, 0xff, 0x7f])]);
    assert.throws(() => decodeCommands(absurdProps), RangeError);
  });

  it('decode random garbage and damaged bodies to commands or a RangeError, never hanging', () => {
    const seed = Number(process.env.QUIVER_TEST_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    const valid = encodeCommands(everyCommand);
    const started = Date.now();
    for (let round = 0; round < 20_000; round++) {
      let bytes: Buffer;
      if (round % 2 === 0) {
        // A valid body with a few bytes flipped: the hardest garbage, it looks almost right.
        bytes = Buffer.from(valid);
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      } else {
        bytes = Buffer.alloc(Math.floor(random() * 64));
        for (let i = 0; i < bytes.length; i++) bytes[i] = random() < 0.6 ? Math.floor(random() * 9) : Math.floor(random() * 256);
      }
      try {
        decodeCommands(bytes);
      } catch (e) {
        assert.ok(e instanceof RangeError, `seed ${seed}, round ${round}, input ${bytes.toString('hex')}: ${String(e)}`);
      }
    }
    assert.ok(Date.now() - started < 10_000, `seed ${seed}: garbage decoding took too long`);
  });
});

