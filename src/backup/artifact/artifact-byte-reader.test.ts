import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteReader } from './artifact-byte-reader.js';

async function* chunked(bytes: Buffer, chunkBytes: number): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) yield bytes.subarray(offset, offset + chunkBytes);
}

describe('ByteReader', () => {
  const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const reads = [16, 1, 0, 30, 7, 46];

  it('returns the same reads whatever sizes the stream is split into', async () => {
    for (let chunkBytes = 1; chunkBytes <= 101; chunkBytes++) {
      const reader = new ByteReader(chunked(bytes, chunkBytes));
      let offset = 0;
      for (const length of reads) {
        const got = await reader.read(length);
        assert.deepEqual(got, bytes.subarray(offset, offset + length), `chunks of ${chunkBytes}, read of ${length} at ${offset}`);
        offset += length;
        assert.equal(reader.offset, offset);
      }
      assert.equal(await reader.atEnd(), true);
    }
  });

  it('returns null when the stream ends inside a read, with the offset where it ended', async () => {
    const reader = new ByteReader(chunked(bytes, 9));
    assert.equal((await reader.read(95))?.length, 95);
    assert.equal(await reader.atEnd(), false);
    assert.equal(await reader.read(10), null);
    assert.equal(reader.offset, 100);
  });

  it('stops the source when closed early', async () => {
    let finished = false;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        for (;;) yield Buffer.alloc(10);
      } finally {
        finished = true;
      }
    }
    const reader = new ByteReader(source());
    await reader.read(15);
    await reader.close();
    assert.ok(finished);
  });
});
