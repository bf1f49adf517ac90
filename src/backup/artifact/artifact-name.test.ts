import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { artifactFileName, chooseArtifactName, nextArtifactName, parseArtifactFileName } from './artifact-name.js';
import { ArtifactWriter } from './artifact-writer.js';
import { fullHeader, trailerFor } from './artifact-test-fixtures.js';
import { tempTarget, writeArtifact, type TempTarget } from './artifact-test-fixtures.js';

describe('artifact file names', () => {
  let temp: TempTarget;
  before(async () => { temp = await tempTarget(); });
  after(async () => { await temp.cleanup(); });

  it('names an artifact after its database and UTC second, as Neo4j does', () => {
    assert.equal(artifactFileName('neo4j', new Date('2024-10-07T16:05:37.999Z')), 'neo4j-2024-10-07T16-05-37.backup');
    assert.equal(artifactFileName('neo4j', new Date('2024-10-07T18:05:37+02:00')), 'neo4j-2024-10-07T16-05-37.backup');
    assert.equal(artifactFileName('sales.eu', new Date('2024-10-07T16:05:37Z'), 12), 'sales.eu-2024-10-07T16-05-37_012.backup');
  });

  it('sorts the names of one database in time order, collision suffixes included', () => {
    const times = ['2024-10-07T16:05:37Z', '2024-10-07T16:05:38Z', '2024-10-08T00:00:00Z'];
    const inTimeOrder = times.flatMap((t) => [0, 1, 2, 9, 10, 11, 100].map((sequence) => artifactFileName('neo4j', new Date(t), sequence)));
    const byteSorted = [...inTimeOrder].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(byteSorted, inTimeOrder);
  });

  it('parses the names it makes and nothing else', () => {
    assert.deepEqual(parseArtifactFileName('neo4j-2024-10-07T16-05-37.backup'), { databaseName: 'neo4j', stamp: '2024-10-07T16-05-37', sequence: 0 });
    assert.deepEqual(parseArtifactFileName('foo-g000-2025-06-11T21-04-42_003.backup'), { databaseName: 'foo-g000', stamp: '2025-06-11T21-04-42', sequence: 3 });
    for (const other of ['neo4j.backup', 'neo4j-2024-10-07T16-05-37.backup.partial-00', 'neo4j-2024-10-07T16-05-37_1.backup', 'x-2024-10-07 16-05-37.backup']) {
      assert.equal(parseArtifactFileName(other), null, other);
    }
  });

  it('chooses the next free name when artifacts were taken in the same second', async () => {
    const at = new Date('2024-10-07T16:05:37.250Z');
    assert.equal(await chooseArtifactName(temp.target, 'neo4j', at), 'neo4j-2024-10-07T16-05-37.backup');
    await writeArtifact(temp.target, 'neo4j-2024-10-07T16-05-37.backup', Buffer.from('a'));
    assert.equal(await chooseArtifactName(temp.target, 'neo4j', at), 'neo4j-2024-10-07T16-05-37_001.backup');
    await writeArtifact(temp.target, 'neo4j-2024-10-07T16-05-37_001.backup', Buffer.from('b'));
    assert.equal(await chooseArtifactName(temp.target, 'neo4j', at), 'neo4j-2024-10-07T16-05-37_002.backup');
    assert.equal(await chooseArtifactName(temp.target, 'other', at), 'other-2024-10-07T16-05-37.backup');
  });

  it('gives the next name in the same second, and none past _999', () => {
    assert.equal(nextArtifactName('neo4j-2024-10-07T16-05-37.backup'), 'neo4j-2024-10-07T16-05-37_001.backup');
    assert.equal(nextArtifactName('neo4j-2024-10-07T16-05-37_009.backup'), 'neo4j-2024-10-07T16-05-37_010.backup');
    assert.equal(nextArtifactName('neo4j-2024-10-07T16-05-37_999.backup'), null);
    assert.equal(nextArtifactName('notes.backup'), null);
  });

  it('commits under _001 when another run committed the chosen name first (free when chosen, taken at commit)', async () => {
    const at = new Date('2024-10-08T09:00:00.500Z');
    const name = await chooseArtifactName(temp.target, 'race', at);
    const sameName = await chooseArtifactName(temp.target, 'race', at);
    assert.equal(sameName, name);
    const header = fullHeader({ databaseName: 'race' });
    const first = await ArtifactWriter.create(temp.target, name, header, { compress: false, nextNameOnCollision: true });
    const second = await ArtifactWriter.create(temp.target, sameName, header, { compress: false, nextNameOnCollision: true });
    await first.write(Buffer.from('first'));
    await second.write(Buffer.from('second'));
    assert.equal((await first.finish(trailerFor(1, 11))).name, 'race-2024-10-08T09-00-00.backup');
    const written = await second.finish(trailerFor(1, 11));
    assert.equal(written.name, 'race-2024-10-08T09-00-00_001.backup');
    assert.equal(written.uri, temp.target.uri('race-2024-10-08T09-00-00_001.backup'));
  });

  it('refuses database names that cannot be part of a file name', () => {
    assert.throws(() => artifactFileName('a/b', new Date()), /cannot be part of an artifact file name/);
  });
});
