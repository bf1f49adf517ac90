/**
 * The artifact header (docs/backup-format.md, "Header"): magic, version, a length-prefixed JSON object
 * describing the artifact, and a CRC-32. This module encodes it and validates decoded values; it
 * does no I/O.
 */
import { crc32 } from 'node:zlib';
import { blockRawBytesMax, headerJsonBytesMax } from '../limits.js';

export const formatVersion = 1;
export const startMagicText = 'QUIVRBAK';
export const startMagic = Buffer.from(startMagicText, 'ascii');
/** Magic (8), version (2), reserved (2), JSON length (4). */
export const headerPreambleBytes = 16;
export const headerCrcBytes = 4;
/** The smallest JSON is `{}`. */
export const headerJsonBytesMin = 2;

export type ArtifactKind = 'FULL' | 'DIFF';
export type Compression = 'zstd' | 'none';
export type IncludeMetadata = 'none' | 'all' | 'users' | 'roles';

/** What a DIFF follows: enough to check the link without opening the parent. */
export interface ArtifactParentLink {
  artifactName: string;
  highestTx: number;
  /** Transaction-chain checksum of `highestTx` (u32). */
  lastTxChecksum: number;
}

export interface ArtifactHeader {
  databaseName: string;
  /** UUID, lowercase. */
  databaseId: string;
  storeId: string;
  kind: ArtifactKind;
  compressed: boolean;
  compression: Compression;
  /** ISO-8601 UTC, e.g. 2023-06-29T13:46:27.123Z. Authoritative time of the backup. */
  createdAt: string;
  /** Format of the payload bytes: lmdb-pages-v1 (FULL, store-image.ts) or txlog-v1 (DIFF). */
  payloadFormat: string;
  parent: ArtifactParentLink | null;
  metadataCommands: string[];
  includeMetadata: IncludeMetadata;
  toolVersion: string;
  /** Raw bytes of every block but the last. */
  blockRawBytes: number;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isoUtcPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const includeMetadataValues: readonly string[] = ['none', 'all', 'users', 'roles'] satisfies IncludeMetadata[];

/** The first thing wrong with a decoded header value, or null. Used on read (typed error) and before write (assertion). */
export function headerProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'header is not a JSON object';
  const h = value as Record<string, unknown>;
  const text = (key: string, max: number): string | null =>
    typeof h[key] === 'string' && h[key].length >= 1 && h[key].length <= max ? null : `header field "${key}" must be a string of 1 to ${max} characters`;
  const problem =
    text('databaseName', 255) ??
    (typeof h.databaseId === 'string' && uuidPattern.test(h.databaseId) ? null : 'header field "databaseId" must be a lowercase UUID') ??
    text('storeId', 255) ??
    (h.kind === 'FULL' || h.kind === 'DIFF' ? null : 'header field "kind" must be "FULL" or "DIFF"') ??
    (typeof h.compressed === 'boolean' ? null : 'header field "compressed" must be a boolean') ??
    (h.compression === 'zstd' || h.compression === 'none' ? null : 'header field "compression" must be "zstd" or "none"') ??
    (h.compressed === (h.compression !== 'none') ? null : 'header fields "compressed" and "compression" disagree') ??
    (typeof h.createdAt === 'string' && isoUtcPattern.test(h.createdAt) && Number.isFinite(Date.parse(h.createdAt))
      ? null
      : 'header field "createdAt" must be an ISO-8601 UTC time ending in Z') ??
    text('payloadFormat', 64) ??
    parentProblem(h.kind, h.parent) ??
    (Array.isArray(h.metadataCommands) && h.metadataCommands.every((c) => typeof c === 'string')
      ? null
      : 'header field "metadataCommands" must be an array of strings') ??
    (typeof h.includeMetadata === 'string' && includeMetadataValues.includes(h.includeMetadata)
      ? null
      : 'header field "includeMetadata" must be one of none, all, users, roles') ??
    text('toolVersion', 64) ??
    (Number.isSafeInteger(h.blockRawBytes) && (h.blockRawBytes as number) >= 1 && (h.blockRawBytes as number) <= blockRawBytesMax
      ? null
      : `header field "blockRawBytes" must be an integer from 1 to ${blockRawBytesMax}`);
  return problem;
}

function parentProblem(kind: unknown, parent: unknown): string | null {
  if (kind === 'FULL') return parent === null ? null : 'header field "parent" must be null for a FULL artifact';
  if (typeof parent !== 'object' || parent === null) return 'header field "parent" is required for a DIFF artifact';
  const p = parent as Record<string, unknown>;
  if (typeof p.artifactName !== 'string' || p.artifactName.length === 0) return 'header field "parent.artifactName" must be a non-empty string';
  if (!Number.isSafeInteger(p.highestTx) || (p.highestTx as number) < 0) return 'header field "parent.highestTx" must be a non-negative integer';
  if (!isU32(p.lastTxChecksum)) return 'header field "parent.lastTxChecksum" must be a u32';
  return null;
}

export function isU32(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffff_ffff;
}

/** The header's bytes, with keys in the documented order so equal headers give equal bytes. */
export function encodeHeader(header: ArtifactHeader): { bytes: Buffer; crc32: number } {
  const ordered: ArtifactHeader = {
    databaseName: header.databaseName,
    databaseId: header.databaseId,
    storeId: header.storeId,
    kind: header.kind,
    compressed: header.compressed,
    compression: header.compression,
    createdAt: header.createdAt,
    payloadFormat: header.payloadFormat,
    parent: header.parent === null
      ? null
      : { artifactName: header.parent.artifactName, highestTx: header.parent.highestTx, lastTxChecksum: header.parent.lastTxChecksum },
    metadataCommands: [...header.metadataCommands],
    includeMetadata: header.includeMetadata,
    toolVersion: header.toolVersion,
    blockRawBytes: header.blockRawBytes,
  };
  const json = Buffer.from(JSON.stringify(ordered), 'utf8');
  if (json.length > headerJsonBytesMax) {
    throw new Error(`artifact header is ${json.length} bytes, over the ${headerJsonBytesMax}-byte limit (metadata commands too large?)`);
  }
  const bytes = Buffer.alloc(headerPreambleBytes + json.length + headerCrcBytes);
  startMagic.copy(bytes, 0);
  bytes.writeUInt16LE(formatVersion, 8);
  bytes.writeUInt16LE(0, 10);
  bytes.writeUInt32LE(json.length, 12);
  json.copy(bytes, headerPreambleBytes);
  const crc = crc32(bytes.subarray(0, headerPreambleBytes + json.length));
  bytes.writeUInt32LE(crc, headerPreambleBytes + json.length);
  return { bytes, crc32: crc };
}

export interface HeaderPreamble {
  version: number;
  reserved: number;
  jsonBytes: number;
}

/** Reads the fixed fields after the magic; `prefix` holds at least `headerPreambleBytes`. */
export function decodePreamble(prefix: Buffer): HeaderPreamble {
  return { version: prefix.readUInt16LE(8), reserved: prefix.readUInt16LE(10), jsonBytes: prefix.readUInt32LE(12) };
}
