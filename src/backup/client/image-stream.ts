/**
 * The backup client's side of a store image stream (docs/backup-protocol.md, "Snapshot"): the body
 * is a sequence of encoded artifact blocks. Each block is checked here (header fields, CRC) before
 * it goes into the artifact unchanged, so what the server read is what the file holds, bit for bit,
 * and a block damaged anywhere between the server's memory and our disk is caught now, not at restore.
 */
import { QuiverError } from '../../util/errors.js';
import { ByteReader } from '../artifact/artifact-byte-reader.js';
import { blockCrc, blockFlagZstd, blockHeaderBytes, decodeBlockHeader } from '../artifact/artifact-block.js';
import type { EncodedBlock } from '../service/store-image.js';

export interface ImageStreamExpectation {
  /** What the server announced: raw bytes of the whole image. */
  imageBytes: number;
  blockRawBytes: number;
  compressed: boolean;
  /** For messages. */
  what: string;
}

export async function* readImageStream(body: AsyncIterable<Buffer>, expect: ImageStreamExpectation): AsyncGenerator<EncodedBlock> {
  const reader = new ByteReader(body[Symbol.asyncIterator]());
  const bad = (detail: string) =>
    new QuiverError('BackupFailed', `the store image of ${expect.what} is damaged: ${detail}`, { hint: 'run the backup again; if it repeats, check the server log and its memory and disk' });
  const blockCount = Math.ceil(expect.imageBytes / expect.blockRawBytes);
  let rawTotal = 0;
  try {
    for (let index = 0; index < blockCount; index++) {
      const offset = reader.offset;
      const headerBytes = await reader.read(blockHeaderBytes);
      if (headerBytes === null) throw bad(`the stream ended after ${index} of ${blockCount} blocks (byte ${reader.offset})`);
      const h = decodeBlockHeader(headerBytes);
      const rawExpected = Math.min(expect.blockRawBytes, expect.imageBytes - rawTotal);
      if (h.rawBytes !== rawExpected) throw bad(`block ${index} holds ${h.rawBytes} raw bytes, expected ${rawExpected}`);
      if (h.flags & ~blockFlagZstd || (h.flags & blockFlagZstd && !expect.compressed)) throw bad(`block ${index} has flags 0x${h.flags.toString(16)}`);
      const storedMin = h.flags & blockFlagZstd ? 1 : h.rawBytes;
      if (h.storedBytes < storedMin || h.storedBytes > h.rawBytes) throw bad(`block ${index} has stored length ${h.storedBytes} for ${h.rawBytes} raw bytes`);
      const stored = await reader.read(h.storedBytes);
      if (stored === null) throw bad(`the stream ended inside block ${index} (byte ${reader.offset})`);
      if (blockCrc(headerBytes, stored) !== h.crc32) throw bad(`block ${index} at stream byte ${offset} fails its checksum`);
      rawTotal += h.rawBytes;
      yield { index, rawBytes: h.rawBytes, encoded: Buffer.concat([headerBytes, stored]) };
    }
    if (!(await reader.atEnd())) throw bad(`the stream holds data after its ${blockCount} blocks`);
  } finally {
    await reader.close();
  }
}
