// Answers Quiver once got wrong without an error (issue #18), asked through the official
// neo4j-driver of a real `bin/quiver console`: temporal values arrive as the driver's temporal types
// with Neo4j's fields, NaN ordering, ORDER BY after aggregation, `[:T|:T]` and db.labels().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import neo4j, { type Driver } from 'neo4j-driver';
import { startTestServer, type TestServer } from './support/harness.js';

describe('answers of issue #18 through the driver', () => {
  let server: TestServer;
  let driver: Driver;
  before(async () => {
    server = await startTestServer();
    driver = server.driver();
  });
  after(async () => {
    await driver.close();
    await server.stop();
    server.cleanup();
  });

  async function one(query: string): Promise<unknown> {
    const { records } = await driver.executeQuery(query);
    return records[0]!.get(0);
  }

  it('builds a date from week fields and a zoned datetime in summer time', async () => {
    const d = await one('RETURN date({year: 1984, week: 10, dayOfWeek: 3})');
    assert.ok(neo4j.isDate(d));
    assert.equal(d.toString(), '1984-03-07');
    const dt = await one("RETURN datetime({year: 1984, ordinalDay: 202, hour: 12, timezone: 'Europe/Stockholm'})");
    assert.ok(neo4j.isDateTime(dt));
    assert.equal(dt.timeZoneId, 'Europe/Stockholm');
    assert.equal(Number(dt.month), 7);
    assert.equal(Number(dt.day), 20);
    assert.equal(Number(dt.timeZoneOffsetSeconds ?? NaN), 7200);
  });

  it('returns duration.between as months, days and seconds kept apart', async () => {
    const d = await one("RETURN duration.between(date('1984-10-11'), date('2015-06-24'))");
    assert.ok(neo4j.isDuration(d));
    assert.deepEqual([Number(d.months), Number(d.days), Number(d.seconds), Number(d.nanoseconds)], [368, 13, 0, 0]);
    const s = await one("RETURN duration.inSeconds(datetime({year: 2017, month: 10, day: 29, hour: 0, timezone: 'Europe/Stockholm'}), localdatetime({year: 2017, month: 10, day: 29, hour: 4}))");
    assert.ok(neo4j.isDuration(s));
    assert.equal(Number(s.seconds), 5 * 3600);
  });

  it('renders a negative fractional duration as Neo4j does and orders NaN as false', async () => {
    assert.equal(await one('RETURN toString(duration({seconds: -2, milliseconds: 1}))'), 'PT-1.999S');
    assert.equal(await one('RETURN 0.0 / 0.0 > 1'), false);
    assert.equal(await one('RETURN date.realtime(null)'), null);
  });

  it('sorts after an aggregating WITH, matches [:T|:T] once and lists labels in use', async () => {
    await driver.executeQuery("CREATE ({name: 'A'}), ({name: 'A'}), ({name: 'B'}), ({name: 'C'}), ({name: 'C'}), (:Gone), (:X)-[:T]->(:Y)");
    await driver.executeQuery('MATCH (g:Gone) DELETE g');
    const { records } = await driver.executeQuery("MATCH (a) WHERE a.name IS NOT NULL WITH a.name AS name, count(*) AS cnt ORDER BY a.name + 'C' DESC LIMIT 1 RETURN name, cnt");
    assert.deepEqual(records.map((r) => [r.get('name'), Number(r.get('cnt'))]), [['C', 2]]);
    for (let i = 0; i < 5; i++) {
      const m = await driver.executeQuery('MATCH (a)-[:T|:T]->(b) RETURN b');
      assert.equal(m.records.length, 1, `run ${i}`);
      await new Promise((r) => setTimeout(r, 20)); // lets the store apply the writes behind the log
    }
    const labels = await driver.executeQuery('CALL db.labels() YIELD label RETURN label');
    assert.deepEqual(labels.records.map((r) => r.get('label')), ['X', 'Y']);
  });
});
