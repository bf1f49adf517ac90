import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnapshotEncoder, type SnapshotEvent, type SnapshotFinish, SnapshotParser } from './snapshot-format.js';

const finish: SnapshotFinish = { txId: 42, txChecksum: 0xdeadbeef, txTimeMs: 1_700_000_000_000, totalEntries: 4 };

/** A small snapshot stream with empty, short and long (multi-chunk) values. */
function sampleStream(): Buffer {
  const chunks: Buffer[] = [];
  const enc = new SnapshotEncoder(64, (c) => chunks.push(Buffer.from(c)));
  enc.section('meta');
  enc.entry(Buffer.from('k1'), Buffer.alloc(0));
  enc.entryFrom(Buffer.from('..k2..'), 2, 4, Buffer.from('short value'), 5);
  enc.sectionEnd(2);
  enc.section('nodes');
  enc.entry(Buffer.from([1, 2, 3]), Buffer.alloc(5000, 7));
  enc.entryFrom(Buffer.alloc(100, 9), 0, 100, Buffer.alloc(300, 8), 300);
  enc.sectionEnd(2);
  enc.finish(finish);
  return Buffer.concat(chunks);
}

function parseInPieces(stream: Buffer, pieceBytes: number, entries: boolean): SnapshotEvent[] {
  const parser = new SnapshotParser({ entries });
  const events: SnapshotEvent[] = [];
  for (let i = 0; i < stream.length; i += pieceBytes) {
    for (const ev of parser.push(stream.subarray(i, i + pieceBytes))) events.push(ev.type === 'entry' ? { ...ev, key: Buffer.from(ev.key), value: Buffer.from(ev.value) } : ev);
  }
  parser.end();
  return events;
}

test('parses a stream split at every piece size into the same events', () => {
  const stream = sampleStream();
  const whole = parseInPieces(stream, stream.length, true);
  assert.deepEqual(whole.map((e) => e.type), ['section', 'entry', 'entry', 'sectionEnd', 'section', 'entry', 'entry', 'sectionEnd', 'finish']);
  assert.deepEqual(whole[2], { type: 'entry', key: Buffer.from('k2'), value: Buffer.from('short') });
  assert.deepEqual(whole.at(-1), { type: 'finish', finish });
  for (let piece = 1; piece <= 70; piece++) assert.deepEqual(parseInPieces(stream, piece, true), whole, `pieces of ${piece} bytes`);
});

test('with entries: false, yields every other event whatever the piece size', () => {
  const stream = sampleStream();
  const expected = parseInPieces(stream, stream.length, true).filter((e) => e.type !== 'entry');
  for (let piece = 1; piece <= 70; piece++) assert.deepEqual(parseInPieces(stream, piece, false), expected, `pieces of ${piece} bytes`);
});

test('with entries: false, a stream cut inside an entry body still fails as ended early', () => {
  const stream = sampleStream();
  const cut = stream.indexOf(Buffer.alloc(100, 7)) + 50; // inside the 5000-byte value
  const parser = new SnapshotParser({ entries: false });
  for (const _ of parser.push(stream.subarray(0, cut))) void _;
  assert.throws(() => parser.end(), /snapshot stream ended early/);
});

test('rejects bytes after the finish frame and an unknown frame type, naming the byte', () => {
  const stream = sampleStream();
  for (const entries of [true, false]) {
    const parser = new SnapshotParser({ entries });
    assert.throws(() => [...parser.push(Buffer.concat([stream, Buffer.from([2])]))], new RegExp(`data after its end at byte ${stream.length}`));
    const bad = new SnapshotParser({ entries });
    assert.throws(() => [...bad.push(Buffer.from([9]))], /unknown frame type 9 at byte 0/);
  }
});
