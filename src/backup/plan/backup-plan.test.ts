/**
 * Every rule of the AUTO / FULL / DIFF decision (backup-plan.ts), on hand-made listings: what the
 * server reports about one database and which artifacts the target already holds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { type BackupPlan, type ChainTip, planBackup, type RequestedType } from './backup-plan.js';
import { artifact as artifactInfo, catalogOf, checksumOf } from './plan-test-fixtures.js';
import type { RemoteDatabase } from '../protocol/protocol.js';

const idA = 'c8368b24-55e2-474d-bb41-75657f5bfcde';
const idB = '7dcb1d0c-4374-4476-b8ae-d3c3f124683f';

const needFull = 'Differential backups require that a full backup of the same database exists in the folder defined in --to-path.';

interface TestArtifact {
  info: ArtifactInfo;
}

function artifact(name: string, kind: 'FULL' | 'DIFF', lowestTx: number, highestTx: number, o: { id?: string; history?: number; parentHistory?: number; databaseName?: string } = {}): TestArtifact {
  return {
    info: artifactInfo(name, kind, lowestTx, highestTx, {
      ...(o.id ? { databaseId: o.id } : {}),
      ...(o.databaseName ? { databaseName: o.databaseName } : {}),
      ...(o.history !== undefined ? { history: o.history } : {}),
      ...(o.parentHistory !== undefined ? { parentHistory: o.parentHistory } : {}),
    }),
  };
}

function server(lastTx: number, o: { id?: string; oldestInLog?: number; history?: number } = {}): RemoteDatabase {
  return {
    name: 'neo4j',
    databaseId: o.id ?? idA,
    storeId: 'store-1',
    status: 'online',
    role: 'primary',
    lastCommittedTxId: lastTx,
    lastCommittedChecksum: checksumOf(lastTx, o.history),
    lastCommitTimeMs: 1,
    oldestTxIdInLog: o.oldestInLog ?? 1,
  };
}

function plan(type: RequestedType, db: RemoteDatabase, existing: TestArtifact[]): BackupPlan {
  return planBackup(type, db, catalogOf(existing.map((e) => e.info)));
}

function expectFull(p: BackupPlan): { fallbackReason: string | null; notes: string[] } {
  assert.equal(p.type, 'FULL', JSON.stringify(p));
  if (p.type !== 'FULL') throw new Error('unreachable');
  return p;
}

function expectDiff(p: BackupPlan): { parent: ChainTip; fromTxId: number } {
  assert.equal(p.type, 'DIFF', JSON.stringify(p));
  if (p.type !== 'DIFF') throw new Error('unreachable');
  return p;
}

function expectFail(p: BackupPlan): { message: string; hint: string } {
  assert.equal(p.type, 'FAIL', JSON.stringify(p));
  if (p.type !== 'FAIL') throw new Error('unreachable');
  return p;
}

describe('planBackup with no artifacts of the database', () => {
  it('AUTO takes a FULL, without a fallback reason (nothing failed)', () => {
    const p = expectFull(plan('AUTO', server(10), []));
    assert.equal(p.fallbackReason, null);
    assert.deepEqual(p.notes, []);
  });

  it('FULL takes a FULL', () => {
    assert.equal(expectFull(plan('FULL', server(10), [])).fallbackReason, null);
  });

  it("DIFF fails with Neo4j's message and says how to start a chain", () => {
    const p = expectFail(plan('DIFF', server(10), []));
    assert.equal(p.message, `Differential backup of database 'neo4j' failed. Reason: ${needFull}`);
    assert.match(p.hint, /--type=FULL/);
  });

  it('ignores artifacts of other databases (another id)', () => {
    const other = artifact('other-f', 'FULL', 1, 10, { id: idB, databaseName: 'other' });
    assert.equal(expectFull(plan('AUTO', server(10), [other])).fallbackReason, null);
    assert.equal(expectFail(plan('DIFF', server(10), [other])).message, `Differential backup of database 'neo4j' failed. Reason: ${needFull}`);
  });

  it('does not count empty DIFFs as a chain', () => {
    const empty = artifact('e', 'DIFF', 0, 0);
    assert.equal(expectFull(plan('AUTO', server(10), [empty])).fallbackReason, null);
    expectFail(plan('DIFF', server(10), [empty]));
  });
});

describe('planBackup on an existing chain', () => {
  it('makes a DIFF from the FULL when it is the only artifact', () => {
    const full = artifact('f', 'FULL', 1, 10);
    for (const type of ['AUTO', 'DIFF'] as const) {
      const p = expectDiff(plan(type, server(15), [full]));
      assert.equal(p.parent.name, 'f');
      assert.equal(p.fromTxId, 11);
    }
  });

  it('continues from the newest non-empty artifact, skipping empty DIFFs after it', () => {
    const f = artifact('f', 'FULL', 1, 10);
    const d1 = artifact('d1', 'DIFF', 11, 20);
    const e1 = artifact('e1', 'DIFF', 0, 0);
    const d2 = artifact('d2', 'DIFF', 21, 30);
    const e2 = artifact('e2', 'DIFF', 0, 0);
    const p = expectDiff(plan('AUTO', server(42), [e2, d1, f, d2, e1]));
    assert.equal(p.parent.name, 'd2');
    assert.equal(p.fromTxId, 31);
  });

  it('continues from a newer FULL rather than the older chain', () => {
    const f1 = artifact('f1', 'FULL', 1, 10);
    const d1 = artifact('d1', 'DIFF', 11, 20);
    const f2 = artifact('f2', 'FULL', 1, 25);
    const p = expectDiff(plan('AUTO', server(30), [f1, d1, f2]));
    assert.equal(p.parent.name, 'f2');
    assert.equal(p.fromTxId, 26);
  });

  it('writes an empty DIFF when the server has nothing after the newest artifact', () => {
    const f = artifact('f', 'FULL', 1, 10);
    const d = artifact('d', 'DIFF', 11, 12);
    for (const type of ['AUTO', 'DIFF'] as const) {
      const p = plan(type, server(12), [f, d]);
      assert.equal(p.type, 'EMPTY_DIFF');
      if (p.type === 'EMPTY_DIFF') assert.equal(p.parent.name, 'd');
    }
  });

  it('FULL ignores a perfectly good chain', () => {
    const f = artifact('f', 'FULL', 1, 10);
    assert.equal(expectFull(plan('FULL', server(20), [f])).fallbackReason, null);
  });

  it('makes a DIFF when the oldest transaction in the log is exactly the next one needed', () => {
    const f = artifact('f', 'FULL', 1, 10);
    assert.equal(expectDiff(plan('AUTO', server(20, { oldestInLog: 11 }), [f])).fromTxId, 11);
  });
});

describe('planBackup when a DIFF cannot be made', () => {
  const f = artifact('f', 'FULL', 1, 10);

  it('AUTO falls back to FULL with the reason when the server pruned the transactions after the chain', () => {
    const p = expectFull(plan('AUTO', server(50, { oldestInLog: 12 }), [f]));
    assert.match(p.fallbackReason ?? '', /the server no longer has the transactions after 10 \(its oldest transaction log entry is 12\)/);
    assert.match(p.fallbackReason ?? '', /db\.tx_log\.rotation\.retention_policy/);
  });

  it('DIFF fails instead, with the same reason and a hint', () => {
    const p = expectFail(plan('DIFF', server(50, { oldestInLog: 12 }), [f]));
    assert.match(p.message, /^Differential backup of database 'neo4j' failed\. Reason: the server no longer has the transactions after 10/);
    assert.match(p.hint, /--type=FULL/);
  });

  it('AUTO falls back to FULL when a DIFF in the middle of the chain is missing', () => {
    const d1 = artifact('d1', 'DIFF', 11, 20);
    void d1; // taken, then lost
    const d2 = artifact('d2', 'DIFF', 21, 30);
    const p = expectFull(plan('AUTO', server(40), [f, d2]));
    assert.equal(p.fallbackReason, 'the backup chain in the target cannot be continued: "d2": DIFF artifact "d2" starts at tx 21 but "f" ends at tx 10: transactions 11..20 are missing');
    assert.match(expectFail(plan('DIFF', server(40), [f, d2])).message, /Reason: the backup chain in the target cannot be continued/);
  });

  it('AUTO falls back to FULL when the DIFF before the newest one belongs to another history', () => {
    const d1 = artifact('d1', 'DIFF', 11, 20);
    const d2 = artifact('d2', 'DIFF', 21, 30, { parentHistory: 1 });
    const p = expectFull(plan('AUTO', server(40), [f, d1, d2]));
    assert.equal(p.fallbackReason, `the backup chain in the target cannot be continued: DIFF artifact "d2" follows a different history: its chain checksum of tx 20 is ${checksumOf(20, 1)}, "d1" has ${checksumOf(20)}`);
  });

  it('AUTO falls back to FULL when DIFFs remain but their FULL is gone', () => {
    const d1 = artifact('d1', 'DIFF', 11, 20);
    const p = expectFull(plan('AUTO', server(40), [d1]));
    assert.equal(p.fallbackReason, 'the DIFF artifacts of database \'neo4j\' in the target have no full artifact to continue from ("d1")');
  });

  it('AUTO falls back to FULL when the server is behind the newest artifact (restored to an earlier state)', () => {
    const d = artifact('d', 'DIFF', 11, 30);
    const p = expectFull(plan('AUTO', server(20), [f, d]));
    assert.equal(p.fallbackReason, 'the newest artifact "d" ends at transaction 30, but the database on the server is at 20 (it was restored to an earlier state)');
    assert.match(expectFail(plan('DIFF', server(20), [f, d])).message, /it was restored to an earlier state/);
  });

  it('AUTO falls back to FULL when the server and the newest artifact disagree about the same transaction', () => {
    const p = expectFull(plan('AUTO', server(10, { history: 1 }), [f]));
    assert.equal(p.fallbackReason, 'the newest artifact "f" and the server disagree about transaction 10 (the histories diverged)');
    assert.match(expectFail(plan('DIFF', server(10, { history: 1 }), [f])).message, /the histories diverged/);
  });

  it('after a restore, continues the newest chain (by time) even though an older one reaches higher', () => {
    const old = artifact('old', 'FULL', 1, 100);
    const fresh = artifact('fresh', 'FULL', 1, 60, { history: 1 });
    const p = expectDiff(plan('AUTO', server(70, { history: 1 }), [old, fresh]));
    assert.equal(p.parent.name, 'fresh');
    assert.equal(p.fromTxId, 61);
  });
});

describe('planBackup for a recreated database (same name, new id)', () => {
  const oldChain = [artifact('f', 'FULL', 1, 10, { id: idB }), artifact('d', 'DIFF', 11, 20, { id: idB })];

  it('AUTO starts a new chain with a FULL and a note naming the old id', () => {
    const p = expectFull(plan('AUTO', server(5), oldChain));
    assert.equal(p.fallbackReason, null);
    assert.deepEqual(p.notes, [`artifacts of database 'neo4j' in the target belong to another database id (${idB}): the database was recreated, so a new chain starts`]);
  });

  it("DIFF fails with Neo4j's message", () => {
    assert.equal(expectFail(plan('DIFF', server(5), oldChain)).message, `Differential backup of database 'neo4j' failed. Reason: ${needFull}`);
  });

  it('continues the new chain once it exists, without the note', () => {
    const fresh = artifact('f2', 'FULL', 1, 5);
    const p = plan('AUTO', server(9), [...oldChain, fresh]);
    assert.equal(expectDiff(p).parent.name, 'f2');
    assert.deepEqual(p.type === 'DIFF' ? p.notes : null, []);
  });
});
