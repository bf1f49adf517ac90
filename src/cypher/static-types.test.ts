/**
 * Compile-time types: what expressions are known to give, and which operands and arguments are
 * known to be refused, without ever guessing a type it cannot be sure of.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clause, Expr, Query } from './ast.js';
import { parse } from './parser.js';
import { elementType, staticType, typeProblem, type StaticType, type TypeEnv } from './static-types.js';

/** The expression of `RETURN <text>`. */
function expr(text: string): Expr {
  const q = parse(`RETURN ${text}`) as Query;
  return (q.parts[0]!.clauses[0] as Clause & { kind: 'Return' }).projection.items[0]!.expr;
}

const env: TypeEnv = {
  varType: (name) => ({ n: 'node', r: 'relationship', p: 'path', rs: 'relationships', names: 'list', i: 'integer' } as Record<string, StaticType>)[name] ?? 'any',
  elementType: (name) => (name === 'names' ? 'string' : 'any'),
};

test('infers the result types of literals, operators and functions', () => {
  const cases: [string, StaticType][] = [
    ['1 + 2', 'integer'], ['1 + 2.0', 'float'], ["'a' + 1", 'string'], ['[1] + 2', 'list'], ['2 ^ 2', 'float'],
    ['i % 2', 'integer'], ['n.x + 1', 'any'], ['$p', 'any'], ['NOT n.flag', 'boolean'], ['n:Label', 'boolean'],
    ['labels(n)', 'list'], ['type(r)', 'string'], ['size(names)', 'integer'], ['startNode(r)', 'node'], ['properties(n)', 'map'],
    ['head(nodes(p))', 'node'], ['last(names)', 'string'], ['head([1, 2])', 'integer'], ["head([1, 'a'])", 'any'],
    ['CASE WHEN i > 1 THEN 1 ELSE 2 END', 'integer'], ['CASE WHEN i > 1 THEN 1 END', 'any'], ['count(*)', 'integer'],
  ];
  for (const [text, t] of cases) assert.equal(staticType(expr(text), env), t, text);
});

test('knows the elements of lists it can see', () => {
  assert.equal(elementType(expr('rs'), env), 'relationship');
  assert.equal(elementType(expr('range(1, 3)'), env), 'integer');
  assert.equal(elementType(expr("['a', 'b']"), env), 'string');
  assert.equal(elementType(expr('[x IN names | x]'), env), 'any');
  assert.equal(elementType(expr('collect(n)'), env), 'node');
});

test('reports only operands and arguments of the expression itself, and never an unknown type', () => {
  assert.match(typeProblem(expr('labels(p)'), env)!.message, /expected Node but was Path/);
  assert.match(typeProblem(expr("'a' % 2"), env)!.message, /expected Float or Integer but was String/);
  assert.equal(typeProblem(expr("1 + ('a' % 2)"), env), null, 'the inner problem belongs to the inner expression');
  for (const text of ['labels(n.x)', 'n.x % 2', '$p IN $q', "'a' + 1", 'size(rs)', 'length(p)', 'i IN names']) {
    assert.equal(typeProblem(expr(text), env), null, text);
  }
});
