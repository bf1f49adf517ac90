import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { BackupTarget } from '../../targets/target.js';
import { databaseIdA, databaseIdB, fullHeader, seededPayload, tempTarget, trailerFor, wrapTarget, writeArtifact, type TempTarget } from '../artifact/artifact-test-fixtures.js';
import { formatInspectJson, formatInspectTable, inspectArtifacts, inspectPath, inspectPathReport } from './inspect.js';

/** The artifacts of Neo4j's 5.x inspect example (operations manual, backup --inspect-path). */
async function writeNeo4jExample(target: BackupTarget): Promise<void> {
  const diff = (artifactName: string, highestTx: number) => fullHeader({ kind: 'DIFF', payloadFormat: 'txlog-v1', parent: { artifactName, highestTx, lastTxChecksum: 0xdeadbeef } });
  // Written out of order: the listing sorts them.
  await writeArtifact(target, 'neo4j-2023-06-29T14-51-33.backup', seededPayload(3, 300, true), {
    header: { ...diff('neo4j-2023-06-29T14-50-45.backup', 14), createdAt: '2023-06-29T13:51:33.000Z' }, trailer: trailerFor(15, 18),
  });
  await writeArtifact(target, 'neo4j-2023-06-29T14-46-27.backup', seededPayload(1, 5000, true), {
    header: fullHeader({ createdAt: '2023-06-29T13:46:27.000Z' }), trailer: trailerFor(1, 11),
  });
  await writeArtifact(target, 'neo4j-2023-06-29T14-50-45.backup', seededPayload(2, 300, true), {
    header: { ...diff('neo4j-2023-06-29T14-46-27.backup', 11), createdAt: '2023-06-29T13:50:45.000Z' }, trailer: trailerFor(12, 14),
  });
}

/** Shows the artifacts under the folder of Neo4j's example, so that expected tables do not depend on the temp folder. */
function asExampleFolder(target: BackupTarget): BackupTarget {
  return wrapTarget(target, { uri: (name) => `file:///path/to/mybackups/${name ?? ''}` });
}

describe('inspect', () => {
  let temp: TempTarget;
  before(async () => { temp = await tempTarget(); });
  after(async () => { await temp.cleanup(); });

  it("prints Neo4j's inspect table for Neo4j's example chain, oldest first", async () => {
    const example = await tempTarget();
    try {
      await writeNeo4jExample(example.target);
      const table = formatInspectTable(await inspectArtifacts(asExampleFolder(example.target)), false);
      assert.equal(table, [
        '|                                                       FILE | DATABASE |                          DATABASE ID |          TIME (UTC) |  FULL | COMPRESSED | LOWEST TX | HIGHEST TX |',
        '| file:///path/to/mybackups/neo4j-2023-06-29T14-46-27.backup |    neo4j | c8368b24-55e2-474d-bb41-75657f5bfcde | 2023-06-29T13:46:27 |  true |       true |         1 |         11 |',
        '| file:///path/to/mybackups/neo4j-2023-06-29T14-50-45.backup |    neo4j | c8368b24-55e2-474d-bb41-75657f5bfcde | 2023-06-29T13:50:45 | false |       true |        12 |         14 |',
        '| file:///path/to/mybackups/neo4j-2023-06-29T14-51-33.backup |    neo4j | c8368b24-55e2-474d-bb41-75657f5bfcde | 2023-06-29T13:51:33 | false |       true |        15 |         18 |',
        '',
      ].join('\n'));
    } finally {
      await example.cleanup();
    }
  });

  it('groups by database name, lists unreadable artifacts last with their error, and never fails', async () => {
    const folder = await tempTarget();
    try {
      await writeNeo4jExample(folder.target);
      await writeArtifact(folder.target, 'demo-2023-06-29T10-00-00.backup', seededPayload(4, 100, true), {
        compress: false, header: fullHeader({ databaseName: 'demo', databaseId: databaseIdB, createdAt: '2023-06-29T10:00:00.000Z' }), trailer: trailerFor(1, 3),
      });
      await writeArtifact(folder.target, 'demo-2023-06-29T11-00-00.backup', Buffer.alloc(0), {
        header: fullHeader({ databaseName: 'demo', databaseId: databaseIdB, kind: 'DIFF', createdAt: '2023-06-29T11:00:00.000Z', parent: { artifactName: 'demo-2023-06-29T10-00-00.backup', highestTx: 3, lastTxChecksum: 0xdeadbeef } }),
        trailer: trailerFor(0, 0),
      });
      const full = await readFile(join(folder.folder, 'neo4j-2023-06-29T14-46-27.backup'));
      await writeFile(join(folder.folder, 'neo4j-2023-06-29T15-00-00.backup'), full.subarray(0, 1000));
      const flipped = Buffer.from(full);
      flipped[30] = (flipped[30] ?? 0) ^ 0x01;
      await writeFile(join(folder.folder, 'flipped.backup'), flipped);
      await writeFile(join(folder.folder, 'empty.backup'), '');

      const inspected = await inspectArtifacts(asExampleFolder(folder.target));
      const table = formatInspectTable(inspected, false);
      const headerCrc = full.readUInt32LE(full.readUInt32LE(12) + 16);
      const flippedCrc = crc32(flipped.subarray(0, full.readUInt32LE(12) + 16));
      const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
      const flippedError = `artifact "flipped.backup" is corrupt: header checksum mismatch (stored ${hex(headerCrc)}, computed ${hex(flippedCrc)})`;
      const rows = [
        ['FILE', 'DATABASE', 'DATABASE ID', 'TIME (UTC)', 'FULL', 'COMPRESSED', 'LOWEST TX', 'HIGHEST TX', 'ERROR'],
        ['file:///path/to/mybackups/demo-2023-06-29T10-00-00.backup', 'demo', databaseIdB, '2023-06-29T10:00:00', 'true', 'false', '1', '3', ''],
        ['file:///path/to/mybackups/demo-2023-06-29T11-00-00.backup', 'demo', databaseIdB, '2023-06-29T11:00:00', 'false', 'true', '0', '0', ''],
        ['file:///path/to/mybackups/neo4j-2023-06-29T14-46-27.backup', 'neo4j', databaseIdA, '2023-06-29T13:46:27', 'true', 'true', '1', '11', ''],
        ['file:///path/to/mybackups/neo4j-2023-06-29T14-50-45.backup', 'neo4j', databaseIdA, '2023-06-29T13:50:45', 'false', 'true', '12', '14', ''],
        ['file:///path/to/mybackups/neo4j-2023-06-29T14-51-33.backup', 'neo4j', databaseIdA, '2023-06-29T13:51:33', 'false', 'true', '15', '18', ''],
        ['file:///path/to/mybackups/empty.backup', '', '', '', '', '', '', '', 'artifact "empty.backup" is truncated: expected trailer magic at offset 0'],
        ['file:///path/to/mybackups/flipped.backup', '', '', '', '', '', '', '', flippedError],
        ['file:///path/to/mybackups/neo4j-2023-06-29T15-00-00.backup', '', '', '', '', '', '', '', 'artifact "neo4j-2023-06-29T15-00-00.backup" is truncated: expected trailer magic at offset 992'],
      ];
      // The exact text, for the record, and the cells that produce it.
      const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
      assert.equal(table, rows.map((row) => `| ${row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join(' | ')} |\n`).join(''));
      assert.equal(table.split('\n')[6],
        '|                     file:///path/to/mybackups/empty.backup |          |                                      |                     |       |            |           |            |                                artifact "empty.backup" is truncated: expected trailer magic at offset 0 |');
    } finally {
      await folder.cleanup();
    }
  });

  it('adds the other header and trailer fields with verbose', async () => {
    const example = await tempTarget();
    try {
      await writeNeo4jExample(example.target);
      const lines = formatInspectTable(await inspectArtifacts(asExampleFolder(example.target)), true).split('\n');
      assert.equal(lines[0]?.split(' | ').map((cell) => cell.replace(/^\|/, '').trim()).slice(8).join(','),
        'STORE ID,PARENT,TX COUNT,HIGHEST TX TIME (UTC),LAST TX CHECKSUM,PAYLOAD FORMAT,BLOCKS,RAW BYTES,STORED BYTES,SIZE,METADATA,TOOL VERSION |');
      assert.match(lines[2] ?? '', /\| +store-1 \| neo4j-2023-06-29T14-46-27\.backup \| +3 \| +2023-06-29T13:46:27 \| +0xdeadbeef \| +txlog-v1 \| +1 \| +300 \| +\d+ \| +\d+ \| all \(0 commands\) \| +0\.1\.0 \|$/);
    } finally {
      await example.cleanup();
    }
  });

  it('describes every field as JSON, with file and error', async () => {
    await writeArtifact(temp.target, 'neo4j-2023-06-29T14-46-27.backup', seededPayload(1, 5000, true), {
      header: fullHeader({ createdAt: '2023-06-29T13:46:27.000Z', metadataCommands: ['CREATE ROLE reader'] }), trailer: trailerFor(1, 11),
    });
    await writeFile(join(temp.folder, 'broken.backup'), 'QUIVRB');
    const records = JSON.parse(formatInspectJson(await inspectArtifacts(temp.target))) as Record<string, unknown>[];
    assert.equal(records.length, 2);
    const [good, bad] = records;
    assert.deepEqual(Object.keys(good ?? {}), [
      'file', 'error', 'formatVersion', 'sizeBytes',
      'databaseName', 'databaseId', 'storeId', 'kind', 'compressed', 'compression', 'createdAt', 'payloadFormat', 'parent', 'metadataCommands', 'includeMetadata', 'toolVersion', 'blockRawBytes',
      'lowestTx', 'highestTx', 'highestTxCommitTimeMs', 'txCount', 'lastTxChecksum', 'blockCount', 'payloadRawBytes', 'payloadStoredBytes', 'headerBytes', 'headerCrc32', 'sha256Hex',
    ]);
    assert.equal(good?.file, temp.target.uri('neo4j-2023-06-29T14-46-27.backup'));
    assert.equal(good?.error, null);
    assert.equal(good?.kind, 'FULL');
    assert.deepEqual(good?.metadataCommands, ['CREATE ROLE reader']);
    assert.equal(good?.highestTx, 11);
    assert.equal(bad?.error, 'artifact "broken.backup" is truncated: expected trailer magic at offset 0');
    assert.equal(bad?.databaseName, null);
    assert.deepEqual(Object.keys(bad ?? {}), Object.keys(good ?? {}));
  });

  it('inspects a folder path and a single file path', async () => {
    const folderTable = await inspectPath(temp.folder, { format: 'table', verbose: false });
    assert.match(folderTable, /^\| +FILE \| DATABASE \|/);
    assert.equal(folderTable.trimEnd().split('\n').length, 3);
    const fileTable = await inspectPath(join(temp.folder, 'neo4j-2023-06-29T14-46-27.backup'), { format: 'table', verbose: false });
    const fileLines = fileTable.trimEnd().split('\n');
    assert.equal(fileLines.length, 2);
    assert.ok(fileLines[1]?.startsWith(`| ${temp.target.uri('neo4j-2023-06-29T14-46-27.backup')} |`));
    assert.doesNotMatch(fileTable, /ERROR/);
  });

  it('counts the artifacts it could not read', async () => {
    const folder = await tempTarget();
    try {
      await writeArtifact(folder.target, 'good.backup', seededPayload(1, 10, true));
      await writeFile(join(folder.folder, 'cut.backup'), 'QUIVRBAK');
      const report = await inspectPathReport(folder.folder, { format: 'json', verbose: false });
      assert.equal(report.problems, 1);
      assert.equal(report.artifacts.length, 2);
      assert.equal(report.output, formatInspectJson(report.artifacts));
    } finally {
      await folder.cleanup();
    }
  });

  it('refuses a path that does not exist, naming it', async () => {
    await assert.rejects(() => inspectPath(join(temp.folder, 'nope'), { format: 'table', verbose: false }),
      (e: unknown) => e instanceof Error && e.message === `cannot read backups at "${join(temp.folder, 'nope')}": no such file or folder`);
  });
});
