import assert from 'node:assert/strict';
import { closeSync, constants as fsConstants, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileSystemType, pageCachedBytes } from '../../util/file-system-type.js';
import { seededPayload } from '../artifact/artifact-test-fixtures.js';
import { CompressionPool } from './compression.js';
import { mapOrdered, OrderedQueue } from './compression-queue.js';

describe('CompressionPool', () => {
  const pool = new CompressionPool({ workers: 2 });
  after(async () => { await pool.close(); });

  it('compresses and decompresses a block in a worker', async () => {
    const raw = seededPayload(1, 1 << 20, true);
    const copy = Buffer.from(raw);
    const block = await pool.compress(raw);
    assert.equal(block.compressed, true);
    assert.equal(block.rawBytes, copy.length);
    assert.ok(block.stored.length < copy.length / 2);
    assert.ok((await pool.decompress(block.stored, block.rawBytes)).equals(copy));
  });

  it('returns a block zstd cannot shrink unchanged and marked uncompressed', async () => {
    const raw = seededPayload(2, 4096, false);
    const copy = Buffer.from(raw);
    const block = await pool.compress(raw);
    assert.equal(block.compressed, false);
    assert.ok(block.stored.equals(copy));
  });

  it('keeps block order with many blocks in flight', async () => {
    const blocks = Array.from({ length: 40 }, (_, i) => seededPayload(100 + i, 1000 + i * 997, i % 3 !== 0));
    async function* source(): AsyncGenerator<Buffer> { for (const block of blocks) yield Buffer.from(block); }
    const roundTrip = async (raw: Buffer) => {
      const block = await pool.compress(raw);
      return block.compressed ? pool.decompress(block.stored, block.rawBytes) : block.stored;
    };
    const out: Buffer[] = [];
    for await (const block of mapOrdered(source(), roundTrip, 4)) out.push(block);
    assert.equal(out.length, blocks.length);
    out.forEach((block, i) => assert.ok(block.equals(blocks[i] ?? Buffer.alloc(0)), `block ${i}`));
  });

  it('rejects a frame whose size differs from the block header, and garbage', async () => {
    const block = await pool.compress(seededPayload(3, 5000, true));
    await assert.rejects(() => pool.decompress(block.stored, 4999), /zstd frame declares 5000 content size, the block header says 4999 bytes/);
    await assert.rejects(() => pool.decompress(Buffer.from('not zstd at all'), 10), /Could not parse Zstandard header/);
  });

  /** Compresses `count` blocks of `blockBytes` and has `target` write them at their offsets, out of order. */
  async function writeBlocks(target: CompressionPool, path: string, blockBytes: number, count: number, direct: boolean): Promise<Buffer> {
    const blocks = Array.from({ length: count }, (_, i) => seededPayload(500 + i, blockBytes, true));
    const fd = openSync(path, 'wx+');
    const directFd = direct ? openSync(path, fsConstants.O_WRONLY | fsConstants.O_DIRECT) : undefined;
    try {
      const order = blocks.map((_, i) => (i * 7) % count); // every index once, out of order
      await Promise.all(order.map(async (i) => {
        const block = await pool.compress(Buffer.from(blocks[i]!));
        assert.equal(block.compressed, true, `block ${i} compresses`);
        await target.decompressTo(block.stored, block.rawBytes, fd, i * blockBytes, directFd);
      }));
    } finally {
      if (directFd !== undefined) closeSync(directFd);
      closeSync(fd);
    }
    return Buffer.concat(blocks);
  }

  it('writes decompressed blocks at their offsets through O_DIRECT, bypassing the page cache', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-'));
    try {
      if (fileSystemType(dir) === 'tmpfs') return t.skip('the temporary folder is on tmpfs, which does not honour O_DIRECT');
      const path = join(dir, 'image');
      const expected = await writeBlocks(pool, path, 256 * 1024, 12, true);
      assert.ok(readFileSync(path).equals(expected), 'the file holds every block at its offset');
      // fincore counts the file's pages in the page cache: O_DIRECT writes leave none there. Counted
      // before the read above would bring them in: so on a fresh copy.
      const again = join(dir, 'again');
      await writeBlocks(pool, again, 256 * 1024, 12, true);
      const cachedBytes = pageCachedBytes(again);
      assert.equal(cachedBytes, 0, 'no page of the file went through the page cache');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to the page cache when the device refuses an O_DIRECT write', async (t) => {
    // 1000-byte blocks: no O_DIRECT write of that length is accepted at any buffer offset.
    const own = new CompressionPool({ workers: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-'));
    try {
      if (fileSystemType(dir) === 'tmpfs') return t.skip('the temporary folder is on tmpfs, which accepts any O_DIRECT write');
      const path = join(dir, 'image');
      const expected = await writeBlocks(own, path, 1000, 9, true);
      assert.ok(readFileSync(path).equals(expected));
    } finally {
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the calling thread responsive while a worker compresses', async () => {
    const slow = new CompressionPool({ workers: 1, level: 19 });
    try {
      const raw = seededPayload(4, 1 << 20, true);
      let ticks = 0;
      let gapMaxMs = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        gapMaxMs = Math.max(gapMaxMs, now - last);
        last = now;
        ticks += 1;
      }, 5);
      const started = performance.now();
      await slow.compress(raw);
      const elapsedMs = performance.now() - started;
      clearInterval(timer);
      // Level 19 over 1 MiB takes far longer than 5 ms; the timer must keep firing meanwhile.
      assert.ok(elapsedMs > 100, `compression took only ${elapsedMs} ms; the check needs a slow job`);
      assert.ok(ticks >= 5, `${ticks} timer ticks in ${elapsedMs} ms`);
      assert.ok(gapMaxMs < elapsedMs / 2, `event loop stalled for ${gapMaxMs} ms of ${elapsedMs} ms`);
    } finally {
      await slow.close();
    }
  });

  it('fails calls after close', async () => {
    const closing = new CompressionPool({ workers: 1 });
    await closing.close();
    await assert.rejects(() => closing.compress(Buffer.from('x')), /closed/);
  });
});

describe('OrderedQueue', () => {
  it('hands results out in submission order, not completion order', async () => {
    const queue = new OrderedQueue<number>(3);
    const delays = [30, 10, 20];
    delays.forEach((ms, i) => queue.push(new Promise((resolve) => setTimeout(() => resolve(i), ms))));
    assert.equal(queue.full, true);
    assert.deepEqual([await queue.shift(), await queue.shift(), await queue.shift()], [0, 1, 2]);
  });

  it('does not report a rejected job that is never taken as unhandled', async () => {
    const queue = new OrderedQueue<number>(2);
    queue.push(Promise.reject(new Error('dropped')));
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
});
