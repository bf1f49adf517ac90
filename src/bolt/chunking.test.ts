// Bolt framing: chunking large messages, and reassembly of messages split at every byte offset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { Dechunker, chunk } from './chunking.js';

function message(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('chunk', () => {
  it('frames a small message as one chunk plus the end marker', () => {
    assert.deepEqual(chunk(Uint8Array.of(0xb1, 0x70, 0xa0)), Uint8Array.of(0, 3, 0xb1, 0x70, 0xa0, 0, 0));
  });

  it('splits a message larger than 0xFFFF bytes into full chunks', () => {
    const m = message(0xffff * 2 + 10, 1);
    const framed = chunk(m);
    assert.equal(framed.length, m.length + 3 * 2 + 2);
    assert.deepEqual([...framed.subarray(0, 2)], [0xff, 0xff]);
    assert.deepEqual([...framed.subarray(0xffff + 2, 0xffff + 4)], [0xff, 0xff]);
    assert.deepEqual([...framed.subarray(2 * 0xffff + 4, 2 * 0xffff + 6)], [0, 10]);
    assert.deepEqual(new Dechunker().push(framed), [m]);
  });
});

describe('Dechunker', () => {
  // Two messages, the second framed in 5-byte chunks, with NOOPs before, between and after.
  const first = message(40, 1);
  const second = message(23, 2);
  const stream = Uint8Array.from([0, 0, ...chunk(first), 0, 0, 0, 0, ...chunk(second, 5), 0, 0]);

  it('reassembles messages split at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new Dechunker();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      assert.deepEqual(out, [first, second], `cut at ${cut}`);
      assert.ok(d.idle);
    }
  });

  it('reassembles messages fed one byte at a time, and at every pair of offsets', () => {
    const d = new Dechunker();
    const out: Uint8Array[] = [];
    for (const b of stream) out.push(...d.push(Uint8Array.of(b)));
    assert.deepEqual(out, [first, second]);
    for (let i = 0; i <= stream.length; i += 3) {
      for (let j = i; j <= stream.length; j += 2) {
        const e = new Dechunker();
        const got = [...e.push(stream.subarray(0, i)), ...e.push(stream.subarray(i, j)), ...e.push(stream.subarray(j))];
        assert.deepEqual(got, [first, second], `cuts at ${i}, ${j}`);
      }
    }
  });

  it('does not keep references to the caller\'s buffer', () => {
    const d = new Dechunker();
    const buf = Uint8Array.from(chunk(first));
    const partial = d.push(buf.subarray(0, 10));
    assert.equal(partial.length, 0);
    buf.fill(0, 0, 10);
    const [m] = d.push(buf.subarray(10));
    assert.deepEqual(m, first);
  });

  it('reports a partial message as not idle', () => {
    const d = new Dechunker();
    d.push(Uint8Array.of(0, 4, 1));
    assert.equal(d.idle, false);
  });

  it('refuses a message beyond the size limit before buffering it', () => {
    const d = new Dechunker(100);
    assert.deepEqual(d.push(chunk(message(100, 3))), [message(100, 3)]);
    assert.throws(() => d.push(Uint8Array.of(0, 60, ...message(60, 1), 0, 41)), (e) => isQuiverError(e, 'BoltMessageMalformed'));
  });
});
