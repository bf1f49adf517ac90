/**
 * String functions measure and cut text in Unicode code points, as Neo4j does: a character outside
 * the Basic Multilingual Plane ('😀', two UTF-16 code units) counts as one and is never split.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Value } from '../values/value.js';
import { openHarness, type Harness } from './test-support/harness.js';

let h: Harness;
before(async () => {
  h = await openHarness();
});
after(async () => {
  await h.close();
});

async function value(expr: string, params: Record<string, Value> = {}): Promise<Value> {
  const r = await h.run(`RETURN ${expr} AS v`, params);
  return r.rows[0]![0]!;
}

async function fails(expr: string, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(value(expr), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

/** True when a string holds a surrogate that is not half of a pair. */
function hasBrokenSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

test('size() and length() count code points, for literals and parameters', async () => {
  assert.equal(await value("size('😀a')"), 2n);
  assert.equal(await value('size($s)', { s: '😀' }), 1n);
  assert.equal(await value('size($s)', { s: 'a😀b𝄞' }), 4n);
  assert.equal(await value("size('')"), 0n);
  assert.equal(await value("length('😀😀')"), 2n);
  assert.equal(await value("char_length('😀a')"), 2n);
  assert.equal(await value("character_length('😀a')"), 2n);
});

test('substring() takes its start and length in code points and clamps past the end', async () => {
  assert.equal(await value("substring('😀abc', 1)"), 'abc');
  assert.equal(await value("substring('😀abc', 0, 2)"), '😀a');
  assert.equal(await value("substring('a😀b😀c', 1, 3)"), '😀b😀');
  assert.equal(await value('substring($s, 1, 1)', { s: '😀😀😀' }), '😀');
  assert.equal(await value("substring('😀', 5)"), '');
  assert.equal(await value("substring('😀ab', 1, 100)"), 'ab');
  await fails("substring('abc', -1)", 'ArithmeticError', /start must not be negative/);
  await fails("substring('abc', 0, -1)", 'ArithmeticError', /length must not be negative/);
});

test('left() and right() count code points and refuse a negative length', async () => {
  assert.equal(await value("left('😀abc', 2)"), '😀a');
  assert.equal(await value("left('😀', 1)"), '😀');
  assert.equal(await value("left('😀ab', 10)"), '😀ab');
  assert.equal(await value("right('abc😀', 2)"), 'c😀');
  assert.equal(await value("right('😀abc', 4)"), '😀abc');
  assert.equal(await value("right('😀', 0)"), '');
  await fails("left('abc', -1)", 'ArithmeticError', /left\(\) length must not be negative/);
  await fails("right('abc', -1)", 'ArithmeticError', /right\(\) length must not be negative/);
});

test('reverse() keeps surrogate pairs whole', async () => {
  assert.equal(await value("reverse('a😀b')"), 'b😀a');
  assert.equal(await value('reverse($s)', { s: '𝄞x😀' }), '😀x𝄞');
  assert.equal(hasBrokenSurrogate((await value("reverse('😀😀a')")) as string), false);
});

test('split() with an empty delimiter yields code points, and a non-BMP delimiter splits whole', async () => {
  assert.deepEqual(await value("split('a😀b', '')"), ['a', '😀', 'b']);
  assert.deepEqual(await value("split('a😀b😀c', '😀')"), ['a', 'b', 'c']);
  assert.deepEqual(await value("split('a😀b,c', ['😀', ','])"), ['a', 'b', 'c']);
});

test('replace() with an empty search string inserts between code points and at both ends, like Java', async () => {
  assert.equal(await value("replace('abc', '', '-')"), '-a-b-c-');
  assert.equal(await value("replace('a😀', '', '-')"), '-a-😀-');
  assert.equal(await value("replace('', '', '-')"), '-');
  assert.equal(await value("replace('a😀a', '😀', 'b')"), 'aba');
});

test('trim(), ltrim(), rtrim() and btrim() remove Java whitespace by code point', async () => {
  assert.equal(await value("trim('  😀 ')"), '😀');
  assert.equal(await value("ltrim('\\t😀 ')"), '😀 ');
  assert.equal(await value("rtrim(' 😀\\n')"), ' 😀');
  assert.equal(await value("btrim('\\u3000x\\u2003')"), 'x');
  // Java's Character.isWhitespace excludes the no-break spaces (U+00A0, U+2007, U+202F) and U+FEFF.
  assert.equal(await value("trim('\\u00a0x\\u00a0')"), '\u00a0x\u00a0');
  assert.equal(await value("trim('\\ufeffx')"), '\ufeffx');
  assert.equal(await value("trim('\\u001fx')"), 'x');
});

test('the trim family takes a trim character string, whose code points are each removed', async () => {
  assert.equal(await value("ltrim('xxhixx', 'x')"), 'hixx');
  assert.equal(await value("rtrim('xxhixx', 'x')"), 'xxhi');
  assert.equal(await value("btrim('xyhiyx', 'xy')"), 'hi');
  assert.equal(await value("btrim('😀😀hi😀', '😀')"), 'hi');
  assert.equal(await value("btrim('😀hi', '')"), '😀hi');
  assert.equal(await value("btrim('hi', null)"), null);
  assert.equal(await value("btrim(null, 'x')"), null);
  assert.equal(await value("btrim('  hi ')"), 'hi');
});

test('trim() accepts the LEADING, TRAILING and BOTH ... FROM forms', async () => {
  assert.equal(await value("trim(BOTH 'x' FROM 'xxhixx')"), 'hi');
  assert.equal(await value("trim(LEADING 'x' FROM 'xxhixx')"), 'hixx');
  assert.equal(await value("trim(TRAILING 'x' FROM 'xxhixx')"), 'xxhi');
  assert.equal(await value("trim('😀' FROM '😀hi😀')"), 'hi');
  assert.equal(await value("trim(LEADING FROM '  hi  ')"), 'hi  ');
  assert.equal(await value("trim(BOTH null FROM 'hi')"), null);
  assert.equal(await value('trim(TRAILING $c FROM $s)', { c: '😀', s: 'hi😀😀' }), 'hi');
});

test('toUpper() and toLower() keep non-BMP characters whole', async () => {
  assert.equal(await value("toUpper('a😀𐐨')"), 'A😀𐐀');
  assert.equal(await value("toLower('A😀𐐀')"), 'a😀𐐨');
});

test('a \\U escape beyond U+10FFFF is a syntax error, not an internal one', async () => {
  await assert.rejects(value("'\\UFFFFFFFF'"), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'SyntaxError', e.message);
    return true;
  });
});
