import assert from 'node:assert/strict';
import { constants as fsConstants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirectAppender } from './direct-appender.js';
import { fileSystemType, pageCachedBytes } from './file-system-type.js';
import { writeAll } from './file-write.js';
import { mulberry32 } from './seeded-random.js';

/** Appends `total` seeded bytes in pieces of random sizes; returns what the file must hold. */
async function appendSeeded(path: string, total: number, pieceBytes: number | undefined, flags = fsConstants.O_WRONLY | fsConstants.O_DIRECT): Promise<{ expected: Buffer; direct: boolean }> {
  const random = mulberry32(7);
  const expected = Buffer.alloc(total);
  for (let i = 0; i < total; i++) expected[i] = Math.floor(random() * 256);
  const handle = await open(path, 'wx');
  const directHandle = await open(path, flags);
  try {
    const appender = new DirectAppender(directHandle, (bytes, position) => writeAll(handle, bytes, position), pieceBytes);
    let at = 0;
    while (at < total) {
      const n = Math.min(total - at, 1 + Math.floor(random() * 300_000));
      await appender.append(expected.subarray(at, at + n));
      at += n;
    }
    await appender.finish();
    await handle.sync();
    return { expected, direct: appender.isDirect };
  } finally {
    await directHandle.close();
    await handle.close();
  }
}


test('appends whole pieces with O_DIRECT and only the last, partial piece through the page cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-append-'));
  try {
    if (fileSystemType(dir) === 'tmpfs') return t.skip('the temporary folder is on tmpfs, which does not honour O_DIRECT');
    const path = join(dir, 'artifact');
    const total = 3 * 1024 * 1024 + 12_345;
    const { expected, direct } = await appendSeeded(path, total, undefined);
    assert.equal(direct, true);
    // Before anything reads the file: only the 12 345-byte tail (4 pages) went through the page cache.
    const cached = pageCachedBytes(path);
    assert.ok(cached > 0 && cached <= 4 * 4096, `page cache holds ${cached} bytes of the file`);
    assert.ok(readFileSync(path).equals(expected));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('falls back to the page cache, staged bytes included, when O_DIRECT writes are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-append-'));
  try {
    if (fileSystemType(dir) === 'tmpfs') return t.skip('the temporary folder is on tmpfs, which accepts any O_DIRECT write');
    // 1000-byte pieces: no O_DIRECT write of that length is accepted at any buffer offset.
    const path = join(dir, 'artifact');
    const { expected, direct } = await appendSeeded(path, 50_000, 1000);
    assert.equal(direct, false);
    assert.ok(readFileSync(path).equals(expected));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write error other than a refused O_DIRECT write is thrown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-direct-append-'));
  try {
    // A descriptor opened for reading cannot write: EBADF, which must not be taken for a fallback.
    await assert.rejects(appendSeeded(join(dir, 'artifact'), 2 * 1024 * 1024, undefined, fsConstants.O_RDONLY), /EBADF/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
