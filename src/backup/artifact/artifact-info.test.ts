import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readArtifactInfo } from './artifact-reader.js';
import { countingTarget, fullHeader, seededPayload, tempTarget, writeArtifact, type TempTarget } from './artifact-test-fixtures.js';
import { trailerBytes } from './artifact-trailer.js';
import { inspectPrefixBytes } from '../limits.js';

describe('readArtifactInfo', () => {
  let temp: TempTarget;
  before(async () => { temp = await tempTarget(); });
  after(async () => { await temp.cleanup(); });

  it('reads a bounded number of bytes, the same for a small and a 12 MiB artifact', async () => {
    await writeArtifact(temp.target, 'small.backup', seededPayload(1, 10, false), { compress: false });
    await writeArtifact(temp.target, 'large.backup', seededPayload(2, 12 * 1024 * 1024, false), { compress: false });
    for (const name of ['small.backup', 'large.backup']) {
      const { target, counts } = countingTarget(temp.target);
      await readArtifactInfo(target, name);
      assert.equal(counts.wholeReads, 0, `${name}: no whole-file read`);
      assert.ok(counts.rangeReads <= 2, `${name}: ${counts.rangeReads} range reads`);
      assert.ok(counts.rangeBytes <= inspectPrefixBytes + trailerBytes, `${name}: read ${counts.rangeBytes} bytes`);
    }
  });

  it('reads past the first 64 KiB only for a header that is longer, and only the header', async () => {
    const metadataCommands = Array.from({ length: 1500 }, (_, i) => `CREATE ROLE role_${i}_${'r'.repeat(50)}`);
    await writeArtifact(temp.target, 'metadata.backup', seededPayload(3, 8 * 1024 * 1024, false), { compress: false, header: fullHeader({ metadataCommands }) });
    const { target, counts } = countingTarget(temp.target);
    const info = await readArtifactInfo(target, 'metadata.backup');
    assert.equal(counts.wholeReads, 0);
    assert.equal(counts.rangeBytes, info.trailer.headerBytes + trailerBytes);
  });
});
