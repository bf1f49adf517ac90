import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { readPayload, readArtifactInfo, verifyArtifact } from './artifact-reader.js';
import {
  fullHeader, readWholePayload, seededPayload, tempTarget, trailerFor, wrapTarget, writeArtifact, type TempTarget,
} from './artifact-test-fixtures.js';
import { blockRawBytesDefault } from '../limits.js';
import { encodeHeader, headerPreambleBytes } from './artifact-header.js';

const mib = blockRawBytesDefault;
const sizes = [0, 1, 1000, mib - 1, mib, mib + 1, 3 * mib + 5];

describe('artifact round trip', () => {
  let temp: TempTarget;
  before(async () => { temp = await tempTarget(); });
  after(async () => { await temp.cleanup(); });

  for (const compress of [true, false]) {
    for (const compressible of [true, false]) {
      for (const size of sizes) {
        const label = `${size} bytes, ${compress ? 'compressed' : 'uncompressed'}, ${compressible ? 'compressible' : 'random'} payload`;
        it(`gives back exactly the payload written: ${label}`, async () => {
          const seed = size * 31 + (compress ? 7 : 0) + (compressible ? 3 : 0);
          const payload = seededPayload(seed, size, compressible);
          const name = `neo4j-${size}-${compress}-${compressible}.backup`;
          const written = await writeArtifact(temp.target, name, payload, { compress });
          assert.equal(written.bytesRaw, size, `seed ${seed}`);
          assert.equal(written.blockCount, Math.ceil(size / mib));
          assert.equal(written.bytesStored, await temp.target.size(name));
          assert.ok((await readWholePayload(temp.target, name)).equals(payload), `payload differs, seed ${seed}`);
          const verified = await verifyArtifact(temp.target, name);
          assert.equal(verified.blockCount, written.blockCount);
          const info = await readArtifactInfo(temp.target, name);
          assert.equal(info.header.compressed, compress);
          assert.equal(info.header.compression, compress ? 'zstd' : 'none');
          assert.equal(info.trailer.payloadRawBytes, size);
          if (!compress || !compressible) assert.equal(info.trailer.payloadStoredBytes, size, 'blocks zstd cannot shrink are stored raw');
          else if (size >= 1000) assert.ok(info.trailer.payloadStoredBytes < size / 2, 'compressible payload shrinks');
        });
      }
    }
  }

  it('writes exactly one block for a payload of exactly one block size', async () => {
    const written = await writeArtifact(temp.target, 'one-block.backup', seededPayload(1, mib, true), { chunkBytes: mib });
    assert.equal(written.blockCount, 1);
    assert.equal((await readArtifactInfo(temp.target, 'one-block.backup')).trailer.blockCount, 1);
  });

  it('records every header and trailer field as given', async () => {
    const header = fullHeader({
      kind: 'DIFF',
      payloadFormat: 'txlog-v1',
      parent: { artifactName: 'neo4j-2023-06-29T13-46-27.backup', highestTx: 11, lastTxChecksum: 0xcafebabe },
      metadataCommands: ['CREATE ROLE reader', 'GRANT ROLE reader TO alice'],
      includeMetadata: 'roles',
      createdAt: '2023-06-29T13:50:45.123Z',
    });
    const trailer = { lowestTx: 12, highestTx: 14, highestTxCommitTimeMs: 1_688_046_645_000, lastTxChecksum: 0x12345678, txCount: 3 };
    await writeArtifact(temp.target, 'fields.backup', seededPayload(5, 5000, true), { header, trailer });
    const info = await readArtifactInfo(temp.target, 'fields.backup');
    assert.deepEqual(info.header, { ...header, compressed: true, compression: 'zstd', blockRawBytes: mib });
    assert.deepEqual(
      { lowestTx: info.trailer.lowestTx, highestTx: info.trailer.highestTx, highestTxCommitTimeMs: info.trailer.highestTxCommitTimeMs, lastTxChecksum: info.trailer.lastTxChecksum, txCount: info.trailer.txCount },
      trailer,
    );
    assert.equal(info.formatVersion, 1);
    assert.equal(info.uri, temp.target.uri('fields.backup'));
    assert.match(info.trailer.sha256Hex, /^[0-9a-f]{64}$/);
  });

  it('writes an empty DIFF with lowest and highest tx 0', async () => {
    const header = fullHeader({ kind: 'DIFF', parent: { artifactName: 'p.backup', highestTx: 11, lastTxChecksum: 1 } });
    await writeArtifact(temp.target, 'empty-diff.backup', Buffer.alloc(0), { header, trailer: trailerFor(0, 0) });
    const info = await readArtifactInfo(temp.target, 'empty-diff.backup');
    assert.deepEqual([info.trailer.lowestTx, info.trailer.highestTx, info.trailer.txCount, info.trailer.blockCount], [0, 0, 0, 0]);
  });

  it('reads a header larger than the first inspect read (metadata over 64 KiB)', async () => {
    const metadataCommands = Array.from({ length: 2000 }, (_, i) => `CREATE USER user${i} SET ENCRYPTED PASSWORD '${'x'.repeat(60)}'`);
    await writeArtifact(temp.target, 'big-header.backup', seededPayload(9, 3000, true), { header: fullHeader({ metadataCommands }) });
    const info = await readArtifactInfo(temp.target, 'big-header.backup');
    assert.deepEqual(info.header.metadataCommands, metadataCommands);
    assert.ok(info.trailer.headerBytes > 64 * 1024);
    assert.ok((await readWholePayload(temp.target, 'big-header.backup')).equals(seededPayload(9, 3000, true)));
  });

  it('accepts payload written one byte at a time and blocks of any configured size', async () => {
    const payload = seededPayload(11, 777, true);
    await writeArtifact(temp.target, 'bytewise.backup', payload, { chunkBytes: 1, blockRawBytes: 100 });
    const info = await readArtifactInfo(temp.target, 'bytewise.backup');
    assert.equal(info.trailer.blockCount, 8);
    assert.equal(info.header.blockRawBytes, 100);
    assert.ok((await readWholePayload(temp.target, 'bytewise.backup')).equals(payload));
  });

  it('reads the payload back whatever sizes the file stream is split into', async () => {
    const payload = seededPayload(13, 1000, true);
    for (const compress of [true, false]) {
      const name = `split-${compress}.backup`;
      await writeArtifact(temp.target, name, payload, { compress, blockRawBytes: 128 });
      const whole = await temp.target.readRange(name, 0, await temp.target.size(name));
      for (let chunkBytes = 1; chunkBytes <= 300; chunkBytes++) {
        const splitting = wrapTarget(temp.target, { openRead: () => Readable.from(split(whole, chunkBytes), { objectMode: false }) });
        const chunks: Buffer[] = [];
        for await (const chunk of readPayload(splitting, name)) chunks.push(chunk);
        assert.ok(Buffer.concat(chunks).equals(payload), `stream split every ${chunkBytes} bytes, compress=${compress}`);
      }
    }
  });

  it('closes the file when the reader stops early', async () => {
    await writeArtifact(temp.target, 'early.backup', seededPayload(17, 5 * 1000, true), { blockRawBytes: 1000 });
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => { markClosed = resolve; });
    const watching = wrapTarget(temp.target, {
      openRead: (name) => temp.target.openRead(name).on('close', () => markClosed()),
    });
    for await (const chunk of readPayload(watching, 'early.backup')) {
      assert.equal(chunk.length, 1000);
      break;
    }
    await closed;
  });

  it('encodes equal headers to equal bytes whatever the key order given', () => {
    const a = fullHeader();
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
    const complete = { compressed: true, compression: 'zstd', blockRawBytes: mib } as const;
    assert.ok(encodeHeader({ ...a, ...complete }).bytes.equals(encodeHeader({ ...reordered, ...complete }).bytes));
    assert.equal(encodeHeader({ ...a, ...complete }).bytes.subarray(0, 8).toString('ascii'), 'QUIVRBAK');
    assert.equal(headerPreambleBytes, 16);
  });
});

function* split(bytes: Buffer, chunkBytes: number): Generator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += chunkBytes) yield bytes.subarray(offset, offset + chunkBytes);
}
