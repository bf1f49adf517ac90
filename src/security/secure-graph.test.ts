import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GraphWrite } from '../kernel/api.js';
import { openScratchDatabase } from '../kernel/testing.js';
import { DatabasePermissions } from './permissions.js';
import type { Privilege } from './privilege-model.js';
import { parsePrivilege } from './privilege-parse.js';
import { secureGraph } from './secure-graph.js';

function perms(...commands: Array<['GRANT' | 'DENY', string]>): DatabasePermissions {
  const privileges: Privilege[] = commands.flatMap(([verb, text]) =>
    parsePrivilege(verb, text).privileges.map((p) => ({ ...p, access: verb === 'GRANT' ? ('GRANTED' as const) : ('DENIED' as const), role: 'r' })),
  );
  return new DatabasePermissions({ user: 'u', roles: ['PUBLIC', 'r'] }, 'scratch', privileges);
}

describe('secure graph', () => {
  it('hides denied nodes from scans, label scans, index seeks, expansions and counts', async () => {
    const s = await openScratchDatabase();
    try {
      const w = await s.db.beginWrite();
      const a = w.createNode(['Public'], new Map<string, string>([['name', 'a'], ['secret', 'x']]));
      const b = w.createNode(['Secret'], new Map([['name', 'b']]));
      w.createRelationship('LINK', a, b, new Map());
      w.createIndex(null, 'Public', 'secret', false);
      await w.commit();
      const r = s.db.beginRead();
      const g = secureGraph(r, perms(['GRANT', 'MATCH {*} ON GRAPH *'], ['DENY', 'TRAVERSE ON GRAPH * NODES Secret'], ['DENY', 'READ {secret} ON GRAPH * NODES Public']));
      assert.deepEqual([...g.allNodeIds()], [a]);
      assert.deepEqual([...g.nodeIdsByLabel('Secret')], []);
      assert.equal(g.getNode(b), undefined);
      assert.equal(g.countNodes(), 1);
      assert.deepEqual([...g.relationshipsOf(a, 'both')], []);
      assert.deepEqual([...g.allRelationshipIds()], []);
      assert.deepEqual([...g.getNode(a)!.properties.keys()], ['name']);
      assert.deepEqual([...(g.indexSeek('Public', 'secret', 'x') ?? [])], [], 'an index seek must not reveal an unreadable property');
      assert.deepEqual(g.labels(), ['Public']);
      r.close();
    } finally {
      await s.close();
    }
  });

  it('refuses writes per operation with Neo4j\'s message and leaves allowed ones alone', async () => {
    const s = await openScratchDatabase();
    try {
      const seed = await s.db.beginWrite();
      seed.createNode(['Known'], new Map([['name', 'k']]));
      await seed.commit();
      const w = await s.db.beginWrite();
      const g = secureGraph(w, perms(['GRANT', 'MATCH {*} ON GRAPH *'], ['GRANT', 'WRITE ON GRAPH *'], ['DENY', 'CREATE ON GRAPH * NODES Secret'])) as GraphWrite;
      g.createNode(['Known'], new Map([['name', 'ok']]));
      assert.throws(() => g.createNode(['Known', 'Secret'], new Map()), {
        message: "Create node with labels 'Known:Secret' on database 'scratch' is not allowed for user 'u' with roles [PUBLIC, r].",
      });
      assert.throws(() => g.createNode(['Unknown'], new Map()), /Create new node label 'Unknown'/);
      assert.throws(() => g.createNode(['Known'], new Map([['newKey', 1n]])), /Create new property name 'newKey'/);
      assert.throws(() => g.createIndex(null, 'Known', 'name', false), /Schema operation 'create index'/);
      w.rollback();
    } finally {
      await s.close();
    }
  });

  it('decides writes once only for a user every write is granted to: any DENY or narrower grant keeps each write checked', () => {
    assert.equal(perms(['GRANT', 'WRITE ON GRAPH *']).fullWrite, true);
    assert.equal(perms(['GRANT', 'ALL GRAPH PRIVILEGES ON GRAPH *']).fullWrite, true);
    assert.equal(perms(['GRANT', 'WRITE ON GRAPH *'], ['DENY', 'SET PROPERTY {secret} ON GRAPH * NODES Person']).fullWrite, false);
    assert.equal(perms(['GRANT', 'WRITE ON GRAPH *'], ['DENY', 'CREATE ON GRAPH * NODES Secret']).fullWrite, false);
    assert.equal(perms(['GRANT', 'WRITE ON GRAPH *'], ['DENY', 'ALL GRAPH PRIVILEGES ON GRAPH *']).fullWrite, false);
    assert.equal(perms(['GRANT', 'CREATE ON GRAPH * NODES Person']).fullWrite, false);
    assert.equal(perms(['GRANT', 'SET PROPERTY {name} ON GRAPH *'], ['GRANT', 'CREATE ON GRAPH *'], ['GRANT', 'DELETE ON GRAPH *']).fullWrite, false);
    assert.equal(perms(['GRANT', 'MATCH {*} ON GRAPH *']).fullWrite, false);
  });

  it('still refuses a denied write on the thousandth row, after as many allowed ones, and a new token after known ones', async () => {
    const s = await openScratchDatabase();
    try {
      const seed = await s.db.beginWrite();
      seed.createNode(['Person'], new Map<string, string>([['name', 'p'], ['secret', 's']]));
      seed.createNode(['Other'], new Map<string, string>([['name', 'o']]));
      await seed.commit();
      const w = await s.db.beginWrite();
      const denySecret = perms(['GRANT', 'MATCH {*} ON GRAPH *'], ['GRANT', 'WRITE ON GRAPH *'], ['GRANT', 'NAME MANAGEMENT ON DATABASE *'], ['DENY', 'SET PROPERTY {secret} ON GRAPH * NODES Person']);
      const g = secureGraph(w, denySecret) as GraphWrite;
      const labels = ['Person'];
      let person = 0;
      for (let i = 0; i < 1000; i++) {
        person = g.createNode(labels, new Map<string, string>([['name', `n${i}`]]));
        g.setNodeProperty(person, 'name', `m${i}`);
      }
      const denied = /Set property for property 'secret' on database 'scratch' is not allowed for user 'u' with roles \[PUBLIC, r\]\./;
      assert.throws(() => g.setNodeProperty(person, 'secret', 'x'), denied);
      assert.throws(() => g.createNode(labels, new Map([['secret', 'x']])), denied);
      assert.throws(() => g.replaceNodeProperties(person, new Map([['secret', 'x']])), denied);
      const other = g.createNode(['Other'], new Map([['secret', 'x']]));
      g.setNodeProperty(other, 'secret', 'y');
      w.rollback();

      // Every element write granted (WRITE ON GRAPH *), no NAME MANAGEMENT: names known before,
      // or seen once, pass; a name nobody created is still refused, on any row.
      const w2 = await s.db.beginWrite();
      const editor = perms(['GRANT', 'MATCH {*} ON GRAPH *'], ['GRANT', 'WRITE ON GRAPH *']);
      assert.equal(editor.fullWrite, true);
      const g2 = secureGraph(w2, editor) as GraphWrite;
      for (let i = 0; i < 1000; i++) g2.createNode(['Person'], new Map<string, string>([['name', `n${i}`]]));
      assert.throws(() => g2.createNode(['Person', 'Brand'], new Map()), /Create new node label 'Brand' on database 'scratch' is not allowed/);
      assert.throws(() => g2.createNode(['Person'], new Map([['brandNew', 1n]])), /Create new property name 'brandNew'/);
      assert.throws(() => g2.setNodeProperty(0, 'brandNew', 1n), /Create new property name 'brandNew'/);
      const a = g2.createNode(['Person'], new Map());
      assert.throws(() => g2.createRelationship('NEW_TYPE', a, a, new Map()), /Create new relationship type 'NEW_TYPE'/);
      w2.rollback();
    } finally {
      await s.close();
    }
  });
});
