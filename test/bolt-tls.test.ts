/**
 * Bolt over TLS with the official neo4j-driver against a real `bin/quiver console` server, with certificates
 * made by openssl at run time: server.bolt.tls_level REQUIRED / OPTIONAL / DISABLED, bolt+s://, neo4j+s://,
 * bolt+ssc://, a custom trusted CA, client certificates per client_auth, and refusals that say why on both
 * sides (the driver's error and the server log).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import neo4j, { type Config as DriverConfig } from 'neo4j-driver';
import { writePolicyFolder } from '../src/tls/test-policy-home.js';
import { type IssuedCertificate, type TestCa, TestPki } from '../src/tls/test-pki.js';
import { createServer_, quiverBin, repoRoot, runProcess, type TestServer } from './support/harness.js';

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
let serverCert: IssuedCertificate;
let clientCert: IssuedCertificate;
let strangerCert: IssuedCertificate;
const servers: TestServer[] = [];

before(() => {
  pki = new TestPki();
  ca = pki.ca('Bolt CA');
  otherCa = pki.ca('Other CA');
  serverCert = ca.issue('bolt-server');
  clientCert = ca.issue('bolt-client');
  strangerCert = otherCa.issue('stranger');
});
after(async () => {
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
  pki.cleanup();
});

async function tlsServer(conf: Record<string, string>): Promise<TestServer> {
  const server = await createServer_({ conf: { 'dbms.ssl.policy.bolt.enabled': 'true', ...conf } });
  writePolicyFolder(join(server.home, 'certificates', 'bolt'), { identity: serverCert, trusted: [ca.cert] });
  servers.push(server);
  await server.start();
  return server;
}

const quiet: DriverConfig = { logging: { level: 'error', logger: () => undefined }, connectionTimeout: 10_000, maxTransactionRetryTime: 1_000 };

async function returnOne(uri: string, config: DriverConfig = {}): Promise<number> {
  const driver = neo4j.driver(uri, neo4j.auth.basic('neo4j', 'unused'), { ...quiet, ...config });
  try {
    const r = await driver.executeQuery('RETURN 1 AS one');
    return r.records[0]!.get('one').toNumber();
  } finally {
    await driver.close();
  }
}

async function failure(uri: string, config: DriverConfig = {}): Promise<Error> {
  try {
    await returnOne(uri, config);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${uri} connected, but should have been refused`);
}

/** bolt+s:// and neo4j+s:// trust the system store only: a driver process started with NODE_EXTRA_CA_CERTS, as users do. */
async function returnOneInChild(uri: string): Promise<string> {
  const script = `import neo4j from 'neo4j-driver';
const d = neo4j.driver(${JSON.stringify(uri)}, neo4j.auth.basic('neo4j', 'x'), { logging: { level: 'error', logger: () => {} } });
try { const r = await d.executeQuery('RETURN 1 AS one'); console.log('one=' + r.records[0].get('one')); } catch (e) { console.log('error=' + e.message); } finally { await d.close(); }`;
  const r = await runProcess(process.execPath, ['--input-type=module', '-e', script], { env: { NODE_EXTRA_CA_CERTS: ca.cert }, timeoutMs: 60_000, cwd: repoRoot });
  return r.stdout.trim() + r.stderr.trim();
}

describe('server.bolt.tls_level=REQUIRED', () => {
  let server: TestServer;
  before(async () => {
    server = await tlsServer({ 'server.bolt.tls_level': 'REQUIRED' });
  });

  test('the driver connects with the test CA trusted through trustedCertificates', async () => {
    assert.equal(await returnOne(server.boltUri, { encrypted: 'ENCRYPTION_ON', trust: 'TRUST_CUSTOM_CA_SIGNED_CERTIFICATES', trustedCertificates: [ca.cert] }), 1);
    assert.match(server.output, /Bolt TLS policy dbms\.ssl\.policy\.bolt: certificate ".*public\.crt" \(CN=bolt-server, valid until .*\), TLSv1\.2,TLSv1\.3, client certificates checked when presented/);
  });

  test('bolt+s:// and neo4j+s:// connect with the CA in the trust store; bolt+ssc:// with any certificate', async () => {
    assert.equal(await returnOneInChild(`bolt+s://localhost:${server.boltPort}`), 'one=1');
    assert.equal(await returnOneInChild(`neo4j+s://localhost:${server.boltPort}`), 'one=1');
    assert.equal(await returnOne(`bolt+ssc://127.0.0.1:${server.boltPort}`), 1);
  });

  test('plain bolt:// is refused with the reason in the driver error and one line in the server log', async () => {
    const e = await failure(server.boltUri);
    assert.match(e.message, /it connected without TLS \(bolt:\/\/ or neo4j:\/\/\) and server\.bolt\.tls_level=REQUIRED; connect with bolt\+s:\/\/ or neo4j\+s:\/\//);
    assert.match(server.output, /WARN  bolt: TLS policy dbms\.ssl\.policy\.bolt: refused client 127\.0\.0\.1:\d+: it connected without TLS/);
  });

  test('a client certificate from an untrusted CA is refused under client_auth=OPTIONAL, naming the trusted folder', async () => {
    const e = await failure(`bolt+ssc://127.0.0.1:${server.boltPort}`, { clientCertificate: { certfile: strangerCert.cert, keyfile: strangerCert.key } });
    assert.match(e.message, /the client's certificate \(stranger, issued by Other CA\) is not signed by a CA in ".*certificates\/bolt\/trusted"/);
    assert.equal(await returnOne(`bolt+ssc://127.0.0.1:${server.boltPort}`, { clientCertificate: { certfile: clientCert.cert, keyfile: clientCert.key } }), 1);
  });
});

describe('a client that refuses the server certificate', () => {
  /** The server's refusal lines so far, after waiting for one matching `pattern`. */
  async function refusalLines(server: TestServer, pattern: RegExp): Promise<string[]> {
    for (let i = 0; i < 50 && !pattern.test(server.output); i++) await new Promise((r) => setTimeout(r, 100));
    return server.output.split('\n').filter((l) => /refused client/.test(l));
  }
  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    test(`is logged once (rate-limited) with its address and the reason: neo4j-driver closing, openssl sending an alert (${version})`, async () => {
      const server = await tlsServer({ 'server.bolt.tls_level': 'REQUIRED', 'dbms.ssl.policy.bolt.tls_versions': version });
      // The driver trusts only another CA: it completes the handshake, checks the certificate, and closes.
      for (let i = 0; i < 3; i++) await failure(server.boltUri, { encrypted: 'ENCRYPTION_ON', trust: 'TRUST_CUSTOM_CA_SIGNED_CERTIFICATES', trustedCertificates: [otherCa.cert], maxTransactionRetryTime: 0 });
      const closed = /WARN  bolt: TLS policy dbms\.ssl\.policy\.bolt: refused client 127\.0\.0\.1:\d+: it closed the connection during or right after the TLS handshake; it probably refused this server's certificate ".*bolt\/public\.crt"/;
      const afterDriver = await refusalLines(server, closed);
      assert.equal(afterDriver.length, 1, server.output);
      assert.match(afterDriver[0]!, closed);
      // OpenSSL's client refuses inside the handshake with an alert (unknown CA): the server names the cause.
      const r = await runProcess('openssl', ['s_client', '-connect', `127.0.0.1:${server.boltPort}`, '-CAfile', otherCa.cert, '-verify_return_error', version === 'TLSv1.3' ? '-tls1_3' : '-tls1_2'], { timeoutMs: 10_000 });
      assert.notEqual(r.code, 0, r.stdout + r.stderr);
      const untrusted = /WARN  bolt: TLS policy dbms\.ssl\.policy\.bolt: refused client 127\.0\.0\.1:\d+: the client does not trust this server's certificate ".*bolt\/public\.crt"; add its issuing CA to the client's trusted_dir/;
      const afterOpenssl = await refusalLines(server, untrusted);
      assert.equal(afterOpenssl.length, 2, server.output);
      assert.match(afterOpenssl[1]!, untrusted);
    });
  }
});

describe('server.bolt.tls_level=OPTIONAL', () => {
  test('serves TLS and plaintext clients on the one port', async () => {
    const server = await tlsServer({ 'server.bolt.tls_level': 'OPTIONAL' });
    assert.equal(await returnOne(server.boltUri), 1);
    assert.equal(await returnOne(`bolt+ssc://127.0.0.1:${server.boltPort}`), 1);
    assert.equal(await returnOne(server.boltUri, { encrypted: 'ENCRYPTION_ON', trust: 'TRUST_CUSTOM_CA_SIGNED_CERTIFICATES', trustedCertificates: [ca.cert] }), 1);
  });
});

describe('dbms.ssl.policy.bolt.client_auth=REQUIRE', () => {
  test('a client with a trusted certificate connects; one without is told it needs one', async () => {
    const server = await tlsServer({ 'server.bolt.tls_level': 'REQUIRED', 'dbms.ssl.policy.bolt.client_auth': 'REQUIRE' });
    assert.equal(await returnOne(`bolt+ssc://127.0.0.1:${server.boltPort}`, { clientCertificate: { certfile: clientCert.cert, keyfile: clientCert.key } }), 1);
    const e = await failure(`bolt+ssc://127.0.0.1:${server.boltPort}`);
    assert.match(e.message, /it presented no certificate and dbms\.ssl\.policy\.bolt\.client_auth=REQUIRE/);
  });
});

describe('server.bolt.tls_level=DISABLED', () => {
  test('a TLS client on the plaintext port is logged with the settings to change', async () => {
    const server = await createServer_();
    servers.push(server);
    await server.start();
    await failure(`bolt+ssc://127.0.0.1:${server.boltPort}`);
    assert.match(server.output, /WARN  bolt: refused Bolt client 127\.0\.0\.1:\d+: it started a TLS handshake \(bolt\+s:\/\/, neo4j\+s:\/\/\) and Bolt serves no TLS here \(server\.bolt\.tls_level=DISABLED\)/);
  });
});

describe('settings that contradict each other refuse the start', () => {
  for (const [conf, pattern] of [
    [{ 'dbms.ssl.policy.bolt.enabled': 'true' }, /^error: dbms\.ssl\.policy\.bolt\.enabled=true but server\.bolt\.tls_level=DISABLED: Bolt would stay plaintext/m],
    [{ 'server.bolt.tls_level': 'REQUIRED' }, /^error: server\.bolt\.tls_level=REQUIRED needs dbms\.ssl\.policy\.bolt\.enabled=true/m],
    [{ 'server.bolt.tls_level': 'OPTIONAL', 'dbms.ssl.policy.bolt.enabled': 'true' }, /^error: TLS policy dbms\.ssl\.policy\.bolt: the base directory ".*certificates\/bolt" does not exist; create it/m],
  ] as const) {
    test(`${Object.entries(conf).map(([k, v]) => `${k}=${v}`).join(', ')}`, async () => {
      const server = await createServer_({ conf });
      const r = await runProcess(quiverBin, ['console'], { env: { QUIVER_HOME: server.home }, timeoutMs: 30_000 });
      server.cleanup();
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, pattern);
    });
  }
});
