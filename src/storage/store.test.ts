import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KernelReadTx } from '../kernel/read-tx.js';
import type { Command } from '../txlog/commands.js';
import { encodeValue } from '../values/codec.js';
import { QDate, QDuration } from '../values/temporal.js';
import type { Properties, PropertyValue } from '../values/value.js';
import { checkStoreConsistency } from './consistency.js';
import { canonicalLines, logicalDigest } from './digest.js';
import { encodeNode, encodeRel, presentMarker } from './records.js';
import { GraphStore } from './store.js';
import { StoreReader } from './store-reader.js';

const scratch = mkdtempSync(join(tmpdir(), 'quiver-store-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Tx = { txId: number; checksum: number; commitTimeMs: number; commands: Command[] };

function newStore(): GraphStore {
  return GraphStore.create(join(scratch, randomUUID()), { databaseId: randomUUID(), storeId: randomUUID() });
}

function props(entries: Record<string, PropertyValue>): Properties {
  return new Map(Object.entries(entries));
}

function read<T>(store: GraphStore, f: (tx: KernelReadTx) => T): T {
  const tx = new KernelReadTx(StoreReader.begin(store));
  try {
    return f(tx);
  } finally {
    tx.close();
  }
}

function digest(store: GraphStore): string {
  return read(store, (tx) => logicalDigest(tx));
}

function assertConsistent(store: GraphStore, what: string): void {
  const report = checkStoreConsistency(store);
  assert.deepEqual(report.problems, [], `${what}: ${report.problemCount} problem(s)`);
}

/** A history touching every command op, label and property changes under indexes, deletions. */
function history(): Tx[] {
  const txs: Command[][] = [
    [
      { op: 'node.put', id: 0, labels: ['Person'], properties: props({ name: 'Ada', born: 1815n }) },
      { op: 'node.put', id: 1, labels: ['Person', 'Mathematician'], properties: props({ name: 'Charles', born: 1791n }) },
      { op: 'node.put', id: 2, labels: ['Machine'], properties: props({ name: 'Analytical Engine' }) },
      { op: 'rel.put', id: 0, type: 'KNOWS', startId: 0, endId: 1, properties: props({ since: 1833n }) },
      { op: 'rel.put', id: 1, type: 'DESIGNED', startId: 1, endId: 2, properties: new Map() },
      { op: 'rel.put', id: 2, type: 'SELF', startId: 2, endId: 2, properties: new Map() },
    ],
    [
      { op: 'index.create', name: 'person_name', label: 'Person', property: 'name', unique: false, constraintName: null },
      { op: 'index.create', name: 'person_born', label: 'Person', property: 'born', unique: true, constraintName: 'person_born' },
      { op: 'constraint.create', name: 'person_born', label: 'Person', property: 'born', indexName: 'person_born' },
    ],
    // Property change, label removal, label addition under the indexes.
    [
      { op: 'node.put', id: 0, labels: ['Person', 'Countess'], properties: props({ name: 'Augusta Ada', born: 1815n }) },
      { op: 'node.put', id: 1, labels: ['Mathematician'], properties: props({ name: 'Charles', born: 1791n }) },
      { op: 'node.put', id: 2, labels: ['Machine', 'Person'], properties: props({ name: 'Analytical Engine', born: 1837.5 }) },
    ],
    [
      { op: 'node.put', id: 3, labels: ['Person'], properties: props({ name: 'Temp' }) },
      { op: 'rel.put', id: 3, type: 'KNOWS', startId: 3, endId: 0, properties: new Map() },
      { op: 'rel.put', id: 0, type: 'KNOWS', startId: 0, endId: 1, properties: props({ since: 1834n }) },
    ],
    [
      { op: 'rel.delete', id: 3 },
      { op: 'node.delete', id: 3 },
      { op: 'rel.delete', id: 2 },
      { op: 'index.drop', name: 'person_name' },
    ],
    [
      { op: 'constraint.drop', name: 'person_born' },
      { op: 'index.drop', name: 'person_born' },
      { op: 'index.create', name: 'machine_name', label: 'Machine', property: 'name', unique: false, constraintName: null },
      { op: 'node.put', id: 4, labels: ['Machine'], properties: props({ name: 'Difference Engine' }) },
    ],
  ];
  return txs.map((commands, i) => ({ txId: i + 2, checksum: 1000 + i, commitTimeMs: 1_700_000_000_000 + i, commands }));
}

describe('GraphStore', () => {
  it('applies a history to the same graph one transaction at a time or in one batch', () => {
    const one = newStore();
    const batch = newStore();
    try {
      for (const tx of history()) one.apply(tx.txId, tx.checksum, tx.commitTimeMs, tx.commands);
      batch.applyBatch(history());
      assert.deepEqual(read(one, canonicalLines), read(batch, canonicalLines));
      assertConsistent(one, 'one at a time');
      assertConsistent(batch, 'batch');
      const last = history().at(-1)!;
      for (const store of [one, batch]) {
        const meta = store.meta();
        assert.deepEqual([meta.lastTxId, meta.lastTxChecksum, meta.lastTxTimeMs, meta.nextNodeId, meta.nextRelId], [last.txId, last.checksum, last.commitTimeMs, 5, 4]);
      }
      assert.deepEqual(read(one, canonicalLines), [
        'I machine_name Machine name false',
        'N 0 Countess:Person "born"=i:1815;"name"=s:"Augusta Ada"',
        'N 1 Mathematician "born"=i:1791;"name"=s:"Charles"',
        'N 2 Machine:Person "born"=f:1837.5;"name"=s:"Analytical Engine"',
        'N 4 Machine "name"=s:"Difference Engine"',
        'R 0 KNOWS 0->1 "since"=i:1834',
        'R 1 DESIGNED 1->2 ',
      ]);
    } finally {
      one.close();
      batch.close();
    }
  });

  it('gives the same graph and a consistent store when transactions are applied twice', () => {
    const reference = newStore();
    const twice = newStore();
    const replayed = newStore();
    try {
      reference.applyBatch(history());
      const expected = digest(reference);
      // Each transaction twice in a row (a crash between apply and the meta update cannot happen,
      // but recovery may replay a transaction the store already holds).
      for (const tx of history()) {
        twice.apply(tx.txId, tx.checksum, tx.commitTimeMs, tx.commands);
        twice.apply(tx.txId, tx.checksum, tx.commitTimeMs, tx.commands);
        assertConsistent(twice, `after tx ${tx.txId} twice`);
      }
      assert.equal(digest(twice), expected);
      // The whole history again on top of itself, one by one and as a batch.
      replayed.applyBatch(history());
      for (const tx of history()) replayed.apply(tx.txId, tx.checksum, tx.commitTimeMs, tx.commands);
      assert.equal(digest(replayed), expected);
      assertConsistent(replayed, 'history replayed one by one');
      replayed.applyBatch(history());
      assert.equal(digest(replayed), expected);
      assertConsistent(replayed, 'history replayed as a batch');
    } finally {
      reference.close();
      twice.close();
      replayed.close();
    }
  });

  it('keeps what it applied across a close and reopen, tokens and schema included', () => {
    const store = newStore();
    const path = store.path;
    store.applyBatch(history());
    const expected = digest(store);
    store.close();
    const again = GraphStore.open(path);
    try {
      assert.equal(digest(again), expected);
      assert.deepEqual(again.indexes().map((i) => i.name), ['machine_name']);
      assert.equal(again.meta().lastTxId, history().at(-1)!.txId);
      // New tokens after reopen do not collide with the loaded ones.
      again.apply(100, 1, 1, [{ op: 'node.put', id: 10, labels: ['NewLabel', 'Person'], properties: props({ fresh: true, name: 'x' }) }]);
      assertConsistent(again, 'after reopen');
      assert.deepEqual(read(again, (tx) => tx.getNode(10)), { id: 10, labels: ['NewLabel', 'Person'], properties: props({ fresh: true, name: 'x' }) });
    } finally {
      again.close();
    }
  });

  describe('index maintenance', () => {
    const seek = (store: GraphStore, label: string, property: string, value: PropertyValue): number[] =>
      read(store, (tx) => [...(tx.indexSeek(label, property, value) ?? [])].sort((a, b) => a - b));

    it('follows label and property changes of indexed nodes', () => {
      const store = newStore();
      try {
        let txId = 2;
        const apply = (...commands: Command[]) => {
          store.apply(txId++, 0, 0, commands);
          assertConsistent(store, `after tx ${txId - 1}`);
        };
        apply({ op: 'index.create', name: 'p_name', label: 'P', property: 'name', unique: false, constraintName: null });
        apply({ op: 'node.put', id: 1, labels: ['P'], properties: props({ name: 'a' }) });
        assert.deepEqual(seek(store, 'P', 'name', 'a'), [1]);
        apply({ op: 'node.put', id: 1, labels: ['P'], properties: props({ name: 'b' }) });
        assert.deepEqual(seek(store, 'P', 'name', 'a'), [], 'the old value is gone');
        assert.deepEqual(seek(store, 'P', 'name', 'b'), [1]);
        apply({ op: 'node.put', id: 1, labels: ['Q'], properties: props({ name: 'b' }) });
        assert.deepEqual(seek(store, 'P', 'name', 'b'), [], 'label removed: out of the index');
        assert.equal(read(store, (tx) => tx.countNodes('P')), 0);
        assert.equal(read(store, (tx) => tx.countNodes('Q')), 1);
        apply({ op: 'node.put', id: 1, labels: ['Q', 'P'], properties: props({ name: 'b' }) });
        assert.deepEqual(seek(store, 'P', 'name', 'b'), [1], 'label added back: in the index');
        apply({ op: 'node.put', id: 1, labels: ['Q', 'P'], properties: props({ other: 1n }) });
        assert.deepEqual(seek(store, 'P', 'name', 'b'), [], 'property removed: out of the index');
        apply({ op: 'node.put', id: 1, labels: ['P'], properties: props({ name: 'c' }) }, { op: 'node.put', id: 2, labels: ['P'], properties: props({ name: 'c' }) });
        assert.deepEqual(seek(store, 'P', 'name', 'c'), [1, 2]);
        apply({ op: 'node.delete', id: 1 });
        assert.deepEqual(seek(store, 'P', 'name', 'c'), [2], 'deleted node: out of the index');
        apply({ op: 'index.drop', name: 'p_name' });
        assert.equal(store.db.pidx.getKeysCount({}), 0, 'a dropped index leaves no entries');
        assert.equal(store.db.pidxValues.getKeysCount({}), 0, 'and no value counts');
      } finally {
        store.close();
      }
    });

    it('keeps a value shared by many nodes findable while they leave it in any order, the counted one first', () => {
      const store = newStore();
      try {
        let txId = 2;
        const apply = (...commands: Command[]) => {
          store.apply(txId++, 0, 0, commands);
          assertConsistent(store, `after tx ${txId - 1}`);
        };
        apply({ op: 'index.create', name: 'p_v', label: 'P', property: 'v', unique: false, constraintName: null });
        apply(...[5, 3, 9, 1].map((id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ v: 'shared' }) })));
        assert.deepEqual(seek(store, 'P', 'v', 'shared'), [1, 3, 5, 9]);
        // The value's count names the node that first carried it (5): it leaves first, then the rest.
        const left = [5, 1, 9];
        for (const id of left) {
          apply({ op: 'node.put', id, labels: ['P'], properties: props({ v: 'other' }) });
          assert.deepEqual(seek(store, 'P', 'v', 'shared'), [1, 3, 5, 9].filter((n) => !left.slice(0, left.indexOf(id) + 1).includes(n)));
        }
        assert.deepEqual(seek(store, 'P', 'v', 'other'), [1, 5, 9]);
        apply({ op: 'node.delete', id: 3 });
        assert.deepEqual(seek(store, 'P', 'v', 'shared'), []);
        // Applied twice (recovery replays after-images over their own result): counts do not drift.
        store.apply(txId - 1, 0, 0, [{ op: 'node.delete', id: 3 }]);
        store.apply(txId - 2, 0, 0, [{ op: 'node.put', id: 9, labels: ['P'], properties: props({ v: 'other' }) }]);
        assertConsistent(store, 'replayed');
        assert.deepEqual(seek(store, 'P', 'v', 'other'), [1, 5, 9]);
      } finally {
        store.close();
      }
    });

    it('upgrades a format 1 store when it is opened for writing, and seeks by range in one opened read-only', () => {
      const dir = join(scratch, randomUUID());
      let store = GraphStore.create(dir, { databaseId: randomUUID(), storeId: randomUUID() });
      const values: PropertyValue[] = ['a', 'a', 'b', Number.POSITIVE_INFINITY, 2n ** 60n, 2 ** 60, 'long'.repeat(200)];
      store.apply(2, 0, 0, [{ op: 'index.create', name: 'p_v', label: 'P', property: 'v', unique: false, constraintName: null }]);
      store.apply(3, 0, 0, values.map((v, id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ v }) })));
      const expected = values.map((v) => seek(store, 'P', 'v', v));
      assert.deepEqual(expected.slice(0, 2), [[0, 1], [0, 1]]);
      // Format 1 is format 2 without pidxValues.
      store.env.transactionSync(() => {
        for (const key of store.db.pidxValues.getKeys({})) store.db.pidxValues.removeSync(key);
        store.db.meta.put('formatVersion', encodeValue(1n));
      });
      store.close();
      store = GraphStore.open(dir, { readOnly: true });
      try {
        assert.equal(store.meta().formatVersion, 1, 'read-only: not upgraded');
        assert.deepEqual(values.map((v) => seek(store, 'P', 'v', v)), expected, 'read-only format 1: every value found by range');
        assertConsistent(store, 'format 1 read-only');
      } finally {
        store.close();
      }
      store = GraphStore.open(dir);
      try {
        assert.equal(store.meta().formatVersion, 2);
        assert.equal(store.db.pidxValues.getKeysCount({}), 5, 'one count per distinct value');
        assertConsistent(store, 'upgraded');
        assert.deepEqual(values.map((v) => seek(store, 'P', 'v', v)), expected);
      } finally {
        store.close();
      }
    });

    it('removes a dropped index\'s entries in slices, and a crash between them leaves the rest for the next open to remove', async () => {
      const dir = join(scratch, randomUUID());
      let store = GraphStore.create(dir, { databaseId: randomUUID(), storeId: randomUUID() });
      store.apply(2, 0, 0, [{ op: 'index.create', name: 'p_v', label: 'P', property: 'v', unique: false, constraintName: null }]);
      store.apply(3, 0, 0, Array.from({ length: 20_000 }, (_, id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ v: BigInt(id % 5000) }) })));
      assert.equal(store.db.pidx.getKeysCount({}), 20_000);
      let pauses = 0;
      // The "crash": the apply stops at its third pause, after some slices committed.
      await assert.rejects(
        store.applyBatchSliced([{ txId: 4, checksum: 0, commitTimeMs: 0, commands: [{ op: 'index.drop', name: 'p_v' }] }], 0, async () => {
          if (++pauses === 3) throw new Error('crash');
        }),
        /crash/,
      );
      const left = store.db.pidx.getKeysCount({}) + store.db.pidxValues.getKeysCount({});
      assert.ok(left > 0 && left < 25_000, `the removal stopped half way: ${left} entries left`);
      assert.equal(read(store, (tx) => tx.indexes().length), 0, 'the dropped index is not read');
      store.close();
      store = GraphStore.open(dir);
      try {
        assert.equal(store.db.pidx.getKeysCount({}) + store.db.pidxValues.getKeysCount({}), 0, 'the open finished the removal');
        assert.equal([...store.db.schema.getKeys({})].filter((k) => (k as unknown as string[])[0] === 'dropping').length, 0, 'and its mark');
        assertConsistent(store, 'after the removal');
      } finally {
        store.close();
      }
    });

    it('populates an index created after the data, in the same batch as later changes', () => {
      const store = newStore();
      try {
        store.applyBatch([
          { txId: 2, checksum: 0, commitTimeMs: 0, commands: [1, 2, 3].map((id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ v: BigInt(id % 2) }) })) },
          { txId: 3, checksum: 0, commitTimeMs: 0, commands: [{ op: 'index.create', name: 'p_v', label: 'P', property: 'v', unique: false, constraintName: null }] },
          { txId: 4, checksum: 0, commitTimeMs: 0, commands: [{ op: 'node.put', id: 3, labels: ['P'], properties: props({ v: 7n }) }] },
        ]);
        assertConsistent(store, 'batch');
        assert.deepEqual(seek(store, 'P', 'v', 1n), [1]);
        assert.deepEqual(seek(store, 'P', 'v', 0n), [2]);
        assert.deepEqual(seek(store, 'P', 'v', 7n), [3]);
        assert.deepEqual(seek(store, 'P', 'v', 7), [3], 'integers and equal floats share an index key, as Cypher compares them');
      } finally {
        store.close();
      }
    });

    it('orders -0.0 and the infinities among the numbers for seeks and ranges', () => {
      const store = newStore();
      try {
        store.apply(2, 0, 0, [{ op: 'index.create', name: 'p_v', label: 'P', property: 'v', unique: false, constraintName: null }]);
        const values: PropertyValue[] = [-0, 0n, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5.5, 'text'];
        store.apply(3, 0, 0, values.map((v, id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ v }) })));
        assertConsistent(store, 'signed zero and infinities');
        const range = (lower?: PropertyValue, upper?: PropertyValue): number[] =>
          read(store, (tx) => [
            ...(tx.indexRange('P', 'v', {
              ...(lower === undefined ? {} : { lower: { value: lower, inclusive: true } }),
              ...(upper === undefined ? {} : { upper: { value: upper, inclusive: true } }),
            }) ?? []),
          ]).sort((a, b) => a - b);
        assert.deepEqual(seek(store, 'P', 'v', 0), [0, 1], '-0.0 = 0.0 = 0');
        assert.deepEqual(seek(store, 'P', 'v', -0), [0, 1]);
        assert.deepEqual(range(-1, 1), [0, 1]);
        assert.deepEqual(range(100), [2], 'only Infinity is above 100');
        assert.deepEqual(range(undefined, -100), [3], 'only -Infinity is below -100');
        assert.deepEqual(range(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY), [0, 1, 2, 3, 4]);
      } finally {
        store.close();
      }
    });

    it('keeps integers beyond 2^53 apart in an index and orders them among the numbers', () => {
      const store = newStore();
      try {
        store.apply(2, 0, 0, [{ op: 'index.create', name: 'p_v', label: 'P', property: 'v', unique: false, constraintName: null }]);
        const values: PropertyValue[] = [2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 2n, 2n ** 60n, 2 ** 60, -(2n ** 62n) - 1n, 2n ** 63n - 1n];
        store.apply(3, 0, 0, values.map((v, id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ v }) })));
        assertConsistent(store, 'large integers');
        assert.deepEqual(seek(store, 'P', 'v', 2n ** 53n), [0]);
        assert.deepEqual(seek(store, 'P', 'v', 2n ** 53n + 1n), [1], 'not rounded onto 2^53');
        assert.deepEqual(seek(store, 'P', 'v', 2n ** 60n), [3, 4], 'an integer equal to a float shares its key');
        const range = read(store, (tx) => [...(tx.indexRange('P', 'v', { lower: { value: 2n ** 53n + 1n, inclusive: true }, upper: { value: 2 ** 61, inclusive: false } }) ?? [])]);
        assert.deepEqual(range, [1, 2, 3, 4], 'in numeric order');
        assert.deepEqual(seek(store, 'P', 'v', -(2n ** 62n) - 1n), [5]);
        assert.deepEqual(seek(store, 'P', 'v', 2n ** 63n - 1n), [6]);
        store.apply(4, 0, 0, [{ op: 'node.put', id: 1, labels: ['P'], properties: props({ v: 2n ** 53n + 3n }) }]);
        assertConsistent(store, 'large integer changed');
        assert.deepEqual(seek(store, 'P', 'v', 2n ** 53n + 1n), []);
        assert.deepEqual(seek(store, 'P', 'v', 2n ** 53n + 3n), [1]);
      } finally {
        store.close();
      }
    });

    it('indexes values of every storable type and finds each by equality', () => {
      const values: PropertyValue[] = [
        true,
        false,
        0n,
        -1n,
        2n ** 40n,
        0.25,
        -0,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        '',
        'plain',
        'with\u0000nul',
        'é漢字🎉',
        'long'.repeat(200),
        Buffer.from([1, 2, 3]),
        ['a', 'b'],
        [1n, 2n],
        new QDate(2024, 2, 29),
        new QDuration(1n, 0n, 0n, 0),
      ];
      const store = newStore();
      try {
        store.apply(2, 0, 0, [{ op: 'index.create', name: 'p_v', label: 'P', property: 'v', unique: false, constraintName: null }]);
        store.apply(3, 0, 0, values.map((v, id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ v }) })));
        assertConsistent(store, 'indexed values');
        values.forEach((v, id) => assert.ok(seek(store, 'P', 'v', v).includes(id), `seek ${String(v).slice(0, 20)} finds node ${id}`));
        // Remove every value again: nothing stale may remain.
        store.apply(4, 0, 0, values.map((_, id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: new Map() })));
        assertConsistent(store, 'values removed');
        assert.equal(store.db.pidx.getKeysCount({}), 0);
      } finally {
        store.close();
      }
    });
  });

  describe('consistency checker', () => {
    function plantedStore(): GraphStore {
      const store = newStore();
      store.applyBatch(history());
      assertConsistent(store, 'before planting');
      return store;
    }

    it('reports a missing adjacency entry in each direction', () => {
      const store = plantedStore();
      try {
        const knows = store.tokenId('T', 'KNOWS')!;
        store.db.adj.removeSync([0, 0, knows, 0, 1] as any);
        store.db.adj.removeSync([2, 1, store.tokenId('T', 'DESIGNED')!, 1, 1] as any);
        const report = checkStoreConsistency(store);
        assert.deepEqual(report.problems, ['relationship 0: outgoing adjacency entry of node 0 is missing', 'relationship 1: incoming adjacency entry of node 2 is missing']);
        assert.equal(report.problemCount, 2);
      } finally {
        store.close();
      }
    });

    it('reports adjacency entries that point to a missing or different relationship', () => {
      const store = plantedStore();
      try {
        const knows = store.tokenId('T', 'KNOWS')!;
        store.db.adj.putSync([4, 0, knows, 99, 0] as any, presentMarker);
        store.db.adj.putSync([1, 1, knows, 1, 0] as any, presentMarker); // relationship 1 is DESIGNED 1->2
        assert.deepEqual(checkStoreConsistency(store).problems, [
          'adjacency entry of node 1 disagrees with relationship 1',
          'adjacency entry of node 4 points to missing relationship 99',
        ]);
      } finally {
        store.close();
      }
    });

    it('reports a stale and a missing label index entry', () => {
      const store = plantedStore();
      try {
        const machine = store.tokenId('L', 'Machine')!;
        store.db.labels.putSync([machine, 0] as any, presentMarker); // node 0 is no Machine
        store.db.labels.removeSync([machine, 4] as any); // node 4 is one
        store.db.labels.putSync([machine, 77] as any, presentMarker); // there is no node 77
        assert.deepEqual(checkStoreConsistency(store).problems, [
          'node 4: label index lacks label Machine',
          'label index entry (Machine, 0): the node does not have that label',
          'label index entry (Machine, 77) points to a missing node',
        ]);
      } finally {
        store.close();
      }
    });

    it('reports stale and missing property index entries and duplicate unique values', () => {
      const store = newStore();
      try {
        store.applyBatch([
          { txId: 2, checksum: 0, commitTimeMs: 0, commands: [
            { op: 'index.create', name: 'u', label: 'P', property: 'k', unique: true, constraintName: 'u' },
            { op: 'constraint.create', name: 'u', label: 'P', property: 'k', indexName: 'u' },
            { op: 'node.put', id: 0, labels: ['P'], properties: props({ k: 'a' }) },
            { op: 'node.put', id: 1, labels: ['P'], properties: props({ k: 'b' }) },
          ] },
        ]);
        assertConsistent(store, 'before planting');
        const rule = store.indexes()[0]!;
        const p = store.tokenId('P', 'k')!;
        const l = store.tokenId('L', 'P')!;
        // Node 1's value changed behind the index's back: its entry is stale, its new one missing, and it now duplicates node 0.
        store.db.nodes.putSync(1, encodeNode({ labelIds: [l], props: new Map([[p, 'a']]) }));
        assert.deepEqual(checkStoreConsistency(store).problems, [
          'constraint "u": nodes 0 and 1 share the value of (:P {k})',
          'index "u": entry for node 1 is missing',
          'index "u": stale entry for node 1',
          'index "u": value "a" has a count of 1 for 2 node(s)',
          'index "u": 1 value count(s) for values no node carries',
        ]);
        void rule;
      } finally {
        store.close();
      }
    });

    it('reports value counts that disagree with the index entries', () => {
      const store = newStore();
      try {
        store.apply(2, 0, 0, [
          { op: 'index.create', name: 'i', label: 'P', property: 'k', unique: false, constraintName: null },
          ...[0, 1, 2].map((id) => ({ op: 'node.put' as const, id, labels: ['P'], properties: props({ k: id < 2 ? 'a' : 'b' }) })),
        ]);
        assertConsistent(store, 'before planting');
        const rule = store.indexes()[0]!;
        const head = (count: number, nodeId: number) => Buffer.from([count, 0, 0, 0, nodeId, 0, 0, 0, 0, 0, 0, 0]);
        store.db.pidxValues.putSync([rule.id, 3, 'a'] as any, head(1, 0));
        store.db.pidxValues.putSync([rule.id, 3, 'b'] as any, head(1, 0));
        store.db.pidxValues.putSync([rule.id, 3, 'c'] as any, head(1, 2));
        assert.deepEqual(checkStoreConsistency(store).problems, [
          'index "i": value "a" has a count of 1 for 2 node(s)',
          'index "i": value "b" names node 0, which does not carry it',
          'index "i": 1 value count(s) for values no node carries',
        ]);
        store.db.pidxValues.removeSync([rule.id, 3, 'b'] as any);
        assert.ok(checkStoreConsistency(store).problems.includes('index "i": value "b" of 1 node(s) has no count'));
      } finally {
        store.close();
      }
    });

    it('reports dangling relationships, unresolvable tokens, undecodable records and a low id counter', () => {
      const store = plantedStore();
      try {
        store.db.rels.putSync(50, encodeRel({ typeId: 999, startId: 0, endId: 60, props: new Map() }));
        store.db.nodes.putSync(70, Buffer.from([0xff, 0xff]));
        const report = checkStoreConsistency(store);
        assert.deepEqual(report.problems, [
          'node 70: record cannot be decoded (value encoding truncated at byte 0)',
          'relationship 50: type token 999 does not resolve',
          'relationship 50: points to missing node 60',
          'relationship 50: outgoing adjacency entry of node 0 is missing',
          'relationship 50: incoming adjacency entry of node 60 is missing',
          'meta: next node id 5 is not above the highest node id 70',
          'meta: next relationship id 4 is not above the highest relationship id 50',
        ]);
        assert.equal(report.nodes, 5);
        assert.equal(report.relationships, 3);
      } finally {
        store.close();
      }
    });
  });
});

describe('free pages after a pinned reader', () => {
  // The store loads only a few free page numbers at a time (store.ts, freePagesToLoad); this checks
  // that the pages a long reader made LMDB append are still found and reused once it ends.
  it('reuses the pages appended while a reader pinned the store, instead of growing on', () => {
    const store = newStore();
    const filler = 'x'.repeat(600);
    let txId = 0;
    const churn = (transactions: number) => {
      for (let i = 0; i < transactions; i++) {
        txId++;
        const commands: Command[] = [];
        for (let k = 0; k < 10; k++) commands.push({ op: 'node.put', id: (txId * 10 + k) % 2000, labels: ['Churn'], properties: props({ filler, txId: BigInt(txId) }) });
        store.applyBatch([{ txId, checksum: txId, commitTimeMs: txId, commands }]);
      }
    };
    try {
      churn(400);
      const settled = store.usedBytes();
      const reader = StoreReader.begin(store);
      churn(300);
      const pinned = store.usedBytes();
      reader.close();
      assert.ok(pinned - settled > 1024 * 1024, `a pinned reader makes LMDB append pages (${settled} -> ${pinned} bytes)`);
      churn(600);
      const after = store.usedBytes();
      assert.ok(after - pinned < (pinned - settled) / 4, `after the reader ended the store reused its free pages (${pinned} -> ${after} bytes)`);
      assertConsistent(store, 'after the churn');
      assert.equal(read(store, (tx) => tx.countNodes('Churn')), 2000);
    } finally {
      store.close();
    }
  });
});
