import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSystemType, pageCachedBytes } from '../util/file-system-type.js';
import { FileHeadroom, headroomTargetBytes } from './file-headroom.js';

const kib = 1024;
const mib = 1024 * kib;

async function settle(h: FileHeadroom): Promise<void> {
  // close() waits for the running write and its fdatasync.
  await h.close();
}

test('the target is an eighth of the used bytes, between 256 KiB and 64 MiB', () => {
  assert.equal(headroomTargetBytes(0), 256 * kib);
  assert.equal(headroomTargetBytes(8 * mib), 1 * mib);
  assert.equal(headroomTargetBytes(100 * 1024 * mib), 64 * mib);
});

test('zeros are written past the end of the file, never over its bytes, one chunk at a time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-headroom-'));
  try {
    const path = join(dir, 'data.mdb');
    const used = 40 * mib;
    writeFileSync(path, Buffer.alloc(used, 0xab));
    const h = new FileHeadroom(path, (m) => assert.fail(`unexpected warning: ${m}`));
    h.topUp(used);
    const idle = h.idle();
    assert.ok(idle, 'a write is running right after topUp');
    h.topUp(used); // ignored while the first extension runs
    await idle;
    await settle(h);
    const target = headroomTargetBytes(used); // 5 MiB: more than one 4 MiB chunk
    assert.equal(statSync(path).size, used + 4 * mib, 'one chunk per call');
    const bytes = readFileSync(path);
    assert.ok(bytes.subarray(0, used).every((b) => b === 0xab), 'the used part is untouched');
    assert.ok(bytes.subarray(used).every((b) => b === 0), 'the stretch ahead is zeros');

    const again = new FileHeadroom(path, (m) => assert.fail(`unexpected warning: ${m}`));
    again.topUp(used);
    await again.idle();
    await settle(again);
    assert.equal(statSync(path).size, used + target, 'the second call fills up to the target, rounded to 64 KiB');

    const full = new FileHeadroom(path, (m) => assert.fail(`unexpected warning: ${m}`));
    full.topUp(used);
    assert.equal(full.idle(), undefined, 'nothing to do when the stretch ahead already reaches the target');
    await settle(full);
    assert.equal(statSync(path).size, used + target);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test('page-aligned zeros bypass the page cache; an unaligned end gets zeros through it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-headroom-'));
  try {
    if (fileSystemType(dir) === 'tmpfs') return t.skip('the temporary folder is on tmpfs, which does not honour O_DIRECT');
    const path = join(dir, 'data.mdb');
    const used = 8 * mib;
    writeFileSync(path, Buffer.alloc(used, 0xab));
    const cachedBefore = pageCachedBytes(path);
    const h = new FileHeadroom(path, (m) => assert.fail(`unexpected warning: ${m}`));
    h.topUp(used);
    await h.idle();
    await settle(h);
    assert.equal(statSync(path).size, used + headroomTargetBytes(used));
    // Dirty zeros in the page cache would be written by the store's next commit sync.
    assert.equal(pageCachedBytes(path), cachedBefore, 'no page of the zeros passed through the page cache');
    assert.ok(readFileSync(path).subarray(used).every((b) => b === 0));

    const odd = join(dir, 'odd.mdb');
    const oddUsed = 8 * mib + 100;
    writeFileSync(odd, Buffer.alloc(oddUsed, 0xcd));
    const o = new FileHeadroom(odd, (m) => assert.fail(`unexpected warning: ${m}`));
    o.topUp(oddUsed);
    await o.idle();
    await settle(o);
    const bytes = readFileSync(odd);
    assert.ok(bytes.length >= oddUsed + headroomTargetBytes(oddUsed), `${bytes.length} bytes`);
    assert.ok(bytes.subarray(0, oddUsed).every((b) => b === 0xcd), 'the used part is untouched');
    assert.ok(bytes.subarray(oddUsed).every((b) => b === 0), 'zeros after it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing write turns headroom off with one warning and never throws', async () => {
  // /dev/full answers every write with ENOSPC, as a full disk does.
  const warnings: string[] = [];
  const h = new FileHeadroom('/dev/full', (m) => warnings.push(m));
  h.topUp(1 * mib);
  await h.idle();
  h.topUp(1 * mib);
  await settle(h);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /could not write \d+ bytes of headroom at the end of "\/dev\/full": ENOSPC.*goes on without headroom/);
});

test('a missing file is reported once and commits go on', async () => {
  const warnings: string[] = [];
  const h = new FileHeadroom(join(tmpdir(), 'quiver-no-such-dir', 'data.mdb'), (m) => warnings.push(m));
  h.topUp(1 * mib);
  h.topUp(1 * mib);
  assert.equal(h.idle(), undefined);
  await settle(h);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /could not check the store file's size: ENOENT/);
});
