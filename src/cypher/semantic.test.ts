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
