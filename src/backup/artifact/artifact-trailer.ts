/**
 * The artifact trailer (docs/backup-format.md, "Trailer"): 112 bytes at the end of the file holding
 * everything known only once the payload is written, with its own CRC-32 and an end magic.
 * This module encodes and decodes it; it does no I/O.
 */
import { crc32 } from 'node:zlib';
import { formatVersion } from './artifact-header.js';
import { u64ExactMax } from '../limits.js';

export const trailerBytes = 112;
export const endMagicText = 'QUIVREND';
export const endMagic = Buffer.from(endMagicText, 'ascii');
/** Offset, within the trailer, of the CRC and of the end magic. */
export const trailerCrcOffset = 100;
export const trailerEndMagicOffset = 104;
const sha256Offset = 64;
const sha256Bytes = 32;

export interface ArtifactTrailer {
  lowestTx: number;
  highestTx: number;
  highestTxCommitTimeMs: number;
  txCount: number;
  payloadRawBytes: number;
  payloadStoredBytes: number;
  blockCount: number;
  /** Transaction-chain checksum of highestTx (u32), as given by the producer. */
  lastTxChecksum: number;
  /** Copy of the header CRC: ties this trailer to its header. */
  headerCrc32: number;
  /** Offset of the first block. */
  headerBytes: number;
  /** SHA-256 of every byte before the trailer, lowercase hex. */
  sha256Hex: string;
}

export function encodeTrailer(t: ArtifactTrailer): Buffer {
  const out = Buffer.alloc(trailerBytes);
  out.writeBigUInt64LE(BigInt(t.lowestTx), 0);
  out.writeBigUInt64LE(BigInt(t.highestTx), 8);
  out.writeBigUInt64LE(BigInt(t.highestTxCommitTimeMs), 16);
  out.writeBigUInt64LE(BigInt(t.txCount), 24);
  out.writeBigUInt64LE(BigInt(t.payloadRawBytes), 32);
  out.writeBigUInt64LE(BigInt(t.payloadStoredBytes), 40);
  out.writeUInt32LE(t.blockCount, 48);
  out.writeUInt32LE(t.lastTxChecksum, 52);
  out.writeUInt32LE(t.headerCrc32, 56);
  out.writeUInt32LE(t.headerBytes, 60);
  const sha = Buffer.from(t.sha256Hex, 'hex');
  if (sha.length !== sha256Bytes) throw new Error(`trailer sha256 must be ${sha256Bytes} bytes, got ${sha.length}`);
  sha.copy(out, sha256Offset);
  out.writeUInt16LE(formatVersion, 96);
  out.writeUInt16LE(0, 98);
  out.writeUInt32LE(crc32(out.subarray(0, trailerCrcOffset)), trailerCrcOffset);
  endMagic.copy(out, trailerEndMagicOffset);
  return out;
}

export function hasEndMagic(trailer: Buffer): boolean {
  return trailer.length === trailerBytes && trailer.subarray(trailerEndMagicOffset).equals(endMagic);
}

export function trailerCrcs(trailer: Buffer): { stored: number; computed: number } {
  return { stored: trailer.readUInt32LE(trailerCrcOffset), computed: crc32(trailer.subarray(0, trailerCrcOffset)) };
}

/** Decodes a trailer whose magic and CRC were checked; returns the first problem instead when a field is out of range. */
export function decodeTrailer(trailer: Buffer): ArtifactTrailer | string {
  const version = trailer.readUInt16LE(96);
  if (version !== formatVersion) return `trailer format version ${version} differs from the header's ${formatVersion}`;
  if (trailer.readUInt16LE(98) !== 0) return 'trailer reserved field at offset 98 is not 0';
  const u64Fields = ['lowestTx', 'highestTx', 'highestTxCommitTimeMs', 'txCount', 'payloadRawBytes', 'payloadStoredBytes'] as const;
  const values: Record<(typeof u64Fields)[number], number> = {
    lowestTx: 0, highestTx: 0, highestTxCommitTimeMs: 0, txCount: 0, payloadRawBytes: 0, payloadStoredBytes: 0,
  };
  for (const [index, field] of u64Fields.entries()) {
    const value = trailer.readBigUInt64LE(index * 8);
    if (value > BigInt(u64ExactMax)) return `trailer field ${field} is ${value}, above ${u64ExactMax}`;
    values[field] = Number(value);
  }
  return {
    ...values,
    blockCount: trailer.readUInt32LE(48),
    lastTxChecksum: trailer.readUInt32LE(52),
    headerCrc32: trailer.readUInt32LE(56),
    headerBytes: trailer.readUInt32LE(60),
    sha256Hex: trailer.subarray(sha256Offset, sha256Offset + sha256Bytes).toString('hex'),
  };
}

/**
 * An empty artifact: a DIFF taken when the database had nothing new (lowest and highest tx 0). The
 * one definition; a FULL at tx 0 would look the same but is never written (every database starts
 * with its first transaction).
 */
export function holdsNoTransaction(t: Pick<ArtifactTrailer, 'lowestTx' | 'highestTx'>): boolean {
  return t.lowestTx === 0 && t.highestTx === 0;
}
