/**
 * Temporal construction, conversion and arithmetic as Neo4j answers them (issue #18: each case
 * below was answered wrongly, without an error, before the temporal modules followed Neo4j).
 * Values are compared through toString(), which renders what Neo4j renders.
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

async function value(expr: string): Promise<Value> {
  const r = await h.run(`RETURN ${expr} AS v`);
  return r.rows[0]![0]!;
}

async function text(expr: string): Promise<string> {
  const v = await value(`toString(${expr})`);
  assert.equal(typeof v, 'string');
  return v as string;
}

test('builds dates from week, ordinal-day and quarter fields of a map', async () => {
  assert.equal(await text('date({year: 1984, week: 10, dayOfWeek: 3})'), '1984-03-07');
  assert.equal(await text('date({year: 1984, ordinalDay: 202})'), '1984-07-20');
  assert.equal(await text('date({year: 1984, quarter: 3})'), '1984-07-01');
  assert.equal(await text('date({year: 1984, quarter: 3, dayOfQuarter: 45})'), '1984-08-14');
  assert.equal(await text('date({year: 1817, week: 1})'), '1816-12-30');
  assert.equal(await text("date({date: date('1816-12-31'), week: 2})"), '1817-01-07');
  assert.equal(await text("date({date: date('1984-11-11'), week: 1})"), '1984-01-08');
});

test('takes the offset of a named zone at the built date, summer time included', async () => {
  assert.equal(
    await text("datetime({year: 1984, week: 10, dayOfWeek: 3, hour: 12, timezone: 'Europe/Stockholm'})"),
    '1984-03-07T12:00+01:00[Europe/Stockholm]',
  );
  assert.equal(await text("datetime({year: 1984, ordinalDay: 202, hour: 12, timezone: 'Europe/Stockholm'})"), '1984-07-20T12:00+02:00[Europe/Stockholm]');
});

test('reads compact, week and ordinal date strings and offsets with seconds', async () => {
  assert.equal(await text("date('201507')"), '2015-07-01');
  assert.equal(await text("date('20150721')"), '2015-07-21');
  assert.equal(await text("date('2015-W30-2')"), '2015-07-21');
  assert.equal(await text("date('2015W302')"), '2015-07-21');
  assert.equal(await text("date('2015-202')"), '2015-07-21');
  assert.equal(await text("localdatetime('2015-W30-2T214032.142')"), '2015-07-21T21:40:32.142');
  assert.equal(await text("time('12:34:56+02:05:00')"), '12:34:56+02:05');
  assert.equal(await text("time({hour: 12, minute: 34, second: 56, timezone: '+02:05:59'})"), '12:34:56+02:05:59');
});

test('computes duration.between in months, days and seconds kept apart', async () => {
  assert.equal(await text("duration.between(date('1984-10-11'), date('2015-06-24'))"), 'P30Y8M13D');
  assert.equal(await text("duration.inMonths(date('1984-10-11'), date('2015-06-24'))"), 'P30Y8M');
  assert.equal(await text("duration.inDays(date('1984-10-11'), date('2015-06-24'))"), 'P11213D');
  assert.equal(await text("duration.inSeconds(date('1984-10-11'), date('2015-06-24'))"), 'PT269112H');
  assert.equal(await text("duration.inMonths(date('2018-03-11'), date('2016-06-24'))"), 'P-1Y-8M');
  assert.equal(
    await text("duration.between(localdatetime('2018-01-02T10:00:00.1'), localdatetime('2018-01-01T10:00:00.2'))"),
    'PT-23H-59M-59.9S',
  );
});

test('gives no calendar units between a date and a time of day, and takes the other value\'s date and zone', async () => {
  assert.equal(await text("duration.inDays(date('1984-10-11'), localtime('16:30'))"), 'PT0S');
  assert.equal(await text("duration.inMonths(date('1984-10-11'), time('16:30+0100'))"), 'PT0S');
  assert.equal(await text("duration.between(date('1984-10-11'), localtime('16:30'))"), 'PT16H30M');
  assert.equal(await text("duration.between(localtime('14:30'), time('16:30+0100'))"), 'PT2H');
  assert.equal(await text("duration.between(time('14:30'), time('16:30+0100'))"), 'PT1H');
});

test('counts seconds across a daylight saving change in the zone of the zoned value', async () => {
  const stockholmMidnight = "datetime({year: 2017, month: 10, day: 29, hour: 0, timezone: 'Europe/Stockholm'})";
  assert.equal(await text(`duration.inSeconds(${stockholmMidnight}, localdatetime({year: 2017, month: 10, day: 29, hour: 4}))`), 'PT5H');
  assert.equal(await text(`duration.inSeconds(${stockholmMidnight}, localtime({hour: 4}))`), 'PT5H');
  assert.equal(await text(`duration.inSeconds(${stockholmMidnight}, date({year: 2017, month: 10, day: 30}))`), 'PT25H');
});

test('renders a negative fractional second the way it parses back', async () => {
  assert.equal(await text('duration({seconds: -2, milliseconds: 1})'), 'PT-1.999S');
  assert.equal(await value('duration(toString(duration({seconds: -2, milliseconds: 1}))) = duration({seconds: -2, milliseconds: 1})'), true);
  assert.equal(await text('duration({seconds: -0.5})'), 'PT-0.5S');
});

test('moves a time to another zone at the same instant when a timezone key is given', async () => {
  assert.equal(await text("time({time: time('12:31:14.645876+01:00'), timezone: '+05:00'})"), '16:31:14.645876+05:00');
  assert.equal(await text("time({time: time('12:31:14.645876+01:00'), second: 42, timezone: '+05:00'})"), '16:31:42.645876+05:00');
  assert.equal(
    await text("datetime({date: date('1984-10-11'), time: time('12:31:14.645876+01:00'), timezone: '+05:00'})"),
    '1984-10-11T16:31:14.645876+05:00',
  );
});

test('keeps the offset of a zoned datetime when projecting its time', async () => {
  assert.equal(await text("time(datetime({year: 1984, month: 10, day: 11, hour: 12, timezone: 'Europe/Stockholm'}))"), '12:00+01:00');
});

test('adds to a date only months, days and whole days of the seconds', async () => {
  const d = "date('1984-10-11')";
  assert.equal(await text(`${d} - duration({months: 1, days: -14, hours: 16, minutes: -12, seconds: 70})`), '1984-09-25');
  assert.equal(await text(`${d} + duration({months: 1, days: -14, hours: 16, minutes: -12, seconds: 70})`), '1984-10-28');
  assert.equal(await text(`${d} + duration({years: 12.5, months: 5.5, days: 14.5, hours: 16.5, minutes: 12.5, seconds: 70.5, nanoseconds: 3})`), '1997-10-11');
});

test('divides a duration without gaining a nanosecond', async () => {
  const dur = 'duration({years: 12, months: 5, days: 14, hours: 16, minutes: 12, seconds: 70, nanoseconds: 1})';
  assert.equal(await text(`${dur} / 2`), 'P6Y2M22DT13H21M8S');
  assert.equal(await text(`${dur} * 2`), 'P24Y10M28DT32H26M20.000000002S');
});

test('returns null, not the current time, for a null argument to every clock variant', async () => {
  for (const kind of ['date', 'datetime', 'localdatetime', 'time', 'localtime']) {
    for (const clock of ['', '.statement', '.transaction', '.realtime']) {
      assert.equal(await value(`${kind}${clock}(null)`), null, `${kind}${clock}(null)`);
    }
  }
});

test('truncates every temporal type and then applies the given fields', async () => {
  assert.equal(await text("date.truncate('millennium', date('2017-10-11'), {day: 2})"), '2000-01-02');
  assert.equal(await text("date.truncate('weekYear', date('2017-01-01'))"), '2016-01-04');
  assert.equal(await text("datetime.truncate('millennium', date('2017-10-11'), {timezone: 'Europe/Stockholm'})"), '2000-01-01T00:00+01:00[Europe/Stockholm]');
  assert.equal(await text("localtime.truncate('millisecond', localtime('12:31:14.645876123'), {nanosecond: 2})"), '12:31:14.645000002');
  assert.equal(await text("time.truncate('day', datetime('1984-10-11T12:31:14+01:00'))"), '00:00+01:00');
});

test('reads week-based accessors', async () => {
  assert.deepEqual(await value("[d IN [date('2017-01-01')] | [d.week, d.weekYear, d.dayOfWeek, d.quarter, d.dayOfQuarter]]"), [[52n, 2016n, 7n, 1n, 1n]]);
});

test('reaches the extremes of Neo4j\'s date range', async () => {
  assert.equal(await text("duration.between(date('-999999999-01-01'), date('+999999999-12-31'))"), 'P1999999998Y11M30D');
  assert.equal(await text("date('+999999999-12-31')"), '+999999999-12-31');
});
