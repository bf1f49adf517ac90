import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuiverError } from '../../util/errors.js';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { databaseIdA, databaseIdB } from '../artifact/artifact-test-fixtures.js';
import { artifact, catalogOf, commitTimeOf } from './plan-test-fixtures.js';
import { planRestore, type RestoreRequest } from './restore-plan.js';
import type { RestoreUntil } from './restore-until.js';

function request(infos: ArtifactInfo[], overrides: Partial<RestoreRequest> = {}): RestoreRequest {
  return { catalog: catalogOf(infos), namedArtifact: undefined, sourceDatabase: undefined, until: null, ...overrides };
}

const names = (infos: readonly ArtifactInfo[]): string[] => infos.map((i) => i.name);
const tx = (txId: number): RestoreUntil => ({ kind: 'tx', txId });
const time = (epochMs: number): RestoreUntil => ({ kind: 'time', epochMs, text: new Date(epochMs).toISOString() });

/** Asserts that planning fails with `code` and a message matching every pattern. */
function assertRefused(req: RestoreRequest, code: QuiverError['code'], ...patterns: RegExp[]): QuiverError {
  let caught: QuiverError | undefined;
  assert.throws(
    () => planRestore(req),
    (e: unknown) => {
      assert.ok(e instanceof QuiverError, `expected a QuiverError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      for (const p of patterns) assert.match(e.message, p);
      caught = e;
      return true;
    },
  );
  return caught!;
}

describe('planRestore', () => {
  it('restores a single full artifact on its own', () => {
    const full = artifact('f1', 'FULL', 1, 10);
    const step = planRestore(request([full], { namedArtifact: 'f1' }));
    assert.deepEqual(names(step.artifacts), ['f1']);
    assert.deepEqual([step.sourceDatabase, step.databaseId, step.chainHighestTx], ['neo4j', databaseIdA, 10]);
  });

  it('given a differential, restores the chain that ends at it and nothing after it', () => {
    const infos = [artifact('f1', 'FULL', 1, 10), artifact('d1', 'DIFF', 11, 20, { parent: 'f1' }), artifact('d2', 'DIFF', 21, 30, { parent: 'd1' }), artifact('d3', 'DIFF', 31, 40, { parent: 'd2' })];
    const step = planRestore(request(infos, { namedArtifact: 'd2' }));
    assert.deepEqual(names(step.artifacts), ['f1', 'd1', 'd2']);
    assert.equal(step.chainHighestTx, 30);
  });

  it('given a full artifact of a longer chain, restores that full artifact only', () => {
    const infos = [artifact('f1', 'FULL', 1, 10), artifact('d1', 'DIFF', 11, 20, { parent: 'f1' })];
    assert.deepEqual(names(planRestore(request(infos, { namedArtifact: 'f1' })).artifacts), ['f1']);
  });

  it('given a folder, restores the newest chain to its end', () => {
    const infos = [
      artifact('f1', 'FULL', 1, 10),
      artifact('d1', 'DIFF', 11, 20, { parent: 'f1' }),
      artifact('f2', 'FULL', 1, 25),
      artifact('d2', 'DIFF', 26, 30, { parent: 'f2' }),
      artifact('e1', 'DIFF', 0, 0, { parent: 'd2' }),
    ];
    const step = planRestore(request(infos));
    assert.deepEqual(names(step.artifacts), ['f2', 'd2']);
    assert.equal(step.chainHighestTx, 30);
  });

  it('continues a full artifact written by aggregate-backup with the differentials taken before it', () => {
    // aggregate-backup of f1..d2 (named d2) removed them and wrote agg, which is newer than d3.
    const d3 = artifact('d3', 'DIFF', 31, 40, { parent: 'd2' });
    const d4 = artifact('d4', 'DIFF', 41, 50, { parent: 'd3' });
    const agg = artifact('agg', 'FULL', 1, 30);
    const step = planRestore(request([d3, d4, agg]));
    assert.deepEqual(names(step.artifacts), ['agg', 'd3', 'd4']);
    assert.equal(step.chainHighestTx, 50);
    assert.deepEqual(names(planRestore(request([d3, d4, agg], { until: tx(45) })).artifacts), ['agg', 'd3', 'd4']);
  });

  it('picks the newest chain by time when the same name has several database ids (the database was recreated)', () => {
    // databaseIdA sorts after databaseIdB; the newer database must win anyway.
    const old = artifact('old', 'FULL', 1, 50, { databaseId: databaseIdA });
    const recreated = artifact('new', 'FULL', 1, 5, { databaseId: databaseIdB });
    assert.ok(databaseIdA > databaseIdB);
    const step = planRestore(request([old, recreated]));
    assert.deepEqual(names(step.artifacts), ['new']);
    assert.equal(step.databaseId, databaseIdB);
  });

  it('with backups of several databases, needs --source-database and then uses it', () => {
    const infos = [artifact('a1', 'FULL', 1, 10, { databaseName: 'alpha', databaseId: databaseIdA }), artifact('b1', 'FULL', 1, 7, { databaseName: 'beta', databaseId: databaseIdB })];
    const e = assertRefused(request(infos), 'UsageInvalid', /several databases \(alpha, beta\)/);
    assert.match(e.hint ?? '', /--source-database=<name>/);
    assert.deepEqual(names(planRestore(request(infos, { sourceDatabase: 'beta' })).artifacts), ['b1']);
    assert.deepEqual(names(planRestore(request(infos, { sourceDatabase: 'ALPHA' })).artifacts), ['a1']);
    assertRefused(request(infos, { sourceDatabase: 'gamma' }), 'TargetInvalid', /"gamma"/, /found: alpha, beta/);
  });

  it('with backups of several databases, takes the one named as the restore target when it is among them', () => {
    const infos = [artifact('a1', 'FULL', 1, 10, { databaseName: 'alpha', databaseId: databaseIdA }), artifact('b1', 'FULL', 1, 7, { databaseName: 'beta', databaseId: databaseIdB })];
    assert.deepEqual(names(planRestore(request(infos, { targetName: 'beta' })).artifacts), ['b1']);
    assertRefused(request(infos, { targetName: 'copy' }), 'UsageInvalid', /several databases/);
  });

  it('refuses an empty folder', () => {
    const e = assertRefused(request([]), 'TargetInvalid', /no backup artifacts/);
    assert.ok(e.hint);
  });

  describe('with --restore-until', () => {
    const chain = () => [artifact('f1', 'FULL', 1, 10), artifact('d1', 'DIFF', 11, 20, { parent: 'f1' }), artifact('d2', 'DIFF', 21, 30, { parent: 'd1' })];

    it('uses the chain whose full artifact lies before the point, and only the differentials the point needs', () => {
      const step = planRestore(request(chain(), { until: tx(15) }));
      assert.deepEqual(names(step.artifacts), ['f1', 'd1']);
      assert.equal(step.pointInChain, true);
      assert.deepEqual(names(planRestore(request(chain(), { until: tx(11) })).artifacts), ['f1']);
      assert.deepEqual(names(planRestore(request(chain(), { until: tx(21) })).artifacts), ['f1', 'd1']);
      assert.deepEqual(names(planRestore(request(chain(), { until: tx(22) })).artifacts), ['f1', 'd1', 'd2']);
      assert.deepEqual(names(planRestore(request(chain(), { until: tx(31) })).artifacts), ['f1', 'd1', 'd2']);
      // By time: a differential is needed while the one before it ends before the point.
      assert.deepEqual(names(planRestore(request(chain(), { until: time(commitTimeOf(10) + 1) })).artifacts), ['f1', 'd1']);
      assert.deepEqual(names(planRestore(request(chain(), { until: time(commitTimeOf(20)) })).artifacts), ['f1', 'd1']);
      assert.deepEqual(names(planRestore(request(chain(), { until: time(commitTimeOf(20) + 1) })).artifacts), ['f1', 'd1', 'd2']);
    });

    it('refuses a point before the full artifact\'s highest transaction: ChainBroken naming it', () => {
      for (const until of [tx(10), tx(2), time(commitTimeOf(10)), time(commitTimeOf(3))]) {
        const e = assertRefused(request(chain(), { until }), 'ChainBroken', /"f1" already contains transaction 10/);
        assert.match(e.hint ?? '', /older full backup|later --restore-until/);
      }
    });

    it('refuses it for a named artifact too', () => {
      assertRefused(request(chain(), { until: tx(5), namedArtifact: 'd2' }), 'ChainBroken', /"f1" already contains transaction 10/);
    });

    it('falls back to an older chain when the newest full artifact lies after the point', () => {
      const infos = [...chain(), artifact('f2', 'FULL', 1, 30), artifact('d3', 'DIFF', 31, 40, { parent: 'f2' })];
      assert.deepEqual(names(planRestore(request(infos, { until: tx(25) })).artifacts), ['f1', 'd1', 'd2']);
      assert.deepEqual(names(planRestore(request(infos, { until: tx(31) })).artifacts), ['f2']);
      assert.deepEqual(names(planRestore(request(infos, { until: tx(35) })).artifacts), ['f2', 'd3']);
      assert.deepEqual(names(planRestore(request(infos, { until: time(commitTimeOf(25)) })).artifacts), ['f1', 'd1', 'd2']);
    });

    it('refuses a point that falls between two chains, naming the transactions no differential holds', () => {
      // f1..d2 end at 30; the next chain's full already contains 45: transactions 31..45 are only in its snapshot.
      const infos = [...chain(), artifact('f2', 'FULL', 1, 45)];
      assertRefused(request(infos, { until: tx(38) }), 'ChainBroken', /31\.\.45/);
      assertRefused(request(infos, { until: time(commitTimeOf(38)) }), 'ChainBroken', /31\.\.45/);
      // At the chain's end exactly, the point is reachable.
      assert.deepEqual(names(planRestore(request(infos, { until: tx(31) })).artifacts), ['f1', 'd1', 'd2']);
    });

    it('past the end of the newest chain, plans the whole chain (restore then reports it)', () => {
      const step = planRestore(request(chain(), { until: tx(1_000) }));
      assert.deepEqual(names(step.artifacts), ['f1', 'd1', 'd2']);
      assert.equal(step.pointInChain, false);
      assert.deepEqual(names(planRestore(request(chain(), { until: time(commitTimeOf(1_000)) })).artifacts), ['f1', 'd1', 'd2']);
    });
  });

  describe('with a gap in the middle of a chain', () => {
    // d2 (21..30) is missing: d3 cannot join.
    const gapped = () => [artifact('f1', 'FULL', 1, 10), artifact('d1', 'DIFF', 11, 20, { parent: 'f1' }), artifact('d3', 'DIFF', 31, 40, { parent: 'd2' })];

    it('refuses the folder, naming the missing range and the artifact after it', () => {
      const e = assertRefused(request(gapped()), 'ChainBroken', /transactions 21\.\.30 are missing/, /"d3"/);
      assert.match(e.hint ?? '', /"d1"/);
    });

    it('refuses the artifact after the gap when it is named', () => {
      assertRefused(request(gapped(), { namedArtifact: 'd3' }), 'ChainBroken', /cannot restore "d3"/, /21\.\.30 are missing/);
    });

    it('refuses a point beyond the gap', () => {
      assertRefused(request(gapped(), { until: tx(35) }), 'ChainBroken', /21\.\.30 are missing/);
      assertRefused(request(gapped(), { until: time(commitTimeOf(35)) }), 'ChainBroken', /21\.\.30 are missing/);
    });

    it('still restores up to the artifact before the gap, named or as a point before it', () => {
      assert.deepEqual(names(planRestore(request(gapped(), { namedArtifact: 'd1' })).artifacts), ['f1', 'd1']);
      assert.deepEqual(names(planRestore(request(gapped(), { until: tx(21) })).artifacts), ['f1', 'd1']);
      assert.deepEqual(names(planRestore(request(gapped(), { until: tx(15) })).artifacts), ['f1', 'd1']);
    });

    it('ignores a gap in an older chain when a newer complete chain is restored', () => {
      const infos = [...gapped(), artifact('f2', 'FULL', 1, 50), artifact('d4', 'DIFF', 51, 60, { parent: 'f2' })];
      assert.deepEqual(names(planRestore(request(infos)).artifacts), ['f2', 'd4']);
    });
  });
});
