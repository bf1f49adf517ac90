/**
 * Reads an artifact back: its description (header and trailer only), its payload (every block
 * checked, decompressed in worker threads, in order), or a full verification without decompressing.
 * Whatever is wrong is reported as ArtifactCorrupt naming the block and byte offset.
 */
import { createHash } from 'node:crypto';
import { writeAllSync } from '../../util/file-write.js';
import type { BackupTarget } from '../../targets/target.js';
import { ByteReader } from './artifact-byte-reader.js';
import { blockCrc, blockFlagZstd, blockHeaderBytes, blockHeaderProblem, decodeBlockHeader } from './artifact-block.js';
import { artifactCorrupt, artifactEndedEarly, hex32 } from './artifact-corrupt.js';
import { headerCrcBytes } from './artifact-header.js';
import { readArtifactInfo, type ArtifactInfo } from './artifact-info.js';
import { trailerBytes } from './artifact-trailer.js';
import { sharedCompressionPool, type CompressionPool } from '../compression/compression.js';
import { FileWriteError } from '../compression/compression-protocol.js';
import { mapOrdered } from '../compression/compression-queue.js';
import { blocksInFlightMax } from '../limits.js';

export { readArtifactInfo, type ArtifactInfo };

export interface ReadPayloadOptions {
  /** Default: the process-wide pool. */
  pool?: CompressionPool;
  /** An info already read, to skip reading header and trailer again. */
  info?: ArtifactInfo;
}

/**
 * The payload as raw chunks (one per block), in order. Chunks come before the final digest check:
 * treat them as tentative until the iteration ends without an error.
 */
export async function* readPayload(target: BackupTarget, name: string, options: ReadPayloadOptions = {}): AsyncGenerator<Buffer> {
  const info = options.info ?? (await readArtifactInfo(target, name));
  const pool = options.pool ?? (info.header.compressed ? sharedCompressionPool() : undefined);
  const decode = async (block: ScannedBlock): Promise<Buffer> => {
    if (!block.compressed) return block.stored;
    if (!pool) throw new Error('readPayload: compressed block but no compression pool');
    try {
      return await pool.decompress(block.stored, block.rawBytes);
    } catch (e) {
      throw artifactCorrupt(name, `block ${block.index} at offset ${block.offset} cannot be decompressed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  };
  yield* mapOrdered(scanBlocks(target, info), decode, blocksInFlightMax);
}

/**
 * Writes the payload into the open file `fd` from offset 0, each block decompressed and written by
 * a pool worker at its offset (no decompressed byte crosses back to this thread). `onBlockWritten`
 * gets each block's raw length once it is written, in order. Returns the payload's raw length. Like readPayload, what
 * is written before an error is tentative: the caller discards the file when this throws. A damaged
 * block throws ArtifactCorrupt; a block that could not be written to `fd` throws FileWriteError
 * (the caller's disk, not the artifact, is at fault).
 */
export async function writePayloadToFile(
  target: BackupTarget,
  name: string,
  fd: number,
  options: ReadPayloadOptions & { onBlockWritten?: (rawBytes: number) => void; directFd?: number } = {},
): Promise<number> {
  const info = options.info ?? (await readArtifactInfo(target, name));
  const pool = options.pool ?? sharedCompressionPool();
  let position = 0;
  const place = (block: ScannedBlock): { at: number; block: ScannedBlock } => {
    const at = position;
    position += block.rawBytes;
    return { at, block };
  };
  const write = async ({ at, block }: { at: number; block: ScannedBlock }): Promise<number> => {
    if (!block.compressed) {
      try {
        writeAllSync(fd, block.stored, at);
      } catch (e) {
        throw FileWriteError.of(e);
      }
      return block.rawBytes;
    }
    try {
      await pool.decompressTo(block.stored, block.rawBytes, fd, at, options.directFd);
    } catch (e) {
      if (e instanceof FileWriteError) throw e;
      throw artifactCorrupt(name, `block ${block.index} at offset ${block.offset} cannot be decompressed and written: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    return block.rawBytes;
  };
  const placed = (async function* () {
    for await (const block of scanBlocks(target, info)) yield place(block);
  })();
  // Twice the usual blocks in flight: here a block is a single worker call (decompress and write).
  for await (const rawBytes of mapOrdered(placed, write, 2 * blocksInFlightMax)) options.onBlockWritten?.(rawBytes);
  return position;
}

export interface ArtifactVerified {
  info: ArtifactInfo;
  blockCount: number;
  payloadStoredBytes: number;
}

/** Checks every checksum of an artifact (header, each block, trailer, SHA-256 digest) without decompressing. */
export async function verifyArtifact(target: BackupTarget, name: string): Promise<ArtifactVerified> {
  const info = await readArtifactInfo(target, name);
  let blockCount = 0;
  let payloadStoredBytes = 0;
  for await (const block of scanBlocks(target, info)) {
    blockCount += 1;
    payloadStoredBytes += block.stored.length;
  }
  return { info, blockCount, payloadStoredBytes };
}

interface ScannedBlock {
  index: number;
  /** Offset of the block header in the file. */
  offset: number;
  rawBytes: number;
  compressed: boolean;
  stored: Buffer;
}

/**
 * Streams the file once, yielding each block after checking its header and CRC; at the end checks
 * that the blocks add up to the trailer and that the SHA-256 of everything before the trailer matches.
 */
async function* scanBlocks(target: BackupTarget, info: ArtifactInfo): AsyncGenerator<ScannedBlock> {
  const { name, header, trailer } = info;
  const trailerOffset = info.sizeBytes - trailerBytes;
  const sha256 = createHash('sha256');
  const reader = new ByteReader(target.openRead(name)[Symbol.asyncIterator]());
  const readOrFail = async (length: number, what: string): Promise<Buffer> => {
    const bytes = await reader.read(length);
    if (bytes === null) throw artifactEndedEarly(name, reader.offset, what);
    return bytes;
  };
  try {
    const headerBuf = await readOrFail(trailer.headerBytes, 'the header');
    if (headerBuf.readUInt32LE(trailer.headerBytes - headerCrcBytes) !== info.headerCrc32) {
      throw artifactCorrupt(name, 'header changed while the artifact was being read');
    }
    sha256.update(headerBuf);
    let rawTotal = 0;
    let storedTotal = 0;
    for (let index = 0; index < trailer.blockCount; index++) {
      const offset = reader.offset;
      const blockHeaderBuf = await readOrFail(blockHeaderBytes, `the header of block ${index}`);
      const block = decodeBlockHeader(blockHeaderBuf);
      // Bound the read by what the trailer allows before trusting the CRC that follows it.
      if (block.storedBytes < 1 || block.storedBytes > header.blockRawBytes || offset + blockHeaderBytes + block.storedBytes > trailerOffset) {
        throw artifactCorrupt(name, `block ${index} at offset ${offset} has stored length ${block.storedBytes}, which does not fit before the trailer at offset ${trailerOffset} or in a ${header.blockRawBytes}-byte block`);
      }
      const stored = await readOrFail(block.storedBytes, `block ${index}`);
      const computed = blockCrc(blockHeaderBuf, stored);
      if (computed !== block.crc32) {
        throw artifactCorrupt(name, `block ${index} at offset ${offset} checksum mismatch (stored ${hex32(block.crc32)}, computed ${hex32(computed)})`);
      }
      const problem = blockHeaderProblem(block, header, index === trailer.blockCount - 1);
      if (problem !== null) throw artifactCorrupt(name, `block ${index} at offset ${offset} ${problem}`);
      sha256.update(blockHeaderBuf);
      sha256.update(stored);
      rawTotal += block.rawBytes;
      storedTotal += block.storedBytes;
      yield { index, offset, rawBytes: block.rawBytes, compressed: (block.flags & blockFlagZstd) !== 0, stored };
    }
    if (reader.offset !== trailerOffset) {
      throw artifactCorrupt(name, `${trailer.blockCount} blocks end at offset ${reader.offset} but the trailer starts at offset ${trailerOffset}`);
    }
    if (rawTotal !== trailer.payloadRawBytes || storedTotal !== trailer.payloadStoredBytes) {
      throw artifactCorrupt(name, `blocks hold ${rawTotal} raw and ${storedTotal} stored bytes, the trailer records ${trailer.payloadRawBytes} and ${trailer.payloadStoredBytes}`);
    }
    const digest = sha256.digest('hex');
    if (digest !== trailer.sha256Hex) {
      throw artifactCorrupt(name, `SHA-256 digest mismatch over bytes 0..${trailerOffset} (trailer records ${trailer.sha256Hex}, computed ${digest})`);
    }
    await readOrFail(trailerBytes, 'the trailer');
    if (!(await reader.atEnd())) throw artifactCorrupt(name, `file grew past ${info.sizeBytes} bytes while being read`);
  } finally {
    await reader.close();
  }
}
