import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenize } from './lexer.js';

const kinds = (q: string) => tokenize(q).map((t) => `${t.kind}:${t.text}`);

test('splits a query into identifiers, punctuation, numbers, strings and parameters', () => {
  assert.deepEqual(kinds("MATCH (n:Person {age: 42}) WHERE n.name = $name RETURN 'x'"), [
    'ident:MATCH', 'punct:(', 'ident:n', 'punct::', 'ident:Person', 'punct:{', 'ident:age', 'punct::', 'int:42', 'punct:}', 'punct:)',
    'ident:WHERE', 'ident:n', 'punct:.', 'ident:name', 'punct:=', 'param:name', 'ident:RETURN', 'string:x', 'eof:',
  ]);
});

test('prefers the longest operator', () => {
  assert.deepEqual(kinds('a <= b <> c >= d =~ e += f'), ['ident:a', 'punct:<=', 'ident:b', 'punct:<>', 'ident:c', 'punct:>=', 'ident:d', 'punct:=~', 'ident:e', 'punct:+=', 'ident:f', 'eof:']);
});

test('reads a variable-length range without mistaking it for a float', () => {
  assert.deepEqual(kinds('*1..3'), ['punct:*', 'int:1', 'punct:..', 'int:3', 'eof:']);
});

test('reads integers in decimal, hexadecimal and octal, and floats with exponents', () => {
  const t = tokenize('42 0x1F 0o17 1.5 .5 1e3 2E-2');
  assert.deepEqual(t.slice(0, 3).map((x) => x.intValue), [42n, 31n, 15n]);
  assert.deepEqual(t.slice(3, 7).map((x) => x.floatValue), [1.5, 0.5, 1000, 0.02]);
});

test('decodes string escapes in single and double quotes', () => {
  const [a, b] = tokenize(`'it\\'s\\n\\t\\u00e9' "say \\"hi\\""`);
  assert.equal(a!.text, "it's\n\té");
  assert.equal(b!.text, 'say "hi"');
});

test('reads backtick-quoted identifiers with doubled backticks as quoted', () => {
  const [t] = tokenize('`weird``name`');
  assert.equal(t!.text, 'weird`name');
  assert.equal(t!.quoted, true);
});

test('skips line and block comments', () => {
  assert.deepEqual(kinds('RETURN /* a\ncomment */ 1 // trailing'), ['ident:RETURN', 'int:1', 'eof:']);
});

test('records offsets of each token', () => {
  const t = tokenize('RETURN  $p');
  assert.deepEqual(t.map((x) => [x.pos, x.end]), [[0, 6], [8, 10], [10, 10]]);
});

test('reports an unterminated string at its opening quote', () => {
  assert.throws(() => tokenize("RETURN 'abc"), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'SyntaxError');
    assert.match(e.message, /\(line 1, column 8 \(offset: 7\)\)\n"RETURN 'abc"\n {8}\^$/);
    return true;
  });
});

test('reports an unexpected character with its line and column', () => {
  assert.throws(() => tokenize('MATCH (n)\nRETURN n #'), /Invalid input '#'.*\(line 2, column 10 \(offset: 19\)\)\n"RETURN n #"\n {10}\^/s);
});
