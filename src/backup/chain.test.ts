import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArtifactInfo } from './artifact-info.js';
import { databaseIdA, databaseIdB } from './artifact-test-fixtures.js';
import { buildChains } from './chain.js';

let minute = 0;

/** An artifact description as readArtifactInfo would return it; each call is one minute later. */
function artifact(name: string, kind: 'FULL' | 'DIFF', lowestTx: number, highestTx: number, options: {
  databaseId?: string; parent?: string; parentHighestTx?: number; parentChecksum?: number; checksum?: number;
} = {}): ArtifactInfo {
  minute += 1;
  const empty = lowestTx === 0 && highestTx === 0;
  return {
    name,
    uri: `file:///backups/${name}`,
    sizeBytes: 1000,
    formatVersion: 1,
    headerCrc32: 0,
    header: {
      databaseName: 'neo4j',
      databaseId: options.databaseId ?? databaseIdA,
      storeId: 'store-1',
      kind,
      compressed: true,
      compression: 'zstd',
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, minute)).toISOString(),
      payloadFormat: kind === 'FULL' ? 'lmdb-pages-v1' : 'txlog-v1',
      parent: kind === 'FULL' ? null : {
        artifactName: options.parent ?? '',
        highestTx: options.parentHighestTx ?? lowestTx - 1,
        lastTxChecksum: options.parentChecksum ?? checksumOf(options.parentHighestTx ?? lowestTx - 1),
      },
      metadataCommands: [],
      includeMetadata: 'all',
      toolVersion: '0.1.0',
      blockRawBytes: 1 << 20,
    },
    trailer: {
      lowestTx,
      highestTx,
      highestTxCommitTimeMs: empty ? 0 : 1,
      txCount: empty ? 0 : highestTx - lowestTx + 1,
      payloadRawBytes: 0,
      payloadStoredBytes: 0,
      blockCount: 0,
      lastTxChecksum: options.checksum ?? (empty ? 0 : checksumOf(highestTx)),
      headerCrc32: 0,
      headerBytes: 100,
      sha256Hex: '00'.repeat(32),
    },
  };
}

/** The chain checksum the tests pretend transaction `tx` has. */
function checksumOf(tx: number): number {
  return (tx * 2654435761) >>> 0;
}

const names = (infos: ArtifactInfo[]) => infos.map((info) => info.name);

describe('buildChains', () => {
  it('links a FULL and the DIFFs that continue it, in order, whatever order they are given in', () => {
    const full = artifact('f1', 'FULL', 1, 10);
    const d1 = artifact('d1', 'DIFF', 11, 20, { parent: 'f1' });
    const d2 = artifact('d2', 'DIFF', 21, 30, { parent: 'd1' });
    const report = buildChains([d2, full, d1]);
    assert.deepEqual(report.problems, []);
    assert.equal(report.chains.length, 1);
    const [chain] = report.chains;
    assert.equal(chain?.full.name, 'f1');
    assert.deepEqual(names(chain?.diffs ?? []), ['d1', 'd2']);
    assert.deepEqual([chain?.lowestTx, chain?.highestTx, chain?.lastTxChecksum, chain?.tipName], [1, 30, checksumOf(30), 'd2']);
  });

  it('skips empty DIFFs when linking and keeps them with their chain', () => {
    const full = artifact('f1', 'FULL', 1, 10);
    const empty = artifact('e1', 'DIFF', 0, 0, { parent: 'f1', parentHighestTx: 10 });
    const d1 = artifact('d1', 'DIFF', 11, 12, { parent: 'f1' });
    const empty2 = artifact('e2', 'DIFF', 0, 0, { parent: 'd1', parentHighestTx: 12 });
    const d2 = artifact('d2', 'DIFF', 13, 15, { parent: 'd1' });
    const report = buildChains([full, empty, d1, empty2, d2]);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(names(report.chains[0]?.diffs ?? []), ['d1', 'd2']);
    assert.deepEqual(names(report.chains[0]?.emptyDiffs ?? []), ['e1', 'e2']);
    assert.equal(report.chains[0]?.highestTx, 15);
  });

  it('reports a gap: missing transactions between a chain and a DIFF', () => {
    const full = artifact('f1', 'FULL', 1, 10);
    const d1 = artifact('d1', 'DIFF', 11, 20, { parent: 'f1' });
    const lost = artifact('d3', 'DIFF', 31, 40, { parent: 'd2' });
    const report = buildChains([full, d1, lost]);
    assert.deepEqual(names(report.chains[0]?.diffs ?? []), ['d1']);
    assert.deepEqual(report.problems, [{
      kind: 'gap',
      databaseId: databaseIdA,
      artifact: 'd3',
      after: 'd1',
      expectedLowestTx: 21,
      lowestTx: 31,
      message: 'DIFF artifact "d3" starts at tx 31 but "d1" ends at tx 20: transactions 21..30 are missing',
    }]);
  });

  it('reports a broken link: the range lines up but the parent checksum differs', () => {
    const full = artifact('f1', 'FULL', 1, 10);
    const other = artifact('d1', 'DIFF', 11, 20, { parent: 'f1', parentChecksum: 12345 });
    const report = buildChains([full, other]);
    assert.deepEqual(report.chains[0]?.diffs, []);
    assert.deepEqual(report.problems, [{
      kind: 'brokenLink',
      databaseId: databaseIdA,
      artifact: 'd1',
      after: 'f1',
      expectedChecksum: checksumOf(10),
      actualChecksum: 12345,
      message: `DIFF artifact "d1" starts at tx 11 right after "f1", but its parent checksum 12345 differs from ${checksumOf(10)}: it follows a different history`,
    }]);
  });

  it('reports an overlap: a DIFF that starts inside transactions the chain has', () => {
    const report = buildChains([artifact('f1', 'FULL', 1, 10), artifact('d1', 'DIFF', 5, 20, { parent: 'f1', parentHighestTx: 4 })]);
    assert.equal(report.problems[0]?.kind, 'overlap');
    assert.equal(report.problems[0]?.message, 'DIFF artifact "d1" starts at tx 5, inside the transactions up to 10 that "f1" already covers');
  });

  it('keeps databases with different ids apart, even with the same name and ranges', () => {
    const fullA = artifact('a-full', 'FULL', 1, 10);
    const fullB = artifact('b-full', 'FULL', 1, 10, { databaseId: databaseIdB });
    const diffB = artifact('b-diff', 'DIFF', 11, 12, { databaseId: databaseIdB, parent: 'b-full' });
    const strayA = artifact('a-stray', 'DIFF', 11, 12, { parent: 'b-full', checksum: 1 });
    const report = buildChains([fullA, fullB, diffB, strayA]);
    assert.deepEqual(report.problems, []);
    const byId = new Map(report.chains.map((chain) => [chain.databaseId, chain]));
    assert.deepEqual(names(byId.get(databaseIdB)?.diffs ?? []), ['b-diff']);
    // The stray DIFF lines up with database A's FULL (same range and checksum), so it joins A, never B.
    assert.deepEqual(names(byId.get(databaseIdA)?.diffs ?? []), ['a-stray']);
  });

  it('reports a DIFF with no FULL of its database id before it', () => {
    const report = buildChains([artifact('f-b', 'FULL', 1, 10, { databaseId: databaseIdB }), artifact('d-a', 'DIFF', 11, 12, { parent: 'f-b' })]);
    assert.deepEqual(report.problems.map((p) => [p.kind, p.artifact, p.message]), [
      ['noFull', 'd-a', `DIFF artifact "d-a" has no FULL artifact of database id ${databaseIdA} before it`],
    ]);
  });

  it('starts a new chain at each FULL, and links each DIFF to the chain it continues', () => {
    const f1 = artifact('f1', 'FULL', 1, 10);
    const d1 = artifact('d1', 'DIFF', 11, 20, { parent: 'f1' });
    const f2 = artifact('f2', 'FULL', 1, 40);
    const d2 = artifact('d2', 'DIFF', 41, 50, { parent: 'f2' });
    const d1b = artifact('d1b', 'DIFF', 21, 30, { parent: 'd1' });
    const report = buildChains([f1, d1, f2, d2, d1b]);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.chains.map((chain) => [chain.full.name, names(chain.diffs)]), [['f1', ['d1', 'd1b']], ['f2', ['d2']]]);
  });
});
