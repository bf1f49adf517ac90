// Cypher behaviour that only a real server shows, through the official neo4j-driver against
// `bin/quiver console`: strings measured in code points whether they arrive as literals or as Bolt
// parameters (UTF-8 on the wire).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Driver } from 'neo4j-driver';
import { startTestServer, type TestServer } from './support/harness.js';

describe('Cypher through neo4j-driver against a real server', () => {
  let server: TestServer;
  let driver: Driver;

  before(async () => {
    server = await startTestServer();
    driver = server.driver();
  });
  after(async () => {
    await driver?.close();
    await server?.stop();
    server?.cleanup();
  });

  it('measures and cuts strings in code points, for literals and for parameters', async () => {
    const literal = await driver.executeQuery("RETURN size('😀a') AS n, substring('😀abc', 1) AS sub, left('😀abc', 2) AS l, reverse('a😀b') AS r");
    const row = literal.records[0]!;
    assert.deepEqual([row.get('n').toNumber(), row.get('sub'), row.get('l'), row.get('r')], [2, 'abc', '😀a', 'b😀a']);

    const params = await driver.executeQuery(
      'RETURN size($s) AS n, size($t) AS m, right($t, 2) AS r, split($t, "") AS chars, trim(BOTH $s FROM $t) AS trimmed',
      { s: '😀', t: '😀x𝄞😀' },
    );
    const p = params.records[0]!;
    assert.equal(p.get('n').toNumber(), 1);
    assert.equal(p.get('m').toNumber(), 4);
    assert.equal(p.get('r'), '𝄞😀');
    assert.deepEqual(p.get('chars'), ['😀', 'x', '𝄞', '😀']);
    assert.equal(p.get('trimmed'), 'x𝄞');
  });

  it('stores a non-BMP property and reads it back measured in code points', async () => {
    await driver.executeQuery('CREATE (:Emoji {s: $s})', { s: 'a😀' });
    const { records } = await driver.executeQuery('MATCH (e:Emoji) RETURN e.s AS s, size(e.s) AS n, substring(e.s, 1) AS tail');
    assert.deepEqual([records[0]!.get('s'), records[0]!.get('n').toNumber(), records[0]!.get('tail')], ['a😀', 2, '😀']);
  });
});
