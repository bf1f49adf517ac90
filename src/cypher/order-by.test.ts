/**
 * ORDER BY after a projection that aggregates or is DISTINCT: expressions over the projected
 * expressions sort on the projected columns (issue #18: the sort was silently ignored).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
before(async () => {
  h = await openHarness();
  await h.run("CREATE ({name: 'A'}), ({name: 'A'}), ({name: 'B'}), ({name: 'C'}), ({name: 'C'})");
});
after(async () => {
  await h.close();
});

test('sorts on an expression built from a grouping key after WITH with count(*)', async () => {
  const desc = await h.run("MATCH (a) WITH a.name AS name, count(*) AS cnt ORDER BY a.name + 'C' DESC LIMIT 1 RETURN name, cnt");
  assert.deepEqual(desc.rows, [['C', 2n]]);
  const asc = await h.run("MATCH (a) WITH a.name AS name, count(*) AS cnt ORDER BY a.name + 'C' ASC LIMIT 1 RETURN name, cnt");
  assert.deepEqual(asc.rows, [['A', 2n]]);
});

test('sorts on an expression of a DISTINCT projection in RETURN', async () => {
  const r = await h.run("MATCH (a) RETURN DISTINCT a.name AS name ORDER BY toLower(a.name) DESC");
  assert.deepEqual(r.rows, [['C'], ['B'], ['A']]);
});

test('refuses a variable from before an aggregating WITH that is not a grouping key', async () => {
  await assert.rejects(h.run('MATCH (a) WITH a.name AS name, count(*) AS cnt ORDER BY a.x RETURN name'), (e: Error & { code?: string }) => {
    assert.match(e.code ?? '', /SyntaxError|SemanticError/);
    return true;
  });
});

test('a sort of many rows pauses between its pieces and is the stable sort of the whole (ties keep their input order)', async () => {
  // 9 001 rows: three runs of the sliced merge sort and an odd one out, mixed types and nulls.
  const r = await h.run('UNWIND range(1, 9001) AS i RETURN i, CASE i % 11 WHEN 0 THEN null WHEN 1 THEN toString(i % 5) ELSE (i * 7919) % 13 END AS k ORDER BY k DESC');
  const rows = r.rows.map(([i, k]) => ({ i: Number(i as bigint), k }));
  const expected = [...rows].sort((a, b) => a.i - b.i);
  // Cypher's descending order: null first, then numbers above strings, each descending.
  const rank = (k: unknown): number => (k === null ? 0 : typeof k === 'bigint' ? 1 : 2);
  expected.sort((a, b) => {
    if (rank(a.k) !== rank(b.k)) return rank(a.k) - rank(b.k);
    if (a.k === b.k) return 0;
    if (typeof a.k === 'bigint') return (b.k as bigint) > (a.k as bigint) ? 1 : -1;
    return (b.k as string) > (a.k as string) ? 1 : -1;
  });
  assert.equal(rows.length, 9001);
  assert.deepEqual(rows, expected);
});
