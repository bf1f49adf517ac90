/**
 * The backup service bounds what clients can make it hold (docs/backup-protocol.md, "Server
 * limits"), against a real `bin/quiver` and real sockets: a client that requests a store snapshot
 * and stops reading is dropped after server.backup.stall_timeout and its read transaction released
 * (the server log says so); 240 junk connections (HTTP/1.1 text, a partial preface, random bytes,
 * silence, an HTTP/2 handshake without a request) are all closed within
 * server.backup.handshake_timeout; more backup streams than server.backup.max_concurrent are refused
 * with a message the client prints; and a normal backup works afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { paths } from '../src/backup/protocol/protocol.js';
import { BackupConnection } from '../src/backup/client/remote.js';
import { backup, describeRun, logLine, tempFolders, waitFor, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { startTestServer, type TestServer } from './support/harness.js';

const stallTimeoutS = 3;
const handshakeTimeoutS = 2;

/** Established (or half-closed, not yet closed by the server) TCP connections whose local port is `port`: the server's side of them. */
function serverSideConnections(port: number): number | null {
  let count = 0;
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    readable = true;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const state = fields[3];
      if (local === undefined || state === undefined) continue;
      const localPort = parseInt(local.split(':').at(-1)!, 16);
      // 01 ESTABLISHED, 08 CLOSE_WAIT (the peer closed, the server has not).
      if (localPort === port && (state === '01' || state === '08')) count += 1;
    }
  }
  return readable ? count : null;
}

/** An HTTP/2 client that requests a snapshot with the protocol's default 64 KiB window and never reads it. */
async function stalledSnapshot(server: TestServer): Promise<{ session: http2.ClientHttp2Session; status: number; closed: Promise<void> }> {
  const session = http2.connect(`http://${server.backupAddress}`);
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'GET', ':path': paths.snapshot('neo4j', 1024 * 1024, false) });
  stream.on('error', () => undefined);
  stream.pause();
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
  return { session, status, closed };
}

describe('backup service limits', () => {
  let server: TestServer;
  const folders = tempFolders();

  before(async () => {
    server = await startTestServer({
      conf: {
        'server.backup.stall_timeout': `${stallTimeoutS}s`,
        'server.backup.handshake_timeout': `${handshakeTimeoutS}s`,
        'server.backup.max_concurrent': '2',
        'server.backup.idle_timeout': '2s',
      },
    });
    // About 2 MB of store image: far more than a 64 KiB window.
    await writeBarelyCompressibleNodes(server, 'neo4j', 6);
  });

  after(async () => {
    await server?.stop();
    server?.cleanup();
    folders.removeAll();
  });

  it('drops a client that requests a snapshot and stops reading, releasing its read transaction', async () => {
    const startedMs = Date.now();
    const stalled = await stalledSnapshot(server);
    assert.equal(stalled.status, 200);
    const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), stallTimeoutS * 1000 + 5000));
    assert.equal(await Promise.race([stalled.closed.then(() => 'dropped' as const), deadline]), 'dropped', 'the server dropped the stalled stream');
    const tookMs = Date.now() - startedMs;
    assert.ok(tookMs >= stallTimeoutS * 1000 - 200 && tookMs < stallTimeoutS * 1000 + 5000, `dropped after ${tookMs} ms`);
    await waitFor('the server to log the drop', () => /dropped the store snapshot/.test(server.output));
    assert.match(
      server.output,
      logLine('WARN', new RegExp(`backup service: dropped the store snapshot of database "neo4j" at transaction \\d+ for 127\\.0\\.0\\.1:\\d+: the client read nothing for ${stallTimeoutS} s \\(server\\.backup\\.stall_timeout\\); its read transaction is released`)),
    );
    stalled.session.destroy();
    const r = await backup(server, folders.folder(), ['neo4j']);
    assert.equal(r.code, 0, describeRun(r));
  });

  it('closes 240 junk connections within the handshake timeout, and still serves a backup', async () => {
    const kinds: Array<(s: Socket) => void> = [
      (s) => s.write('GET /v1/databases HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      (s) => s.write('PRI * HTTP/2.0\r\n'),
      (s) => s.write(randomBytes(64)),
      () => undefined,
    ];
    const sockets: Socket[] = [];
    const ended: Array<Promise<void>> = [];
    for (let i = 0; i < 240; i++) {
      const socket = connect(server.backupPort, '127.0.0.1');
      socket.on('error', () => undefined);
      // Reading (and discarding) lets the socket see the server's FIN.
      socket.resume();
      ended.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.once('connect', () => kinds[i % kinds.length]!(socket));
      sockets.push(socket);
    }
    // And HTTP/2 clients that complete the handshake but never ask for anything.
    const idle = Array.from({ length: 10 }, () => {
      const session = http2.connect(`http://${server.backupAddress}`);
      session.on('error', () => undefined);
      ended.push(new Promise((resolve) => session.once('close', () => resolve())));
      return session;
    });
    const startedMs = Date.now();
    const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), handshakeTimeoutS * 1000 + 5000));
    const outcome = await Promise.race([Promise.all(ended).then(() => 'closed' as const), deadline]);
    const open = serverSideConnections(server.backupPort);
    for (const s of sockets) s.destroy();
    for (const s of idle) s.destroy();
    assert.equal(outcome, 'closed', `not every junk connection was closed within ${Date.now() - startedMs} ms; server side still open: ${open}`);
    if (open !== null) assert.equal(open, 0, 'the server holds no socket of them');
    const r = await backup(server, folders.folder(), ['neo4j']);
    assert.equal(r.code, 0, describeRun(r));
  });

  it('closes a connection idle for server.backup.idle_timeout, and the client reconnects for its next request', async () => {
    const conn = await BackupConnection.connect(server.backupAddress);
    try {
      assert.ok((await conn.listDatabases()).databases.some((d) => d.name === 'neo4j'));
      const before = serverSideConnections(server.backupPort);
      await new Promise((r) => setTimeout(r, 3500));
      const after = serverSideConnections(server.backupPort);
      if (before !== null && after !== null) assert.equal(after, before - 1, 'the server closed the idle connection');
      assert.ok((await conn.listDatabases()).databases.some((d) => d.name === 'neo4j'));
    } finally {
      conn.close();
    }
  });

  it('refuses a backup beyond server.backup.max_concurrent with a message the client prints', async () => {
    const held = [await stalledSnapshot(server), await stalledSnapshot(server)];
    try {
      assert.deepEqual(held.map((h) => h.status), [200, 200]);
      const r = await backup(server, folders.folder(), ['--type=FULL', 'neo4j']);
      assert.equal(r.code, 1, describeRun(r));
      assert.match(
        r.stdout,
        logLine('ERROR', `Backup of database 'neo4j' failed: store snapshot of "neo4j" from ${server.backupAddress} failed: the server is serving 2 backups already (server.backup.max_concurrent=2) (run the backup again once one of them has finished, or raise server.backup.max_concurrent on the server)`),
      );
    } finally {
      for (const h of held) h.session.destroy();
    }
    await new Promise((r) => setTimeout(r, 500));
    const r = await backup(server, folders.folder(), ['neo4j']);
    assert.equal(r.code, 0, describeRun(r));
  });
});
