/**
 * The backup client never waits for ever (docs/backup.md, "Timeouts"): against a server that
 * accepts TCP connections and never answers, against one that answers HTTP/2 but not the request,
 * and against one that starts a store snapshot and then stops sending, `quiver-admin database
 * backup` ends with exit 1 and a message naming the server and what it waited for, and the process
 * exits (every test runs the real CLI as a child process with a deadline). The servers here are
 * real sockets on loopback ports: a plain `net` server that swallows bytes, and `node:http2`
 * servers that speak just enough of the backup protocol.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { headers, protocolVersion } from '../src/backup/protocol/protocol.js';
import { describeRun, escapeRegExp, logLine, tempFolders } from './support/backup-helpers.js';
import { runAdmin, tempDir } from './support/harness.js';

function listen(server: Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** A listing with one online database, as the backup service sends it. */
const listing = {
  protocol: protocolVersion,
  serverId: 'fake',
  databases: [
    { name: 'neo4j', databaseId: 'c8368b24-55e2-474d-bb41-75657f5bfcde', storeId: '7dcb1d0c-4374-4476-b8ae-d3c3f124683f', status: 'online', role: 'primary', lastCommittedTxId: 5, lastCommittedChecksum: 1, lastCommitTimeMs: 1, oldestTxIdInLog: 1 },
  ],
};

describe('backup client timeouts', () => {
  const folders = tempFolders();
  const home = tempDir('quiver-timeouts-home-');
  const sockets = new Set<Socket>();
  let silent: Server;
  let silentPort: number;
  /** A conf file with short client timeouts. */
  let shortTimeouts: string;

  before(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    silentPort = await listen(silent);
    shortTimeouts = join(home, 'short-timeouts.conf');
    writeFileSync(shortTimeouts, 'backup.client.connect_timeout=1s\nbackup.client.idle_timeout=2s\n');
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
    folders.removeAll();
  });

  const backupFrom = (port: number, extra: string[] = [], deadlineMs = 30_000) =>
    runAdmin(['database', 'backup', `--from=127.0.0.1:${port}`, `--to-path=${folders.folder()}`, ...extra, 'neo4j'], { home, timeoutMs: deadlineMs });

  it('gives up on a server that accepts TCP and never answers after the default 10 s, and exits', async () => {
    const startedMs = Date.now();
    const r = await backupFrom(silentPort, [], 25_000);
    const tookMs = Date.now() - startedMs;
    assert.equal(r.code, 1, describeRun(r));
    assert.ok(tookMs >= 9_500 && tookMs < 20_000, `took ${tookMs} ms`);
    assert.match(r.stdout, logLine('ERROR', `cannot reach the backup service at 127.0.0.1:${silentPort}: no HTTP/2 answer within 10 s (the connection was accepted, but nothing came back) (check that --from names the backup service (server.backup.listen_address), not another port)`));
    assert.match(r.stdout, new RegExp(`^  server 127\\.0\\.0\\.1:${silentPort}: UNREACHABLE cannot reach the backup service at 127\\.0\\.0\\.1:${silentPort}: no HTTP/2 answer within 10 s`, 'm'));
  });

  it('takes a shorter connect timeout from backup.client.connect_timeout', async () => {
    const startedMs = Date.now();
    const r = await backupFrom(silentPort, [`--additional-config=${shortTimeouts}`], 15_000);
    assert.equal(r.code, 1, describeRun(r));
    assert.ok(Date.now() - startedMs < 8_000, `took ${Date.now() - startedMs} ms`);
    assert.match(r.stdout, new RegExp(escapeRegExp(`cannot reach the backup service at 127.0.0.1:${silentPort}: no HTTP/2 answer within 1 s`)));
  });

  it('gives up on a server that speaks HTTP/2 but never answers the listing, after the idle timeout', async () => {
    const server = http2.createServer();
    server.on('stream', () => undefined); // never responds
    const port = await listen(server);
    try {
      const startedMs = Date.now();
      const r = await backupFrom(port, [`--additional-config=${shortTimeouts}`], 15_000);
      assert.equal(r.code, 1, describeRun(r));
      assert.ok(Date.now() - startedMs < 8_000, `took ${Date.now() - startedMs} ms`);
      assert.match(r.stdout, logLine('ERROR', `listing databases from 127.0.0.1:${port} failed: no answer within 2 s (backup.client.idle_timeout) (check that the server at 127.0.0.1:${port} is running and not overloaded, and what its log says)`));
      assert.doesNotMatch(r.stdout, /closed the stream/);
    } finally {
      server.close();
    }
  });

  it('ends a store snapshot that stops sending after the idle timeout, naming what it waited for, and removes the unfinished artifact', async () => {
    const server = http2.createServer();
    server.on('stream', (stream, h) => {
      stream.on('error', () => undefined);
      if (h[':path'] === '/v1/databases') {
        stream.respond({ ':status': 200, 'content-type': 'application/json', [headers.protocol]: String(protocolVersion) });
        stream.end(JSON.stringify(listing));
        return;
      }
      if (String(h[':path']).startsWith('/v1/databases/neo4j/metadata')) {
        stream.respond({ ':status': 200, 'content-type': 'application/json', [headers.protocol]: String(protocolVersion) });
        stream.end(JSON.stringify({ include: 'all', commands: [] }));
        return;
      }
      // The snapshot: headers, then silence.
      stream.respond({
        ':status': 200,
        [headers.txId]: '5',
        [headers.txChecksum]: '1',
        [headers.txTimeMs]: '1',
        [headers.databaseId]: listing.databases[0]!.databaseId,
        [headers.storeId]: listing.databases[0]!.storeId,
        [headers.payloadFormat]: 'lmdb-pages-v1',
        [headers.imageBytes]: String(4 * 1024 * 1024),
        [headers.blockRawBytes]: String(1024 * 1024),
        [headers.protocol]: String(protocolVersion),
      });
    });
    const port = await listen(server);
    const to = folders.folder();
    try {
      const startedMs = Date.now();
      const r = await runAdmin(['database', 'backup', `--from=127.0.0.1:${port}`, `--to-path=${to}`, `--additional-config=${shortTimeouts}`, '--type=FULL', 'neo4j'], { home, timeoutMs: 15_000 });
      assert.equal(r.code, 1, describeRun(r));
      assert.ok(Date.now() - startedMs < 10_000, `took ${Date.now() - startedMs} ms`);
      assert.match(
        r.stdout,
        logLine(
          'ERROR',
          `Backup of database 'neo4j' failed: store snapshot of "neo4j" from 127.0.0.1:${port} was interrupted: no data for 2 s (backup.client.idle_timeout) ` +
            `(check that the server at 127.0.0.1:${port} is still running and what its log says about the backup, then run the backup again)`,
        ),
      );
      assert.doesNotMatch(r.stdout, /closed the stream/);
      assert.deepEqual(readdirSync(to), [], 'no artifact, no temporary file, no lock');
    } finally {
      server.close();
    }
  });
});
