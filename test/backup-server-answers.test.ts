/**
 * Whatever a backup service answers, `quiver-admin database backup` checks it before using it
 * (src/backup/protocol/protocol-check.ts): a listing of the wrong shape, a database entry without its
 * fields, snapshot headers that are not numbers or ids, a metadata answer that is not a list of
 * commands. Each ends with exit 1 and a message naming the server and the field, never an
 * internal error (exit 70). The servers are real `node:http2` servers on loopback ports.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import http2 from 'node:http2';
import { after, describe, it } from 'node:test';
import { headers, protocolVersion } from '../src/backup/protocol/protocol.js';
import { BackupConnection } from '../src/backup/client/remote.js';
import { isQuiverError } from '../src/util/errors.js';
import { describeRun, escapeRegExp, tempFolders } from './support/backup-helpers.js';
import { runAdmin, tempDir } from './support/harness.js';

const database = { name: 'neo4j', databaseId: 'c8368b24-55e2-474d-bb41-75657f5bfcde', storeId: '7dcb1d0c-4374-4476-b8ae-d3c3f124683f', status: 'online', role: 'primary', lastCommittedTxId: 5, lastCommittedChecksum: 1, lastCommitTimeMs: 1, oldestTxIdInLog: 1 };

const goodSnapshotHeaders: Record<string, string> = {
  [headers.txId]: '5',
  [headers.txChecksum]: '1',
  [headers.txTimeMs]: '1',
  [headers.databaseId]: database.databaseId,
  [headers.storeId]: database.storeId,
  [headers.payloadFormat]: 'lmdb-pages-v1',
  [headers.imageBytes]: String(4 * 1024 * 1024),
  [headers.blockRawBytes]: String(1024 * 1024),
  [headers.protocol]: String(protocolVersion),
};

interface FakeAnswers {
  listing?: unknown;
  metadata?: unknown;
  snapshotHeaders?: Record<string, string>;
}

/** A backup service that answers with `answers` (and well-formed defaults). */
async function fakeService(answers: FakeAnswers): Promise<{ port: number; close: () => void }> {
  const server = http2.createServer();
  server.on('stream', (stream, h) => {
    stream.on('error', () => undefined);
    const path = String(h[':path']);
    const json = (body: unknown) => {
      stream.respond({ ':status': 200, 'content-type': 'application/json', [headers.protocol]: String(protocolVersion) });
      stream.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (path === '/v1/databases') return json(answers.listing ?? { protocol: protocolVersion, serverId: 'fake', databases: [database] });
    if (path.startsWith('/v1/databases/neo4j/metadata')) return json(answers.metadata ?? { include: 'all', commands: [] });
    if (path.startsWith('/v1/databases/med/transactions')) {
      // Some bytes, then the connection drops: an interrupted transaction stream.
      stream.respond({ ':status': 200, [headers.lastTxId]: '9', [headers.protocol]: String(protocolVersion) });
      stream.write(Buffer.alloc(100));
      setTimeout(() => stream.session?.destroy(), 50);
      return;
    }
    stream.respond({ ':status': 200, ...(answers.snapshotHeaders ?? goodSnapshotHeaders) });
    stream.end();
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { port, close: () => server.close() };
}

describe('answers of a backup service are checked before use', () => {
  const folders = tempFolders();
  const home = tempDir('quiver-answers-home-');
  after(() => folders.removeAll());

  it('says a transaction stream "was interrupted", naming the database and the server', async () => {
    const fake = await fakeService({});
    const server = `127.0.0.1:${fake.port}`;
    const conn = await BackupConnection.connect(server);
    try {
      const stream = await conn.transactions('med', 5);
      assert.equal(stream.lastTxId, 9);
      await assert.rejects(
        async () => {
          for await (const _ of stream.body) void _;
        },
        (e: unknown) => {
          assert.ok(isQuiverError(e, 'ServerUnreachable'), String(e));
          assert.match(e.message, new RegExp(`^${escapeRegExp(`transaction stream of "med" from ${server} was interrupted: `)}`));
          return true;
        },
      );
    } finally {
      conn.close();
      fake.close();
    }
  });

  const cases: Array<{ name: string; answers: FakeAnswers; message: (server: string) => string }> = [
    {
      name: 'a listing whose databases are not a list',
      answers: { listing: { protocol: protocolVersion, serverId: 'fake', databases: 'neo4j' } },
      message: (s) => `the database listing from ${s} is malformed: "databases" is not a list`,
    },
    {
      name: 'a listing that is not JSON',
      answers: { listing: 'hello' },
      message: (s) => `listing databases from ${s} failed: the answer is not JSON`,
    },
    {
      name: 'a database entry without a status',
      answers: { listing: { protocol: protocolVersion, serverId: 'fake', databases: [{ ...database, status: undefined }] } },
      message: (s) => `the database listing from ${s} is malformed: databases[0].status is missing or not one of online, offline, failed`,
    },
    {
      name: 'a database entry with a negative transaction id',
      answers: { listing: { protocol: protocolVersion, serverId: 'fake', databases: [{ ...database, lastCommittedTxId: -3 }] } },
      message: (s) => `the database listing from ${s} is malformed: databases[0].lastCommittedTxId is -3, not a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`,
    },
    {
      name: 'a snapshot whose transaction id is not a number',
      answers: { snapshotHeaders: { ...goodSnapshotHeaders, [headers.txId]: 'abc' } },
      message: (s) => `the store snapshot of "neo4j" from ${s} is malformed: header ${headers.txId} is "abc", not a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`,
    },
    {
      name: 'a snapshot without a store id',
      answers: { snapshotHeaders: Object.fromEntries(Object.entries(goodSnapshotHeaders).filter(([k]) => k !== headers.storeId)) },
      message: (s) => `the store snapshot of "neo4j" from ${s} is malformed: header ${headers.storeId} is missing`,
    },
    {
      name: 'a snapshot whose block size is zero',
      answers: { snapshotHeaders: { ...goodSnapshotHeaders, [headers.blockRawBytes]: '0' } },
      message: (s) => `the store snapshot of "neo4j" from ${s} is malformed: header ${headers.blockRawBytes} is "0", not a whole number from 1 to ${16 * 1024 * 1024}`,
    },
    {
      name: 'metadata whose commands are not strings',
      answers: { metadata: { include: 'all', commands: [1, 2] } },
      message: (s) => `the users and roles of "neo4j" from ${s} are malformed: commands[0] is not a string`,
    },
  ];
  for (const c of cases) {
    it(`fails with exit 1 naming the server on ${c.name}`, async () => {
      const fake = await fakeService(c.answers);
      const to = folders.folder();
      try {
        const r = await runAdmin(['database', 'backup', `--from=127.0.0.1:${fake.port}`, `--to-path=${to}`, '--type=FULL', 'neo4j'], { home, timeoutMs: 20_000 });
        assert.equal(r.code, 1, describeRun(r));
        assert.match(r.stdout, new RegExp(`ERROR .*${escapeRegExp(c.message(`127.0.0.1:${fake.port}`))}`), describeRun(r));
        assert.doesNotMatch(r.stdout + r.stderr, /--verbose for details/);
        assert.deepEqual(readdirSync(to), [], 'nothing is left in the target');
      } finally {
        fake.close();
      }
    });
  }
});
