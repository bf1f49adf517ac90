/**
 * Semantic analysis refuses invalid queries before execution with Neo4j's compile-time status,
 * Statement.SyntaxError (issue #18: these were answered, or refused late with another status).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepare } from './index.js';

function refusal(query: string): { code: string; message: string } {
  try {
    prepare(query);
  } catch (e) {
    const err = e as Error & { code?: string };
    return { code: err.code ?? '', message: err.message };
  }
  assert.fail(`expected "${query}" to be refused`);
}

test('refuses a relationship, path, Boolean or list reused as a node with VariableTypeConflict', () => {
  const cases: [string, RegExp][] = [
    ['MATCH ()-[r]-() MATCH (r) RETURN r', /Type mismatch: r defined with conflicting type Relationship \(expected Node\)/],
    ['MATCH ()-[r]-(r) RETURN r', /r defined with conflicting type Relationship \(expected Node\)/],
    ['MATCH r = ()-[]-() MATCH (r) RETURN r', /r defined with conflicting type Path \(expected Node\)/],
    ['WITH true AS n MATCH (n) RETURN n', /n defined with conflicting type Boolean \(expected Node\)/],
    ['MATCH (n) WITH [n] AS users MATCH (users)-->(m) RETURN m', /users defined with conflicting type List<T> \(expected Node\)/],
  ];
  for (const [q, message] of cases) {
    const r = refusal(q);
    assert.equal(r.code, 'SyntaxError', q);
    assert.match(r.message, message, q);
  }
});

test('refuses a node reused as a relationship and a relationship variable used twice in one pattern', () => {
  assert.match(refusal('MATCH (r) MATCH ()-[r]-() RETURN r').message, /r defined with conflicting type Node \(expected Relationship\)/);
  assert.match(refusal('WITH 1 AS r MATCH ()-[r]-() RETURN r').message, /conflicting type Integer \(expected Relationship\)/);
  assert.match(refusal('MATCH (a)-[r]->()-[r]->(a) RETURN r').message, /same relationship variable 'r' for multiple relationships/);
});

test('accepts variables of unknown type and rebinding by a later WITH', () => {
  prepare('MATCH (a)-[r]->(b) WITH a.friend AS f MATCH (f)-->(x) RETURN x');
  prepare('MATCH ()-[r]->() WITH r AS n MATCH ()-[n]->() RETURN n');
  prepare('MATCH (a) MATCH (a)-[r]->(b) MATCH ()-[r]->() RETURN r');
});

test('refuses creating what is already bound', () => {
  assert.match(refusal('MATCH (a) CREATE (a)').message, /Variable `a` already declared/);
  assert.match(refusal('CREATE (n:Foo)-[:T1]->(), (n:Bar)-[:T2]->()').message, /Can't create node `n` with labels or properties here/);
  assert.match(refusal('MATCH ()-[r]->() CREATE ()-[r]->()').message, /Variable `r` already declared/);
  assert.match(refusal('CREATE (a:Foo) MERGE (a)-[r:KNOWS]->(a:Bar)').message, /Can't create node `a`/);
});

test('reports undefined variables with the SyntaxError status', () => {
  assert.equal(refusal('MATCH (a) RETURN b').code, 'SyntaxError');
});

test('refuses Boolean operators over operands known not to be Boolean', () => {
  for (const q of ['RETURN 123 AND true', "RETURN NOT 'true'", 'RETURN [] XOR false', "RETURN null OR 'foo'", 'RETURN {a: 1} OR true']) {
    const r = refusal(q);
    assert.equal(r.code, 'SyntaxError', q);
    assert.match(r.message, /Type mismatch: expected Boolean but was/, q);
  }
  prepare('MATCH (n) RETURN n.flag AND true, NOT n.other, null AND false');
});

/** Asserts each query is refused before execution with `code` and a message matching `message`. */
function refusedAll(code: string, cases: [string, RegExp][]): void {
  for (const [q, message] of cases) {
    const r = refusal(q);
    assert.equal(r.code, code, `${q}: ${r.message}`);
    assert.match(r.message, message, q);
  }
}

test('refuses function arguments and operands of a type known to be wrong, from the types functions and operators return', () => {
  refusedAll('SyntaxError', [
    ['MATCH p = (a) RETURN labels(p)', /Type mismatch: expected Node but was Path/],
    ['MATCH (r) RETURN type(r)', /expected Relationship but was Node/],
    ['MATCH (n) RETURN length(n)', /expected Path but was Node/],
    ['MATCH p = (a)-[*]->(b) RETURN size(p)', /expected String or List<T> but was Path/],
    ["RETURN properties('Cypher')", /expected Map, Node or Relationship but was String/],
    ['RETURN properties([true, false])', /but was List<T>/],
    ["RETURN 1 IN 'foo'", /expected List<T> but was String/],
    ['RETURN 1 IN {x: []}', /expected List<T> but was Map/],
    // element types of lists reach the variables of quantifiers and comprehensions
    ["RETURN none(x IN ['Clara'] WHERE x % 2 = 0)", /expected Float or Integer but was String/],
    ['RETURN [x IN [false, true] | x * 2]', /expected Float or Integer but was Boolean/],
    ['MATCH p = (n)-[*]->() RETURN [x IN nodes(p) | x - 1]', /expected Float or Integer but was Node/],
    // result types of functions and operators
    ["RETURN toUpper('a') - 1", /expected Float or Integer but was String/],
    ['RETURN (1 + 2) AND true', /expected Boolean but was Integer/],
    ['MATCH p = (n)-[*]->() RETURN p.name', /but was Path/],
    ['MATCH (n) WHERE (n) RETURN n', /expected Boolean but was Node/],
    ['MATCH (n) WITH n WHERE 1 + 1 RETURN n', /expected Boolean but was Integer/],
  ]);
});

test('accepts what only run time can tell: properties, parameters, temporals, lists of mixed types', () => {
  for (const q of [
    'MATCH (n) RETURN n.x % 2, -n.y, n.list[0] * 2, labels(n), size(n.name)',
    'RETURN $p % 2, $list IN $other, size($x)',
    "RETURN date('2020-01-01') - duration('P1D'), duration('P1D') * 2",
    "RETURN [x IN [1, 'a'] WHERE x = 1], [x IN range(1, 3) | x % 2]",
    'MATCH p = (a)-[rs*]->(b) RETURN length(p), size(rs), nodes(p), [r IN rs | type(r)], [n IN nodes(p) | labels(n)]',
    'MATCH (n) WITH [n] AS ns UNWIND ns AS m RETURN labels(m)',
    "WITH 123 AS x RETURN x.num",
  ]) prepare(q);
});

test('refuses range() arguments it can see are not Integers with ArgumentError, as Neo4j does when it runs them', () => {
  refusedAll('ArgumentError', [
    ['RETURN range(true, 1, 1)', /expected an Integer but was Boolean/],
    ['RETURN range(0.0, 1, 1)', /expected an Integer but was Float/],
    ['RETURN range(0, -0.0, 1)', /but was Float/],
    ["RETURN range(0, 1, 'xyz')", /but was String/],
    ['RETURN range([0], 1, 1)', /but was List<T>/],
  ]);
});

test('refuses DELETE of a value that is no node, relationship or path, and DELETE of a label', () => {
  refusedAll('SyntaxError', [
    ['MATCH () DELETE 1 + 1', /expected Node, Path or Relationship but was Integer/],
    ['MATCH (n) DELETE n:Person', /use REMOVE to remove a label/],
    ['MATCH ()-[r:T]-() DELETE r:T', /use REMOVE/],
  ]);
  prepare('MATCH p = (a)-[r]->(b) DELETE p, r, a WITH b UNWIND [b] AS x DETACH DELETE x');
});

test('refuses pattern predicates that bind new variables and patterns used as values', () => {
  refusedAll('SyntaxError', [
    ['MATCH (n) WHERE (n)-[r]->(a) RETURN n', /PatternExpressions are not allowed to introduce new variables: 'r'/],
    ['MATCH (n) WHERE ()-[r]-() RETURN n', /introduce new variables: 'r'/],
    ['MATCH (n) RETURN exists((n)-->(m))', /introduce new variables: 'm'/],
    ['MATCH (n) RETURN (n)-[]->()', /only be used in contexts that evaluate to a boolean/],
    ['MATCH (n) WITH (n)-[]->() AS x RETURN x', /pattern comprehension/],
    ['MATCH (a), (b) RETURN size((a)-[:REL]->(b))', /pattern comprehension/],
  ]);
  for (const q of [
    'MATCH (n) WHERE (n)-->() AND NOT (n)<--() RETURN n',
    'MATCH (n) RETURN exists((n)-->()), CASE WHEN (n)-->() THEN 1 END, [x IN [n] WHERE (x)-->()]',
    'MATCH (n) WHERE EXISTS { (n)-[r]->(a) WHERE a.x = 1 } RETURN COUNT { (n)--(m) } AS c',
    'MATCH (n) RETURN [(n)-[r]->(m) | m.name]',
  ]) prepare(q);
});

test('refuses mixing UNION and UNION ALL, random functions in aggregates, and floats beyond the largest Float', () => {
  refusedAll('SyntaxError', [
    ['RETURN 1 AS a UNION RETURN 2 AS a UNION ALL RETURN 3 AS a', /Invalid combination of UNION and UNION ALL/],
    ['RETURN 1 AS a UNION ALL RETURN 2 AS a UNION RETURN 3 AS a', /Invalid combination/],
    ['RETURN count(rand())', /non-deterministic \(random\) functions inside of aggregate functions/],
    ['RETURN collect(toString(rand()) + randomUUID())', /non-deterministic/],
    ['RETURN 1.34E999', /Floating point number is too large/],
  ]);
  prepare('RETURN 1 AS a UNION ALL RETURN 2 AS a UNION ALL RETURN 3 AS a');
  prepare('RETURN 1.7E308 AS big, rand() + count(*) AS r');
});

test('refuses an aggregating expression that groups by an expression nobody asked for', () => {
  refusedAll('SyntaxError', [
    ['MATCH (me)--(you) RETURN me.age + count(you.age)', /implicit grouping expressions.*Illegal expression\(s\): me\.age/s],
    ['MATCH (me)--(you) RETURN me.age + you.age, me.age + you.age + count(*)', /Illegal expression\(s\): me\.age/],
    ['MATCH (me)--(you) WITH me.age + count(you.age) AS agg RETURN agg', /implicit grouping/],
    ['MATCH (me)--(you) RETURN me.age + you.age, count(*) AS cnt ORDER BY me.age + you.age + count(*)', /implicit grouping/],
  ]);
  for (const q of [
    'MATCH (me)--(you) RETURN me.age, me.age + count(you.age)',
    'MATCH (me)--(you) RETURN me, me.age + count(*), [x IN [1, 2] | x] AS xs',
    'MATCH (me)--(you) WITH me.age AS age, you RETURN age, age + count(you.age) + $p',
    'MATCH (n) RETURN n.x AS k, count(*) AS c ORDER BY c + 1, count(*) DESC',
  ]) prepare(q);
});

test('refuses parameter maps in MATCH and MERGE patterns and updates inside EXISTS; WITH * may have nothing to pass on', () => {
  refusedAll('SyntaxError', [
    ['MATCH (n $param) RETURN n', /Parameter maps cannot be used in `MATCH` patterns/],
    ['MATCH ()-[r:FOO $param]->() RETURN r', /in `MATCH` patterns/],
    ['MERGE (n $param) RETURN n', /in `MERGE` patterns/],
    ["MATCH (n) WHERE exists { MATCH (n)-->(m) SET m.prop = 'x' } RETURN n", /EXISTS subquery cannot contain any updates: SET/],
    ['MATCH () RETURN *', /RETURN \* is not allowed when there are no variables in scope/],
  ]);
  prepare('CREATE (n $props) RETURN n');
  prepare('MATCH () CREATE () WITH * CREATE ()');
});

test('an unknown procedure is refused with Procedure.ProcedureNotFound', () => {
  refusedAll('ProcedureNotFound', [['CALL no.such.proc()', /no procedure with the name `no.such.proc`/]]);
});
