/**
 * Backups taken by a build that wrote store format 1 (test/fixtures/store-format-1) restore with
 * this build: the restored store is upgraded to format 2 (value counts for equality seeks), is
 * consistent, and every index seek answers exactly what a label scan answers. An operator's old
 * backups must stay restorable across the format change.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KernelReadTx } from '../src/kernel/read-tx.js';
import { checkStoreConsistency } from '../src/storage/consistency.js';
import { GraphStore, storeFormatVersion } from '../src/storage/store.js';
import { StoreReader } from '../src/storage/store-reader.js';
import { describeRun, restoreToTemp } from './support/backup-helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
/** From the sources or from dist/test: the fixtures stay in the source tree. */
const fixtures = here.includes(`${join('dist', 'test')}`) ? join(here, '..', '..', 'test', 'fixtures', 'store-format-1') : join(here, 'fixtures', 'store-format-1');

function seekMatchesScan(storeDir: string): { items: number; sumK: number; seeks: number } {
  const store = GraphStore.open(storeDir, { readOnly: true });
  try {
    assert.equal(store.meta().formatVersion, storeFormatVersion, 'the restore upgraded the store');
    assert.deepEqual(checkStoreConsistency(store).problems, []);
    const tx = new KernelReadTx(StoreReader.begin(store));
    try {
      const byK = new Map<number, number[]>();
      let sumK = 0;
      const ids = [...tx.nodeIdsByLabel('Item')];
      for (const id of ids) {
        const k = Number(tx.getNode(id)!.properties.get('k') as bigint);
        sumK += k;
        byK.set(k, [...(byK.get(k) ?? []), id]);
      }
      let seeks = 0;
      for (const k of [...byK.keys(), 7, 9999]) {
        const found = [...(tx.indexSeek('Item', 'k', BigInt(k)) ?? assert.fail('the index is there'))].sort((a, b) => a - b);
        assert.deepEqual(found, (byK.get(k) ?? []).sort((a, b) => a - b), `seek k = ${k}`);
        seeks++;
      }
      for (let i = 1; i <= 30; i++) assert.equal([...(tx.indexSeek('Person', 'email', `p${i}@example.com`) ?? [])].length, 1);
      return { items: ids.length, sumK, seeks };
    } finally {
      tx.close();
    }
  } finally {
    store.close();
  }
}

test('a FULL and a DIFF of a format 1 store restore into a format 2 store that seeks as it scans', async () => {
  const restored = await restoreToTemp(fixtures);
  try {
    assert.equal(restored.result.code, 0, describeRun(restored.result));
    const r = seekMatchesScan(restored.storeDir);
    assert.deepEqual([r.items, r.sumK], [260, 12180], 'the source\'s items, the DIFF\'s SET included');
  } finally {
    restored.cleanup();
  }
});

test('the FULL of a format 1 store alone restores and is upgraded too', async () => {
  const restored = await restoreToTemp(join(fixtures, 'neo4j-2026-12-07T00-18-13.backup'));
  try {
    assert.equal(restored.result.code, 0, describeRun(restored.result));
    const r = seekMatchesScan(restored.storeDir);
    assert.equal(r.items, 200);
  } finally {
    restored.cleanup();
  }
});
