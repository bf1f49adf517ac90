import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdminCommand, Clause, Expr, Query } from './ast.js';
import { parse } from './parser.js';

function clauses(q: string): Clause[] {
  const s = parse(q);
  assert.equal(s.kind, 'Query');
  return (s as Query).parts[0]!.clauses;
}

function expr(text: string): Expr {
  const c = clauses(`RETURN ${text}`)[0]!;
  assert.equal(c.kind, 'Return');
  return (c as Clause & { kind: 'Return' }).projection.items[0]!.expr;
}

/** Prints an expression fully parenthesised, to check precedence. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'Literal': return typeof e.value === 'string' ? `'${e.value}'` : String(e.value);
    case 'Var': return e.name;
    case 'Param': return `$${e.name}`;
    case 'Prop': return `${show(e.target)}.${e.key}`;
    case 'Binary': return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'Not': return `(NOT ${show(e.operand)})`;
    case 'Neg': return `(-${show(e.operand)})`;
    case 'IsNull': return `(${show(e.operand)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
    case 'HasLabels': return `(${show(e.target)}:${e.labels.join(e.mode === 'all' ? ':' : '|')})`;
    case 'Call': return `${e.name}(${e.distinct ? 'DISTINCT ' : ''}${e.args.map(show).join(', ')})`;
    case 'Index': return `${show(e.target)}[${show(e.index)}]`;
    case 'Slice': return `${show(e.target)}[${e.from ? show(e.from) : ''}..${e.to ? show(e.to) : ''}]`;
    case 'ListLit': return `[${e.items.map(show).join(', ')}]`;
    default: return e.kind;
  }
}

function syntaxError(q: string, pattern: RegExp): void {
  assert.throws(() => parse(q), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'SyntaxError', e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('parses MATCH with labels, properties, both directions and WHERE', () => {
  const [m] = clauses("MATCH (a:Person:Admin {name: 'x'})-[r:KNOWS|LIKES]->(b)<-[:OWNS]-(c) WHERE a.age > 3 RETURN a");
  assert.equal(m!.kind, 'Match');
  const part = (m as Clause & { kind: 'Match' }).patterns[0]!;
  assert.deepEqual(part.nodes.map((n) => [n.variable, n.labels]), [['a', ['Person', 'Admin']], ['b', []], ['c', []]]);
  assert.deepEqual(part.rels.map((r) => [r.variable, r.types, r.direction]), [['r', ['KNOWS', 'LIKES'], 'out'], [null, ['OWNS'], 'in']]);
  assert.equal(show((m as Clause & { kind: 'Match' }).where!), '(a.age > 3)');
});

test('parses variable-length relationships in every form', () => {
  const lengths = ['*', '*2', '*1..3', '*..4', '*2..'].map((l) => {
    const [m] = clauses(`MATCH (a)-[${l}]-(b) RETURN a`);
    return (m as Clause & { kind: 'Match' }).patterns[0]!.rels[0]!.length;
  });
  assert.deepEqual(lengths, [{ min: null, max: null }, { min: 2, max: 2 }, { min: 1, max: 3 }, { min: null, max: 4 }, { min: 2, max: null }]);
});

test('parses named paths, OPTIONAL MATCH and shortestPath', () => {
  const [m, o] = clauses('MATCH p = shortestPath((a)-[*..5]->(b)) OPTIONAL MATCH (a)--(c) RETURN p');
  const part = (m as Clause & { kind: 'Match' }).patterns[0]!;
  assert.equal(part.pathVariable, 'p');
  assert.equal(part.shortest, 'shortestPath');
  assert.equal((o as Clause & { kind: 'Match' }).optional, true);
  assert.equal((o as Clause & { kind: 'Match' }).patterns[0]!.rels[0]!.direction, 'both');
});

test('parses RETURN with DISTINCT, aliases, ORDER BY, SKIP and LIMIT', () => {
  const [, r] = clauses('MATCH (n) RETURN DISTINCT n.name AS name, n.age ORDER BY name DESC, n.age SKIP 1 LIMIT $l');
  const p = (r as Clause & { kind: 'Return' }).projection;
  assert.equal(p.distinct, true);
  assert.deepEqual(p.items.map((i) => [i.name, i.aliased]), [['name', true], ['n.age', false]]);
  assert.deepEqual(p.orderBy.map((o) => [show(o.expr), o.descending]), [['name', true], ['n.age', false]]);
  assert.equal(show(p.skip!), '1');
  assert.equal(show(p.limit!), '$l');
});

test('keeps the text of unaliased expressions as the column name', () => {
  const [r] = clauses('RETURN count( * ), 1+2 ,  toUpper("a")');
  assert.deepEqual((r as Clause & { kind: 'Return' }).projection.items.map((i) => i.name), ['count( * )', '1+2', 'toUpper("a")']);
});

test('parses WITH ... WHERE, UNWIND, and RETURN *', () => {
  const cs = clauses('UNWIND [1,2] AS x WITH x WHERE x > 1 RETURN *');
  assert.deepEqual(cs.map((c) => c.kind), ['Unwind', 'With', 'Return']);
  assert.equal((cs[1] as Clause & { kind: 'With' }).where !== null, true);
  assert.equal((cs[2] as Clause & { kind: 'Return' }).projection.star, true);
});

test('parses CREATE, MERGE with ON CREATE / ON MATCH, SET, REMOVE, DELETE', () => {
  const cs = clauses("CREATE (a:A {x: 1}) MERGE (a)-[r:R]->(b:B) ON CREATE SET r.new = true ON MATCH SET r.n = r.n + 1, b += {y: 2} SET a:C:D, a = {z: 3} REMOVE a.x, a:C DETACH DELETE a DELETE b");
  assert.deepEqual(cs.map((c) => c.kind), ['Create', 'Merge', 'Set', 'Remove', 'Delete', 'Delete']);
  const merge = cs[1] as Clause & { kind: 'Merge' };
  assert.deepEqual(merge.onCreate.map((s) => s.kind), ['SetProperty']);
  assert.deepEqual(merge.onMatch.map((s) => s.kind), ['SetProperty', 'SetAll']);
  assert.deepEqual((cs[2] as Clause & { kind: 'Set' }).items.map((s) => s.kind), ['SetLabels', 'SetAll']);
  assert.deepEqual((cs[3] as Clause & { kind: 'Remove' }).items.map((s) => s.kind), ['RemoveProperty', 'RemoveLabels']);
  assert.deepEqual(cs.slice(4).map((c) => (c as Clause & { kind: 'Delete' }).detach), [true, false]);
});

test('parses UNION and UNION ALL', () => {
  const q = parse('RETURN 1 AS x UNION ALL RETURN 2 AS x UNION RETURN 3 AS x') as Query;
  assert.equal(q.parts.length, 3);
  assert.deepEqual(q.unionAll, [true, false]);
});

test('parses CALL subqueries and procedure calls with YIELD and WHERE', () => {
  const cs = clauses('CALL { MATCH (n) RETURN n } CALL db.labels() YIELD label AS l WHERE l <> "x" RETURN l');
  assert.equal(cs[0]!.kind, 'CallSubquery');
  const call = cs[1] as Clause & { kind: 'CallProcedure' };
  assert.equal(call.name, 'db.labels');
  assert.deepEqual(call.yields, [{ name: 'label', alias: 'l' }]);
  assert.ok(call.where);
});

test('parses FOREACH with updating clauses', () => {
  const [, f] = clauses('MATCH (n) FOREACH (x IN [1,2] | CREATE (:A {x: x}) SET n.y = x)');
  assert.equal(f!.kind, 'Foreach');
  assert.deepEqual((f as Clause & { kind: 'Foreach' }).clauses.map((c) => c.kind), ['Create', 'Set']);
});

test('gives OR the lowest precedence, then XOR, AND, NOT', () => {
  assert.equal(show(expr('a OR b XOR c AND NOT d')), '(a OR (b XOR (c AND (NOT d))))');
});

test('binds comparison tighter than NOT and arithmetic tighter than comparison', () => {
  assert.equal(show(expr('NOT a = b + c * d')), '(NOT (a = (b + (c * d))))');
});

test('parses power as left-associative and tighter than unary minus operands', () => {
  assert.equal(show(expr('2 ^ 3 ^ 2')), '((2 ^ 3) ^ 2)');
  assert.equal(show(expr('-a ^ 2')), '((-a) ^ 2)');
});

test('expands chained comparisons into a conjunction', () => {
  assert.equal(show(expr('1 < x <= 3')), '((1 < x) AND (x <= 3))');
});

test('parses string, list and null predicates', () => {
  assert.equal(show(expr("a STARTS WITH 'x' AND b ENDS WITH 'y' OR c CONTAINS 'z'")), "(((a STARTS WITH 'x') AND (b ENDS WITH 'y')) OR (c CONTAINS 'z'))");
  assert.equal(show(expr('x IN [1, 2] AND y IS NOT NULL AND z IS NULL')), '(((x IN [1, 2]) AND (y IS NOT NULL)) AND (z IS NULL))');
  assert.equal(show(expr("name =~ 'A.*'")), "(name =~ 'A.*')");
});

test('parses property access, indexing, slicing and label predicates as postfix operators', () => {
  assert.equal(show(expr('n.list[0].x')), 'n.list[0].x');
  assert.equal(show(expr('l[1..-1]')), 'l[1..-1]');
  assert.equal(show(expr('l[..2]')), 'l[..2]');
  assert.equal(show(expr('n:A:B')), '(n:A:B)');
  assert.equal(show(expr('n:A|B')), '(n:A|B)');
});

test('folds a minus sign into the smallest integer literal', () => {
  assert.equal(show(expr('-9223372036854775808')), '-9223372036854775808');
  syntaxError('RETURN 9223372036854775808', /integer is too large.*\(line 1, column 8 \(offset: 7\)\)/s);
});

test('parses function calls with DISTINCT, namespaces and count(*)', () => {
  assert.equal(show(expr('count(DISTINCT n.x)')), 'count(DISTINCT n.x)');
  assert.equal(show(expr('date.truncate("day", d)')), "date.truncate('day', d)");
  assert.equal(expr('count(*)').kind, 'CountStar');
});

test('parses CASE in both forms', () => {
  const simple = expr("CASE n.x WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END");
  assert.equal(simple.kind === 'Case' && simple.test !== null && simple.whens.length === 2 && simple.otherwise !== null, true);
  const generic = expr("CASE WHEN a THEN 1 END");
  assert.equal(generic.kind === 'Case' && generic.test === null && generic.otherwise === null, true);
});

test('parses list comprehensions, pattern comprehensions and map projections', () => {
  assert.equal(expr('[x IN l WHERE x > 1 | x * 2]').kind, 'ListComp');
  assert.equal(expr('[(a)-[:R]->(b) WHERE b.x > 1 | b.name]').kind, 'PatternComp');
  const mp = expr('n {.name, .*, age: n.born, other}');
  assert.equal(mp.kind, 'MapProjection');
  assert.deepEqual(mp.kind === 'MapProjection' && mp.items.map((i) => i.kind), ['property', 'allProperties', 'literal', 'variable']);
  assert.equal(expr('[1, 2]').kind, 'ListLit');
  assert.equal(expr('(1 + 2)').kind, 'Binary');
});

test('parses EXISTS and COUNT subqueries and bare pattern predicates', () => {
  assert.equal(show(expr('EXISTS { (a)-->(b) }')), 'Subquery');
  assert.equal(show(expr('EXISTS { MATCH (a)-->(b) WHERE b.x = 1 }')), 'Subquery');
  const count = expr('COUNT { (a)-->() }');
  assert.equal(count.kind === 'Subquery' && count.mode, 'count');
  const [, w] = clauses('MATCH (a) WITH a WHERE (a)-[:KNOWS]->() RETURN a');
  assert.equal((w as Clause & { kind: 'With' }).where!.kind, 'Subquery');
  assert.equal(show(expr('(a) - (b)')), '(a - b)');
});

test('parses quantifiers and reduce', () => {
  assert.equal(expr('all(x IN l WHERE x > 0)').kind, 'Quantifier');
  assert.equal(expr('reduce(s = 0, x IN l | s + x)').kind, 'Reduce');
});

test('accepts keywords in any case and as property keys and labels', () => {
  const cs = clauses('match (n:Order {count: 1}) return n.limit');
  assert.deepEqual(cs.map((c) => c.kind), ['Match', 'Return']);
});

test('parses schema commands', () => {
  assert.deepEqual(parse('CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)'), { kind: 'CreateIndex', pos: 0, name: 'person_name', ifNotExists: true, variable: 'p', label: 'Person', properties: ['name'] });
  assert.equal((parse('CREATE INDEX FOR (p:Person) ON (p.name)') as { name: unknown }).name, null);
  assert.deepEqual(parse('CREATE CONSTRAINT uniq FOR (p:Person) REQUIRE p.email IS UNIQUE'), { kind: 'CreateConstraint', pos: 0, name: 'uniq', ifNotExists: false, variable: 'p', label: 'Person', properties: ['email'], constraint: 'UNIQUE' });
  assert.deepEqual(parse('DROP INDEX person_name IF EXISTS'), { kind: 'DropIndex', pos: 0, name: 'person_name', ifExists: true });
  assert.deepEqual(parse('DROP CONSTRAINT uniq'), { kind: 'DropConstraint', pos: 0, name: 'uniq', ifExists: false });
  assert.equal(parse('SHOW INDEXES YIELD name WHERE name STARTS WITH "p"').kind, 'ShowIndexes');
  assert.equal(parse('SHOW CONSTRAINTS').kind, 'ShowConstraints');
});

test('parses administration commands into AdminCommand nodes', () => {
  const a = (q: string) => parse(q) as AdminCommand;
  assert.equal(a('SHOW DATABASES').action, 'SHOW DATABASES');
  assert.deepEqual([a('SHOW DATABASE movies').action, a('SHOW DATABASE movies').target], ['SHOW DATABASE', 'movies']);
  const create = a("CREATE USER alice IF NOT EXISTS SET PASSWORD 'secret' CHANGE NOT REQUIRED SET STATUS ACTIVE");
  assert.deepEqual([create.action, create.target, create.ifNotExists, create.args.get('changeRequired'), create.args.get('status')], ['CREATE USER', 'alice', true, false, 'ACTIVE']);
  assert.equal(a('CREATE OR REPLACE DATABASE movies WAIT').orReplace, true);
  assert.deepEqual(a('DROP DATABASE movies IF EXISTS').ifExists, true);
  assert.equal(a('ALTER CURRENT USER SET PASSWORD FROM $old TO $new').action, 'ALTER CURRENT USER SET PASSWORD');
  const grant = a('GRANT ROLE reader, editor TO alice');
  assert.deepEqual([grant.action, grant.args.get('roles'), grant.args.get('users')], ['GRANT ROLE', ['reader', 'editor'], ['alice']]);
  const priv = a('GRANT MATCH {*} ON GRAPH movies TO reader');
  assert.deepEqual([priv.action, priv.args.get('privilege'), priv.args.get('roles')], ['GRANT', 'MATCH {*} ON GRAPH movies', ['reader']]);
  assert.equal(a('STOP DATABASE movies').action, 'STOP DATABASE');
  assert.equal(a('SHOW USERS YIELD user WHERE user = "neo4j"').modifiers?.yields?.[0]?.name, 'user');
});

test('parses the transaction ids of SHOW and TERMINATE TRANSACTIONS as Neo4j 5 takes them: string literals or one expression', () => {
  const a = (q: string) => parse(q) as AdminCommand;
  const ids = (q: string) => (a(q).args.get('transactionIds') as { kind: string }[] | undefined)?.map((e) => e.kind);
  assert.equal(ids('SHOW TRANSACTIONS'), undefined);
  assert.deepEqual(ids("SHOW TRANSACTIONS 'neo4j-transaction-3', 'neo4j-transaction-4' YIELD transactionId"), ['Literal', 'Literal']);
  assert.deepEqual(ids('SHOW TRANSACTION $ids WHERE status = "Running"'), ['Param']);
  assert.deepEqual(ids("SHOW TRANSACTIONS ['neo4j-transaction-' + $n]"), ['ListLit']);
  assert.deepEqual(ids("TERMINATE TRANSACTIONS 'neo4j-transaction-3', 'neo4j-transaction-4'"), ['Literal', 'Literal']);
  const t = a("TERMINATE TRANSACTION $id YIELD transactionId, message WHERE message <> 'x' RETURN transactionId");
  assert.deepEqual([t.action, t.modifiers?.yields?.map((y) => y.name), t.modifiers?.where !== null], ['TERMINATE TRANSACTION', ['transactionId', 'message'], true]);
  syntaxError("SHOW TRANSACTIONS 'neo4j-transaction-3', $id", /expected a quoted transaction id/);
  syntaxError("TERMINATE TRANSACTIONS 'neo4j-transaction-3' WHERE message = 'x'", /expected 'YIELD' \(TERMINATE TRANSACTIONS takes WHERE and RETURN only after YIELD\)/);
  syntaxError('TERMINATE TRANSACTIONS', /expected an expression/);
});

test('reports a misspelled clause at its first character', () => {
  syntaxError('RETRUN 1', /^Invalid input 'RETRUN': expected 'MATCH'.* \(line 1, column 1 \(offset: 0\)\)\n"RETRUN 1"\n \^$/s);
});

test('reports an unclosed node pattern at the end of input', () => {
  syntaxError('MATCH (n', /^Invalid input '': expected .*\(line 1, column 9 \(offset: 8\)\)\n"MATCH \(n"\n {9}\^$/s);
});

test('reports errors on later lines with the line shown and the caret under the column', () => {
  syntaxError('MATCH (n)\nWHERE n.x = \nRETURN n', /Invalid input 'RETURN': expected an expression \(line 3, column 1 \(offset: 23\)\)\n"RETURN n"\n \^/);
});

test('reports a missing closing parenthesis in an expression', () => {
  syntaxError('RETURN (1 + 2', /Invalid input '': expected '\)' \(line 1, column 14 \(offset: 13\)\)/);
});

test('reports trailing input after a complete query', () => {
  syntaxError('RETURN 1 2', /Invalid input '2': expected 'MATCH', .* \(line 1, column 10 \(offset: 9\)\)/);
});

test('reads a relationship pointing both ways as either way, like --', () => {
  const q = parse('MATCH (a)<-[r]->(b)<-->(c) RETURN a') as Query;
  const match = q.parts[0]!.clauses[0] as Clause & { kind: 'Match' };
  assert.deepEqual(match.patterns[0]!.rels.map((r) => r.direction), ['both', 'both']);
});
