import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { neo4jRetentionRegex, parseRetentionPolicy, parseRetentionPolicyOrThrow, type RetentionPolicy } from './retention.js';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

describe('parseRetentionPolicy', () => {
  it('reads every form of the Neo4j grammar', () => {
    const cases: [string, RetentionPolicy][] = [
      ['true', { kind: 'keep_all' }],
      ['keep_all', { kind: 'keep_all' }],
      ['false', { kind: 'keep_none' }],
      ['keep_none', { kind: 'keep_none' }],
      ['3 files', { kind: 'files', count: 3 }],
      ['500M size', { kind: 'size', bytes: 500 * 1024 ** 2 }],
      ['2000 size', { kind: 'size', bytes: 2000 }],
      ['100 txs', { kind: 'txs', count: 100 }],
      ['100 entries', { kind: 'txs', count: 100 }],
      ['10 hours', { kind: 'age', ms: 10 * hourMs, bytesMax: undefined }],
      ['2 days', { kind: 'age', ms: 2 * dayMs, bytesMax: undefined }],
      ['2 days 2G', { kind: 'age', ms: 2 * dayMs, bytesMax: 2 * 1024 ** 3 }],
      ['6 hours 500m', { kind: 'age', ms: 6 * hourMs, bytesMax: 500 * 1024 ** 2 }],
      ['1 days 4096', { kind: 'age', ms: dayMs, bytesMax: 4096 }],
    ];
    for (const [raw, policy] of cases) assert.deepEqual(parseRetentionPolicy(raw), policy, raw);
  });

  it('multiplies k, m and g (any case) by 1024 for every quantity, as Neo4j does', () => {
    assert.deepEqual(parseRetentionPolicy('100k txs'), { kind: 'txs', count: 102_400 });
    assert.deepEqual(parseRetentionPolicy('100K entries'), { kind: 'txs', count: 102_400 });
    assert.deepEqual(parseRetentionPolicy('1m files'), { kind: 'files', count: 1024 ** 2 });
    assert.deepEqual(parseRetentionPolicy('1g size'), { kind: 'size', bytes: 1024 ** 3 });
    assert.deepEqual(parseRetentionPolicy('1k hours 1k'), { kind: 'age', ms: 1024 * hourMs, bytesMax: 1024 });
  });

  it('rejects size caps outside hours and days, other units, spacing, case and overflow', () => {
    const bad = [
      '', 'TRUE', 'yes', 'files', '3', '3files', '3  files', ' 3 files', '3 files ', '3 Files', '3 file',
      '3 files 1G', '1G size 1G', '100 txs 5', '100 entries 1k', '1 weeks', '2 days 2G 3', '2 days 2T',
      '2 days 2GB', '1.5 days', '-1 files', '3t files', '99999999999999999 days',
    ];
    for (const raw of bad) assert.equal(parseRetentionPolicy(raw), undefined, raw);
  });

  it('accepts exactly what Neo4j 5 validation regex accepts', () => {
    const samples = [
      'true', 'keep_all', 'false', 'keep_none', '7 files', '7k files', '7 size', '7M size', '7 txs', '7 entries',
      '7 hours', '7 hours 7', '7 hours 7g', '7 days', '7 days 7K', '7 files 7', '7 size 7', '7', 'days', '7 days  7',
      '7 DAYS', '7x files', 'keep_all 1', ' 7 days', '7 days 7b',
    ];
    for (const raw of samples) {
      assert.equal(parseRetentionPolicy(raw) !== undefined, neo4jRetentionRegex.test(raw), raw);
    }
  });
});

describe('parseRetentionPolicyOrThrow', () => {
  it('names the setting, quotes the value and shows the grammar', () => {
    assert.throws(
      () => parseRetentionPolicyOrThrow('3 files 1G'),
      (e: unknown) =>
        isQuiverError(e, 'ConfigInvalid') &&
        e.message.includes('"db.tx_log.rotation.retention_policy"') &&
        e.message.includes('invalid value "3 files 1G"') &&
        e.message.includes('<n> days [<size>]'),
    );
  });
});
