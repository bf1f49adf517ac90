import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openScratchDatabase } from '../../kernel/testing.js';
import { checkStoreConsistency } from '../../storage/consistency.js';
import { logicalDigest, logicalDigestOfStore } from '../../storage/digest.js';
import { forEachLeafNode, freePageRuns, metaDbRoot, mergeRuns, PageFile, pageFlags, pageNodes, type PageRun } from '../../storage/lmdb-pages.js';
import { GraphStore } from '../../storage/store.js';
import type { PropertyValue } from '../../values/value.js';
import { captureLiveImage, type FreePagesReport, readImageBlocks } from './store-image.js';
import { assembleImage, writeNodes } from './store-image-test-fixtures.js';

/** Every page the trees of the image's newest meta reach: branch, leaf and overflow pages of the free-space and main databases and of every named database. */
function reachablePages(file: PageFile, metas: Uint8Array): Set<number> {
  const pages = new Set<number>();
  const walk = (pgno: number): void => {
    assert.ok(!pages.has(pgno), `page ${pgno} reached twice`);
    pages.add(pgno);
    const page = file.read(pgno);
    const branch = (pageFlags(page, pgno) & 0x01) !== 0;
    for (const node of pageNodes(page, pgno)) {
      if (branch) {
        walk(node.child);
        continue;
      }
      if (node.flags & 0x01) {
        const first = Number(node.data.readBigUInt64LE(0));
        const count = file.read(first).readUInt32LE(20);
        for (let i = 0; i < count; i++) pages.add(first + i);
      }
      if (node.flags & 0x02) {
        const root = node.data.readBigUInt64LE(40);
        if (root !== 0xffffffffffffffffn) walk(Number(root));
      }
    }
  };
  for (const dbi of [0, 1] as const) {
    const root = metaDbRoot(metas, 0, dbi);
    if (root !== null) walk(root);
  }
  return pages;
}

function inRuns(runs: readonly PageRun[], pgno: number): boolean {
  return runs.some((r) => pgno >= r.start && pgno < r.start + r.count);
}

test('free pages go out as zeros: a deleted value stays out of the image, every page its trees reach arrives intact', async () => {
  // Each transaction applied in one LMDB transaction: an apply in slices reuses the pages an earlier
  // slice freed, and could overwrite the deleted value this test looks for.
  const { db, close } = await openScratchDatabase({ storeApplySliceMs: Infinity });
  const out = mkdtempSync(join(tmpdir(), 'quiver-free-pages-'));
  const marker = `deleted-secret-${randomBytes(8).toString('hex')}`;
  try {
    // Blobs of 9-12 KB live in LMDB overflow pages; rewriting and deleting them frees pages in runs.
    for (let i = 0; i < 4; i++) await writeNodes(db, i * 1500, 1500, { every: 40, bytes: 9_000 });
    const secret = await db.beginWrite();
    const secretNode = secret.createNode(['Secret'], new Map<string, PropertyValue>([['value', marker.repeat(600)]]));
    await secret.commit();
    await db.applyCommitted();
    const wipe = await db.beginWrite();
    wipe.deleteNode(secretNode, true);
    const read = db.beginRead();
    let n = 0;
    for (const id of read.allNodeIds()) if (n++ % 4 === 0 && id !== secretNode) wipe.deleteNode(id, true);
    read.close();
    await wipe.commit();
    await db.applyCommitted();
    // One transaction that rewrites every remaining node frees every old leaf at once: a free-list
    // record longer than a page, which LMDB keeps in overflow pages.
    const touch = await db.beginWrite();
    const all = db.beginRead();
    for (const id of all.allNodeIds()) touch.setNodeProperty(id, 'touched', true);
    all.close();
    await touch.commit();

    const snapshot = await captureLiveImage(db);
    const view = db.beginRead();
    const expected = logicalDigest(view);
    view.close();
    const live = readFileSync(join(db.location.storeDir, 'data.mdb'));
    assert.ok(live.includes(Buffer.from(marker)), 'the deleted value is still in a free page of the live file (else this test shows nothing)');

    const reports: FreePagesReport[] = [];
    mkdirSync(join(out, 'store'));
    const imagePath = join(out, 'store', 'data.mdb');
    let readBytes: number;
    try {
      const blocks = readImageBlocks(snapshot, { blockRawBytes: 96 * 1024, compress: true, maxRateBytesPerSec: 0, workers: 2, onFreePages: (r) => reports.push(r) });
      ({ readBytes } = await assembleImage(blocks, imagePath));
    } finally {
      snapshot.release();
    }

    const image = readFileSync(imagePath);
    assert.ok(!image.includes(Buffer.from(marker)), 'the deleted value reached the image');
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.problem, undefined);

    // The free list read from the image itself, against a walk of every tree: disjoint, and
    // together with the two meta pages they account for every page of the image.
    const pageSize = snapshot.head.pageSize;
    const pageCount = image.length / pageSize;
    const imageFd = openSync(imagePath, 'r');
    let free: PageRun[];
    let reached: Set<number>;
    try {
      const file = new PageFile(imageFd, pageSize, pageCount);
      free = freePageRuns(file, metaDbRoot(snapshot.head.metaPages, 0, 0));
      let overflowRecords = 0;
      forEachLeafNode(file, metaDbRoot(snapshot.head.metaPages, 0, 0)!, (node) => {
        if (node.flags & 0x01) overflowRecords++;
      });
      assert.ok(overflowRecords > 0, 'a free-list record in overflow pages was read');
      reached = reachablePages(file, snapshot.head.metaPages);
    } finally {
      closeSync(imageFd);
    }
    const freeCount = free.reduce((sum, r) => sum + r.count, 0);
    assert.equal(reports[0]!.pages, freeCount);
    assert.ok(freeCount > 50, `the deletes freed pages (${freeCount})`);
    assert.ok(free.some((r) => r.count > 1), 'some free pages come in runs');
    assert.deepEqual(mergeRuns(free.map((r) => ({ ...r }))), free, 'runs come sorted and merged');
    for (const p of reached) {
      assert.ok(!inRuns(free, p), `page ${p} is reached by a tree and listed free`);
      assert.ok(!image.subarray(p * pageSize, (p + 1) * pageSize).every((b) => b === 0), `reached page ${p} is zeros in the image`);
    }
    for (const r of free) assert.ok(image.subarray(r.start * pageSize, (r.start + r.count) * pageSize).every((b) => b === 0), `free run at ${r.start} is not zeros`);
    // Free pages are not read (and so not paced by server.backup.max_rate): only the others are.
    assert.equal(readBytes, (pageCount - freeCount) * pageSize);
    assert.equal(2 + reached.size + freeCount, pageCount, `pages: 2 meta + ${reached.size} reached + ${freeCount} free vs ${pageCount} in the image`);

    assert.equal(logicalDigestOfStore(join(out, 'store')).digest, expected);
    // The restored store reuses the zeroed pages for new writes and still reads back whole. (This
    // LMDB build takes free pages from the second write transaction after opening on.)
    const store = GraphStore.open(join(out, 'store'));
    try {
      const filler = Buffer.alloc(3000, 0x61);
      const round = (r: number) =>
        store.env.transactionSync(() => {
          for (let i = 0; i < 100; i++) store.db.meta.put(`scratch-${r}-${i}`, filler);
        });
      round(0);
      const afterFirst = store.usedBytes() / pageSize;
      for (let r = 1; r <= 5; r++) round(r);
      assert.ok(store.usedBytes() / pageSize - afterFirst < 100, `500 pages of new values went to free pages (the file grew by ${store.usedBytes() / pageSize - afterFirst} pages)`);
      store.env.transactionSync(() => {
        for (let r = 0; r <= 5; r++) for (let i = 0; i < 100; i++) store.db.meta.remove(`scratch-${r}-${i}`);
      });
      assert.deepEqual(checkStoreConsistency(store).problems, []);
    } finally {
      store.close();
    }
    assert.equal(logicalDigestOfStore(join(out, 'store')).digest, expected);
  } finally {
    await close();
    rmSync(out, { recursive: true, force: true });
  }
});
