import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openScratchDatabase } from '../../kernel/testing.js';
import type { Database } from '../../kernel/database.js';
import { logicalDigest, logicalDigestOfStore } from '../../storage/digest.js';
import { imageHead, imageHeadProblem } from '../../storage/lmdb-image.js';
import { captureLiveImage, openClosedImage, readImageBlocks } from './store-image.js';
import { assembleImage, writeNodes } from './store-image-test-fixtures.js';

/** Rewrites and deletes nodes so that LMDB frees pages and the next writes reuse them. */
async function churn(db: Database, round: number): Promise<void> {
  const tx = await db.beginWrite();
  const read = db.beginRead();
  try {
    let n = 0;
    for (const id of read.allNodeIds()) {
      if (n++ % 3 === round % 3) tx.deleteNode(id, true);
      else tx.setNodeProperty(id, 'round', BigInt(round));
      if (n > 3000) break;
    }
  } finally {
    read.close();
  }
  await tx.commit();
}

test('a live image read while writes go on opens as exactly the store at the captured transaction', async () => {
  const { db, close } = await openScratchDatabase();
  const out = mkdtempSync(join(tmpdir(), 'quiver-image-'));
  try {
    for (let i = 0; i < 6; i++) await writeNodes(db, i * 2000, 2000);
    await churn(db, 0);
    const snapshot = await captureLiveImage(db);
    // The digest is taken before anything else can run: it is the store at the captured transaction.
    const read = db.beginRead();
    const expected = logicalDigest(read);
    read.close();
    const capturedTx = snapshot.tx.txId;
    const atCapture = readFileSync(join(db.location.storeDir, 'data.mdb'));
    assert.equal(capturedTx, db.lastCommittedTxId());
    try {
      // Writes that free and reuse pages land after the capture: some before the first block is
      // read (so that a page the snapshot needs would already be overwritten if the read
      // transaction did not pin it), more while the blocks are read.
      for (let round = 1; round <= 4; round++) {
        await churn(db, round);
        await writeNodes(db, 20_000 + round * 500, 500);
      }
      const blocks = readImageBlocks(snapshot, { blockRawBytes: 64 * 1024, compress: true, maxRateBytesPerSec: 0, workers: 2 });
      const writes = (async () => {
        for (let round = 5; round <= 8; round++) {
          await churn(db, round);
          await writeNodes(db, 20_000 + round * 500, 500);
        }
      })();
      mkdirSync(join(out, 'store'));
      const slow = async function* () {
        for await (const b of blocks) {
          if (b.index % 8 === 0) await new Promise((r) => setTimeout(r, 5));
          yield b;
        }
      };
      const { blocks: count } = await assembleImage(slow(), join(out, 'store', 'data.mdb'));
      await writes;
      assert.equal(count, Math.ceil(snapshot.bytes / (64 * 1024)));
      // The live file moved on under the image: later writes rewrote pages inside its range (LMDB
      // reuses freed pages), yet the image opens as the captured store (checked below).
      const live = readFileSync(join(db.location.storeDir, 'data.mdb'));
      const image = readFileSync(join(out, 'store', 'data.mdb'));
      const pageSize = snapshot.head.pageSize;
      const page = (file: Buffer, p: number) => file.subarray(p * pageSize, (p + 1) * pageSize);
      let overwritten = 0;
      let differFromCapture = 0;
      let blanked = 0;
      for (let p = 2; p < snapshot.head.pageCount; p++) {
        if (!page(live, p).equals(page(atCapture, p))) overwritten++;
        if (page(image, p).equals(page(atCapture, p))) continue;
        if (page(image, p).every((b) => b === 0)) blanked++;
        else differFromCapture++;
      }
      assert.ok(overwritten > 0, 'later writes reused pages inside the image');
      // Every image page is the page as captured, or zeros where the page was free at the capture:
      // pages rewritten by later writes never reach the image.
      assert.equal(differFromCapture, 0, `${differFromCapture} image pages hold bytes the captured store did not`);
      assert.ok(blanked > 0, 'the churn left free pages, sent as zeros');
    } finally {
      snapshot.release();
    }
    assert.ok(db.lastCommittedTxId() >= capturedTx + 16, 'writes committed while the image was read');
    const restored = logicalDigestOfStore(join(out, 'store'));
    assert.equal(restored.lastTxId, capturedTx);
    assert.equal(restored.digest, expected);
  } finally {
    await close();
    rmSync(out, { recursive: true, force: true });
  }
});

test('an uncompressed image of a closed store is the used part of its data file, meta pages included', async () => {
  const { db, dir, close } = await openScratchDatabase();
  const storeDir = db.location.storeDir;
  const out = mkdtempSync(join(tmpdir(), 'quiver-image-'));
  try {
    await writeNodes(db, 0, 3000);
    const tx = { txId: db.lastCommittedTxId(), txChecksum: 0, txTimeMs: 0 };
    await db.close();
    const before = logicalDigestOfStore(storeDir);
    const snapshot = openClosedImage(storeDir, tx);
    try {
      mkdirSync(join(out, 'store'));
      const blocks = readImageBlocks(snapshot, { blockRawBytes: 100_000, compress: false, maxRateBytesPerSec: 0, workers: 3 });
      await assembleImage(blocks, join(out, 'store', 'data.mdb'));
    } finally {
      snapshot.release();
    }
    assert.deepEqual(logicalDigestOfStore(join(out, 'store')), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
    await close().catch(() => undefined);
  }
});

test('stopping the iteration early stops the workers and leaves the snapshot to its owner', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    await writeNodes(db, 0, 4000, { every: 13, bytes: 20_000 });
    const snapshot = await captureLiveImage(db);
    try {
      let taken = 0;
      for await (const _ of readImageBlocks(snapshot, { blockRawBytes: 64 * 1024, compress: true, maxRateBytesPerSec: 0 })) {
        if (++taken === 2) break;
      }
      assert.equal(taken, 2);
    } finally {
      snapshot.release();
    }
    // The database goes on working after the reader was abandoned.
    await writeNodes(db, 5000, 10);
  } finally {
    await close();
  }
});

test('the image head refuses what is not an LMDB data file this build can copy', () => {
  assert.throws(() => imageHead(Buffer.alloc(8192), 8192), /not a meta page/);
  const page = Buffer.alloc(8192);
  page.writeUInt16LE(0x08, 18);
  page.writeUInt32LE(0x12345678, 24);
  assert.throws(() => imageHead(page, 8192), /magic 0x12345678, not an LMDB file/);
  page.writeUInt32LE(0xbeefc0de, 24);
  page.writeUInt32LE(1, 28);
  assert.throws(() => imageHead(page, 8192), /LMDB data version 1/);
  assert.match(imageHeadProblem(Buffer.alloc(100), 3) ?? '', /cut short/);
  assert.match(imageHeadProblem(page, 8192) ?? '', /data version 1/);
});

test('the image head blanks lmdb-js\'s third meta and counts only the pages the file holds', async () => {
  const { db, dir, close } = await openScratchDatabase();
  try {
    await writeNodes(db, 0, 500);
    await db.close();
    const head = Buffer.alloc(8192);
    const fd = openSync(join(db.location.storeDir, 'data.mdb'), 'r');
    try {
      (await import('node:fs')).readSync(fd, head, 0, 8192, 0);
    } finally {
      closeSync(fd);
    }
    head.fill(7, 2048 + 24, 2048 + 200);
    const image = imageHead(head, 5 * 4096);
    assert.equal(image.pageSize, 4096);
    assert.equal(image.pageCount, 5, 'a file shorter than the last page bounds the image');
    assert.ok(image.metaPages.subarray(2048, 4096).every((b) => b === 0));
    // Both slots hold the newest meta after their own page header (page number, transaction id).
    const newestAt = head.readBigUInt64LE(4096 + 24 + 128) > head.readBigUInt64LE(24 + 128) ? 4096 : 0;
    assert.deepEqual(image.metaPages.subarray(16, 2048), head.subarray(newestAt + 16, newestAt + 2048));
    assert.deepEqual(image.metaPages.subarray(4096 + 16, 4096 + 2048), head.subarray(newestAt + 16, newestAt + 2048));
    assert.deepEqual(image.metaPages.subarray(0, 16), head.subarray(0, 16));
    assert.deepEqual(image.metaPages.subarray(4096, 4096 + 16), head.subarray(4096, 4096 + 16));
    writeFileSync(join(dir, 'unused'), '');
  } finally {
    await close().catch(() => undefined);
  }
});
