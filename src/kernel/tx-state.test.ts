import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkStoreConsistency } from '../storage/consistency.js';
import { mulberry32 } from '../util/seeded-random.js';
import type { Properties, PropertyValue } from '../values/value.js';
import type { GraphRead, WriteTransaction } from './api.js';
import { openScratchDatabase } from './testing.js';
import { TxState, indexValueKey } from './tx-state.js';
import { composeLayers, layerMergeEntriesMax } from './write-tx.js';

const props = (entries: Array<[string, PropertyValue]>): Properties => new Map(entries);
const seek = (g: GraphRead, label: string, key: string, v: PropertyValue): number[] => [...(g.indexSeek(label, key, v) ?? assert.fail('no index'))].sort((a, b) => a - b);
const byLabel = (g: GraphRead, label: string): number[] => [...g.nodeIdsByLabel(label)].sort((a, b) => a - b);

/** A database with an index on :P(k), applied to the store so that seeks use it. */
async function withIndexedDatabase(body: (db: Awaited<ReturnType<typeof openScratchDatabase>>['db']) => Promise<void>): Promise<void> {
  const scratch = await openScratchDatabase();
  try {
    const tx = await scratch.db.beginWrite();
    tx.createIndex('p_k', 'P', 'k', false);
    await tx.commit();
    await body(scratch.db);
    assert.deepEqual(checkStoreConsistency(scratch.db.store).problems, []);
  } finally {
    await scratch.close();
  }
}

test('index values of the tx state: 1 and 1.0 share a key, a bigint beyond float precision keeps its own', () => {
  assert.equal(indexValueKey(1n), indexValueKey(1));
  assert.equal(indexValueKey(-0), indexValueKey(0));
  assert.notEqual(indexValueKey(2n ** 53n + 1n), indexValueKey(2 ** 53));
  assert.notEqual(indexValueKey('1'), indexValueKey(1));
  assert.notEqual(indexValueKey(true), indexValueKey(1));
});

test('a property change moves a node between index values, for nodes created in the transaction and stored ones', async () => {
  await withIndexedDatabase(async (db) => {
    let tx = await db.beginWrite();
    const stored = tx.createNode(['P'], props([['k', 1n]]));
    await tx.commit();
    await db.applyCommitted();
    tx = await db.beginWrite();
    const mine = tx.createNode(['P'], props([['k', 1n]]));
    assert.deepEqual(seek(tx, 'P', 'k', 1n), [stored, mine]);
    tx.setNodeProperty(mine, 'k', 2n);
    tx.setNodeProperty(stored, 'k', 3n);
    assert.deepEqual(seek(tx, 'P', 'k', 1n), [], 'neither node holds 1 any more');
    assert.deepEqual(seek(tx, 'P', 'k', 2n), [mine]);
    assert.deepEqual(seek(tx, 'P', 'k', 3.0), [stored], 'a float finds the integer it equals');
    tx.replaceNodeProperties(stored, props([['other', 'x']]));
    assert.deepEqual(seek(tx, 'P', 'k', 3n), []);
    tx.setNodeProperty(mine, 'k', null);
    assert.deepEqual(seek(tx, 'P', 'k', 2n), []);
    assert.deepEqual(byLabel(tx, 'P'), [stored, mine], 'both still carry the label');
    await tx.commit();
    const r = db.beginRead();
    assert.deepEqual(seek(r, 'P', 'k', 1n), []);
    assert.deepEqual(byLabel(r, 'P'), [stored, mine]);
    r.close();
  });
});

test('a label removed in the transaction takes the node out of label scans, index seeks and counts', async () => {
  await withIndexedDatabase(async (db) => {
    let tx = await db.beginWrite();
    const stored = tx.createNode(['P', 'Q'], props([['k', 7n]]));
    await tx.commit();
    tx = await db.beginWrite();
    const mine = tx.createNode(['P'], props([['k', 7n]]));
    assert.equal(tx.countNodes('P'), 2);
    tx.removeLabels(stored, ['P']);
    tx.removeLabels(mine, ['P']);
    assert.deepEqual(byLabel(tx, 'P'), []);
    assert.deepEqual(seek(tx, 'P', 'k', 7n), []);
    assert.equal(tx.countNodes('P'), 0);
    assert.equal(tx.countNodes('Q'), 1);
    assert.equal(tx.countNodes(), 2);
    tx.addLabels(mine, ['P', 'P']);
    assert.deepEqual(seek(tx, 'P', 'k', 7n), [mine]);
    assert.equal(tx.countNodes('P'), 1);
    await tx.commit();
    const r = db.beginRead();
    assert.deepEqual(seek(r, 'P', 'k', 7n), [mine]);
    assert.equal(r.countNodes('P'), 1);
    r.close();
  });
});

test('a node deleted and a new one created with the same key in one transaction: only the new one is found, and a uniqueness constraint holds', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    let tx = await db.beginWrite();
    tx.createUniqueConstraint('u_k', 'U', 'k', false);
    await tx.commit();
    tx = await db.beginWrite();
    const first = tx.createNode(['U'], props([['k', 'a']]));
    await tx.commit();
    // Not applied yet: the first node lives in a committed layer under the next transaction.
    tx = await db.beginWrite();
    tx.deleteNode(first, true);
    const again = tx.createNode(['U'], props([['k', 'a']]));
    assert.deepEqual(seek(tx, 'U', 'k', 'a'), [again]);
    assert.deepEqual(byLabel(tx, 'U'), [again]);
    assert.equal(tx.countNodes('U'), 1);
    assert.equal(tx.getNode(first), undefined);
    await tx.commit();
    const r = db.beginRead();
    assert.deepEqual(seek(r, 'U', 'k', 'a'), [again]);
    r.close();
  } finally {
    await close();
  }
});

test('a uniqueness violation is detected inside one transaction, against a committed layer, and against the store', async () => {
  const { db, close } = await openScratchDatabase();
  try {
    let tx = await db.beginWrite();
    tx.createUniqueConstraint('u_k', 'U', 'k', false);
    await tx.commit();
    tx = await db.beginWrite();
    const a = tx.createNode(['U'], props([['k', 1n]]));
    tx.createNode(['U'], props([['k', 1.0]]));
    await assert.rejects(tx.commit(), new RegExp(`Node\\(${a}\\) already exists with label \`U\` and property \`k\` = 1`));

    tx = await db.beginWrite();
    const b = tx.createNode(['U'], props([['k', 2n]]));
    await tx.commit(); // left as a layer: the store applies it a little later
    tx = await db.beginWrite();
    const c = tx.createNode(['U'], props([['k', 3n]]));
    tx.setNodeProperty(c, 'k', 2n);
    await assert.rejects(tx.commit(), new RegExp(`Node\\(${b}\\) already exists`));

    await db.applyCommitted();
    tx = await db.beginWrite();
    tx.createNode(['V'], props([['k', 2n]]));
    const d = tx.createNode(['V'], props([['k', 2n]]));
    tx.addLabels(d, ['U']);
    await assert.rejects(tx.commit(), new RegExp(`Node\\(${b}\\) already exists`), 'a label added makes the node collide with a stored one');

    tx = await db.beginWrite();
    tx.setNodeProperty(b, 'k', 4n);
    tx.createNode(['U'], props([['k', 2n]]));
    await tx.commit(); // the stored holder of 2 moved away in the same transaction
  } finally {
    await close();
  }
});

test('layers: small committed layers merge into one that reads the same; large ones are kept as they are', () => {
  const small = (n: number, first: number): TxState => {
    const s = new TxState();
    for (let i = 0; i < n; i++) s.createNode(first + i, ['A'], props([['k', BigInt(i % 3)]]));
    return s.freeze();
  };
  const big = small(layerMergeEntriesMax + 1, 1000);
  const layers = [small(2, 0), small(3, 10), big, small(1, 5000), small(1, 5001), small(1, 5002)];
  const composed = composeLayers(layers);
  assert.equal(composed.length, 3);
  assert.equal(composed[1], big, 'the large layer is read in place, not copied');
  assert.deepEqual([...composed[0]!.nodeIdsWithLabel('A')], [0, 1, 10, 11, 12]);
  assert.deepEqual([...composed[2]!.nodeIdsWithValue('A', 'k', indexValueKey(0n))], [5000, 5001, 5002]);
  assert.deepEqual([...composed[0]!.nodeIdsWithValue('A', 'k', indexValueKey(2n))], [12]);
  assert.equal(composed[0]!.countDelta('A'), 5);
  assert.deepEqual([...composed[2]!.createdNodeIds()], [5000, 5001, 5002]);
});

/**
 * Model-based: a seeded random sequence of writes over many transactions, some committed and left
 * as layers (several pending at once, merged or not), some applied, some rolled back; after every
 * step the transaction's reads are checked against a small model of the graph.
 */
test('random writes over layered transactions read exactly like a model of the graph', async () => {
  const seed = Number(process.env['QUIVER_TEST_SEED'] ?? Date.now() % 1_000_000);
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  type MNode = { labels: Set<string>; k: bigint | undefined };
  type MRel = { type: string; start: number; end: number };
  let committed = { nodes: new Map<number, MNode>(), rels: new Map<number, MRel>() };
  const clone = (m: typeof committed) => ({
    nodes: new Map([...m.nodes].map(([id, n]) => [id, { labels: new Set(n.labels), k: n.k }])),
    rels: new Map(m.rels),
  });

  const check = (g: GraphRead, m: typeof committed, step: string): void => {
    const where = `${step} (seed ${seed}; replay with QUIVER_TEST_SEED=${seed})`;
    const ids = [...m.nodes.keys()].sort((a, b) => a - b);
    const all = [...g.allNodeIds()];
    assert.deepEqual([...all].sort((a, b) => a - b), ids, `allNodeIds: ${where}`);
    assert.equal(g.countNodes(), ids.length, `countNodes(): ${where}`);
    for (const label of ['A', 'B']) {
      const want = ids.filter((id) => m.nodes.get(id)!.labels.has(label));
      assert.deepEqual(byLabel(g, label), want, `label ${label}: ${where}`);
      assert.equal(g.countNodes(label), want.length, `countNodes(${label}): ${where}`);
    }
    for (const k of [0n, 1n, 2n, 3n]) {
      const want = ids.filter((id) => m.nodes.get(id)!.labels.has('A') && m.nodes.get(id)!.k === k);
      assert.deepEqual(seek(g, 'A', 'k', k), want, `seek A.k = ${k}: ${where}`);
    }
    for (const id of ids.slice(0, 40)) {
      const n = g.getNode(id);
      assert.deepEqual(new Set(n?.labels), m.nodes.get(id)!.labels, `labels of ${id}: ${where}`);
      const want = [...m.rels].filter(([, r]) => r.start === id || r.end === id).map(([rid]) => rid).sort((a, b) => a - b);
      const got = [...g.relationshipsOf(id, 'both')].map((a) => a.relId).sort((a, b) => a - b);
      assert.deepEqual(got, want, `relationships of ${id}: ${where}`);
    }
  };

  const { db, close } = await openScratchDatabase();
  try {
    const setup = await db.beginWrite();
    setup.createIndex('a_k', 'A', 'k', false);
    await setup.commit();
    const inFlight: Promise<unknown>[] = [];
    for (let t = 0; t < 40; t++) {
      const tx: WriteTransaction = await db.beginWrite();
      const m = clone(committed);
      const ops = 1 + Math.floor(random() * 25);
      for (let o = 0; o < ops; o++) {
        const live = [...m.nodes.keys()];
        const r = random();
        if (r < 0.3 || live.length < 3) {
          const labels = ['A', 'B'].filter(() => random() < 0.6);
          const k = random() < 0.8 ? BigInt(Math.floor(random() * 4)) : undefined;
          const id = tx.createNode(labels, k === undefined ? new Map() : props([['k', k]]));
          m.nodes.set(id, { labels: new Set(labels), k });
        } else if (r < 0.45) {
          const id = pick(live);
          const k = random() < 0.85 ? BigInt(Math.floor(random() * 4)) : undefined;
          tx.setNodeProperty(id, 'k', k ?? null);
          m.nodes.get(id)!.k = k;
        } else if (r < 0.55) {
          const id = pick(live);
          const l = pick(['A', 'B']);
          tx.addLabels(id, [l]);
          m.nodes.get(id)!.labels.add(l);
        } else if (r < 0.65) {
          const id = pick(live);
          const l = pick(['A', 'B']);
          tx.removeLabels(id, [l]);
          m.nodes.get(id)!.labels.delete(l);
        } else if (r < 0.72) {
          const id = pick(live);
          tx.deleteNode(id, true);
          m.nodes.delete(id);
          for (const [rid, rel] of m.rels) if (rel.start === id || rel.end === id) m.rels.delete(rid);
        } else if (r < 0.9) {
          const [s, e] = [pick(live), pick(live)];
          const id = tx.createRelationship('R', s, e, new Map());
          m.rels.set(id, { type: 'R', start: s, end: e });
        } else if (m.rels.size > 0) {
          const id = pick([...m.rels.keys()]);
          tx.deleteRelationship(id);
          m.rels.delete(id);
        }
        if (random() < 0.3) check(tx, m, `transaction ${t}, step ${o}`);
      }
      if (t % 9 === 4) {
        // A large transaction: its layer is read in place, not merged.
        for (let i = 0; i < layerMergeEntriesMax + 10; i++) {
          const id = tx.createNode(['B'], props([['k', 9n]]));
          m.nodes.set(id, { labels: new Set(['B']), k: 9n });
        }
      }
      check(tx, m, `end of transaction ${t}`);
      if (random() < 0.2) {
        tx.rollback();
        continue;
      }
      // Not awaited: the next transaction begins while this one waits for its fsync, over its layer.
      inFlight.push(tx.commit());
      committed = m;
      if (random() < 0.25) {
        await Promise.all(inFlight.splice(0));
        const r = db.beginRead();
        check(r, committed, `read after transaction ${t}`);
        r.close();
        if (random() < 0.5) await db.applyCommitted();
      }
    }
    await Promise.all(inFlight.splice(0));
    await db.applyCommitted();
    const r = db.beginRead();
    check(r, committed, 'the store at the end');
    r.close();
    assert.deepEqual(checkStoreConsistency(db.store).problems, []);
  } finally {
    await close();
  }
});
