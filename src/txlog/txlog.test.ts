import assert from 'node:assert/strict';
import { pbkdf2 } from 'node:crypto';
import { closeSync, copyFileSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { encodeRecord, recordHeaderBytes, segmentFileName, segmentHeaderBytes } from './format.js';
import { readSegmentHeader, scanSegment } from './segment-scanner.js';
import { appendPieceBytesMax, TxLog, type TxLogOptions } from './txlog.js';

const databaseId = '0b4c5c3e-1d2a-4f6b-9a8e-7c6d5e4f3a2b';
const otherDatabaseId = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
const startFresh = { txId: 0, checksum: 0 };
const scratch = mkdtempSync(join(tmpdir(), 'quiver-txlog-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let dirCounter = 0;

function logOptions(overrides: Partial<TxLogOptions> = {}): TxLogOptions & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    dir: join(scratch, `log-${++dirCounter}`),
    databaseId,
    rotationBytes: 1024 * 1024,
    preallocate: true,
    onWarning: (m) => warnings.push(m),
    ...overrides,
    warnings,
  };
}

/** Deterministic body of transaction `txId`: sizes vary so records straddle read chunks and segments. */
function bodyOf(txId: number, bytes = 20 + ((txId * 37) % 200)): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (txId * 31 + i * 7) & 0xff;
  return b;
}

/** Appends transactions lastTxId+1..upTo and returns their chain checksums by id. */
function appendUpTo(log: TxLog, upTo: number, bytes?: number): Map<number, number> {
  const chain = new Map<number, number>();
  for (let txId = log.lastTxId + 1; txId <= upTo; txId++) chain.set(txId, log.append(txId, 1_700_000_000_000 + txId, bodyOf(txId, bytes)));
  return chain;
}

function segmentPaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^txlog\.\d{10}$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

function readAll(log: TxLog, first: number, last: number): number[] {
  return [...log.readRaw(first, last)].map(({ record }) => record.txId);
}

function assertQuiverError(code: 'LogCorrupt' | 'TransactionsPruned', pattern?: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isQuiverError(e, code), `expected QuiverError ${code}, got ${String(e)}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

/** Occupies every libuv threadpool thread for a while, so that the next fs callback waits its turn. */
function blockThreadpool(): Promise<unknown> {
  const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  return Promise.all(Array.from({ length: size }, () => new Promise((res) => pbkdf2('p', 's', 200_000, 32, 'sha256', res))));
}

describe('TxLog', () => {
  it('reads back every appended record after sync and reopen', async () => {
    const opts = logOptions();
    const log = TxLog.open(opts, startFresh);
    const chain = appendUpTo(log, 300);
    await log.sync(300);
    log.close();

    const again = TxLog.open(opts, startFresh);
    try {
      assert.equal(again.lastTxId, 300);
      assert.equal(again.lastTxChecksum, chain.get(300));
      const seen = [...again.readRaw(1, 300)];
      assert.deepEqual(seen.map((r) => r.record.txId), Array.from({ length: 300 }, (_, i) => i + 1));
      for (const { record, raw } of seen) {
        assert.deepEqual(record.body, bodyOf(record.txId), `body of tx ${record.txId}`);
        assert.equal(record.chainCrc, chain.get(record.txId));
        assert.equal(record.commitTimeMs, 1_700_000_000_000 + record.txId);
        assert.equal(raw.length, recordHeaderBytes + record.body.length);
      }
      assert.deepEqual(opts.warnings, []);
      // The chain continues across the reopen.
      appendUpTo(again, 301);
      await again.sync(301);
    } finally {
      again.close();
    }
    const third = TxLog.open(opts, startFresh);
    assert.deepEqual(readAll(third, 299, 301), [299, 300, 301]);
    third.close();
  });

  it('starts an empty log after the given transaction and checksum', () => {
    const opts = logOptions();
    const log = TxLog.open(opts, { txId: 41, checksum: 0xdeadbeef });
    assert.equal(log.oldestTxId(), 42);
    assert.throws(() => log.append(41, 0, bodyOf(41)), /assertion: appending tx 41 after 41/);
    log.append(42, 0, bodyOf(42));
    log.close();
    const header = readSegmentHeader(segmentPaths(opts.dir)[0]!);
    assert.deepEqual({ firstTxId: header.firstTxId, prevChecksum: header.prevChecksum, databaseId: header.databaseId }, { firstTxId: 42, prevChecksum: 0xdeadbeef, databaseId });
  });

  it('rotates at the configured size and chains each segment header to the previous segment', async () => {
    const bodyBytes = 200;
    const recordBytes = recordHeaderBytes + bodyBytes;
    const opts = logOptions({ rotationBytes: 4 * recordBytes + 10 });
    const log = TxLog.open(opts, startFresh);
    const chain = appendUpTo(log, 22, bodyBytes);
    await log.sync(22);
    assert.deepEqual(
      log.segmentList().map((s) => [s.firstTxId, s.lastTxId, s.usedBytes]),
      [
        [1, 4, 4 * recordBytes],
        [5, 8, 4 * recordBytes],
        [9, 12, 4 * recordBytes],
        [13, 16, 4 * recordBytes],
        [17, 20, 4 * recordBytes],
        [21, 22, 2 * recordBytes],
      ],
    );
    log.close();

    const paths = segmentPaths(opts.dir);
    assert.equal(paths.length, 6);
    for (const [i, path] of paths.entries()) {
      const header = readSegmentHeader(path);
      assert.equal(header.seq, i);
      assert.equal(header.firstTxId, 1 + 4 * i);
      assert.equal(header.prevChecksum, i === 0 ? 0 : chain.get(4 * i), `segment ${i} starts from the chain value of tx ${4 * i}`);
      assert.equal(header.databaseId, databaseId);
    }
  });

  it('puts a record larger than the rotation size in a segment of its own', async () => {
    const opts = logOptions({ rotationBytes: 1000 });
    const log = TxLog.open(opts, startFresh);
    log.append(1, 0, bodyOf(1, 100));
    log.append(2, 0, bodyOf(2, 5000));
    log.append(3, 0, bodyOf(3, 100));
    await log.sync(3);
    assert.deepEqual(log.segmentList().map((s) => [s.firstTxId, s.lastTxId]), [[1, 1], [2, 2], [3, 3]]);
    log.close();
    const again = TxLog.open(opts, startFresh);
    assert.deepEqual(readAll(again, 1, 3), [1, 2, 3]);
    again.close();
  });

  it('grows a preallocated segment when records pass its preallocated end', async () => {
    const opts = logOptions({ rotationBytes: 64 * 1024 * 1024 });
    const log = TxLog.open(opts, startFresh);
    // 9 MiB of records: past the first 8 MiB preallocation step.
    for (let txId = 1; txId <= 9; txId++) log.append(txId, 0, bodyOf(txId, 1024 * 1024));
    await log.sync(9);
    log.close();
    const again = TxLog.open(opts, startFresh);
    assert.equal(again.lastTxId, 9);
    assert.deepEqual(opts.warnings, []);
    assert.deepEqual([...again.readRaw(9, 9)][0]!.record.body, bodyOf(9, 1024 * 1024));
    again.close();
  });

  it('reads a range across segments with readRaw, from any start to any end', async () => {
    const opts = logOptions({ rotationBytes: 1200 });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 60);
    await log.sync(60);
    try {
      assert.ok(log.segmentList().length >= 5, 'the range spans several segments');
      assert.deepEqual(readAll(log, 1, 60), Array.from({ length: 60 }, (_, i) => i + 1));
      for (const [first, last] of [[1, 1], [7, 33], [13, 14], [59, 60], [60, 60], [30, 1000]] as const) {
        const expected = Array.from({ length: Math.min(last, 60) - first + 1 }, (_, i) => first + i);
        assert.deepEqual(readAll(log, first, last), expected, `readRaw(${first}, ${last})`);
      }
      assert.deepEqual(readAll(log, 10, 9), [], 'an empty range yields nothing');
      // Each segment boundary: the last record of one and the first of the next.
      for (const s of log.segmentList().slice(1)) assert.deepEqual(readAll(log, s.firstTxId - 1, s.firstTxId), [s.firstTxId - 1, s.firstTxId]);
    } finally {
      log.close();
    }
  });

  it('throws TransactionsPruned for a range that starts before the oldest kept transaction', async () => {
    const opts = logOptions({ rotationBytes: 1200 });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 60);
    await log.sync(60);
    try {
      const before = log.segmentList().length;
      const removed = log.prune({ kind: 'files', count: 2 }, 60, Date.now());
      assert.equal(removed, before - 2);
      assert.equal(segmentPaths(opts.dir).length, 2, 'pruned segment files are gone');
      const oldest = log.oldestTxId();
      assert.equal(oldest, log.segmentList()[0]!.firstTxId);
      assert.ok(oldest > 1);
      assert.throws(() => readAll(log, 1, 60), assertQuiverError('TransactionsPruned', new RegExp(`transactions from 1 .*oldest available: ${oldest}`)));
      assert.throws(() => readAll(log, oldest - 1, oldest), assertQuiverError('TransactionsPruned'));
      assert.deepEqual(readAll(log, oldest, 60), Array.from({ length: 61 - oldest }, (_, i) => oldest + i));
    } finally {
      log.close();
    }
    // After a reopen the pruned log still opens and knows its oldest transaction.
    const again = TxLog.open(opts, startFresh);
    assert.equal(again.oldestTxId(), log.oldestTxId());
    assert.throws(() => readAll(again, 1, 2), assertQuiverError('TransactionsPruned'));
    again.close();
  });

  it('never prunes a segment holding a transaction after the checkpoint', async () => {
    const opts = logOptions({ rotationBytes: 1200 });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 60);
    await log.sync(60);
    try {
      const second = log.segmentList()[1]!;
      log.prune({ kind: 'keep_none' }, second.lastTxId - 1, Date.now());
      assert.equal(log.oldestTxId(), second.firstTxId, 'only the first segment lies wholly before the checkpoint');
    } finally {
      log.close();
    }
  });

  describe('torn tail', () => {
    const recordCount = 20;
    const bodyBytes = 100;
    const recordBytes = recordHeaderBytes + bodyBytes;
    const lastRecordOffset = segmentHeaderBytes + (recordCount - 1) * recordBytes;
    const cuts = [1, 3, 4, 7, 8, 20, recordHeaderBytes - 1, recordHeaderBytes, recordHeaderBytes + 1, recordBytes - 1];

    async function writeLog(opts: TxLogOptions): Promise<Map<number, number>> {
      const log = TxLog.open(opts, startFresh);
      const chain = appendUpTo(log, recordCount, bodyBytes);
      await log.sync(recordCount);
      log.close();
      return chain;
    }

    /** Reopens, expects the tail to be gone, appends the next transaction and checks it sticks. */
    async function expectTailDiscarded(opts: TxLogOptions & { warnings: string[] }, lastKept: number, chain: Map<number, number>, what: string): Promise<void> {
      const log = TxLog.open(opts, startFresh);
      try {
        assert.equal(log.lastTxId, lastKept, what);
        assert.equal(log.lastTxChecksum, chain.get(lastKept), what);
        assert.equal(opts.warnings.length, 1, `${what}: one warning`);
        assert.match(opts.warnings[0]!, new RegExp(`discarding an incomplete tail after transaction ${lastKept}`));
        log.append(lastKept + 1, 0, bodyOf(lastKept + 1, 50));
        await log.sync(lastKept + 1);
      } finally {
        log.close();
      }
      opts.warnings.length = 0;
      const again = TxLog.open(opts, startFresh);
      try {
        assert.deepEqual(opts.warnings, [], `${what}: the repaired log opens cleanly`);
        assert.equal(again.lastTxId, lastKept + 1, what);
        assert.deepEqual(readAll(again, 1, lastKept + 1), Array.from({ length: lastKept + 1 }, (_, i) => i + 1), what);
      } finally {
        again.close();
      }
    }

    it('discards a last record cut short at any byte when the segment is not preallocated', async () => {
      for (const cut of cuts) {
        const opts = logOptions({ preallocate: false });
        const chain = await writeLog(opts);
        const path = segmentPaths(opts.dir)[0]!;
        assert.equal(statSync(path).size, lastRecordOffset + recordBytes);
        truncateSync(path, lastRecordOffset + cut);
        await expectTailDiscarded(opts, recordCount - 1, chain, `cut at byte ${cut}`);
      }
    });

    it('discards a last record whose end never reached a preallocated segment', async () => {
      for (const cut of cuts) {
        const opts = logOptions({ preallocate: true });
        const chain = await writeLog(opts);
        const path = segmentPaths(opts.dir)[0]!;
        const fd = openSync(path, 'r+');
        writeSync(fd, Buffer.alloc(recordBytes - cut), 0, recordBytes - cut, lastRecordOffset + cut);
        closeSync(fd);
        await expectTailDiscarded(opts, recordCount - 1, chain, `zeros from byte ${cut}`);
      }
    });

    it('discards garbage written after the last record', async () => {
      for (const preallocate of [true, false]) {
        for (const garbage of [Buffer.from([0xab]), Buffer.alloc(7, 0xab), Buffer.alloc(5000, 0x5a), Buffer.from('00000000ffffffff', 'hex')]) {
          const opts = logOptions({ preallocate });
          const chain = await writeLog(opts);
          const path = segmentPaths(opts.dir)[0]!;
          const fd = openSync(path, 'r+');
          writeSync(fd, garbage, 0, garbage.length, lastRecordOffset + recordBytes);
          closeSync(fd);
          await expectTailDiscarded(opts, recordCount, chain, `${garbage.length} bytes of garbage, preallocate=${preallocate}`);
        }
      }
    });

    it('discards a damaged last record whose length and marker survived', async () => {
      const opts = logOptions();
      const chain = await writeLog(opts);
      const path = segmentPaths(opts.dir)[0]!;
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from([0xff]), 0, 1, lastRecordOffset + recordHeaderBytes + 10);
      closeSync(fd);
      await expectTailDiscarded(opts, recordCount - 1, chain, 'flipped body byte');
    });

    it('discards a torn tail in the newest of several segments', async () => {
      const opts = logOptions({ rotationBytes: 5 * recordBytes, preallocate: false });
      const chain = await writeLog(opts);
      const paths = segmentPaths(opts.dir);
      assert.equal(paths.length, 4);
      truncateSync(paths[3]!, statSync(paths[3]!).size - 5);
      await expectTailDiscarded(opts, recordCount - 1, chain, 'torn tail in segment 3');
    });
  });

  it('refuses to open when a record in an older segment is damaged', async () => {
    const recordBytes = recordHeaderBytes + 100;
    for (const offsetInRecord of [0, 4, 8, 24, 28, recordHeaderBytes + 50]) {
      // Not preallocated: these tests are about records, and 8 MiB of zeros per segment is slow.
      const opts = logOptions({ rotationBytes: 5 * recordBytes, preallocate: false });
      const log = TxLog.open(opts, startFresh);
      appendUpTo(log, 20, 100);
      await log.sync(20);
      log.close();
      const paths = segmentPaths(opts.dir);
      // Second record of segment 1 (tx 7).
      const bytes = readFileSync(paths[1]!);
      const at = segmentHeaderBytes + recordBytes + offsetInRecord;
      bytes[at] = bytes[at]! ^ 0x40;
      writeFileSync(paths[1]!, bytes);
      assert.throws(() => TxLog.open(opts, startFresh), assertQuiverError('LogCorrupt', /txlog\.0000000001" is damaged/), `byte ${offsetInRecord} of tx 7`);
      assert.deepEqual(opts.warnings, []);
    }
  });

  it('refuses to open when an older segment is missing or replaced', async () => {
    const opts = logOptions({ rotationBytes: 700, preallocate: false });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 30, 100);
    await log.sync(30);
    log.close();
    const paths = segmentPaths(opts.dir);
    assert.ok(paths.length >= 4);
    rmSync(paths[1]!);
    assert.throws(() => TxLog.open(opts, startFresh), assertQuiverError('LogCorrupt', /does not continue the previous segment/));
  });

  it('refuses to open a segment with a damaged header, naming the file', async () => {
    const opts = logOptions({ rotationBytes: 700, preallocate: false });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 30, 100);
    await log.sync(30);
    log.close();
    const paths = segmentPaths(opts.dir);
    const bytes = readFileSync(paths[0]!);
    bytes[26] = bytes[26]! ^ 1; // inside firstTxId
    writeFileSync(paths[0]!, bytes);
    assert.throws(() => TxLog.open(opts, startFresh), assertQuiverError('LogCorrupt', /txlog\.0000000000" has a corrupt segment header/));
  });

  it('refuses a segment that belongs to another database', async () => {
    const other = logOptions({ databaseId: otherDatabaseId });
    const foreign = TxLog.open(other, startFresh);
    appendUpTo(foreign, 3);
    await foreign.sync(3);
    foreign.close();
    assert.throws(() => TxLog.open({ ...other, databaseId }, startFresh), assertQuiverError('LogCorrupt', new RegExp(`belongs to database id ${otherDatabaseId}, not ${databaseId}`)));

    // A foreign segment copied next to our own is refused as well.
    const ours = logOptions();
    const log = TxLog.open(ours, startFresh);
    appendUpTo(log, 3);
    await log.sync(3);
    log.close();
    copyFileSync(segmentPaths(other.dir)[0]!, join(ours.dir, segmentFileName(7)));
    assert.throws(() => TxLog.open(ours, startFresh), assertQuiverError('LogCorrupt', /txlog\.0000000007" belongs to database id/));
  });

  it('ignores and removes a segment file left half-created by a crash during rotation', async () => {
    const opts = logOptions({ rotationBytes: 700, preallocate: false });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 12, 100);
    await log.sync(12);
    log.close();
    const next = segmentFileName(segmentPaths(opts.dir).length);
    // A new segment is written under a temporary name and renamed once its header is durable, so
    // a crash during rotation leaves at most an incomplete temporary file.
    for (const [i, partial] of [Buffer.alloc(0), Buffer.alloc(20, 0x51)].entries()) {
      writeFileSync(join(opts.dir, `${next}.tmp`), partial);
      const again = TxLog.open(opts, startFresh);
      assert.equal(again.lastTxId, 12 + i);
      assert.ok(!readdirSync(opts.dir).includes(`${next}.tmp`), 'the temporary file is removed');
      again.append(13 + i, 0, bodyOf(13 + i));
      await again.sync(13 + i);
      again.close();
    }
    const last = TxLog.open(opts, startFresh);
    assert.equal(last.lastTxId, 14);
    last.close();
  });

  it('refuses a segment file without a complete header, naming the file', async () => {
    const opts = logOptions({ rotationBytes: 700, preallocate: false });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 12, 100);
    await log.sync(12);
    log.close();
    const next = join(opts.dir, segmentFileName(segmentPaths(opts.dir).length));
    for (const partial of [Buffer.alloc(0), Buffer.alloc(20, 0x51)]) {
      writeFileSync(next, partial);
      assert.throws(() => TxLog.open(opts, startFresh), assertQuiverError('LogCorrupt', /is not a Quiver transaction log segment/));
    }
  });

  describe('group commit', () => {
    it('covers every transaction appended before an fsync starts with that one fsync', async () => {
      const log = TxLog.open(logOptions(), startFresh);
      try {
        appendUpTo(log, 200);
        const before = log.syncCount;
        await Promise.all(Array.from({ length: 200 }, (_, i) => log.sync(i + 1)));
        assert.equal(log.syncCount - before, 1);
        await log.sync(200);
        assert.equal(log.syncCount - before, 1, 'a sync of durable transactions issues no fsync');
      } finally {
        log.close();
      }
    });

    it('shares fsyncs among concurrent committers', async () => {
      const log = TxLog.open(logOptions(), startFresh);
      try {
        const writers = 8;
        const perWriter = 50;
        const before = log.syncCount;
        const acknowledged: number[] = [];
        await Promise.all(
          Array.from({ length: writers }, async () => {
            for (let i = 0; i < perWriter; i++) {
              const txId = log.lastTxId + 1;
              log.append(txId, 0, bodyOf(txId));
              await log.sync(txId);
              acknowledged.push(txId);
            }
          }),
        );
        const fsyncs = log.syncCount - before;
        assert.equal(acknowledged.length, writers * perWriter);
        // With 8 committers waiting, each fsync covers several transactions.
        assert.ok(fsyncs <= (writers * perWriter) / 2, `${fsyncs} fsyncs for ${writers * perWriter} commits`);
      } finally {
        log.close();
      }
    });

    it('acknowledges a transaction whose fsync was in flight when the segment rotated', async () => {
      const opts = logOptions({ rotationBytes: 1000 });
      const log = TxLog.open(opts, startFresh);
      try {
        log.append(1, 0, bodyOf(1, 400));
        const busy = blockThreadpool();
        const synced = log.sync(1); // queued behind the busy threadpool
        log.append(2, 0, bodyOf(2, 400));
        log.append(3, 0, bodyOf(3, 400)); // rotates: the first segment's file is closed
        const third = log.sync(3);
        await Promise.all([synced, third, busy]);
        log.append(4, 0, bodyOf(4, 100));
        await log.sync(4);
      } finally {
        log.close();
      }
      const again = TxLog.open(opts, startFresh);
      assert.equal(again.lastTxId, 4);
      again.close();
    });

    it('acknowledges a transaction whose fsync was in flight when the log closed', async () => {
      const opts = logOptions();
      const log = TxLog.open(opts, startFresh);
      log.append(1, 0, bodyOf(1));
      const busy = blockThreadpool();
      const synced = log.sync(1);
      log.close(); // close syncs everything written
      await Promise.all([synced, busy]);
      const again = TxLog.open(opts, startFresh);
      assert.equal(again.lastTxId, 1);
      again.close();
    });
  });

  it('scans segments with the same checks as open, reporting where they end', async () => {
    const opts = logOptions({ preallocate: false });
    const log = TxLog.open(opts, startFresh);
    const chain = appendUpTo(log, 5);
    await log.sync(5);
    log.close();
    const path = segmentPaths(opts.dir)[0]!;
    const it = scanSegment(path);
    const ids: number[] = [];
    for (;;) {
      const n = it.next();
      if (n.done) {
        assert.equal(n.value.reason, 'end');
        assert.equal(n.value.lastTxId, 5);
        assert.equal(n.value.lastChecksum, chain.get(5));
        assert.equal(n.value.validEndOffset, statSync(path).size);
        break;
      }
      ids.push(n.value.record.txId);
    }
    assert.deepEqual(ids, [1, 2, 3, 4, 5]);
  });
});

describe('readers and pruning', () => {
  it('a running reader pins its segments against pruning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-pin-'));
    try {
      const log = TxLog.open({ dir, databaseId: '00000000-0000-4000-8000-000000000001', rotationBytes: 128 * 1024, preallocate: false }, { txId: 0, checksum: 0 });
      const body = Buffer.alloc(4096, 7);
      for (let tx = 1; tx <= 200; tx++) log.append(tx, Date.now(), body);
      await log.sync(200);
      assert.ok(log.segmentList().length > 3, 'the log rotated');
      const reader = log.readRaw(1, 200);
      assert.equal(reader.next().value?.record.txId, 1);
      assert.equal(log.prune({ kind: 'keep_none' }, 200, Date.now()), 0, 'nothing pruned while the reader runs');
      let last = 1;
      for (const { record } of { [Symbol.iterator]: () => reader }) last = record.txId;
      assert.equal(last, 200, 'the reader saw every transaction');
      assert.ok(log.prune({ kind: 'keep_none' }, 200, Date.now()) > 0, 'pruned once the reader finished');
      log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('large records', () => {
  it('a record larger than the scan read size survives a reopen, also first in its segment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quiver-large-'));
    try {
      const opts = { dir, databaseId: '00000000-0000-4000-8000-000000000002', rotationBytes: 1024 * 1024, preallocate: false };
      const log = TxLog.open(opts, { txId: 0, checksum: 0 });
      log.append(1, Date.now(), Buffer.alloc(100, 1));
      log.append(2, Date.now(), Buffer.alloc(5 * 1024 * 1024, 2));
      log.append(3, Date.now(), Buffer.alloc(9 * 1024 * 1024, 3));
      await log.sync(3);
      log.close();
      const again = TxLog.open(opts, { txId: 0, checksum: 0 });
      assert.equal(again.lastTxId, 3, 'no acknowledged transaction dropped');
      const sizes = [...again.readRaw(1, 3)].map(({ record }) => record.body.length);
      assert.deepEqual(sizes, [100, 5 * 1024 * 1024, 9 * 1024 * 1024]);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('appends a 40 MB record in pieces with pauses between them, byte for byte the record append writes', async () => {
    const opts = logOptions({ rotationBytes: 256 * 1024 * 1024 });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 2);
    const body = Buffer.alloc(40 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body[i] = (i / 4096) & 0xff;
    const expected = encodeRecord(3, 1234, body, log.lastTxChecksum);
    let pauses = 0;
    let longestMs = 0;
    let since = performance.now();
    const checksum = await log.appendInPieces(3, 1234, body, async () => {
      pauses++;
      longestMs = Math.max(longestMs, performance.now() - since);
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    });
    longestMs = Math.max(longestMs, performance.now() - since);
    assert.equal(checksum, expected.chainCrc);
    // Checksum, zeros ahead and body: at least one pause per piece of each.
    assert.ok(pauses >= (2 * body.length) / appendPieceBytesMax, `${pauses} pauses`);
    // A piece is a few milliseconds; the whole record in one call took about 110 ms.
    assert.ok(longestMs < 60, `the longest stretch without a pause took ${longestMs.toFixed(1)} ms`);
    await log.sync(3);
    log.close();
    const again = TxLog.open(opts, startFresh);
    assert.deepEqual([...again.readRaw(3, 3)][0]!.raw, expected.bytes);
    assert.deepEqual(opts.warnings, []);
    again.close();
  });

  it('a record whose append stopped between two pieces is not in the log, and reopening zeroes what it left', async () => {
    const opts = logOptions({ rotationBytes: 256 * 1024 * 1024 });
    const log = TxLog.open(opts, startFresh);
    appendUpTo(log, 2);
    await log.sync(2);
    const body = Buffer.alloc(30 * 1024 * 1024, 0xab);
    let pauses = 0;
    // The process dies after the checksum, the zeros (8 MiB steps) and three pieces of the body (past the first 8 MiB) reached the file.
    const killedAt = Math.ceil(body.length / appendPieceBytesMax) + Math.ceil((recordHeaderBytes + body.length) / (8 * 1024 * 1024)) + 3;
    await assert.rejects(
      log.appendInPieces(3, 1, body, async () => {
        if (++pauses === killedAt) throw new Error('killed');
      }),
      /killed/,
    );
    const segment = join(opts.dir, segmentFileName(0));
    const left = readFileSync(segment);
    assert.ok(left.includes(Buffer.alloc(1024, 0xab)), 'part of the body reached the segment');
    log.close();
    const again = TxLog.open(opts, startFresh);
    assert.equal(again.lastTxId, 2, 'the record is not in the log');
    assert.deepEqual(opts.warnings, [], 'its header was never written: the log simply ends before it');
    assert.ok(!readFileSync(segment).includes(Buffer.alloc(1024, 0xab)), 'no byte of the body is left past the end of the log');
    appendUpTo(again, 5, 1000);
    await again.sync(5);
    again.close();
    const third = TxLog.open(opts, startFresh);
    assert.deepEqual(readAll(third, 1, 5), [1, 2, 3, 4, 5]);
    third.close();
  });
});
