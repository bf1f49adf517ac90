import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { NodeValue, PathValue, RelationshipValue, type Value } from '../values/value.js';
import { openHarness, plain, type Harness } from './test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

/** a -> b -> c -> d, plus a -> c, all KNOWS; d -[:LIKES]-> a. */
async function smallGraph(): Promise<void> {
  await h.run(`CREATE (a:Person {name: 'a', age: 30}), (b:Person {name: 'b', age: 20}), (c:Person {name: 'c'}), (d:Robot {name: 'd', age: 5}),
    (a)-[:KNOWS {w: 1}]->(b), (b)-[:KNOWS {w: 2}]->(c), (c)-[:KNOWS {w: 3}]->(d), (a)-[:KNOWS {w: 4}]->(c), (d)-[:LIKES]->(a)`);
}

test('CREATE returns the created entities and counts what it changed', async () => {
  const r = await h.run("CREATE (a:Person:Admin {name: 'Ada', tags: ['x', 'y']})-[k:KNOWS {since: 1833}]->(b:Person) RETURN a, k, b");
  const [a, k, b] = r.rows[0]!;
  assert.ok(a instanceof NodeValue && k instanceof RelationshipValue && b instanceof NodeValue);
  assert.deepEqual(a.labels, ['Person', 'Admin']);
  assert.deepEqual(a.properties.get('tags'), ['x', 'y']);
  assert.equal(k.startId, a.id);
  assert.equal(k.endId, b.id);
  assert.deepEqual(r.stats, { nodesCreated: 2, nodesDeleted: 0, relationshipsCreated: 1, relationshipsDeleted: 0, propertiesSet: 3, labelsAdded: 3, labelsRemoved: 0, indexesAdded: 0, indexesRemoved: 0, constraintsAdded: 0, constraintsRemoved: 0 });
});

test('CREATE skips null properties and refuses maps as property values', async () => {
  await h.run('CREATE (n:N {a: 1, b: null})');
  assert.deepEqual(await h.column('MATCH (n:N) RETURN keys(n)'), [['a']]);
  await assert.rejects(h.run('CREATE (n:N {m: {x: 1}})'), (e: Error & { code?: string }) => e.code === 'TypeError' && /Map/.test(e.message));
});

test('MATCH follows directions, types, labels and property maps', async () => {
  await smallGraph();
  assert.deepEqual(await h.column("MATCH (:Person {name: 'a'})-[:KNOWS]->(x) RETURN x.name ORDER BY x.name"), ['b', 'c']);
  assert.deepEqual(await h.column("MATCH (:Person {name: 'a'})<--(x) RETURN x.name"), ['d']);
  assert.deepEqual(await h.column("MATCH (:Person {name: 'c'})--(x) RETURN x.name ORDER BY x.name"), ['a', 'b', 'd']);
  assert.deepEqual(await h.column("MATCH (x:Person|Robot) WHERE x.age > 10 RETURN x.name ORDER BY x.name"), ['a', 'b']);
  assert.deepEqual(await h.column("MATCH (a)-[:KNOWS|LIKES]->(b:Person) RETURN count(*)"), [4n]);
});

test('MATCH keeps relationships unique within one pattern', async () => {
  await h.run('CREATE (a:A)-[:R]->(b:B)');
  assert.deepEqual(await h.column('MATCH (x)-[r1]-(y)-[r2]-(z) RETURN count(*)'), [0n]);
  assert.deepEqual(await h.column('MATCH (x)-[r1]-(y), (z)-[r2]-(w) RETURN count(*)'), [0n]);
  assert.deepEqual(await h.column('MATCH (x)-[r1]-(y) MATCH (z)-[r2]-(w) RETURN count(*)'), [4n], 'separate MATCH clauses may reuse it');
});

test('OPTIONAL MATCH yields nulls when nothing matches', async () => {
  await smallGraph();
  const r = await h.run("MATCH (p:Person) OPTIONAL MATCH (p)-[:LIKES]->(x) RETURN p.name, x.name ORDER BY p.name");
  assert.deepEqual(r.rows, [['a', null], ['b', null], ['c', null]]);
});

test('variable-length patterns respect bounds and never reuse a relationship', async () => {
  await smallGraph();
  assert.deepEqual(await h.column("MATCH (:Person {name: 'a'})-[:KNOWS*]->(x) RETURN x.name ORDER BY x.name"), ['b', 'c', 'c', 'd', 'd']);
  assert.deepEqual(await h.column("MATCH (:Person {name: 'a'})-[:KNOWS*2]->(x) RETURN x.name ORDER BY x.name"), ['c', 'd']);
  assert.deepEqual(await h.column("MATCH (:Person {name: 'a'})-[:KNOWS*..1]->(x) RETURN x.name ORDER BY x.name"), ['b', 'c']);
  assert.deepEqual(await h.column("MATCH (:Person {name: 'a'})-[:KNOWS*0..1]->(x) RETURN x.name ORDER BY x.name"), ['a', 'b', 'c']);
  // The cycle a->b->c->d->a: undirected, unbounded walks terminate because relationships are not reused.
  assert.deepEqual(await h.column("MATCH (a {name: 'a'})-[*]-(a) RETURN count(*)"), [6n]);
  const r = await h.run("MATCH p = (:Person {name: 'a'})-[rs:KNOWS*3]->(x) RETURN p, rs, length(p)");
  assert.equal(r.rows.length, 1);
  const [p, rs, len] = r.rows[0]!;
  assert.ok(p instanceof PathValue);
  assert.deepEqual(p.nodes.map((n) => n.properties.get('name')), ['a', 'b', 'c', 'd']);
  assert.deepEqual((rs as RelationshipValue[]).map((x) => x.properties.get('w')), [1n, 2n, 3n]);
  assert.equal(len, 3n);
});

test('variable-length patterns filter relationship properties on every hop', async () => {
  await smallGraph();
  assert.deepEqual(await h.column("MATCH (:Person {name: 'a'})-[:KNOWS*1..3 {w: 4}]->(x) RETURN x.name"), ['c']);
});

test('shortestPath finds the shortest path between two nodes', async () => {
  await smallGraph();
  const r = await h.run("MATCH (a {name: 'a'}), (d {name: 'd'}) MATCH p = shortestPath((a)-[:KNOWS*]->(d)) RETURN length(p)");
  assert.deepEqual(r.rows, [[2n]]);
});

test('named paths bind nodes and relationships in pattern order', async () => {
  await smallGraph();
  const r = await h.run("MATCH p = (x {name: 'b'})<-[:KNOWS]-(y) RETURN [n IN nodes(p) | n.name], [r IN relationships(p) | r.w]");
  assert.deepEqual(r.rows, [[['b', 'a'], [1n]]]);
});

test('aggregates with implicit grouping keys', async () => {
  await smallGraph();
  const r = await h.run('MATCH (p)-[:KNOWS]->(q) RETURN p.name AS name, count(*) AS n, collect(q.name) AS qs, sum(q.age) AS s ORDER BY name');
  assert.deepEqual(r.rows.map((x) => x.map(plain)), [['a', 2n, ['b', 'c'], 20n], ['b', 1n, ['c'], 0n], ['c', 1n, ['d'], 5n]]);
  assert.deepEqual((await h.run('MATCH (n) RETURN count(n.age), avg(n.age), min(n.age), max(n.name)')).rows, [[3n, 55 / 3, 5n, 'd']]);
  assert.deepEqual((await h.run('UNWIND [1, 1, 2, null] AS x RETURN count(DISTINCT x), collect(DISTINCT x), count(x), count(*)')).rows, [[2n, [1n, 2n], 3n, 4n]]);
  assert.deepEqual((await h.run('MATCH (n:Nothing) RETURN count(*), collect(n), sum(n.x), avg(n.x)')).rows, [[0n, [], 0n, null]]);
  assert.deepEqual((await h.run('MATCH (n:Nothing) RETURN n.x, count(*)')).rows, []);
  assert.deepEqual((await h.run('UNWIND [1, 2, 3] AS x RETURN x % 2 AS k, count(*) * 10 AS c ORDER BY k')).rows, [[0n, 10n], [1n, 20n]]);
});

test('aggregates in WITH and orders by an aggregate', async () => {
  await smallGraph();
  const r = await h.run('MATCH (p)-[:KNOWS]->() WITH p, count(*) AS degree WHERE degree > 1 RETURN p.name, degree');
  assert.deepEqual(r.rows, [['a', 2n]]);
  assert.deepEqual(await h.column('MATCH (p)-[:KNOWS]->() RETURN p.name, count(*) ORDER BY count(*) DESC, p.name LIMIT 1'), ['a']);
  assert.deepEqual(await h.column('MATCH (p)-[:KNOWS]->() RETURN p.name AS name ORDER BY count(*) DESC LIMIT 1').catch((e: Error) => e.message.split(' (')[0]), 'Invalid use of aggregating function count(*) in this context');
});

test('ORDER BY puts nulls last ascending and first descending', async () => {
  assert.deepEqual(await h.column('UNWIND [3, null, 1, 2.5] AS x RETURN x ORDER BY x'), [1n, 2.5, 3n, null]);
  assert.deepEqual(await h.column('UNWIND [3, null, 1] AS x RETURN x ORDER BY x DESC'), [null, 3n, 1n]);
  assert.deepEqual(await h.column("UNWIND [1, 'a', true, null] AS x RETURN x ORDER BY x"), ['a', true, 1n, null]);
});

test('DISTINCT, SKIP and LIMIT (with float parameters from the driver)', async () => {
  assert.deepEqual(await h.column('UNWIND [1, 1.0, 2, 2, 3] AS x RETURN DISTINCT x'), [1n, 2n, 3n]);
  assert.deepEqual(await h.column('UNWIND range(1, 10) AS x RETURN x SKIP $s LIMIT $l', { s: 2, l: 3 }), [3n, 4n, 5n]);
  await assert.rejects(h.run('RETURN 1 LIMIT -1'), /non-negative integer/);
});

test('WITH scopes variables and supports ORDER BY on the previous scope', async () => {
  await smallGraph();
  assert.deepEqual(await h.column('MATCH (n:Person) WITH n.name AS name ORDER BY n.age DESC LIMIT 2 RETURN name'), ['c', 'a'], 'null sorts first when descending');
  await assert.rejects(h.run('MATCH (n) WITH n.name AS name RETURN n'), /Variable `n` not defined/);
  await assert.rejects(h.run('MATCH (n) WITH n.name RETURN 1'), /must be aliased/);
});

test('RETURN * lists the variables in alphabetical order', async () => {
  const r = await h.run('WITH 1 AS b, 2 AS a RETURN *');
  assert.deepEqual(r.columns, ['a', 'b']);
  assert.deepEqual(r.rows, [[2n, 1n]]);
});

test('MERGE matches existing nodes or creates them, with ON CREATE and ON MATCH', async () => {
  const first = await h.run("MERGE (n:P {name: 'x'}) ON CREATE SET n.created = true ON MATCH SET n.matched = true RETURN n.created, n.matched");
  assert.deepEqual(first.rows, [[true, null]]);
  assert.equal(first.stats.nodesCreated, 1);
  const second = await h.run("MERGE (n:P {name: 'x'}) ON CREATE SET n.created = false ON MATCH SET n.matched = true RETURN n.created, n.matched");
  assert.deepEqual(second.rows, [[true, true]]);
  assert.equal(second.stats.nodesCreated, 0);
  const r = await h.run("UNWIND ['y', 'y', 'z'] AS name MERGE (n:P {name: name}) RETURN count(*)");
  assert.deepEqual(r.rows, [[3n]]);
  assert.equal(r.stats.nodesCreated, 2, 'later rows see nodes created by earlier ones');
  await assert.rejects(h.run('MERGE (n:P {name: null})'), /null property value/);
});

test('MERGE on a relationship reuses bound nodes and creates the relationship once', async () => {
  await h.run("CREATE (:P {name: 'a'}), (:P {name: 'b'})");
  const q = "MATCH (a:P {name: 'a'}), (b:P {name: 'b'}) MERGE (a)-[r:KNOWS]->(b) RETURN type(r)";
  assert.equal((await h.run(q)).stats.relationshipsCreated, 1);
  assert.equal((await h.run(q)).stats.relationshipsCreated, 0);
  assert.deepEqual(await h.column('MATCH ()-[r:KNOWS]->() RETURN count(r)'), [1n]);
});

test('SET updates properties, replaces and merges maps, and adds labels', async () => {
  await h.run("CREATE (:N {a: 1, b: 2})");
  const r = await h.run('MATCH (n:N) SET n.c = n.a + 10, n.a = null SET n:X:Y RETURN n');
  const n = r.rows[0]![0] as NodeValue;
  assert.deepEqual(plain(n), { labels: ['N', 'X', 'Y'], props: { b: 2n, c: 11n } });
  assert.equal(r.stats.labelsAdded, 2);
  assert.deepEqual(plain((await h.run('MATCH (n:N) SET n += {d: 4, b: null} RETURN n')).rows[0]![0]!), { labels: ['N', 'X', 'Y'], props: { c: 11n, d: 4n } });
  assert.deepEqual(plain((await h.run('MATCH (n:N) SET n = {e: 5} RETURN n')).rows[0]![0]!), { labels: ['N', 'X', 'Y'], props: { e: 5n } });
  await assert.rejects(h.run('MATCH (n:N) SET n.m = {x: 1}'), (e: Error & { code?: string }) => e.code === 'TypeError');
});

test('REMOVE deletes properties and labels', async () => {
  await h.run("CREATE (:N:M {a: 1, b: 2})");
  const r = await h.run('MATCH (n:N) REMOVE n.a, n:M RETURN n');
  assert.deepEqual(plain(r.rows[0]![0]!), { labels: ['N'], props: { b: 2n } });
  assert.equal(r.stats.labelsRemoved, 1);
  assert.equal(r.stats.propertiesSet, 1);
});

test('DELETE refuses a node with relationships unless DETACH', async () => {
  await smallGraph();
  await assert.rejects(h.run("MATCH (n {name: 'a'}) DELETE n"), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'NodeHasRelationships');
    assert.match(e.message, /^Cannot delete node<\d+>, because it still has relationships\. To delete this node, you must first delete its relationships\.$/);
    return true;
  });
  const r = await h.run("MATCH (n {name: 'a'}) DETACH DELETE n");
  assert.equal(r.stats.nodesDeleted, 1);
  assert.equal(r.stats.relationshipsDeleted, 3);
  const r2 = await h.run('MATCH (n)-[r]-() DELETE r, n');
  assert.equal(r2.stats.nodesDeleted, 3);
  assert.deepEqual(await h.column('MATCH (n) RETURN count(n)'), [0n]);
});

test('reading a property of a node deleted earlier in the statement fails', async () => {
  await h.run("CREATE (:N {a: 1})");
  await assert.rejects(h.run('MATCH (n:N) DELETE n RETURN n.a'), /has been deleted/);
});

test('UNION removes duplicates and UNION ALL keeps them', async () => {
  assert.deepEqual(await h.column('RETURN 1 AS x UNION RETURN 1 AS x UNION RETURN 2 AS x'), [1n, 2n]);
  assert.deepEqual(await h.column('RETURN 1 AS x UNION ALL RETURN 1 AS x'), [1n, 1n]);
  await assert.rejects(h.run('RETURN 1 AS x UNION RETURN 1 AS y'), /same return column names/);
});

test('CALL subqueries run per row, and unit subqueries keep the row count', async () => {
  await smallGraph();
  const r = await h.run("MATCH (p:Person) CALL { WITH p MATCH (p)-[:KNOWS]->(q) RETURN count(q) AS out } RETURN p.name, out ORDER BY p.name");
  assert.deepEqual(r.rows, [['a', 2n], ['b', 1n], ['c', 1n]]);
  const w = await h.run('UNWIND [1, 2] AS x CALL { WITH x CREATE (:U {x: x}) } RETURN count(*)');
  assert.deepEqual(w.rows, [[2n]]);
  assert.equal(w.stats.nodesCreated, 2);
});

test('FOREACH applies its updates for each element', async () => {
  const r = await h.run("CREATE (a:A) FOREACH (i IN range(1, 3) | CREATE (a)-[:HAS]->(:Item {i: i}))");
  assert.equal(r.stats.nodesCreated, 4);
  assert.deepEqual(await h.column('MATCH (:A)-[:HAS]->(i) RETURN sum(i.i)'), [6n]);
});

test('procedures list labels, relationship types and property keys', async () => {
  await smallGraph();
  assert.deepEqual(await h.column('CALL db.labels()'), ['Person', 'Robot']);
  assert.deepEqual(await h.column('CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType'), ['KNOWS', 'LIKES']);
  assert.deepEqual(await h.column("CALL db.propertyKeys() YIELD propertyKey AS k WHERE k <> 'w' RETURN k"), ['age', 'name']);
  await assert.rejects(h.run('CALL db.nothing()'), /no procedure with the name `db.nothing`/);
});

test('entity functions read labels, type, properties, ids and endpoints', async () => {
  await h.run("CREATE (:A {x: 1})-[:R {y: 2}]->(:B)");
  const r = await h.run('MATCH (a)-[r]->(b) RETURN labels(a), type(r), properties(r), id(a) = id(startNode(r)), elementId(b) = elementId(endNode(r)), keys(a)');
  assert.deepEqual(r.rows.map((x) => x.map(plain)), [[['A'], 'R', { y: 2n }, true, true, ['x']]]);
});

test('pattern predicates, EXISTS and COUNT subqueries, pattern comprehensions and map projections', async () => {
  await smallGraph();
  assert.deepEqual(await h.column('MATCH (p:Person) WHERE (p)-[:KNOWS]->(:Robot) RETURN p.name'), ['c']);
  assert.deepEqual(await h.column('MATCH (p:Person) WHERE NOT EXISTS { (p)-[:KNOWS]->() } RETURN p.name'), []);
  assert.deepEqual(await h.column("MATCH (p {name: 'a'}) RETURN COUNT { (p)-[:KNOWS]->() }"), [2n]);
  assert.deepEqual(await h.column("MATCH (p {name: 'a'}) RETURN [(p)-[:KNOWS]->(q) | q.name]"), [['b', 'c']]);
  assert.deepEqual((await h.column("MATCH (p {name: 'a'}) RETURN p {.name, .missing, k: 1}")).map(plain), [{ name: 'a', missing: null, k: 1n }]);
});

test('a read query refuses to run writes in a read transaction', async () => {
  const { prepare } = await import('./index.js');
  const tx = h.db.beginRead();
  try {
    assert.throws(() => prepare('CREATE (n)').execute(tx, new Map()), (e: Error & { code?: string }) => e.code === 'ReadOnly');
  } finally {
    tx.close();
  }
});

test('writes before LIMIT 0 still happen though no row comes back', async () => {
  await h.run('CREATE (:N {num: 1}), (:N {num: 2})');
  assert.deepEqual((await h.run('CREATE (n:M) RETURN n LIMIT 0')).rows, []);
  assert.deepEqual((await h.run('MATCH (n:N) SET n.num = 43 RETURN n LIMIT 0')).rows, []);
  assert.deepEqual((await h.run('MATCH (n:N) DELETE n RETURN 42 AS num SKIP 0 LIMIT 0')).rows, []);
  assert.deepEqual(await h.column('MATCH (n) RETURN labels(n)'), [['M']]);
});

/** Asserts `query` fails with `code` and a message matching `message`. */
async function failsWith(query: string, code: string, message: RegExp, params: Record<string, Value> = {}): Promise<void> {
  await assert.rejects(h.run(query, params), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test('the WHERE of a WITH sees the variables before it, or after DISTINCT and aggregation the expressions it projects', async () => {
  await h.run("CREATE (a:A {name: 'A'}), (b:B {name: 'B', id: 1}), (:B {name: 'C', id: 2}), (a)-[:KNOWS]->(b)");
  assert.deepEqual(await h.column('MATCH (n) WITH n.name AS name WHERE n.id = 2 RETURN name'), ['C']);
  assert.deepEqual(await h.column("MATCH (n) WITH DISTINCT n.name AS name WHERE n.name = 'B' RETURN name"), ['B']);
  // triadic selection: the relationship the WITH drops still filters its rows
  assert.deepEqual(await h.column('MATCH (a:A), (other:B) OPTIONAL MATCH (a)-[r]->(other) WITH other WHERE r IS NULL RETURN other.id'), [2n]);
  // WHERE filters after LIMIT, as before
  assert.deepEqual(await h.column('MATCH (n:B) WITH n ORDER BY n.id LIMIT 1 WHERE n.id = 2 RETURN n'), []);
  await failsWith('MATCH (n) WITH count(*) AS c WHERE n.id = 2 RETURN c', 'SyntaxError', /Variable `n` not defined/);
});

test('bad function arguments fail with ArgumentError; bad SKIP and LIMIT values with SyntaxError, before any row', async () => {
  await failsWith('RETURN range(2, 8, 0)', 'ArgumentError', /Step argument to range\(\) cannot be zero/);
  await failsWith('RETURN range(0, $end)', 'ArgumentError', /end must be an Integer but was Float \(1\.5\)/, { end: 1.5 });
  await failsWith("RETURN range(0, $end)", 'ArgumentError', /but was String/, { end: 'x' });
  assert.deepEqual(await h.column('RETURN range(1, $n)', { n: 3 }), [[1n, 2n, 3n]], 'an integral Float parameter passes (JavaScript drivers send numbers as Floats)');
  await h.run('CREATE ({price: 1}), ({price: 2})');
  await failsWith('MATCH (n) RETURN percentileCont(n.price, $p)', 'ArgumentError', /not a number between 0\.0 and 1\.0/, { p: 1.5 });
  await failsWith('MATCH (n) RETURN percentileDisc(n.price, -1)', 'ArgumentError', /between 0\.0 and 1\.0/);
  await failsWith('MATCH (n) RETURN n SKIP $s', 'SyntaxError', /'-1' is not a valid value for SKIP\. Must be a non-negative integer/, { s: -1n });
  await failsWith('MATCH (n) RETURN n LIMIT $l', 'SyntaxError', /'1\.5' is not a valid value for LIMIT/, { l: 1.5 });
  await failsWith('MATCH (n) RETURN n LIMIT -1', 'SyntaxError', /non-negative integer/);
});

test('<--> matches either way; [rs*] over a bound list walks exactly those relationships', async () => {
  await h.run('CREATE (a:A {n: 1})-[:T]->(b:B {n: 2})-[:T]->(c:C {n: 3})');
  assert.deepEqual(await h.column('MATCH (:B)<-->(x) RETURN x.n ORDER BY x.n'), [1n, 3n]);
  const walk = 'MATCH (a)-[r1]->()-[r2]->(b) WITH [r1, r2] AS rs, a AS first, b AS second LIMIT 1 MATCH p = (first)-[rs*]->(second) RETURN first.n, second.n, length(p)';
  assert.deepEqual((await h.run(walk)).rows, [[1n, 3n, 2n]]);
  const backwards = 'MATCH (a)-[r1]->()-[r2]->(b) WITH [r1, r2] AS rs, a AS second, b AS first LIMIT 1 MATCH (first)-[rs*]->(second) RETURN first';
  assert.deepEqual((await h.run(backwards)).rows, [], 'the list is walked in the order written');
  assert.deepEqual((await h.run('MATCH ()-[r]->() WITH collect(r) AS rs MATCH (x)-[rs*1..1]->(y) RETURN x')).rows, [], 'length bounds apply to the list');
});

test('EXISTS and COUNT take a whole query; a relationship answers a label predicate with its type', async () => {
  await h.run("CREATE (a:P {name: 'a'})-[:T]->(:P {name: 'b'}), (a)-[:U]->(:P {name: 'c'}), (:P {name: 'd'})");
  assert.deepEqual(await h.column('MATCH (n:P) WHERE EXISTS { MATCH (n)-->(m) WITH n, count(*) AS c WHERE c = 2 RETURN true } RETURN n.name'), ['a']);
  assert.deepEqual(await h.column('MATCH (n:P) RETURN COUNT { MATCH (n)--(m) RETURN m } AS c ORDER BY c DESC, n.name'), [2n, 1n, 1n, 0n]);
  assert.deepEqual(await h.column('MATCH (n:P) WHERE EXISTS { MATCH (m) WHERE EXISTS { MATCH (n)-[:U]->(m) RETURN 1 } RETURN m } RETURN n.name'), ['a']);
  assert.deepEqual(await h.column('MATCH ()-[r]->() WHERE r:T|V RETURN type(r)'), ['T']);
  assert.deepEqual(await h.column('MATCH ()-[r]->() RETURN r:T:U'), [false, false]);
});

test('WITH * with nothing in scope passes the rows of an update on', async () => {
  await h.run('CREATE ()');
  const r = await h.run('MATCH () CREATE () WITH * CREATE ()');
  assert.equal(r.stats.nodesCreated, 2);
});

test('an index seek never uses a value computed from a pattern over variables the same MATCH binds', async () => {
  await h.run('CREATE INDEX FOR (n:A) ON (n.x)');
  await h.run('CREATE (:A {x: 1}), (:A {x: 0}), (:B)-[:R]->(), (:B)');
  for (const value of ['COUNT { (b)-->() }', 'COUNT { MATCH (b)-->() RETURN 1 }', 'size([(b)-->() | 1])']) {
    const q = `MATCH (a:A), (b:B) WHERE a.x = ${value} RETURN a.x ORDER BY a.x`;
    assert.deepEqual(await h.column(q), [0n, 1n], q);
  }
});
