/**
 * Shared helpers for the store image tests: a writer that makes nodes (some with values large
 * enough for LMDB overflow pages), and an assembler that turns image blocks back into a data file
 * the way restore does.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Database } from '../../kernel/database.js';
import type { PropertyValue } from '../../values/value.js';
import { blockFlagZstd, blockHeaderBytes, decodeBlockHeader } from '../artifact/artifact-block.js';
import { CompressionPool } from '../compression/compression.js';
import type { ImageBlock } from './store-image.js';

/**
 * Creates `(:N {i, name})` nodes `from`..`from + count - 1` in one transaction. With `blob`, every
 * `blob.every`-th node also gets a string of `blob.bytes + i` bytes: larger than a page, so it lives
 * in LMDB overflow pages.
 */
export async function writeNodes(db: Database, from: number, count: number, blob?: { every: number; bytes: number }): Promise<void> {
  const tx = await db.beginWrite();
  for (let i = from; i < from + count; i++) {
    const props = new Map<string, PropertyValue>([['i', BigInt(i)], ['name', `node-${i}`]]);
    if (blob && i % blob.every === 0) props.set('blob', 'x'.repeat(blob.bytes + i));
    tx.createNode(['N'], props);
  }
  await tx.commit();
}

/** Writes the blocks, decompressed, one after another into a new file at `path`; returns how many there were and the bytes the reader read from the store for them. */
export async function assembleImage(blocks: AsyncIterable<ImageBlock>, path: string): Promise<{ blocks: number; readBytes: number }> {
  const pool = new CompressionPool({ workers: 1 });
  const fd = openSync(path, 'w');
  let count = 0;
  let readBytes = 0;
  try {
    for await (const b of blocks) {
      const h = decodeBlockHeader(b.encoded);
      const stored = b.encoded.subarray(blockHeaderBytes);
      writeSync(fd, h.flags & blockFlagZstd ? await pool.decompress(stored, h.rawBytes) : stored);
      count++;
      readBytes += b.readBytes;
    }
  } finally {
    closeSync(fd);
    await pool.close();
  }
  return { blocks: count, readBytes };
}
