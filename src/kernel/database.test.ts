import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Database, defaultDatabaseSettings } from './database.js';
import type { PropertyValue } from '../values/value.js';
import { openScratchDatabase } from './testing.js';

test('a write transaction sees its own writes and others see them only after commit', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    const tx = await db.beginWrite();
    const a = tx.createNode(['Person'], new Map<string, PropertyValue>([['name', 'Ada'], ['born', 1815n]]));
    const b = tx.createNode(['Person'], new Map([['name', 'Charles']]));
    tx.createRelationship('KNOWS', a, b, new Map([['since', 1833n]]));
    assert.equal(tx.getNode(a)?.properties.get('name'), 'Ada');
    assert.deepEqual([...tx.nodeIdsByLabel('Person')].sort(), [a, b]);
    assert.equal([...tx.relationshipsOf(a, 'out', ['KNOWS'])].length, 1);
    const before = db.beginRead();
    assert.equal(before.getNode(a), undefined);
    const { txId } = await tx.commit();
    assert.equal(txId, 2, 'tx 1 is the creation transaction');
    assert.equal(before.getNode(a), undefined, 'an open snapshot does not change');
    before.close();
    const r = db.beginRead();
    assert.equal(r.getNode(a)?.properties.get('born'), 1815n);
    assert.deepEqual([...r.relationshipsOf(b, 'in')].map((x) => x.otherId), [a]);
    assert.equal(r.countNodes('Person'), 2);
    r.close();
  } finally {
    await close();
  }
});

test('rollback discards changes and a failed uniqueness check commits nothing', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    let tx = await db.beginWrite();
    tx.createUniqueConstraint('person_email', 'Person', 'email', false);
    await tx.commit();
    tx = await db.beginWrite();
    tx.createNode(['Person'], new Map([['email', 'a@x']]));
    await tx.commit();
    tx = await db.beginWrite();
    tx.createNode(['Person'], new Map([['email', 'a@x']]));
    await assert.rejects(tx.commit(), /already exists with label `Person` and property `email` = 'a@x'/);
    tx = await db.beginWrite();
    tx.createNode(['Temp'], new Map());
    tx.rollback();
    const r = db.beginRead();
    assert.equal(r.countNodes('Person'), 1);
    assert.equal(r.countNodes('Temp'), 0);
    assert.deepEqual([...(r.indexSeek('Person', 'email', 'a@x') ?? [])].length, 1);
    r.close();
  } finally {
    await close();
  }
});

test('indexes serve equality and range seeks and follow updates', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    let tx = await db.beginWrite();
    for (let i = 0; i < 50; i++) tx.createNode(['N'], new Map([['v', BigInt(i)]]));
    await tx.commit();
    tx = await db.beginWrite();
    tx.createIndex(null, 'N', 'v', false);
    await tx.commit();
    tx = await db.beginWrite();
    tx.setNodeProperty(0, 'v', 1000n);
    await tx.commit();
    const r = db.beginRead();
    assert.deepEqual([...(r.indexSeek('N', 'v', 7n) ?? [])], [7]);
    assert.deepEqual([...(r.indexSeek('N', 'v', 0n) ?? [])], []);
    const range = [...(r.indexRange('N', 'v', { lower: { value: 10n, inclusive: true }, upper: { value: 12n, inclusive: true } }) ?? [])];
    assert.deepEqual(range.sort((a, b) => a - b), [10, 11, 12]);
    assert.equal(r.indexSeek('N', 'other', 1n), undefined);
    r.close();
  } finally {
    await close();
  }
});

test('a reopened database replays the log entries its store has not applied', async () => {
  const { db, dir, close } = await openScratchDatabase();
  const loc = db.location;
  const tx = await db.beginWrite();
  tx.createNode(['X'], new Map([['k', 'v']]));
  await tx.commit();
  await db.close();
  const again = Database.open('scratch', loc, defaultDatabaseSettings, () => undefined);
  try {
    const r = again.beginRead();
    assert.equal(r.countNodes('X'), 1);
    r.close();
    assert.equal(again.lastCommittedTxId(), 2);
  } finally {
    await again.close();
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  }
  void close;
});

test('detach delete removes relationships; plain delete of a connected node fails', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    let tx = await db.beginWrite();
    const a = tx.createNode([], new Map());
    const b = tx.createNode([], new Map());
    tx.createRelationship('R', a, b, new Map());
    await tx.commit();
    tx = await db.beginWrite();
    assert.throws(() => tx.deleteNode(a, false), /still has relationships/);
    tx.deleteNode(a, true);
    await tx.commit();
    const r = db.beginRead();
    assert.equal(r.getNode(a), undefined);
    assert.deepEqual([...r.relationshipsOf(b, 'both')], []);
    assert.deepEqual([...r.allRelationshipIds()], []);
    r.close();
  } finally {
    await close();
  }
});
