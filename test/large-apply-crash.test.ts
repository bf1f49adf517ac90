/**
 * Crash safety of a sliced store apply: a large transaction is acknowledged, the store applies it in
 * several LMDB transactions, and the process is SIGKILLed between two of them (named crash point
 * `store.betweenApplySlices`). The store on disk then holds part of the transaction and says so
 * (`applyingTxId`); reopening completes it from the log, and the database holds exactly the
 * transaction: every node, property, index entry and relationship, nothing twice, consistent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Database, defaultDatabaseSettings, locateDatabase, storeApplyCrashPoint } from '../src/kernel/database.js';
import { checkStoreConsistency } from '../src/storage/consistency.js';
import { GraphStore } from '../src/storage/store.js';
import { runWriterProcess } from './support/writer-process.js';

/** Enough for several 10 ms apply slices even on a fast machine (each node costs 5-20 µs to apply). */
const nodes = 40_000;
const databaseName = 'big';

test('a SIGKILL between two slices of a large apply leaves part of it in the store, and reopening completes it exactly', { timeout: 180_000 }, async () => {
  const folder = mkdtempSync(join(tmpdir(), 'quiver-apply-crash-'));
  try {
    const run = await runWriterProcess('large-apply-writer', [folder, String(nodes)], storeApplyCrashPoint);
    assert.equal(run.signal, 'SIGKILL', `the writer was not killed at ${storeApplyCrashPoint} (exit code ${run.code})\nstderr:\n${run.stderr}`);
    assert.ok(run.ackTxId > 0, `the large transaction was not acknowledged before the kill\nstderr:\n${run.stderr}`);
    const loc = locateDatabase(join(folder, 'data'), join(folder, 'data', 'transactions'), databaseName);

    // The kill landed mid-apply: the store names the transaction it holds part of.
    const raw = GraphStore.open(loc.storeDir, { readOnly: true });
    try {
      assert.equal(raw.applyingTxId(), run.ackTxId);
      assert.equal(raw.meta().lastTxId, run.ackTxId - 1, 'the last whole transaction stays the one before');
      const stored = raw.db.nodes.getKeysCount();
      assert.ok(stored > 0 && stored < nodes, `the store should hold part of the transaction, holds ${stored} of ${nodes} nodes`);
    } finally {
      raw.close();
    }

    const warnings: string[] = [];
    const db = Database.open(databaseName, loc, defaultDatabaseSettings, (m) => warnings.push(m));
    try {
      assert.ok(
        warnings.some((w) => w.includes(`the apply of transaction ${run.ackTxId} was interrupted`)),
        `no warning about the interrupted apply: ${JSON.stringify(warnings)}`,
      );
      assert.equal(db.store.applyingTxId(), undefined);
      assert.equal(db.store.meta().lastTxId, run.ackTxId);
      const r = db.beginRead();
      try {
        assert.equal(r.countNodes(), nodes);
        assert.equal(r.countNodes('N'), nodes);
        let rels = 0;
        for (const _ of r.allRelationshipIds()) rels++;
        assert.equal(rels, nodes / 2);
        for (let i = 0; i < nodes; i++) {
          const found = [...r.indexSeek('N', 'id', BigInt(i))!];
          assert.equal(found.length, 1, `index entries for id ${i}: ${JSON.stringify(found)}`);
          const n = r.getNode(found[0]!)!;
          assert.deepEqual([n.labels, n.properties.get('id'), n.properties.get('name')], [['N'], BigInt(i), `name-${i}`]);
          const out = [...r.relationshipsOf(found[0]!, 'out')];
          if (i % 2 === 0) {
            assert.equal(out.length, 1, `node with id ${i} has ${out.length} outgoing relationships`);
            assert.equal(r.getNode(out[0]!.otherId)!.properties.get('id'), BigInt(i + 1));
          } else assert.equal(out.length, 0);
        }
      } finally {
        r.close();
      }
      assert.deepEqual(checkStoreConsistency(db.store).problems, []);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
