/**
 * A read transaction sees the indexes of its own snapshot. An index created (or dropped) after the
 * transaction began must not steer its seeks: the snapshot has no entries for the new index, so a
 * seek through it would find nothing where the nodes are there — a wrong answer without an error.
 * Real server, official driver, explicit READ transactions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import neo4j, { type Driver } from 'neo4j-driver';
import { sleep } from './support/bolt-raw.js';
import { startTestServer, type TestServer } from './support/harness.js';

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

async function indexOnline(name: string, present: boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const r = await driver.executeQuery('SHOW INDEXES YIELD name, state WHERE name = $name RETURN state', { name });
    if (present ? r.records[0]?.get('state') === 'ONLINE' : r.records.length === 0) return;
    await sleep(25);
  }
  assert.fail(`index ${name} did not become ${present ? 'ONLINE' : 'absent'}`);
}

async function waitApplied(): Promise<void> {
  // A write after the schema change, read back: the schema change's apply is then done too.
  await driver.executeQuery('CREATE (:Marker)');
  await sleep(100);
}

test('an index created after a read transaction began is not used by it: its seek still finds the nodes', async () => {
  await driver.executeQuery('UNWIND range(1, 50) AS i CREATE (:Item {k: i})');
  const session = driver.session({ defaultAccessMode: neo4j.session.READ });
  const tx = session.beginTransaction();
  try {
    const before = await tx.run('MATCH (n:Item) RETURN count(n) AS c');
    assert.equal(before.records[0]!.get('c').toNumber(), 50);
    await driver.executeQuery('CREATE INDEX item_k FOR (n:Item) ON (n.k)');
    await indexOnline('item_k', true);
    await waitApplied();
    const seek = await tx.run('MATCH (n:Item {k: 7}) RETURN n.k AS k');
    assert.deepEqual(seek.records.map((r) => r.get('k').toNumber()), [7], 'the node is in the transaction\'s snapshot');
    const range = await tx.run('MATCH (n:Item) WHERE n.k > 47 RETURN n.k AS k ORDER BY k');
    assert.deepEqual(range.records.map((r) => r.get('k').toNumber()), [48, 49, 50]);
  } finally {
    await tx.close();
    await session.close();
  }
  // A new transaction sees the index and finds the same.
  const after_ = await driver.executeQuery('MATCH (n:Item {k: 7}) RETURN n.k AS k');
  assert.equal(after_.records.length, 1);
});

test('an index dropped after a read transaction began: its seeks keep finding the nodes', async () => {
  await driver.executeQuery('UNWIND range(1, 20) AS i CREATE (:Thing {k: i})');
  await driver.executeQuery('CREATE INDEX thing_k FOR (n:Thing) ON (n.k)');
  await indexOnline('thing_k', true);
  await waitApplied();
  const session = driver.session({ defaultAccessMode: neo4j.session.READ });
  const tx = session.beginTransaction();
  try {
    await tx.run('MATCH (n:Thing) RETURN count(n) AS c');
    await driver.executeQuery('DROP INDEX thing_k');
    await indexOnline('thing_k', false);
    await waitApplied();
    const seek = await tx.run('MATCH (n:Thing {k: 3}) RETURN n.k AS k');
    assert.deepEqual(seek.records.map((r) => r.get('k').toNumber()), [3]);
  } finally {
    await tx.close();
    await session.close();
  }
});
