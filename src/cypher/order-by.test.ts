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
