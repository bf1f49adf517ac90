/**
 * bin/quiver as operators use it: start in the background, status, stop with a clean shutdown,
 * console with SIGTERM, first-start layout, and startup failures that say what is wrong.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createServer_, quiverBin, runProcess } from './support/harness.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

test('start, status, stop: a background server with a pid file, a log and a clean shutdown', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  const env = { QUIVER_HOME: server.home };
  const start = await runProcess(quiverBin, ['start'], { env });
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, /Quiver \S+ started \(pid \d+\)/);
  const pid = Number(readFileSync(join(server.home, 'run', 'quiver.pid'), 'utf8'));
  assert.ok(pid > 0);
  const status = await runProcess(quiverBin, ['status'], { env });
  assert.equal(status.code, 0);
  assert.equal(status.stdout.trim(), `Quiver is running at pid ${pid}`);
  const again = await runProcess(quiverBin, ['start'], { env });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already running/);
  const stop = await runProcess(quiverBin, ['stop'], { env });
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(existsSync(join(server.home, 'run', 'quiver.pid')), false, 'pid file removed');
  const log = readFileSync(join(server.home, 'logs', 'quiver.log'), 'utf8');
  assert.match(log, /INFO  Started\./);
  assert.match(log, /INFO  Stopped\./);
  for (const db of ['system', 'neo4j']) {
    assert.ok(existsSync(join(server.home, 'data', 'databases', db, 'data.mdb')), `store of ${db}`);
    assert.ok(existsSync(join(server.home, 'data', 'transactions', db, 'txlog.0000000000')), `log of ${db}`);
  }
  const stopped = await runProcess(quiverBin, ['status'], { env });
  assert.equal(stopped.code, 3);
  assert.equal(stopped.stdout.trim(), 'Quiver is not running');
});

test('console stops cleanly on SIGTERM and keeps the data across restarts', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  await server.start();
  const d = server.driver();
  await d.executeQuery('CREATE (:Kept {v: 42})');
  await d.close();
  assert.equal(await server.stop(), 0);
  assert.match(server.output, /Received SIGTERM: stopping\.\.\.[\s\S]*Stopped\./);
  await server.start();
  const d2 = server.driver();
  const r = await d2.executeQuery('MATCH (k:Kept) RETURN k.v AS v');
  assert.equal(r.records[0]!.get('v').toNumber(), 42);
  await d2.close();
  await server.stop();
});

test('a port already in use fails the start with a message naming the setting', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const server = await createServer_({ conf: { 'server.bolt.listen_address': `127.0.0.1:${port}` } });
  cleanups.push(() => server.cleanup());
  try {
    const r = await runProcess(quiverBin, ['start'], { env: { QUIVER_HOME: server.home } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot start the Bolt server on 127\.0\.0\.1:\d+/);
    assert.match(r.stderr, /server\.bolt\.listen_address/);
  } finally {
    blocker.close();
  }
});

test('a bad setting stops the start with the key and the value, and unknown commands are usage errors', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  writeFileSync(join(server.home, 'conf', 'quiver.conf'), 'db.tx_log.rotation.size=12Q\n');
  const r = await runProcess(quiverBin, ['console'], { env: { QUIVER_HOME: server.home } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /"12Q"/);
  assert.match(r.stderr, /db\.tx_log\.rotation\.size/);
  const u = await runProcess(quiverBin, ['frobnicate'], { env: { QUIVER_HOME: server.home } });
  assert.equal(u.code, 64);
  assert.match(u.stderr, /unknown command "frobnicate"/);
  const v = await runProcess(quiverBin, ['version'], { env: { QUIVER_HOME: server.home } });
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^quiver \d+\.\d+\.\d+/);
});

test('a backup service on a non-loopback address without TLS logs a prominent warning', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  writeFileSync(join(server.home, 'conf', 'quiver.conf'), readFileSync(join(server.home, 'conf', 'quiver.conf'), 'utf8').replace(/server\.backup\.listen_address=127\.0\.0\.1:/, 'server.backup.listen_address=0.0.0.0:'));
  await server.start();
  try {
    assert.match(server.output, /WARN  \*\*\* the backup service listens on 0\.0\.0\.0:\d+, which is not a loopback address, without a TLS policy/);
  } finally {
    await server.stop();
  }
});
