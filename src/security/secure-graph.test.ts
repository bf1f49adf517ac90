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
});
