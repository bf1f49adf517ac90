import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError } from '../../util/errors.js';
import { formatS3Uri, parseS3Uri } from './s3-uri.js';

describe('parseS3Uri', () => {
  it('reads a bucket alone as the bucket root', () => {
    assert.deepEqual(parseS3Uri('s3://backups'), { bucket: 'backups', prefix: '', artifactName: undefined });
    assert.deepEqual(parseS3Uri('s3://backups/'), { bucket: 'backups', prefix: '', artifactName: undefined });
  });

  it('makes a prefix end with "/" whether or not it was typed', () => {
    assert.deepEqual(parseS3Uri('s3://backups/prod'), { bucket: 'backups', prefix: 'prod/', artifactName: undefined });
    assert.deepEqual(parseS3Uri('s3://backups/prod/eu/'), { bucket: 'backups', prefix: 'prod/eu/', artifactName: undefined });
  });

  it('names one artifact when the last segment ends with .backup', () => {
    assert.deepEqual(parseS3Uri('s3://backups/prod/neo4j-2026-01-01T00-00-00.backup'), {
      bucket: 'backups',
      prefix: 'prod/',
      artifactName: 'neo4j-2026-01-01T00-00-00.backup',
    });
  });

  it('refuses bad bucket names and empty or dot segments with TargetInvalid', () => {
    for (const uri of ['s3://', 's3://ab', 's3://Upper', 's3://b_b', 's3://bucket//x', 's3://bucket/a/../b', 's3://bucket/./b']) {
      assert.throws(() => parseS3Uri(uri), (e: unknown) => isQuiverError(e, 'TargetInvalid'), uri);
    }
  });

  it('formats the target and object URIs back', () => {
    const loc = parseS3Uri('s3://backups/prod');
    assert.equal(formatS3Uri(loc), 's3://backups/prod/');
    assert.equal(formatS3Uri(loc, 'a.backup'), 's3://backups/prod/a.backup');
  });
});
