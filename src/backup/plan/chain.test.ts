import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { databaseIdA, databaseIdB } from '../artifact/artifact-test-fixtures.js';
import { analyseChain, type Catalog } from './chain.js';
import { artifact, catalogOf, checksumOf } from './plan-test-fixtures.js';

const names = (infos: ArtifactInfo[]) => infos.map((info) => info.name);

const catalog = catalogOf;

const leftOut = (c: Catalog) => analyseChain(c, { databaseName: 'neo4j' })!.leftOut.map((l) => [l.name, l.kind, l.hidesNewer]);

describe('the chain model', () => {
  it('links a FULL and the DIFFs that continue it, in order, whatever order they are given in', () => {
    const full = artifact('f1', 'FULL', 1, 10);
    const d1 = artifact('d1', 'DIFF', 11, 20, { parent: 'f1' });
    const d2 = artifact('d2', 'DIFF', 21, 30, { parent: 'd1' });
    const c = catalog([d2, full, d1]);
    assert.equal(c.checksumsInside.size, 0, 'contiguous DIFFs need no record read');
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.deepEqual(names(a.path), ['f1', 'd1', 'd2']);
    assert.deepEqual([a.tip.tx, a.tip.checksum, a.tip.artifact.name], [30, checksumOf(30), 'd2']);
    assert.deepEqual([a.forks, a.leftOut], [[], []]);
  });

  it('leaves empty DIFFs out, saying why, and never links through them', () => {
    const full = artifact('f1', 'FULL', 1, 10);
    const empty = artifact('e1', 'DIFF', 0, 0, { parent: 'f1', parentHighestTx: 10 });
    const d1 = artifact('d1', 'DIFF', 11, 12, { parent: 'f1' });
    const d2 = artifact('d2', 'DIFF', 13, 15, { parent: 'd1' });
    const c = catalog([full, empty, d1, d2]);
    assert.deepEqual(names(analyseChain(c, { databaseName: 'neo4j' })!.path), ['f1', 'd1', 'd2']);
    assert.deepEqual(leftOut(c), [['e1', 'empty', false]]);
  });

  it('marks a DIFF after a gap as hiding newer transactions, naming the missing ones', () => {
    const c = catalog([artifact('f1', 'FULL', 1, 10), artifact('d1', 'DIFF', 11, 20, { parent: 'f1' }), artifact('d3', 'DIFF', 31, 40, { parent: 'd2' })]);
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.equal(a.tip.tx, 20);
    assert.deepEqual(a.leftOut.map((l) => [l.kind, l.hidesNewer, l.reason]), [
      ['gap', true, 'DIFF artifact "d3" starts at tx 31 but "d1" ends at tx 20: transactions 21..30 are missing'],
    ]);
  });

  it('reports a newer DIFF whose parent checksum differs as another history, a fork', () => {
    const c = catalog([artifact('f1', 'FULL', 1, 10), artifact('d1', 'DIFF', 11, 20, { parent: 'f1', parentChecksum: 12345 })]);
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.equal(a.tip.tx, 10);
    assert.deepEqual(a.leftOut.map((l) => [l.kind, l.hidesNewer]), [['otherHistory', true]]);
    assert.match(a.forks[0]!.message, /"d1" follows a different history: its chain checksum of tx 10 is 12345/);
  });

  it('continues through a DIFF that starts inside the covered range when its record at the join point chains', () => {
    // An aggregated FULL (tx 1..10) and a DIFF taken before it that starts at tx 5.
    const d = artifact('d1', 'DIFF', 5, 20, { parent: 'old', parentHighestTx: 4 });
    const f = artifact('f-agg', 'FULL', 1, 10);
    const c = catalog([d, f]);
    assert.deepEqual([...c.checksumsInside.get(d.uri)!.keys()], [10]);
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.deepEqual(names(a.path), ['f-agg', 'd1']);
    assert.equal(a.tip.tx, 20);
  });

  it('does not continue through an overlapping DIFF whose record at the join point is another history', () => {
    const d = artifact('d1', 'DIFF', 5, 20, { parent: 'old', parentHighestTx: 4 });
    const f = artifact('f-agg', 'FULL', 1, 10);
    const c = catalog([d, f], { d1: { 10: 999 } });
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.equal(a.tip.tx, 10);
    // Older than the root: an earlier history, listed but not blocking.
    assert.deepEqual(a.leftOut.map((l) => [l.name, l.kind, l.hidesNewer]), [['d1', 'earlierHistory', false]]);
  });

  it('follows the longer of two sibling DIFFs of one history (two backups that raced)', () => {
    const f = artifact('f1', 'FULL', 1, 5);
    const short = artifact('d6', 'DIFF', 6, 6, { parent: 'f1' });
    const long = artifact('d67', 'DIFF', 6, 7, { parent: 'f1' });
    const next = artifact('d8', 'DIFF', 8, 8, { parent: 'd67' });
    const c = catalog([f, short, long, next]);
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.deepEqual(names(a.path), ['f1', 'd67', 'd8']);
    assert.equal(a.tip.tx, 8);
    assert.deepEqual(leftOut(c), [['d6', 'covered', false]]);
  });

  it('refuses to choose between sibling DIFFs of two histories (a fork)', () => {
    const f = artifact('f1', 'FULL', 1, 3);
    const original = artifact('d4-6', 'DIFF', 4, 6, { parent: 'f1' });
    const diverged = artifact('d4-7', 'DIFF', 4, 7, { parent: 'f1' });
    const c = catalog([f, original, diverged], { 'd4-7': { 6: 4242 } });
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.equal(a.forks.length, 1);
    assert.equal(a.forks[0]!.tx, 6);
    assert.deepEqual(a.forks[0]!.branches, ['d4-6', 'd4-7']);
  });

  it('after aggregating in the middle of a chain, a DIFF of the new FULL and the old one after it both continue it', () => {
    // FULL(1..3) written by aggregate (time of the DIFF it ended at), DIFF(4) kept, DIFF(4..5) by a later AUTO.
    const agg = artifact('f-agg', 'FULL', 1, 3);
    const d4 = artifact('d4', 'DIFF', 4, 4, { parent: 'd3' });
    const d45 = artifact('d4-5', 'DIFF', 4, 5, { parent: 'f-agg' });
    const c = catalog([agg, d4, d45]);
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.equal(a.tip.tx, 5);
    assert.deepEqual(names(a.path), ['f-agg', 'd4-5']);
    assert.deepEqual(a.forks, []);
  });

  it('lets the newest FULL choose the database id, and lists the other id\'s artifacts', () => {
    const fullA = artifact('a-full', 'FULL', 1, 10);
    const diffA = artifact('a-diff', 'DIFF', 11, 30, { parent: 'a-full' });
    const fullB = artifact('b-full', 'FULL', 1, 10, { databaseId: databaseIdB });
    const diffB = artifact('b-diff', 'DIFF', 11, 12, { databaseId: databaseIdB, parent: 'b-full' });
    const c = catalog([fullA, diffA, fullB, diffB]);
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.equal(a.databaseId, databaseIdB);
    assert.deepEqual(names(a.path), ['b-full', 'b-diff']);
    assert.deepEqual(leftOut(c), [['a-full', 'otherDatabaseId', false], ['a-diff', 'otherDatabaseId', false]]);
    // AUTO asks by id.
    assert.deepEqual(names(analyseChain(c, { databaseId: databaseIdA })!.path), ['a-full', 'a-diff']);
  });

  it('after a restore to an earlier state, the newer FULL starts the chain and older artifacts past it are an earlier history', () => {
    const f1 = artifact('f1', 'FULL', 1, 5);
    const d1 = artifact('d1', 'DIFF', 6, 10, { parent: 'f1' });
    const restarted = artifact('f2', 'FULL', 1, 7, { checksum: 777 });
    const c = catalog([f1, d1, restarted], { d1: { 7: checksumOf(7) } });
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.deepEqual(names(a.path), ['f2']);
    assert.deepEqual(a.forks, []);
    assert.deepEqual(leftOut(c), [['f1', 'otherFull', false], ['d1', 'earlierHistory', false]]);
  });

  it('a DIFF with no FULL of its id cannot start a chain', () => {
    const c = catalog([artifact('d-a', 'DIFF', 11, 12, { parent: 'f' })]);
    assert.equal(analyseChain(c, { databaseName: 'neo4j' }), null);
  });

  it('ends the path at a named artifact, ignoring forks elsewhere', () => {
    const f = artifact('f1', 'FULL', 1, 3);
    const original = artifact('d4-6', 'DIFF', 4, 6, { parent: 'f1' });
    const diverged = artifact('d4-7', 'DIFF', 4, 7, { parent: 'f1' });
    const c = catalog([f, original, diverged], { 'd4-7': { 6: 4242 } });
    const a = analyseChain(c, { databaseName: 'neo4j', endAt: diverged })!;
    assert.deepEqual(names(a.path), ['f1', 'd4-7']);
    assert.deepEqual(a.forks, []);
  });
});

describe('unreadable artifacts', () => {
  it('one taken in the root FULL\'s second or later may hide newer transactions, whatever the name order', () => {
    // aggregate-backup dates its FULL at the DIFF it ends with, but names it with the next free
    // suffix of that second: a DIFF taken in the same second sorts before it by name.
    const root = artifact('neo4j-2024-01-01T00-10-00_002.backup', 'FULL', 1, 10);
    root.header.createdAt = '2024-01-01T00:10:00.400Z';
    const c: Catalog = {
      artifacts: [root],
      unreadable: [
        { name: 'neo4j-2024-01-01T00-10-00_001.backup', uri: 'file:///b/1', message: 'artifact is truncated' },
        { name: 'neo4j-2024-01-01T00-09-59.backup', uri: 'file:///b/0', message: 'artifact is truncated' },
      ],
      checksumsInside: new Map(),
    };
    const a = analyseChain(c, { databaseName: 'neo4j' })!;
    assert.deepEqual(a.leftOut.map((l) => [l.name, l.kind, l.hidesNewer]), [
      ['neo4j-2024-01-01T00-10-00_001.backup', 'unreadable', true],
      ['neo4j-2024-01-01T00-09-59.backup', 'unreadable', false],
    ]);
  });
});
