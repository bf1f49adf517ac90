import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { DatabasePermissions } from './permissions.js';
import { decide, privilegeCommand, privilegesOnDatabase, type Privilege } from './privilege-model.js';
import { parsePrivilege } from './privilege-parse.js';
import { builtInRoles } from './security-store.js';

/** The privileges a command creates for `role`. */
function privs(verb: 'GRANT' | 'DENY', text: string, role = 'r'): Privilege[] {
  return parsePrivilege(verb, text).privileges.map((p) => ({ ...p, access: verb === 'GRANT' ? 'GRANTED' : 'DENIED', role }));
}

function builtIn(role: string): Privilege[] {
  const def = builtInRoles.find((r) => r.role === role)!;
  return def.grants.flatMap((g) => privs('GRANT', g, role));
}

const node = (...labels: string[]) => ({ element: { kind: 'node' as const, labels } });

describe('privilege parser', () => {
  it('splits a command into one privilege per graph, segment and property', () => {
    const p = parsePrivilege('GRANT', 'READ {name, age} ON GRAPHS neo4j, Movies NODES Person').privileges;
    assert.equal(p.length, 4);
    assert.deepEqual(p[0], { action: 'read', resource: 'property(name)', graph: 'neo4j', segment: 'NODE(Person)' });
    assert.deepEqual(p[3], { action: 'read', resource: 'property(age)', graph: 'movies', segment: 'NODE(Person)' });
  });

  it('defaults the entity to ELEMENTS * and shows WRITE as two rows', () => {
    assert.deepEqual(parsePrivilege('GRANT', 'TRAVERSE ON GRAPH *').privileges.map((p) => p.segment), ['NODE(*)', 'RELATIONSHIP(*)']);
    assert.deepEqual(parsePrivilege('GRANT', 'WRITE ON GRAPH *').privileges.map((p) => `${p.action} ${p.resource} ${p.segment}`), ['write graph NODE(*)', 'write graph RELATIONSHIP(*)']);
  });

  it('parses database and DBMS privileges in their singular and plural forms', () => {
    assert.deepEqual(parsePrivilege('GRANT', 'ACCESS ON HOME DATABASE').privileges, [{ action: 'access', resource: 'database', graph: 'HOME', segment: 'database' }]);
    assert.equal(parsePrivilege('GRANT', 'INDEXES ON DATABASES *').privileges[0]!.action, 'index');
    assert.equal(parsePrivilege('GRANT', 'ALL DATABASE PRIVILEGES ON DATABASE neo4j').privileges[0]!.action, 'database_actions');
    assert.equal(parsePrivilege('GRANT', 'ROLE MANAGEMENT ON DBMS').privileges[0]!.action, 'role_management');
    assert.equal(parsePrivilege('GRANT', 'ALL DBMS PRIVILEGES ON DBMS').privileges[0]!.action, 'dbms_actions');
    assert.equal(parsePrivilege('GRANT', 'TRANSACTION MANAGEMENT (*) ON DATABASE *').privileges[0]!.segment, 'USER(*)');
  });

  it('resolves $parameters for database names and lowercases them', () => {
    const p = parsePrivilege('GRANT', 'ACCESS ON DATABASE $database', new Map([['database', 'Movies']])).privileges;
    assert.equal(p[0]!.graph, 'movies');
  });

  it('reads REVOKE GRANT / REVOKE DENY / REVOKE', () => {
    assert.equal(parsePrivilege('REVOKE', 'GRANT ACCESS ON DATABASE *').revokeAccess, 'GRANTED');
    assert.equal(parsePrivilege('REVOKE', 'DENY ACCESS ON DATABASE *').revokeAccess, 'DENIED');
    assert.equal(parsePrivilege('REVOKE', 'ACCESS ON DATABASE *').revokeAccess, null);
  });

  it('turns DENY MATCH on named properties into DENY READ, as Neo4j does', () => {
    assert.equal(parsePrivilege('DENY', 'MATCH {secret} ON GRAPH * NODES A').privileges[0]!.action, 'read');
    assert.equal(parsePrivilege('DENY', 'MATCH {*} ON GRAPH * NODES A').privileges[0]!.action, 'match');
  });

  it('refuses malformed privileges with a message naming what was expected', () => {
    for (const bad of ['TRAVERSE', 'TRAVERSE ON GRAPH', 'READ ON GRAPH *', 'FLY ON GRAPH *', 'ACCESS ON DBMS', 'WRITE ON GRAPH * NODES A', 'READ {a ON GRAPH *', 'ACCESS ON DATABASE `x']) {
      assert.throws(() => parsePrivilege('GRANT', bad), (e) => isQuiverError(e) && /privilege|Invalid/.test(e.message), bad);
    }
    assert.throws(() => parsePrivilege('DENY', 'MERGE {*} ON GRAPH *'), /DENY MERGE/);
    assert.throws(() => parsePrivilege('GRANT', 'IMMUTABLE ACCESS ON DATABASE *'), /IMMUTABLE/);
  });

  it('renders privileges back as the commands that create them', () => {
    const p = privs('GRANT', 'MATCH {*} ON GRAPH * NODES *', 'reader');
    assert.equal(privilegeCommand(p[0]!), 'GRANT MATCH {*} ON GRAPH * NODE * TO `reader`');
    assert.equal(privilegeCommand(privs('DENY', 'TRAVERSE ON GRAPH neo4j NODES Secret', 'bob')[0]!), 'DENY TRAVERSE ON GRAPH `neo4j` NODE `Secret` TO `bob`');
    assert.equal(privilegeCommand(privs('GRANT', 'ACCESS ON HOME DATABASE', 'PUBLIC')[0]!), 'GRANT ACCESS ON HOME DATABASE TO `PUBLIC`');
    assert.equal(privilegeCommand(privs('GRANT', 'ALL DBMS PRIVILEGES ON DBMS', 'admin')[0]!), 'GRANT ALL DBMS PRIVILEGES ON DBMS TO `admin`');
    assert.equal(privilegeCommand(privs('GRANT', 'SET LABEL A ON GRAPH g', 'r')[0]!), 'GRANT SET LABEL `A` ON GRAPH `g` TO `r`');
    assert.equal(privilegeCommand(privs('GRANT', 'ACCESS ON DATABASE neo4j', 'r')[0]!, { databaseParam: 'neo4j' }), 'GRANT ACCESS ON DATABASE $database TO `r`');
  });

  it('parses every rendered command back to the same privilege', () => {
    const all = builtInRoles.flatMap((r) => builtIn(r.role));
    all.push(...privs('DENY', 'READ {`odd name`} ON GRAPH `my-db` RELATIONSHIPS KNOWS'), ...privs('GRANT', 'REMOVE LABEL * ON GRAPH *'));
    for (const p of all) {
      const text = privilegeCommand(p).replace(/^(GRANT|DENY) /, '').replace(/ TO `[^`]*`$/, '');
      const back = parsePrivilege(p.access === 'GRANTED' ? 'GRANT' : 'DENY', text).privileges;
      assert.ok(back.some((b) => b.action === p.action && b.resource === p.resource && b.graph === p.graph && b.segment === p.segment), text);
    }
  });
});

describe('privilege decisions', () => {
  it('allows what a GRANT covers and nothing else', () => {
    const p = privs('GRANT', 'TRAVERSE ON GRAPH * NODES A');
    assert.equal(decide(p, 'traverse', node('A')), true);
    assert.equal(decide(p, 'traverse', node('B')), false);
    assert.equal(decide(p, 'traverse', node()), false);
    assert.equal(decide(p, 'read', { ...node('A'), property: 'x' }), false);
  });

  it('lets DENY win over GRANT, on any of a node\'s labels', () => {
    const p = [...privs('GRANT', 'MATCH {*} ON GRAPH *'), ...privs('DENY', 'TRAVERSE ON GRAPH * NODES Secret')];
    assert.equal(decide(p, 'traverse', node('Public')), true);
    assert.equal(decide(p, 'traverse', node('Public', 'Secret')), false);
    assert.equal(decide(p, 'read', { ...node('Secret'), property: 'x' }), true, 'READ is separate from TRAVERSE');
  });

  it('applies a DENY of a compound privilege to its parts', () => {
    const p = [...privs('GRANT', 'CREATE ON GRAPH *'), ...privs('DENY', 'WRITE ON GRAPH *')];
    assert.equal(decide(p, 'create_element', node('A')), false);
  });

  it('keeps elements traversable after DENY MATCH on one property', () => {
    const p = [...privs('GRANT', 'MATCH {*} ON GRAPH *'), ...privs('DENY', 'MATCH {salary} ON GRAPH * NODES Person')];
    assert.equal(decide(p, 'traverse', node('Person')), true);
    assert.equal(decide(p, 'read', { ...node('Person'), property: 'salary' }), false);
    assert.equal(decide(p, 'read', { ...node('Person'), property: 'name' }), true);
  });

  it('narrows privileges to a database: named, wildcard and HOME', () => {
    const p = [...privs('GRANT', 'ACCESS ON DATABASE a'), ...privs('GRANT', 'ACCESS ON HOME DATABASE', 'PUBLIC'), ...privs('GRANT', 'ROLE MANAGEMENT ON DBMS')];
    assert.equal(decide(privilegesOnDatabase(p, 'a', 'neo4j'), 'access'), true);
    assert.equal(decide(privilegesOnDatabase(p, 'neo4j', 'neo4j'), 'access'), true);
    assert.equal(decide(privilegesOnDatabase(p, 'b', 'neo4j'), 'access'), false);
    assert.equal(privilegesOnDatabase(p, 'a', 'neo4j').length, 1, 'DBMS privileges never apply to a database');
  });

  it('gives PUBLIC access to the home database only', () => {
    const p = builtIn('PUBLIC');
    assert.equal(decide(privilegesOnDatabase(p, 'neo4j', 'neo4j'), 'access'), true);
    assert.equal(decide(privilegesOnDatabase(p, 'other', 'neo4j'), 'access'), false);
    assert.equal(decide(privilegesOnDatabase(p, 'neo4j', 'neo4j'), 'traverse', node('A')), false);
  });

  it('gives the built-in roles Neo4j\'s capabilities', () => {
    const on = (role: string) => privilegesOnDatabase(builtIn(role), 'neo4j', 'neo4j');
    assert.equal(decide(on('reader'), 'read', { ...node('X'), property: 'p' }), true);
    assert.equal(decide(on('reader'), 'create_element', node('X')), false);
    assert.equal(decide(on('editor'), 'create_element', node('X')), true);
    assert.equal(decide(on('editor'), 'create_label'), false);
    assert.equal(decide(on('publisher'), 'create_label'), true);
    assert.equal(decide(on('publisher'), 'create_index'), false);
    assert.equal(decide(on('architect'), 'create_index'), true);
    assert.equal(decide(on('architect'), 'start_database'), false);
    assert.equal(decide(on('admin'), 'start_database'), true);
    assert.equal(decide(builtIn('admin'), 'create_user'), true);
    assert.equal(decide(builtIn('architect'), 'create_user'), false);
  });

  it('compiles permissions with a full-read fast path only when nothing is hidden', () => {
    const principal = { user: 'u', roles: ['PUBLIC', 'r'] };
    const full = new DatabasePermissions(principal, 'neo4j', privs('GRANT', 'MATCH {*} ON GRAPH *'));
    assert.equal(full.fullRead, true);
    const partial = new DatabasePermissions(principal, 'neo4j', [...privs('GRANT', 'MATCH {*} ON GRAPH *'), ...privs('DENY', 'READ {x} ON GRAPH * NODES A')]);
    assert.equal(partial.fullRead, false);
    assert.equal(partial.canReadNodeProperty(['A'], 'x'), false);
    assert.equal(partial.canReadNodeProperty(['B'], 'x'), true);
    assert.equal(partial.allowsOnNode('create_element', ['A', 'B']), false);
    assert.match(partial.forbidden("Create node with labels 'A'").message, /^Create node with labels 'A' on database 'neo4j' is not allowed for user 'u' with roles \[PUBLIC, r\]\.$/);
  });
});
