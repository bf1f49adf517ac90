import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Value } from '../values/value.js';
import { QDate, QDateTime, QDuration, QLocalTime } from '../values/temporal.js';
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

async function fails(expr: string, code: string, pattern: RegExp, params: Record<string, Value> = {}): Promise<void> {
  await assert.rejects(value(expr, params), (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('follows the three-valued truth table for AND, OR, XOR and NOT', async () => {
  const vals = ['true', 'false', 'null'];
  const and: Value[] = [];
  const or: Value[] = [];
  const xor: Value[] = [];
  for (const a of vals) for (const b of vals) {
    and.push(await value(`${a} AND ${b}`));
    or.push(await value(`${a} OR ${b}`));
    xor.push(await value(`${a} XOR ${b}`));
  }
  assert.deepEqual(and, [true, false, null, false, false, false, null, false, null]);
  assert.deepEqual(or, [true, true, true, true, false, null, true, null, null]);
  assert.deepEqual(xor, [false, true, null, true, false, null, null, null, null]);
  assert.deepEqual([await value('NOT true'), await value('NOT false'), await value('NOT null')], [false, true, null]);
});

test('keeps integers as integers and mixes to float', async () => {
  assert.equal(await value('1 + 2'), 3n);
  assert.equal(await value('1 + 2.5'), 3.5);
  assert.equal(await value('7 / 2'), 3n);
  assert.equal(await value('-7 / 2'), -3n);
  assert.equal(await value('7.0 / 2'), 3.5);
  assert.equal(await value('7 % 3'), 1n);
  assert.equal(await value('-7 % 3'), -1n);
  assert.equal(await value('2 ^ 3'), 8);
  assert.equal(typeof (await value('2 ^ 3')), 'number');
  assert.equal(await value('1.0 / 0'), Infinity);
});

test('raises an arithmetic error on integer overflow and integer division by zero', async () => {
  await fails('9223372036854775807 + 1', 'ArithmeticError', /overflow/);
  await fails('-9223372036854775808 - 1', 'ArithmeticError', /overflow/);
  await fails('4611686018427387904 * 2', 'ArithmeticError', /overflow/);
  await fails('1 / 0', 'ArithmeticError', /by zero/);
  await fails('1 % 0', 'ArithmeticError', /by zero/);
});

test('propagates null through arithmetic and comparisons', async () => {
  assert.equal(await value('1 + null'), null);
  assert.equal(await value('null = null'), null);
  assert.equal(await value('null <> 1'), null);
  assert.equal(await value('1 < null'), null);
});

test('compares numbers across integer and float, and incomparable types as null', async () => {
  assert.equal(await value('1 = 1.0'), true);
  assert.equal(await value('1 < 1.5'), true);
  assert.equal(await value("1 = '1'"), false);
  assert.equal(await value("1 < '1'"), null);
  assert.equal(await value("'a' < 'b'"), true);
  assert.equal(await value('[1, 2] = [1, 2]'), true);
  assert.equal(await value('[1, null] = [1, 2]'), null);
  assert.equal(await value('[1, 2] = [1, 3]'), false);
  assert.equal(await value("{a: 1} = {a: 1}"), true);
  assert.equal(await value("date('2020-01-01') < date('2021-01-01')"), true);
});

test('evaluates IN with null semantics', async () => {
  assert.equal(await value('2 IN [1, 2]'), true);
  assert.equal(await value('3 IN [1, 2]'), false);
  assert.equal(await value('3 IN [1, null]'), null);
  assert.equal(await value('null IN []'), false);
  assert.equal(await value('1 IN null'), null);
});

test('evaluates string predicates and regular expressions', async () => {
  assert.equal(await value("'hello' STARTS WITH 'he'"), true);
  assert.equal(await value("'hello' ENDS WITH 'lo'"), true);
  assert.equal(await value("'hello' CONTAINS 'ell'"), true);
  assert.equal(await value("1 CONTAINS 'x'"), null);
  assert.equal(await value("'hello' =~ 'h.*o'"), true);
  assert.equal(await value("'hello' =~ 'ell'"), false, 'the whole string must match');
  assert.equal(await value("'HELLO' =~ '(?i)hello'"), true);
});

test('tests nullness and concatenates strings and lists with +', async () => {
  assert.deepEqual([await value('null IS NULL'), await value('1 IS NOT NULL')], [true, true]);
  assert.equal(await value("'a' + 'b'"), 'ab');
  assert.equal(await value("'n' + 1.5"), 'n1.5');
  assert.deepEqual(await value('[1] + [2, 3]'), [1n, 2n, 3n]);
  assert.deepEqual(await value('[1] + 2'), [1n, 2n]);
});

test('indexes and slices lists, including negative indexes', async () => {
  assert.equal(await value('[1, 2, 3][0]'), 1n);
  assert.equal(await value('[1, 2, 3][-1]'), 3n);
  assert.equal(await value('[1, 2, 3][5]'), null);
  assert.deepEqual(await value('[1, 2, 3, 4][1..3]'), [2n, 3n]);
  assert.deepEqual(await value('[1, 2, 3, 4][-2..]'), [3n, 4n]);
  assert.deepEqual(await value('[1, 2, 3, 4][..-1]'), [1n, 2n, 3n]);
  assert.equal(await value('[1, 2, 3][$i]', { i: 1 }), 2n, 'an integral float from the driver is an index');
  assert.equal(await value("{a: {b: 5}}.a.b"), 5n);
  assert.equal(await value("{a: 1}['a']"), 1n);
});

test('evaluates CASE in its simple and generic forms', async () => {
  assert.equal(await value("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END"), 'two');
  assert.equal(await value("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' END"), 'b');
  assert.equal(await value("CASE WHEN false THEN 1 END"), null);
});

test('evaluates list comprehensions, quantifiers and reduce', async () => {
  assert.deepEqual(await value('[x IN range(1, 5) WHERE x % 2 = 1 | x * 10]'), [10n, 30n, 50n]);
  assert.deepEqual(await value('[x IN [1, 2]]'), [1n, 2n]);
  assert.equal(await value('all(x IN [1, 2] WHERE x > 0)'), true);
  assert.equal(await value('any(x IN [1, 2] WHERE x > 1)'), true);
  assert.equal(await value('none(x IN [1, 2] WHERE x > 1)'), false);
  assert.equal(await value('single(x IN [1, 2] WHERE x > 1)'), true);
  assert.equal(await value('reduce(s = 0, x IN [1, 2, 3] | s + x)'), 6n);
});

test('applies string functions', async () => {
  assert.equal(await value("toUpper('abc')"), 'ABC');
  assert.equal(await value("toLower('ABC')"), 'abc');
  assert.equal(await value("trim('  a  ')"), 'a');
  assert.equal(await value("ltrim('  a ')"), 'a ');
  assert.equal(await value("rtrim(' a  ')"), ' a');
  assert.deepEqual(await value("split('a,b,c', ',')"), ['a', 'b', 'c']);
  assert.equal(await value("substring('hello', 1, 3)"), 'ell');
  assert.equal(await value("substring('hello', 2)"), 'llo');
  assert.equal(await value("left('hello', 2)"), 'he');
  assert.equal(await value("right('hello', 2)"), 'lo');
  assert.equal(await value("replace('a-b-c', '-', '+')"), 'a+b+c');
  assert.equal(await value("reverse('abc')"), 'cba');
  assert.equal(await value('toUpper(null)'), null);
  assert.equal(await value("size('hello')"), 5n);
});

test('applies list functions', async () => {
  assert.equal(await value('head([1, 2, 3])'), 1n);
  assert.equal(await value('last([1, 2, 3])'), 3n);
  assert.deepEqual(await value('tail([1, 2, 3])'), [2n, 3n]);
  assert.equal(await value('head([])'), null);
  assert.deepEqual(await value('range(0, 10, 5)'), [0n, 5n, 10n]);
  assert.deepEqual(await value('range(3, 1, -1)'), [3n, 2n, 1n]);
  assert.deepEqual(await value('range(1, $n)', { n: 3 }), [1n, 2n, 3n]);
  assert.deepEqual(await value('reverse([1, 2])'), [2n, 1n]);
  assert.equal(await value('size([1, 2])'), 2n);
  assert.equal(await value('coalesce(null, 2, 3)'), 2n);
  assert.deepEqual(await value("keys({b: 1, a: 2})"), ['b', 'a']);
});

test('converts between types', async () => {
  assert.equal(await value("toInteger('42')"), 42n);
  assert.equal(await value('toInteger(3.9)'), 3n);
  assert.equal(await value("toInteger('x')"), null);
  assert.equal(await value("toFloat('1.5')"), 1.5);
  assert.equal(await value('toFloat(2)'), 2);
  assert.equal(await value("toBoolean('TRUE')"), true);
  assert.equal(await value("toBoolean('maybe')"), null);
  assert.equal(await value('toString(1.0)'), '1.0');
  assert.equal(await value('toString(42)'), '42');
  assert.equal(await value('toString(1e20)'), '1.0E20');
});

test('applies numeric functions', async () => {
  assert.equal(await value('abs(-3)'), 3n);
  assert.equal(await value('abs(-3.5)'), 3.5);
  assert.equal(await value('sign(-2)'), -1n);
  assert.equal(await value('round(2.5)'), 3);
  assert.equal(await value('round(-2.5)'), -2);
  assert.equal(await value('round(3.14159, 2)'), 3.14);
  assert.equal(await value('floor(2.7)'), 2);
  assert.equal(await value('ceil(2.1)'), 3);
  assert.equal(await value('sqrt(16)'), 4);
  const r = await value('rand()');
  assert.ok(typeof r === 'number' && r >= 0 && r < 1);
});

test('builds temporal values from strings, maps and the injected clock', async () => {
  const now = () => new Date('2024-05-06T07:08:09.123Z');
  const run = async (e: string) => (await h.run(`RETURN ${e} AS v`, {}, now)).rows[0]![0]!;
  assert.deepEqual(await run('date()'), new QDate(2024, 5, 6));
  assert.equal(String(await run('datetime()')), '2024-05-06T07:08:09.123Z');
  assert.equal(await run('timestamp()'), 1714979289123n);
  assert.equal(String(await run('localtime()')), '07:08:09.123');
  assert.deepEqual(await value("date('2020-02-29')"), new QDate(2020, 2, 29));
  assert.deepEqual(await value('date({year: 2020, month: 3, day: 1})'), new QDate(2020, 3, 1));
  assert.equal(String(await value("datetime('2020-01-02T03:04:05+01:00')")), '2020-01-02T03:04:05+01:00');
  assert.equal(String(await value("datetime('2020-06-01T12:00:00[Europe/Paris]')")), '2020-06-01T12:00+02:00[Europe/Paris]');
  assert.equal(String(await value("localdatetime('2020-01-02T03:04:05.5')")), '2020-01-02T03:04:05.500');
  assert.deepEqual(await value("localtime('12:30')"), new QLocalTime(45_000_000_000_000n));
  assert.equal(String(await value("time('10:00:00Z')")), '10:00Z');
  assert.ok((await value("datetime({epochMillis: 0})")) instanceof QDateTime);
  assert.equal(String(await value("duration('P1Y2M3DT4H5M6.5S')")), 'P1Y2M3DT4H5M6.5S');
  assert.equal(String(await value('duration({days: 1, hours: 2})')), 'P1DT2H');
  assert.ok((await value("duration('PT1S')")) instanceof QDuration);
  await fails("date('2020-13-01')", 'SemanticError', /Invalid value for MonthOfYear \(valid values 1 - 12\): 13/);
});

test('reads temporal components and adds durations', async () => {
  assert.equal(await value("date('2020-03-04').year"), 2020n);
  assert.equal(await value("date('2020-03-04').month"), 3n);
  assert.equal(await value("datetime('2020-03-04T05:06:07Z').hour"), 5n);
  assert.equal(await value("datetime('1970-01-01T00:00:01Z').epochMillis"), 1000n);
  assert.equal(await value("duration('P1DT2H').days"), 1n);
  assert.deepEqual(await value("date('2020-01-31') + duration('P1M')"), new QDate(2020, 2, 29));
  assert.equal(String(await value("datetime('2020-01-01T00:00:00Z') + duration('PT36H')")), '2020-01-02T12:00Z');
  assert.equal(String(await value("duration.between(date('2020-01-01'), date('2020-01-03'))")), 'P2D');
});

test('reports missing parameters, unknown functions and undefined variables', async () => {
  await fails('$missing', 'ParameterMissing', /Expected parameter\(s\): missing/);
  await fails('nope(1)', 'SyntaxError', /Unknown function 'nope'/);
  await fails('x + 1', 'SyntaxError', /Variable `x` not defined \(line 1, column 8 \(offset: 7\)\)/);
  await fails("toUpper(1)", 'TypeError', /expected String/);
});
