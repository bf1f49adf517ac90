/**
 * One payload block (docs/backup-format.md, "Blocks"): a 16-byte block header (raw length, stored
 * length, flags, CRC-32) followed by the stored bytes. The CRC covers the header fields and the stored
 * bytes, so a block can be verified without decompressing it.
 */
import { crc32 } from 'node:zlib';
import type { ArtifactHeader } from './artifact-header.js';

export const blockHeaderBytes = 16;
/** Bytes of the block header covered by the CRC (all but the CRC itself). */
const blockHeaderCrcCoveredBytes = 12;
/** Flag bit 0: the stored bytes are one zstd frame. No other bit is defined in version 1. */
export const blockFlagZstd = 1;

export interface BlockHeader {
  rawBytes: number;
  storedBytes: number;
  flags: number;
  crc32: number;
}

export function encodeBlockHeader(rawBytes: number, flags: number, stored: Uint8Array): Buffer {
  const out = Buffer.alloc(blockHeaderBytes);
  out.writeUInt32LE(rawBytes, 0);
  out.writeUInt32LE(stored.length, 4);
  out.writeUInt32LE(flags, 8);
  out.writeUInt32LE(blockCrc(out, stored), 12);
  return out;
}

export function decodeBlockHeader(bytes: Buffer): BlockHeader {
  return { rawBytes: bytes.readUInt32LE(0), storedBytes: bytes.readUInt32LE(4), flags: bytes.readUInt32LE(8), crc32: bytes.readUInt32LE(12) };
}

/** CRC-32 of the block header's first 12 bytes followed by the stored bytes. */
export function blockCrc(blockHeader: Buffer, stored: Uint8Array): number {
  return crc32(stored, crc32(blockHeader.subarray(0, blockHeaderCrcCoveredBytes)));
}

/** The first thing wrong with a block header's fields, given the artifact header and whether it is the last block; or null. */
export function blockHeaderProblem(block: BlockHeader, header: ArtifactHeader, isLast: boolean): string | null {
  if ((block.flags & ~blockFlagZstd) !== 0) return `has unknown flags 0x${block.flags.toString(16)}`;
  if (block.flags & blockFlagZstd && header.compression !== 'zstd') return 'is compressed but the header says compression "none"';
  if (block.rawBytes < 1 || block.rawBytes > header.blockRawBytes) return `has raw length ${block.rawBytes}, outside 1..${header.blockRawBytes}`;
  if (!isLast && block.rawBytes !== header.blockRawBytes) return `has raw length ${block.rawBytes} but only the last block may be shorter than ${header.blockRawBytes}`;
  if (block.storedBytes < 1 || block.storedBytes > block.rawBytes) return `has stored length ${block.storedBytes}, outside 1..${block.rawBytes}`;
  if (!(block.flags & blockFlagZstd) && block.storedBytes !== block.rawBytes) return `is uncompressed but its stored length ${block.storedBytes} differs from its raw length ${block.rawBytes}`;
  return null;
}
