/**
 * Shared helpers for the artifact tests: real temporary folders, headers with sensible defaults,
 * seeded payloads (the seed is part of every failure message), and one-call write and read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTarget } from '../../targets/file-target.js';
import type { BackupTarget } from '../../targets/target.js';
import { readPayload } from './artifact-reader.js';
import { ArtifactWriter, type ArtifactHeaderInput, type ArtifactTrailerInput, type ArtifactWriterOptions, type ArtifactWritten } from './artifact-writer.js';

export const databaseIdA = 'c8368b24-55e2-474d-bb41-75657f5bfcde';
export const databaseIdB = '7dcb1d0c-4374-4476-b8ae-d3c3f124683f';

export interface TempTarget {
  folder: string;
  target: FileTarget;
  cleanup(): Promise<void>;
}

export async function tempTarget(): Promise<TempTarget> {
  const folder = await mkdtemp(join(tmpdir(), 'quiver-artifact-'));
  return { folder, target: new FileTarget(folder), cleanup: () => rm(folder, { recursive: true, force: true }) };
}

export function fullHeader(overrides: Partial<ArtifactHeaderInput> = {}): ArtifactHeaderInput {
  return {
    databaseName: 'neo4j',
    databaseId: databaseIdA,
    storeId: 'store-1',
    kind: 'FULL',
    createdAt: '2023-06-29T13:46:27.000Z',
    payloadFormat: 'lmdb-pages-v1',
    parent: null,
    metadataCommands: [],
    includeMetadata: 'all',
    toolVersion: '0.1.0',
    ...overrides,
  };
}

export function trailerFor(lowestTx: number, highestTx: number, lastTxChecksum = highestTx === 0 ? 0 : 0xdeadbeef): ArtifactTrailerInput {
  const empty = lowestTx === 0 && highestTx === 0;
  return {
    lowestTx,
    highestTx,
    highestTxCommitTimeMs: empty ? 0 : 1_688_046_387_000,
    lastTxChecksum,
    txCount: empty ? 0 : highestTx - lowestTx + 1,
  };
}

/** Deterministic bytes from a seed; `compressible` repeats short runs so zstd has something to find. */
export function seededPayload(seed: number, length: number, compressible: boolean): Buffer {
  const out = Buffer.allocUnsafe(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = compressible ? 'quiver backup '.charCodeAt(i % 14) ^ (state % 8 === 0 ? state & 0xff : 0) : state & 0xff;
  }
  return out;
}

export interface WriteArtifactOptions extends Partial<ArtifactWriterOptions> {
  header?: ArtifactHeaderInput;
  trailer?: ArtifactTrailerInput;
  /** Bytes per write call. */
  chunkBytes?: number;
}

export async function writeArtifact(target: BackupTarget, name: string, payload: Buffer, options: WriteArtifactOptions = {}): Promise<ArtifactWritten> {
  const { header = fullHeader(), trailer = trailerFor(1, 11), chunkBytes = 100_000, ...writerOptions } = options;
  const writer = await ArtifactWriter.create(target, name, header, { compress: true, ...writerOptions });
  for (let offset = 0; offset < payload.length; offset += chunkBytes) {
    await writer.write(payload.subarray(offset, Math.min(payload.length, offset + chunkBytes)));
  }
  return writer.finish(trailer);
}

export async function readWholePayload(target: BackupTarget, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readPayload(target, name)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A target that forwards to another, with some methods replaced (counting reads, fixed URIs, odd chunking). */
export function wrapTarget(inner: BackupTarget, overrides: Partial<BackupTarget>): BackupTarget {
  return {
    uri: (name) => inner.uri(name),
    list: () => inner.list(),
    size: (name) => inner.size(name),
    readRange: (name, offset, length) => inner.readRange(name, offset, length),
    openRead: (name) => inner.openRead(name),
    createWriteOnce: (name, options) => inner.createWriteOnce(name, options),
    remove: (name) => inner.remove(name),
    removeAbandoned: () => inner.removeAbandoned(),
    lock: (database, options) => inner.lock(database, options),
    ...overrides,
  };
}

/** Counts the bytes a reader fetches by range and how often it streams whole files. */
export function countingTarget(inner: BackupTarget): { target: BackupTarget; counts: { rangeBytes: number; rangeReads: number; wholeReads: number } } {
  const counts = { rangeBytes: 0, rangeReads: 0, wholeReads: 0 };
  const target = wrapTarget(inner, {
    readRange: async (name, offset, length) => {
      const bytes = await inner.readRange(name, offset, length);
      counts.rangeReads += 1;
      counts.rangeBytes += bytes.length;
      return bytes;
    },
    openRead: (name) => {
      counts.wholeReads += 1;
      return inner.openRead(name);
    },
  });
  return { target, counts };
}
