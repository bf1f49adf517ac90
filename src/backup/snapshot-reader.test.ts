import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from 'lmdb';
import { openScratchDatabase } from '../kernel/testing.js';
import { subDbNames } from '../storage/store.js';
import type { PropertyValue } from '../values/value.js';
import { SnapshotParser } from './snapshot-format.js';
import { readStoreSnapshot } from './snapshot-reader.js';

/** Every key and value of every sub-database, read the plain way (a Buffer copy per key and value). */
async function plainEntries(storeDir: string): Promise<string[]> {
  const env = open({ path: storeDir, maxDbs: 16, compression: false });
  const out: string[] = [];
  try {
    for (const name of subDbNames) {
      const db = env.openDB({ name, encoding: 'binary', keyEncoding: 'binary' });
      for (const { key, value } of db.getRange({})) out.push(`${name} ${(key as unknown as Buffer).toString('hex')} ${(value as Buffer).toString('hex')}`);
    }
  } finally {
    await env.close();
  }
  return out;
}

test('streams every key and value of every sub-database exactly as stored, small and large values alike', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    const tx = await db.beginWrite();
    let previous = -1;
    for (let i = 0; i < 3000; i++) {
      // Values from a few bytes to 300 KB cross lmdb-js's shared read buffer size and LMDB's overflow pages.
      const props = new Map<string, PropertyValue>([['i', BigInt(i)]]);
      if (i % 500 === 7) props.set('blob', 'x'.repeat(1000 * (i + 1) / 10));
      if (i % 3 === 0) props.set('name', `node-${i}`);
      const id = tx.createNode(i % 2 ? ['A'] : ['A', 'B'], props);
      if (previous >= 0) tx.createRelationship('NEXT', previous, id, new Map([['w', i / 7]]));
      previous = id;
    }
    await tx.commit();
    await db.checkpoint();
    const storeDir = db.location.storeDir;

    for (const chunkBytes of [1024 * 1024, 97]) {
      const parser = new SnapshotParser();
      const streamed: string[] = [];
      let section = '';
      let chunks = 0;
      const finish = await readStoreSnapshot(storeDir, chunkBytes, () => undefined, async (chunk) => {
        chunks++;
        for (const ev of parser.push(chunk)) {
          if (ev.type === 'section') section = ev.name;
          if (ev.type === 'entry') streamed.push(`${section} ${ev.key.toString('hex')} ${ev.value.toString('hex')}`);
        }
      });
      parser.end();
      const expected = await plainEntries(storeDir);
      assert.equal(streamed.length, expected.length, `entry count with ${chunkBytes}-byte chunks`);
      assert.deepEqual(streamed, expected, `entries with ${chunkBytes}-byte chunks`);
      assert.equal(finish?.totalEntries, expected.length);
      assert.equal(finish?.txId, db.lastCommittedTxId());
      assert.ok(chunks > (chunkBytes < 1000 ? 1000 : 0));
    }
  } finally {
    await close();
  }
});
