/**
 * Crash safety of a large log append in pieces (txlog appendInPieces): a transaction whose record is
 * several MiB is written body first and header last, with the event loop run between the pieces.
 * SIGKILLed between two pieces (named crash point `txlog.betweenAppendPieces`), the process never
 * acknowledged the transaction: reopening finds the log ending before it, the store consistent and
 * without any of it, and the next transactions append and survive a reopen after the torn bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Database, defaultDatabaseSettings, locateDatabase, logAppendCrashPoint } from '../src/kernel/database.js';
import { checkStoreConsistency } from '../src/storage/consistency.js';
import { runWriterProcess } from './support/writer-process.js';

/** A record of well over 4 MiB (about 60 bytes a node and 30 a relationship): appended in pieces. */
const nodes = 150_000;
const databaseName = 'big';

test('a SIGKILL between two pieces of a large log append leaves no trace of the transaction, and the log goes on', { timeout: 180_000 }, async () => {
  const folder = mkdtempSync(join(tmpdir(), 'quiver-append-crash-'));
  try {
    const run = await runWriterProcess('large-apply-writer', [folder, String(nodes)], logAppendCrashPoint);
    assert.equal(run.signal, 'SIGKILL', `the writer was not killed at ${logAppendCrashPoint} (exit code ${run.code})\nstderr:\n${run.stderr}`);
    assert.doesNotMatch(run.stdout, /^ack /m, 'the torn transaction was never acknowledged');

    const loc = locateDatabase(join(folder, 'data'), join(folder, 'data', 'transactions'), databaseName);
    let db = Database.open(databaseName, loc, defaultDatabaseSettings, () => undefined);
    let lastTxId: number;
    try {
      lastTxId = db.store.meta().lastTxId;
      const r = db.beginRead();
      try {
        assert.equal(r.countNodes(), 0, 'nothing of the torn transaction is in the database');
        assert.equal(r.indexes().length, 1, 'the index committed before it is');
      } finally {
        r.close();
      }
      assert.deepEqual(checkStoreConsistency(db.store).problems, []);
      const tx = await db.beginWrite();
      tx.createNode(['After'], new Map([['k', 1n]]));
      const { txId } = await tx.commit();
      assert.equal(txId, lastTxId + 1, 'the next transaction takes the torn one\'s id');
      await db.applyCommitted();
    } finally {
      await db.close();
    }
    db = Database.open(databaseName, loc, defaultDatabaseSettings, () => undefined);
    try {
      assert.equal(db.store.meta().lastTxId, lastTxId + 1);
      const r = db.beginRead();
      try {
        assert.equal(r.countNodes('After'), 1);
        assert.equal(r.countNodes(), 1);
      } finally {
        r.close();
      }
    } finally {
      await db.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
