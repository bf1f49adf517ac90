import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zstd from 'zstd-napi/binding.js';
import { isQuiverError } from '../../util/errors.js';
import { blockFlagZstd, encodeBlockHeader } from '../artifact/artifact-block.js';
import { readArtifactInfo } from '../artifact/artifact-reader.js';
import { fullHeader, readWholePayload, seededPayload, tempTarget, trailerFor } from '../artifact/artifact-test-fixtures.js';
import { ArtifactWriter } from '../artifact/artifact-writer.js';
import { readImageStream } from './image-stream.js';

const blockRawBytes = 4096;

/** Encodes `raw` as the backup service does: blocks of `blockRawBytes`, zstd where it shrinks them. */
function encodeImage(raw: Buffer, compress: boolean): Buffer[] {
  const out: Buffer[] = [];
  const cctx = new zstd.CCtx();
  for (let at = 0; at < raw.length; at += blockRawBytes) {
    const block = raw.subarray(at, Math.min(raw.length, at + blockRawBytes));
    let stored: Buffer = block;
    let flags = 0;
    if (compress) {
      const scratch = Buffer.alloc(zstd.compressBound(block.length));
      const n = cctx.compress(scratch, block, 1);
      if (n < block.length) {
        stored = scratch.subarray(0, n);
        flags = blockFlagZstd;
      }
    }
    out.push(Buffer.concat([encodeBlockHeader(block.length, flags, stored), stored]));
  }
  return out;
}

/** The stream cut into pieces of `piece` bytes, as a socket may deliver it. */
async function* pieces(bytes: Buffer, piece: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
}

async function collect(body: AsyncIterable<Buffer>, imageBytes: number, compressed = true) {
  const blocks = [];
  for await (const b of readImageStream(body, { imageBytes, blockRawBytes, compressed, what: "'neo4j' from test" })) blocks.push(b);
  return blocks;
}

const damaged = (pattern: RegExp) => (e: unknown) => isQuiverError(e, 'BackupFailed') && /the store image of 'neo4j' from test is damaged: /.test(e.message) && pattern.test(e.message);

describe('readImageStream', () => {
  const raw = Buffer.concat([seededPayload(1, 10_000, true), seededPayload(2, 5_000, false)]);
  const stream = Buffer.concat(encodeImage(raw, true));

  it('yields every block unchanged, however the stream is cut', async () => {
    for (const piece of [1, 7, 16, 4113, stream.length]) {
      const blocks = await collect(pieces(stream, piece), raw.length);
      assert.equal(blocks.length, 4);
      assert.deepEqual(Buffer.concat(blocks.map((b) => b.encoded)), stream, `pieces of ${piece}`);
      assert.deepEqual(blocks.map((b) => b.rawBytes), [4096, 4096, 4096, raw.length - 3 * 4096]);
    }
  });

  it('refuses a flipped byte, a cut stream, extra bytes, a wrong block size and an unasked-for compression', async () => {
    const flipped = Buffer.from(stream);
    flipped[stream.length - 10]! ^= 0x40;
    await assert.rejects(collect(pieces(flipped, 1000), raw.length), damaged(/block 3 at stream byte \d+ fails its checksum/));
    await assert.rejects(collect(pieces(stream.subarray(0, stream.length - 5), 1000), raw.length), damaged(/the stream ended inside block 3/));
    await assert.rejects(collect(pieces(stream.subarray(0, 0), 1000), raw.length), damaged(/the stream ended after 0 of 4 blocks/));
    await assert.rejects(collect(pieces(Buffer.concat([stream, Buffer.from('x')]), 1000), raw.length), damaged(/holds data after its 4 blocks/));
    await assert.rejects(collect(pieces(stream, 1000), raw.length + 4096), damaged(/block 3 holds 2712 raw bytes, expected 4096/));
    await assert.rejects(collect(pieces(Buffer.concat(encodeImage(raw.subarray(0, 3 * 4096), true)), 1000), 4 * 4096), damaged(/ended after 3 of 4 blocks/));
    await assert.rejects(collect(pieces(stream, 1000), raw.length - 1), damaged(/block 3 holds 2712 raw bytes, expected 2711/));
    await assert.rejects(collect(pieces(stream, 1000), raw.length, false), damaged(/block 0 has flags 0x1/));
  });

  it('its blocks make an artifact whose payload is the image', async () => {
    const temp = await tempTarget();
    try {
      const writer = await ArtifactWriter.create(temp.target, 'image.backup', fullHeader({ payloadFormat: 'lmdb-pages-v1' }), { compress: true, blockRawBytes });
      for (const block of await collect(pieces(stream, 3000), raw.length)) await writer.writeEncodedBlock(block.encoded);
      await writer.finish(trailerFor(1, 9));
      assert.deepEqual(await readWholePayload(temp.target, 'image.backup'), raw);
      const info = await readArtifactInfo(temp.target, 'image.backup');
      assert.equal(info.trailer.blockCount, 4);
      assert.equal(info.trailer.payloadRawBytes, raw.length);
    } finally {
      await temp.cleanup();
    }
  });

  it('the artifact writer refuses a block after a short one, and mixing encoded and raw writes', async () => {
    const temp = await tempTarget();
    try {
      const short = encodeImage(Buffer.alloc(100, 1), false)[0]!;
      const writer = await ArtifactWriter.create(temp.target, 'short.backup', fullHeader(), { compress: false, blockRawBytes });
      await writer.writeEncodedBlock(short);
      await assert.rejects(writer.writeEncodedBlock(short), /only the last block may be shorter than 4096 bytes/);
      const mixed = await ArtifactWriter.create(temp.target, 'mixed.backup', fullHeader(), { compress: false, blockRawBytes });
      await mixed.writeEncodedBlock(encodeImage(Buffer.alloc(4096, 2), false)[0]!);
      await assert.rejects(mixed.write(Buffer.alloc(4096)), /write cannot follow writeEncodedBlock/);
    } finally {
      await temp.cleanup();
    }
  });
});
