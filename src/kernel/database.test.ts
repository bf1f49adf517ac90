import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkStoreConsistency } from '../storage/consistency.js';
import { logicalDigest } from '../storage/digest.js';
import { Database, type DatabaseSettings, defaultDatabaseSettings } from './database.js';
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

/** Commits `count` transactions of one node each, with a property big enough to fill small segments. */
async function commitNodes(db: Database, first: number, count: number, concurrency = 1): Promise<void> {
  let next = first;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < first + count) {
        const n = next++;
        const tx = await db.beginWrite();
        tx.createNode(['Item'], new Map<string, PropertyValue>([['n', BigInt(n)], ['pad', 'x'.repeat(300)]]));
        await tx.commit();
      }
    }),
  );
}

function digestOf(db: Database): string {
  const r = db.beginRead();
  try {
    return logicalDigest(r);
  } finally {
    r.close();
  }
}

test('a checkpoint prunes old segments under keep_none and the database still recovers', async () => {
  const settings: Partial<DatabaseSettings> = { rotationBytes: 4096, retention: { kind: 'keep_none' } };
  const { db, dir, close } = await openScratchDatabase(settings);
  const loc = db.location;
  const segments = () => readdirSync(loc.logDir).filter((n) => /^txlog\.\d{10}$/.test(n));
  await commitNodes(db, 0, 60);
  assert.ok(segments().length >= 5, `rotation at 4 KiB made ${segments().length} segments`);
  await db.checkpoint();
  assert.deepEqual(segments().length, 1, 'only the newest non-empty segment is left');
  assert.ok(db.info().oldestTxIdInLog > 2);
  const expected = digestOf(db);
  await db.close();

  let again = Database.open('scratch', loc, { ...defaultDatabaseSettings, ...settings }, () => undefined);
  try {
    assert.equal(digestOf(again), expected);
    assert.equal(again.lastCommittedTxId(), 61);
    await commitNodes(again, 60, 20);
    await again.checkpoint();
    assert.equal(segments().length, 1);
    await again.close();
    again = Database.open('scratch', loc, { ...defaultDatabaseSettings, ...settings }, () => undefined);
    assert.equal(again.lastCommittedTxId(), 81);
    const r = again.beginRead();
    assert.equal(r.countNodes('Item'), 80);
    r.close();
    assert.deepEqual(checkStoreConsistency(again.store).problems, []);
  } finally {
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  }
  void close;
});

test('recovery replays every transaction a store lost, in batches, to the same graph', async () => {
  const settings: Partial<DatabaseSettings> = { rotationBytes: 64 * 1024, retention: { kind: 'keep_all' } };
  const { db, dir, close } = await openScratchDatabase(settings);
  const loc = db.location;
  await db.close();
  // The store as it was before the transactions: recovery must bring it forward from the log.
  const before = join(dir, 'store-before');
  cpSync(loc.storeDir, before, { recursive: true });
  const warnings: string[] = [];
  let again = Database.open('scratch', loc, { ...defaultDatabaseSettings, ...settings }, () => undefined);
  await commitNodes(again, 0, 1050, 8); // more than one replay batch, across several segments
  const expected = digestOf(again);
  await again.close();
  rmSync(loc.storeDir, { recursive: true });
  cpSync(before, loc.storeDir, { recursive: true });
  again = Database.open('scratch', loc, { ...defaultDatabaseSettings, ...settings }, (m) => warnings.push(m));
  try {
    assert.deepEqual(warnings, ['database "scratch": recovered 1050 transaction(s) from the transaction log (now at tx 1051)']);
    assert.equal(digestOf(again), expected);
    assert.equal(again.lastCommittedTxId(), 1051);
    assert.equal(again.info().lastCommittedChecksum, again.log.lastTxChecksum, 'the store records the chain value of the last replayed transaction');
    assert.deepEqual(checkStoreConsistency(again.store).problems, []);
    // New ids continue after the replayed ones.
    const tx = await again.beginWrite();
    const id = tx.createNode([], new Map());
    await tx.commit();
    assert.equal(id, 1050);
  } finally {
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  }
  void close;
});

test('a uniqueness constraint tells integers beyond 2^53 apart', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    let tx = await db.beginWrite();
    tx.createUniqueConstraint('big', 'P', 'v', false);
    await tx.commit();
    for (const v of [2n ** 53n, 2n ** 53n + 1n]) {
      tx = await db.beginWrite();
      tx.createNode(['P'], new Map([['v', v]]));
      await tx.commit();
    }
    tx = await db.beginWrite();
    tx.createNode(['P'], new Map([['v', 2n ** 53n + 1n]]));
    await assert.rejects(tx.commit(), /already exists with label `P` and property `v` = 9007199254740993/);
    const r = db.beginRead();
    assert.deepEqual([...(r.indexSeek('P', 'v', 2n ** 53n + 1n) ?? [])], [1]);
    r.close();
    assert.deepEqual(checkStoreConsistency(db.store).problems, []);
  } finally {
    await close();
  }
});

test('data.mdb keeps zeros ahead of its last page, and a store pinned by a reader grows into them intact', async () => {
  const settings: Partial<DatabaseSettings> = { retention: { kind: 'keep_all' } };
  const { db, dir, close } = await openScratchDatabase(settings);
  const loc = db.location;
  const dataFile = join(loc.storeDir, 'data.mdb');
  let expected = '';
  try {
    await commitNodes(db, 0, 50);
    // A reader pins every page it can see, so each commit below writes new pages at the end of the
    // file, where the zeros are written: the two must never overwrite each other.
    const pinned = db.beginRead();
    const pinnedDigest = logicalDigest(pinned);
    const usedBefore = db.store.usedBytes();
    await commitNodes(db, 50, 3000, 8);
    const usedAfter = db.store.usedBytes();
    assert.ok(usedAfter > usedBefore + 1024 * 1024, `the pinned store grew (${usedBefore} -> ${usedAfter} bytes)`);
    assert.equal(logicalDigest(pinned), pinnedDigest, 'the pinned snapshot is unchanged');
    pinned.close();
    expected = digestOf(db);
    await db.close();
    const fileBytes = statSync(dataFile).size;
    assert.ok(fileBytes > usedAfter, `the file (${fileBytes} bytes) reaches past the last page (${usedAfter})`);
    const tail = readFileSync(dataFile).subarray(usedAfter);
    assert.ok(tail.every((b) => b === 0), 'past the last page the file holds zeros only');
  } finally {
    if (!db.closingOrClosed) await db.close();
  }
  // The longer file opens as it was, and LMDB writes on into the zeros.
  const again = Database.open('scratch', loc, { ...defaultDatabaseSettings, ...settings }, (m) => assert.fail(m));
  try {
    assert.equal(digestOf(again), expected);
    assert.deepEqual(checkStoreConsistency(again.store).problems, []);
    await commitNodes(again, 3050, 10);
    const r = again.beginRead();
    assert.equal(r.countNodes('Item'), 3060);
    r.close();
  } finally {
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  }
  void close;
});

test('concurrent writers and readers while the store applies behind the log: no lost update, no unknown token', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    const setup = await db.beginWrite();
    const hub = setup.createNode(['Hub'], new Map<string, PropertyValue>([['count', 0n]]));
    const leaf = setup.createNode(['Leaf'], new Map());
    await setup.commit();

    const writers = 16;
    const perWriter = 60;
    let stop = false;
    let readsChecked = 0;
    // Readers resolve every label and relationship type they see, including tokens that transactions
    // not yet applied to the store create: a reader sees those through its layers.
    const reader = (async () => {
      while (!stop) {
        const r = db.beginRead();
        try {
          const count = Number(r.getNode(hub)!.properties.get('count'));
          const out = [...r.relationshipsOf(hub, 'out')];
          assert.equal(out.length, count, 'a snapshot holds as many relationships as the counter says');
          for (const id of r.allNodeIds()) r.getNode(id);
          readsChecked++;
        } finally {
          r.close();
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    let round = 0;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const tx = await db.beginWrite();
          const count = tx.getNode(hub)!.properties.get('count') as bigint;
          const degree = [...tx.relationshipsOf(hub, 'out')].length;
          // Each committed transaction added one relationship and one to the counter: a transaction
          // seen twice or not at all would make these differ, or lose an increment below.
          assert.equal(BigInt(degree), count, `writer ${w} sees ${degree} relationships and count ${count}`);
          const n = round++;
          const type = n % 25 === 0 ? `T${n}` : 'R';
          const labels = n % 20 === 0 ? [`New${n}`] : ['Leafy'];
          const extra = tx.createNode(labels, new Map<string, PropertyValue>([[n % 30 === 0 ? `p${n}` : 'p', BigInt(n)]]));
          tx.createRelationship(type, hub, n % 2 ? leaf : extra, new Map());
          tx.setNodeProperty(hub, 'count', count + 1n);
          if (n === 400) tx.createIndex('by_p', 'Leafy', 'p', false);
          await tx.commit();
        }
      }),
    );
    stop = true;
    await reader;
    const total = writers * perWriter;
    const r = db.beginRead();
    try {
      assert.equal(r.getNode(hub)!.properties.get('count'), BigInt(total));
      assert.equal([...r.relationshipsOf(hub, 'out')].length, total);
      assert.equal(r.countNodes('Leafy') + [...Array(total).keys()].filter((n) => n % 20 === 0).length, total);
    } finally {
      r.close();
    }
    assert.ok(readsChecked > 10, `the reader checked ${readsChecked} snapshots during the writes`);
    assert.deepEqual(checkStoreConsistency(db.store).problems, []);
  } finally {
    await close();
  }
});

test('an acknowledged transaction is visible to new readers while the store still lags behind it', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    const setup = await db.beginWrite();
    const a = setup.createNode(['P'], new Map<string, PropertyValue>([['name', 'a'], ['n', 1n]]));
    setup.createIndex('p_n', 'P', 'n', false);
    await setup.commit();
    const earlier = db.beginRead();
    const tx = await db.beginWrite();
    const b = tx.createNode(['P', 'New'], new Map<string, PropertyValue>([['name', 'b'], ['n', 5n]]));
    const rel = tx.createRelationship('KNOWS', a, b, new Map());
    tx.setNodeProperty(a, 'name', 'a2');
    const { txId } = await tx.commit();
    assert.ok(db.store.meta().lastTxId < txId, `the store is at ${db.store.meta().lastTxId}, behind the acknowledged ${txId}`);
    assert.equal(db.lastCommittedTxId(), txId);

    const layered = db.beginRead();
    assert.equal(layered.getNode(a)?.properties.get('name'), 'a2');
    assert.deepEqual([...layered.nodeIdsByLabel('New')], [b]);
    assert.deepEqual([...layered.relationshipsOf(a, 'out')].map((x) => x.relId), [rel]);
    assert.deepEqual([...layered.relationshipsOf(b, 'in')].map((x) => x.otherId), [a]);
    assert.deepEqual([...(layered.indexSeek('P', 'n', 5n) ?? [])], [b]);
    assert.deepEqual([...(layered.indexRange('P', 'n', { lower: { value: 2n, inclusive: true } }) ?? [])], [b]);
    assert.equal(layered.countNodes('P'), 2);
    assert.ok(layered.labels().includes('New') && layered.relationshipTypes().includes('KNOWS'));
    assert.equal(earlier.getNode(b), undefined, 'a snapshot begun before the commit does not change');
    const shown = logicalDigest(layered);

    await db.applyCommitted();
    assert.equal(db.store.meta().lastTxId, txId);
    assert.equal(logicalDigest(layered), shown, 'an open layered view does not change when the store catches up');
    const applied = db.beginRead();
    assert.equal(logicalDigest(applied), shown, 'the store holds what the layers showed');
    for (const r of [earlier, layered, applied]) r.close();
  } finally {
    await close();
  }
});

test('while a large transaction is applied in slices, readers and writers see it whole and exactly once, and the event loop runs', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    const schema = await db.beginWrite();
    schema.createIndex('big_id', 'Big', 'id', false);
    await schema.commit();
    const nodes = 30_000;
    const tx = await db.beginWrite();
    for (let i = 0; i < nodes; i++) tx.createNode(['Big'], new Map<string, PropertyValue>([['id', BigInt(i)]]));
    await tx.commit();
    // A reader and a writer that began before the apply: they keep their view throughout.
    const early = db.beginRead();
    const checkWhole = (r: { countNodes(l?: string): number; allNodeIds(): Iterable<number>; nodeIdsByLabel(l: string): Iterable<number>; indexSeek(l: string, p: string, v: PropertyValue): Iterable<number> | undefined }, what: string) => {
      assert.equal(r.countNodes('Big'), nodes, `${what}: count`);
      const all = [...r.allNodeIds()];
      assert.equal(all.length, nodes, `${what}: every node once in a scan`);
      assert.equal(new Set([...r.nodeIdsByLabel('Big')]).size, nodes, `${what}: label scan`);
      assert.equal([...r.nodeIdsByLabel('Big')].length, nodes, `${what}: label scan without duplicates`);
      for (const i of [0, 1234, nodes - 1]) assert.equal([...r.indexSeek('Big', 'id', BigInt(i))!].length, 1, `${what}: index seek ${i}`);
    };
    let pauses = 0;
    let checks = 0;
    const apply = db.applyCommitted();
    let applied = false;
    void apply.then(() => (applied = true));
    // Between slices: new readers see the transaction whole, exactly once.
    while (!applied) {
      await new Promise((resolve) => setImmediate(resolve));
      pauses++;
      if (applied) break;
      const r = db.beginRead();
      try {
        checkWhole(r, `reader begun during the apply (pause ${pauses})`);
      } finally {
        r.close();
      }
      checks++;
    }
    await apply;
    assert.ok(checks >= 2, `the apply should have paused several times, checked ${checks} times`);
    assert.equal(db.store.applyingTxId(), undefined);
    checkWhole(early, 'reader begun before the apply');
    early.close();
    const after = db.beginRead();
    checkWhole(after, 'reader begun after the apply');
    after.close();
    assert.deepEqual(checkStoreConsistency(db.store).problems, []);
  } finally {
    await close();
  }
});

test('a transaction larger than the backlog bound is acknowledged before its own apply; the next writer waits for it', async () => {
  const bound = 5_000;
  const { db, close } = await openScratchDatabase({ storeApplyBacklogCommandsMax: bound });
  try {
    const tx = await db.beginWrite();
    for (let i = 0; i < 3 * bound; i++) tx.createNode(['Big'], new Map<string, PropertyValue>([['i', BigInt(i)]]));
    await tx.commit();
    // Before, the committer itself waited for the store to apply all of it.
    assert.ok(db.storeBacklogCommands() > bound, `acknowledged with ${db.storeBacklogCommands()} commands still to apply`);
    // The wait for the store counts against the writer's lock timeout, and says why.
    await assert.rejects(db.beginWrite(1), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'LockTimeout');
      assert.match(e.message, /the store is still applying \d+ commands of earlier transactions/);
      return true;
    });
    const next = await db.beginWrite();
    assert.ok(db.storeBacklogCommands() <= bound, `the next writer began with ${db.storeBacklogCommands()} commands unapplied`);
    next.rollback();
    const r = db.beginRead();
    try {
      assert.equal(r.countNodes('Big'), 3 * bound);
    } finally {
      r.close();
    }
  } finally {
    await close();
  }
});

test('writers that commit faster than the store applies wait once the backlog passes its bound', async () => {
  const bound = 12_000;
  const { db, close } = await openScratchDatabase({ storeApplyBacklogCommandsMax: bound });
  try {
    let highest = 0;
    for (let t = 0; t < 20; t++) {
      const tx = await db.beginWrite();
      for (let i = 0; i < 4000; i++) tx.createNode(['Bulk'], new Map<string, PropertyValue>([['i', BigInt(t * 4000 + i)], ['pad', 'x'.repeat(200)]]));
      await tx.commit();
      highest = Math.max(highest, db.storeBacklogCommands());
    }
    // Each transaction is at least 4000 commands; a writer begins only once the backlog is at most
    // the bound, so it never exceeds the bound by more than one transaction.
    assert.ok(highest <= bound + 4000 + 1, `backlog reached ${highest} commands, bound ${bound} plus one transaction`);
    const r = db.beginRead();
    try {
      assert.equal([...r.nodeIdsByLabel('Bulk')].length, 80_000);
    } finally {
      r.close();
    }
  } finally {
    await close();
  }
});
