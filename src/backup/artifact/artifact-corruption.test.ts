import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { BackupTarget } from '../../targets/target.js';
import { isQuiverError } from '../../util/errors.js';
import { readArtifactInfo, readPayload, verifyArtifact } from './artifact-reader.js';
import { seededPayload, tempTarget, wrapTarget, writeArtifact, type TempTarget } from './artifact-test-fixtures.js';

const hex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** Layout of the test artifact: 2,500 payload bytes in blocks of 1,000 → blocks of 1,000, 1,000 and 500. */
interface Layout {
  bytes: Buffer;
  headerBytes: number;
  blockOffsets: number[];
  trailerOffset: number;
}

describe('artifact corruption', () => {
  let temp: TempTarget;
  let plain: Layout;
  let zstd: Layout;
  const payload = seededPayload(42, 2500, true);

  before(async () => {
    temp = await tempTarget();
    plain = await layout('plain.backup', false);
    zstd = await layout('zstd.backup', true);
  });
  after(async () => { await temp.cleanup(); });

  async function layout(name: string, compress: boolean): Promise<Layout> {
    await writeArtifact(temp.target, name, payload, { compress, blockRawBytes: 1000 });
    const bytes = await readFile(join(temp.folder, name));
    const headerBytes = bytes.readUInt32LE(12) + 20;
    const blockOffsets: number[] = [];
    let offset = headerBytes;
    for (let i = 0; i < 3; i++) {
      blockOffsets.push(offset);
      offset += 16 + bytes.readUInt32LE(offset + 4);
    }
    return { bytes, headerBytes, blockOffsets, trailerOffset: bytes.length - 112 };
  }

  /** Writes a changed copy of an artifact under a new name and returns that name. */
  async function variant(base: Layout, name: string, change: (bytes: Buffer) => Buffer | void): Promise<string> {
    const copy = Buffer.from(base.bytes);
    await writeFile(join(temp.folder, name), change(copy) ?? copy);
    return name;
  }

  function fixTrailerCrc(bytes: Buffer): void {
    const t = bytes.length - 112;
    bytes.writeUInt32LE(crc32(bytes.subarray(t, t + 100)), t + 100);
  }

  async function expectCorrupt(operation: () => Promise<unknown>, message: string): Promise<void> {
    await assert.rejects(operation, (e: unknown) => {
      assert.ok(isQuiverError(e, 'ArtifactCorrupt'), `expected ArtifactCorrupt, got ${String(e)}`);
      assert.equal(e.message, message);
      return true;
    });
  }

  async function drain(name: string, target: BackupTarget = temp.target): Promise<number> {
    let chunks = 0;
    for await (const _ of readPayload(target, name)) chunks += 1;
    return chunks;
  }

  it('reports a flipped byte in a block by block index and offset, having yielded only sound blocks', async () => {
    const b1 = plain.blockOffsets[1] ?? 0;
    const name = await variant(plain, 'flip-block.backup', (bytes) => { bytes[b1 + 16 + 10] = (bytes[b1 + 16 + 10] ?? 0) ^ 0x01; });
    const bytes = await readFile(join(temp.folder, name));
    const stored = bytes.readUInt32LE(b1 + 12);
    const computed = crc32(bytes.subarray(b1 + 16, b1 + 16 + 1000), crc32(bytes.subarray(b1, b1 + 12)));
    const message = `artifact "${name}" is corrupt: block 1 at offset ${b1} checksum mismatch (stored ${hex(stored)}, computed ${hex(computed)})`;
    await expectCorrupt(() => verifyArtifact(temp.target, name), message);
    const yielded: Buffer[] = [];
    await expectCorrupt(async () => { for await (const chunk of readPayload(temp.target, name)) yielded.push(chunk); }, message);
    assert.ok(yielded.length <= 1);
    assert.ok(Buffer.concat(yielded).equals(payload.subarray(0, 1000 * yielded.length)));
    // Header and trailer are intact: describing the artifact still works (inspect does not read blocks).
    assert.equal((await readArtifactInfo(temp.target, name)).trailer.blockCount, 3);
  });

  it('reports a flipped length field in a block header as a checksum mismatch of that block', async () => {
    const b2 = plain.blockOffsets[2] ?? 0;
    const name = await variant(plain, 'flip-block-length.backup', (bytes) => { bytes[b2] = (bytes[b2] ?? 0) ^ 0x02; });
    const bytes = await readFile(join(temp.folder, name));
    const computed = crc32(bytes.subarray(b2 + 16, b2 + 16 + 500), crc32(bytes.subarray(b2, b2 + 12)));
    await expectCorrupt(() => verifyArtifact(temp.target, name),
      `artifact "${name}" is corrupt: block 2 at offset ${b2} checksum mismatch (stored ${hex(bytes.readUInt32LE(b2 + 12))}, computed ${hex(computed)})`);
  });

  it('reports a flipped byte inside a zstd frame before decompressing it', async () => {
    const b0 = zstd.blockOffsets[0] ?? 0;
    const storedBytes = zstd.bytes.readUInt32LE(b0 + 4);
    assert.ok(storedBytes < 1000, 'block 0 is compressed');
    const name = await variant(zstd, 'flip-zstd.backup', (bytes) => { bytes[b0 + 16 + 7] = (bytes[b0 + 16 + 7] ?? 0) ^ 0x80; });
    const bytes = await readFile(join(temp.folder, name));
    const computed = crc32(bytes.subarray(b0 + 16, b0 + 16 + storedBytes), crc32(bytes.subarray(b0, b0 + 12)));
    await expectCorrupt(() => drain(name),
      `artifact "${name}" is corrupt: block 0 at offset ${b0} checksum mismatch (stored ${hex(bytes.readUInt32LE(b0 + 12))}, computed ${hex(computed)})`);
  });

  it('catches a block changed together with its CRC by the SHA-256 digest', async () => {
    const b1 = plain.blockOffsets[1] ?? 0;
    const name = await variant(plain, 'flip-block-fixed-crc.backup', (bytes) => {
      bytes[b1 + 16 + 3] = (bytes[b1 + 16 + 3] ?? 0) ^ 0x10;
      bytes.writeUInt32LE(crc32(bytes.subarray(b1 + 16, b1 + 16 + 1000), crc32(bytes.subarray(b1, b1 + 12))), b1 + 12);
    });
    const bytes = await readFile(join(temp.folder, name));
    const t = plain.trailerOffset;
    const computed = createHash('sha256').update(bytes.subarray(0, t)).digest('hex');
    const recorded = bytes.subarray(t + 64, t + 96).toString('hex');
    const message = `artifact "${name}" is corrupt: SHA-256 digest mismatch over bytes 0..${t} (trailer records ${recorded}, computed ${computed})`;
    await expectCorrupt(() => verifyArtifact(temp.target, name), message);
    await expectCorrupt(() => drain(name), message);
  });

  it('reports a flipped byte in the header JSON as a header checksum mismatch', async () => {
    const name = await variant(plain, 'flip-header.backup', (bytes) => { bytes[16 + 5] = (bytes[16 + 5] ?? 0) ^ 0x01; });
    const bytes = await readFile(join(temp.folder, name));
    const crcOffset = plain.headerBytes - 4;
    await expectCorrupt(() => readArtifactInfo(temp.target, name),
      `artifact "${name}" is corrupt: header checksum mismatch (stored ${hex(bytes.readUInt32LE(crcOffset))}, computed ${hex(crc32(bytes.subarray(0, crcOffset)))})`);
  });

  it('reports a flipped magic byte as not an artifact', async () => {
    const name = await variant(plain, 'flip-magic.backup', (bytes) => { bytes[0] = 0x00; });
    await expectCorrupt(() => readArtifactInfo(temp.target, name),
      `artifact "${name}" is not a Quiver backup artifact: expected magic "QUIVRBAK" at offset 0`);
  });

  it('reports a file of another kind as not an artifact', async () => {
    await writeFile(join(temp.folder, 'notes.backup'), 'these are not the bytes you are looking for, but long enough to have a trailer '.repeat(3));
    await expectCorrupt(() => readArtifactInfo(temp.target, 'notes.backup'),
      'artifact "notes.backup" is not a Quiver backup artifact: expected magic "QUIVRBAK" at offset 0');
  });

  it('reports a flipped version byte as an unsupported format version', async () => {
    const name = await variant(plain, 'flip-version.backup', (bytes) => { bytes[8] = 0xfe; });
    await expectCorrupt(() => readArtifactInfo(temp.target, name),
      `artifact "${name}" has unsupported format version 254: this Quiver reads version 1`);
  });

  it('reports a flipped header length against the length the trailer records', async () => {
    const name = await variant(plain, 'flip-header-length.backup', (bytes) => { bytes[12] = (bytes[12] ?? 0) ^ 0x01; });
    const changed = ((plain.headerBytes - 20) ^ 0x01) + 20;
    await expectCorrupt(() => readArtifactInfo(temp.target, name),
      `artifact "${name}" is corrupt: header length at offset 12 gives a ${changed}-byte header but the trailer records ${plain.headerBytes}`);
  });

  for (const [field, at] of [['lowest tx', 3], ['block count', 48], ['digest', 64 + 31]] as const) {
    it(`reports a flipped byte in the trailer (${field}) as a trailer checksum mismatch`, async () => {
      const t = plain.trailerOffset;
      const name = await variant(plain, `flip-trailer-${at}.backup`, (bytes) => { bytes[t + at] = (bytes[t + at] ?? 0) ^ 0x04; });
      const bytes = await readFile(join(temp.folder, name));
      await expectCorrupt(() => readArtifactInfo(temp.target, name),
        `artifact "${name}" is corrupt: trailer checksum mismatch at offset ${t} (stored ${hex(bytes.readUInt32LE(t + 100))}, computed ${hex(crc32(bytes.subarray(t, t + 100)))})`);
    });
  }

  it('reports a flipped end magic byte as truncation', async () => {
    const size = plain.bytes.length;
    const name = await variant(plain, 'flip-end-magic.backup', (bytes) => { bytes[size - 1] = 0x00; });
    await expectCorrupt(() => readArtifactInfo(temp.target, name), `artifact "${name}" is truncated: expected trailer magic at offset ${size - 8}`);
  });

  it('reports a trailer whose transaction range is impossible, even with a valid CRC', async () => {
    const t = plain.trailerOffset;
    const name = await variant(plain, 'bad-range.backup', (bytes) => {
      bytes.writeBigUInt64LE(20n, t);
      fixTrailerCrc(bytes);
    });
    await expectCorrupt(() => readArtifactInfo(temp.target, name), `artifact "${name}" is corrupt: highest tx 11 is below lowest tx 20`);
  });

  it('reports a trailer that belongs to another header', async () => {
    const t = plain.trailerOffset;
    const name = await variant(plain, 'other-header.backup', (bytes) => {
      bytes.writeUInt32LE(0x01020304, t + 56);
      fixTrailerCrc(bytes);
    });
    const headerCrc = plain.bytes.readUInt32LE(plain.headerBytes - 4);
    await expectCorrupt(() => readArtifactInfo(temp.target, name),
      `artifact "${name}" is corrupt: trailer records header checksum 0x01020304 but the header's is ${hex(headerCrc)}: they belong to different artifacts`);
  });

  it('reports a trailer whose block count does not account for the file size', async () => {
    const t = plain.trailerOffset;
    const name = await variant(plain, 'bad-count.backup', (bytes) => {
      bytes.writeUInt32LE(4, t + 48);
      fixTrailerCrc(bytes);
    });
    await expectCorrupt(() => readArtifactInfo(temp.target, name),
      `artifact "${name}" is corrupt: file is ${plain.bytes.length} bytes but its header, 4 blocks and trailer account for ${plain.bytes.length + 16}`);
  });

  it('reports truncation at any offset with the offset where the trailer magic was expected', async () => {
    const b1 = plain.blockOffsets[1] ?? 0;
    const t = plain.trailerOffset;
    const size = plain.bytes.length;
    for (const length of [0, 5, 8, 16, plain.headerBytes, b1 + 500, t, t + 50, size - 8, size - 1]) {
      const name = await variant(plain, `truncated-${length}.backup`, (bytes) => bytes.subarray(0, length));
      await expectCorrupt(() => readArtifactInfo(temp.target, name), `artifact "${name}" is truncated: expected trailer magic at offset ${Math.max(0, length - 8)}`);
      await expectCorrupt(() => verifyArtifact(temp.target, name), `artifact "${name}" is truncated: expected trailer magic at offset ${Math.max(0, length - 8)}`);
    }
  });

  it('reports bytes appended after the trailer like a truncation: the end magic is not at the end', async () => {
    const size = plain.bytes.length;
    const name = await variant(plain, 'appended.backup', (bytes) => Buffer.concat([bytes, Buffer.from('x')]));
    await expectCorrupt(() => readArtifactInfo(temp.target, name), `artifact "${name}" is truncated: expected trailer magic at offset ${size + 1 - 8}`);
  });

  it('reports a file that ends early while its blocks are streamed', async () => {
    const b1 = plain.blockOffsets[1] ?? 0;
    const cut = wrapTarget(temp.target, { openRead: () => Readable.from([plain.bytes.subarray(0, b1 + 100)], { objectMode: false }) });
    await expectCorrupt(() => drain('plain.backup', cut), `artifact "plain.backup" is truncated: the file ends at offset ${b1 + 100}, inside block 1`);
  });
});
