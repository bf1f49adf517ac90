/**
 * Certificate rotation without a restart, on real processes: `quiver-admin server reload-certificates` and a
 * bare SIGHUP make a running `bin/quiver console` read its TLS files again. A backup running across the
 * reload completes; the next backup and the next Bolt connection get the new certificate (proved by clients
 * that trust only the new CA, or only the old one); a reload with broken files keeps the old material, the
 * server logs one line and the command exits non-zero naming the policy, the file and the fix.
 */
import assert from 'node:assert/strict';
import { copyFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import neo4j from 'neo4j-driver';
import { writePolicyFolder } from '../src/tls/test-policy-home.js';
import { type IssuedCertificate, type TestCa, TestPki } from '../src/tls/test-pki.js';
import { describeRun, restoreToTemp, graphLinesOfStore, spawnAdmin, tempFolders, waitFor, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { type CliResult, createServer_, runAdmin, tempDir, type TestServer } from './support/harness.js';

let pki: TestPki;
let oldCa: TestCa;
let newCa: TestCa;
let clientCa: TestCa;
const certs: Record<string, IssuedCertificate> = {};
const servers: TestServer[] = [];
const folders = tempFolders('quiver-tls-reload-');

before(() => {
  pki = new TestPki();
  oldCa = pki.ca('Old Server CA');
  newCa = pki.ca('New Server CA');
  clientCa = pki.ca('Client CA');
  certs['old'] = oldCa.issue('server-old', { commonName: 'server-old' });
  certs['new'] = newCa.issue('server-new', { commonName: 'server-new' });
  certs['client'] = clientCa.issue('backup-client');
  certs['locked'] = newCa.issue('server-locked', { commonName: 'server-locked', keyPassword: 'not-the-configured-one' });
});
after(async () => {
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
  folders.removeAll();
  pki.cleanup();
});

/** A server with both policies on (backup: mTLS with clients of clientCa; Bolt: OPTIONAL), serving `certs.old`. */
async function tlsServer(conf: Record<string, string> = {}): Promise<TestServer> {
  const server = await createServer_({
    conf: {
      'dbms.ssl.policy.backup.enabled': 'true',
      'dbms.ssl.policy.bolt.enabled': 'true',
      'dbms.ssl.policy.bolt.client_auth': 'NONE',
      // OPTIONAL: the test writes its data over plain Bolt and checks certificates over TLS on the same port.
      'server.bolt.tls_level': 'OPTIONAL',
      ...conf,
    },
  });
  writePolicyFolder(join(server.home, 'certificates', 'backup'), { identity: certs['old'], trusted: [clientCa.cert] });
  writePolicyFolder(join(server.home, 'certificates', 'bolt'), { identity: certs['old'] });
  servers.push(server);
  await server.start();
  return server;
}

/** Replaces the key and certificate a policy folder serves, as an operator does before reloading. */
function installIdentity(server: TestServer, scope: 'backup' | 'bolt', identity: IssuedCertificate): void {
  const base = join(server.home, 'certificates', scope);
  chmodSync(join(base, 'private.key'), 0o600);
  copyFileSync(identity.key, join(base, 'private.key'));
  chmodSync(join(base, 'private.key'), 0o400);
  copyFileSync(identity.cert, join(base, 'public.crt'));
}

/** A backup-host home trusting only `serverCa`, presenting the client certificate. */
function clientHome(serverCa: TestCa): string {
  const home = tempDir('quiver-tls-reload-client-');
  mkdirSync(join(home, 'conf'));
  writePolicyFolder(join(home, 'certificates', 'backup'), { identity: certs['client'], trusted: [serverCa.cert] });
  writeFileSync(join(home, 'conf', 'quiver-admin.conf'), 'dbms.ssl.policy.backup.enabled=true\n');
  return home;
}

function backupArgs(server: TestServer, folder: string): string[] {
  return ['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${folder}`, '--type=FULL', 'neo4j'];
}

/** The common name of the certificate the port presents to a new connection. */
function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const cn = String(socket.getPeerCertificate().subject?.CN ?? '');
      socket.destroy();
      resolve(cn);
    });
    socket.once('error', reject);
  });
}

async function boltReturnOne(server: TestServer, ca: TestCa): Promise<number> {
  const driver = neo4j.driver(server.boltUri, neo4j.auth.basic('neo4j', 'unused'), {
    encrypted: 'ENCRYPTION_ON',
    trust: 'TRUST_CUSTOM_CA_SIGNED_CERTIFICATES',
    trustedCertificates: [ca.cert],
    logging: { level: 'error', logger: () => undefined },
    connectionTimeout: 10_000,
    maxTransactionRetryTime: 0,
  });
  try {
    return (await driver.executeQuery('RETURN 1 AS one')).records[0]!.get('one').toNumber();
  } finally {
    await driver.close();
  }
}

function reload(server: TestServer): Promise<CliResult> {
  return runAdmin(['server', 'reload-certificates'], { home: server.home });
}

describe('rotation by reload while a backup is running', () => {
  let server: TestServer;
  before(async () => {
    // About 3 MiB of store at 1 MiB/s: the FULL runs for seconds, long enough to reload in the middle of it.
    server = await tlsServer({ 'server.backup.max_rate': '1m' });
    await writeBarelyCompressibleNodes(server, 'neo4j', 15);
    const d = server.driver();
    await d.executeQuery("UNWIND range(1, 10) AS k CREATE (:W {k: k, v: 'rotated'})");
    await d.close();
  });

  test('the running backup completes with exit 0, the next one is served the new certificate', async () => {
    const oldClient = clientHome(oldCa);
    const newClient = clientHome(newCa);
    const running = spawnAdmin(backupArgs(server, folders.folder()), oldClient);
    let backupExited = false;
    void running.exited.then(() => (backupExited = true));
    // The backup has its TLS connection once the server serves its first stream; reload while it transfers.
    await waitFor('the backup to start transferring', () => /Start full backup of database 'neo4j'/.test(running.output.stdout) || backupExited, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    installIdentity(server, 'backup', certs['new']!);
    installIdentity(server, 'bolt', certs['new']!);
    const r = await reload(server);
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(backupExited, false, `the backup ended before the reload did; it proves nothing:\n${describeRun(r)}`);
    assert.match(r.stdout, /INFO  TLS policy dbms\.ssl\.policy\.backup: certificates reloaded: Backup service serves new connections with ".*public\.crt" \(CN=server-new, serial /);
    assert.match(r.stdout, /INFO  TLS policy dbms\.ssl\.policy\.bolt: certificates reloaded: Bolt serves new connections with /);
    assert.match(server.output, /INFO  TLS policy dbms\.ssl\.policy\.backup: certificates reloaded/);

    const first = await running.exited;
    assert.equal(first.code, 0, describeRun(first));

    // A client trusting only the old CA is now refused: the server presents the new certificate (its name below) ...
    const stale = await runAdmin(backupArgs(server, folders.folder()), { home: oldClient });
    assert.equal(stale.code, 1, describeRun(stale));
    assert.match(stale.stdout + stale.stderr, /ERROR TLS policy dbms\.ssl\.policy\.backup: cannot connect to 127\.0\.0\.1:\d+: the server's certificate is not signed by a CA in "[^"]*trusted"/, describeRun(stale));
    // ... and a client trusting only the new CA is served, and its artifact restores.
    const folder = folders.folder();
    const next = await runAdmin(backupArgs(server, folder), { home: newClient });
    assert.equal(next.code, 0, describeRun(next));
    const restored = await restoreToTemp(folder);
    try {
      assert.equal(restored.result.code, 0, describeRun(restored.result));
      assert.equal(graphLinesOfStore(restored.storeDir).lines.length, 10);
    } finally {
      restored.cleanup();
    }
    assert.equal(await servedCommonName(server.backupPort), 'server-new');
  });
});

describe('a bare SIGHUP rotates the Bolt certificate', () => {
  test('new Bolt connections see the new certificate; a transaction opened before the reload finishes on its connection', async () => {
    const server = await tlsServer();
    assert.equal(await boltReturnOne(server, oldCa), 1);
    const driver = neo4j.driver(server.boltUri, neo4j.auth.basic('neo4j', 'unused'), { encrypted: 'ENCRYPTION_ON', trust: 'TRUST_CUSTOM_CA_SIGNED_CERTIFICATES', trustedCertificates: [oldCa.cert], logging: { level: 'error', logger: () => undefined } });
    const session = driver.session();
    const tx = await session.beginTransaction();
    try {
      await tx.run('RETURN 1');
      installIdentity(server, 'bolt', certs['new']!);
      process.kill(server.pid!, 'SIGHUP');
      await waitFor('the reload line in the server log', () => /dbms\.ssl\.policy\.bolt: certificates reloaded/.test(server.output));
      // The open connection keeps the context it shook hands with.
      const two = await tx.run('RETURN 2 AS two');
      assert.equal(two.records[0]!.get('two').toNumber(), 2);
      await tx.commit();
    } finally {
      await session.close();
      await driver.close();
    }
    assert.equal(await servedCommonName(server.boltPort), 'server-new');
    assert.equal(await boltReturnOne(server, newCa), 1);
    await assert.rejects(boltReturnOne(server, oldCa), /certificate|self[- ]signed|unable to verify|CERT/i);
    // The backup policy's files did not change: it reloaded them and still serves the old certificate.
    assert.equal(await servedCommonName(server.backupPort), 'server-old');
    assert.match(server.output, /INFO  TLS policy dbms\.ssl\.policy\.backup: certificates reloaded: Backup service serves new connections with ".*" \(CN=server-old, /);
  });
});

describe('a reload that fails keeps serving the old material and says why', () => {
  test('wrong key password (backup) and a certificate that does not match its key (Bolt): exit 64, one line each, old certificates served', async () => {
    // The configured password fits no key yet: the first key is unencrypted (a password is then ignored).
    const server = await tlsServer({ 'dbms.ssl.policy.backup.private_key_password': 'the-configured-one' });
    installIdentity(server, 'backup', certs['locked']!);
    // Bolt: the new key with the old certificate, as when an operator copied only one of the two files.
    const boltBase = join(server.home, 'certificates', 'bolt');
    chmodSync(join(boltBase, 'private.key'), 0o600);
    copyFileSync(certs['new']!.key, join(boltBase, 'private.key'));

    const r = await reload(server);
    assert.equal(r.code, 64, describeRun(r));
    const keyFile = join(server.home, 'certificates', 'backup', 'private.key');
    assert.match(r.stdout, new RegExp(`ERROR TLS policy dbms\\.ssl\\.policy\\.backup: certificates not reloaded, Backup service keeps serving the previous certificate ".*public\\.crt" \\(CN=server-old, serial \\w+, valid until [^)]+\\): private key "${keyFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" cannot be decrypted with dbms\\.ssl\\.policy\\.backup\\.private_key_password: wrong password; set dbms\\.ssl\\.policy\\.backup\\.private_key_password to the key's password`), describeRun(r));
    assert.match(r.stdout, /ERROR TLS policy dbms\.ssl\.policy\.bolt: certificates not reloaded, Bolt keeps serving the previous certificate .*: certificate ".*bolt\/public\.crt" \(CN=server-old\) does not match private key ".*bolt\/private\.key"; use the key the certificate was issued for/, describeRun(r));
    assert.match(r.stdout, /ERROR 2 of 2 TLS policies kept the previous certificates/, describeRun(r));
    // The server said it once per policy, in the same words.
    await waitFor('the server log', () => /dbms\.ssl\.policy\.bolt: certificates not reloaded/.test(server.output));
    assert.equal(server.output.split('\n').filter((l) => /ERROR TLS policy dbms\.ssl\.policy\.backup: certificates not reloaded/.test(l)).length, 1, server.output);
    assert.equal(server.output.split('\n').filter((l) => /ERROR TLS policy dbms\.ssl\.policy\.bolt: certificates not reloaded/.test(l)).length, 1, server.output);

    // Both ports still serve the old certificate, and work.
    assert.equal(await servedCommonName(server.backupPort), 'server-old');
    assert.equal(await servedCommonName(server.boltPort), 'server-old');
    assert.equal(await boltReturnOne(server, oldCa), 1);
    const b = await runAdmin(backupArgs(server, folders.folder()), { home: clientHome(oldCa) });
    assert.equal(b.code, 0, describeRun(b));

    // Fixed files reload.
    installIdentity(server, 'backup', certs['new']!);
    installIdentity(server, 'bolt', certs['new']!);
    const fixed = await reload(server);
    assert.equal(fixed.code, 0, describeRun(fixed));
    assert.equal(await servedCommonName(server.backupPort), 'server-new');
    assert.equal(await boltReturnOne(server, newCa), 1);
  });
});

describe('quiver-admin server reload-certificates without a running server', () => {
  test('exits 3 and says no server runs from the home', async () => {
    const home = tempDir('quiver-tls-reload-empty-');
    const r = await runAdmin(['server', 'reload-certificates'], { home });
    assert.equal(r.code, 3, describeRun(r));
    assert.match(r.stderr, /error: cannot reload certificates: no Quiver server runs from ".*": ".*run\/quiver\.pid" does not exist/);
  });
});
