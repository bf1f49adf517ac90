/**
 * The backup port over TLS (dbms.ssl.policy.backup) with real processes: a `bin/quiver console` server and the
 * `bin/quiver-admin database backup` client, each with its own home and policy, certificates made by openssl at
 * run time. Every refusal is checked on both sides: the client's one line and the server's log line.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writePolicyFolder } from '../src/tls/test-policy-home.js';
import { type IssuedCertificate, type TestCa, TestPki } from '../src/tls/test-pki.js';
import { describeRun, graphLinesOfStore, restoreToTemp, tempFolders } from './support/backup-helpers.js';
import { type CliResult, createServer_, runAdmin, tempDir, type TestServer } from './support/harness.js';

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
const certs: Record<string, IssuedCertificate> = {};
const servers: TestServer[] = [];
const folders = tempFolders('quiver-tls-backups-');
const clientHomes: string[] = [];

before(() => {
  pki = new TestPki();
  ca = pki.ca('Backup CA');
  otherCa = pki.ca('Other CA');
  certs['server'] = ca.issue('server');
  certs['namedServer'] = ca.issue('named-server', { altNames: ['DNS:db.example'] });
  certs['client'] = ca.issue('client');
  certs['locked'] = ca.issue('locked-client', { keyPassword: 'pw-1' });
  certs['expired'] = ca.issue('expired-client', { notBeforeDays: -20, notAfterDays: -2 });
  certs['future'] = ca.issue('future-client', { notBeforeDays: 5 });
  certs['revoked'] = ca.issue('revoked-client');
  certs['stranger'] = otherCa.issue('stranger');
  ca.revoke(certs['revoked']);
  ca.writeCrl(join(pki.dir, 'backup-ca.crl'));
});
after(async () => {
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
  folders.removeAll();
  pki.cleanup();
});

/** A server whose backup port uses the policy (`settings`: suffix -> value), with `identity` and the CA's CRL. */
async function tlsServer(identity: IssuedCertificate, settings: Record<string, string> = {}): Promise<TestServer> {
  const conf = Object.fromEntries(Object.entries({ enabled: 'true', ...settings }).map(([k, v]) => [`dbms.ssl.policy.backup.${k}`, v]));
  const server = await createServer_({ conf });
  writePolicyFolder(join(server.home, 'certificates', 'backup'), { identity, trusted: [ca.cert], crls: [join(pki.dir, 'backup-ca.crl')] });
  servers.push(server);
  await server.start();
  return server;
}

interface ClientOptions {
  identity?: IssuedCertificate | undefined;
  trusted?: string[];
  /** Suffix -> value of dbms.ssl.policy.backup; `enabled` defaults to true. */
  settings?: Record<string, string>;
  /** Which file carries the settings. */
  file?: 'quiver-admin.conf' | 'quiver-admin-database-backup.conf' | 'additional';
}

/** Runs `quiver-admin database backup` from a fresh client home holding its own policy. */
async function clientBackup(server: TestServer, o: ClientOptions = {}, address = server.backupAddress): Promise<CliResult & { folder: string }> {
  const home = tempDir('quiver-tls-client-');
  clientHomes.push(home);
  mkdirSync(join(home, 'conf'));
  writePolicyFolder(join(home, 'certificates', 'backup'), { identity: o.identity, trusted: o.trusted ?? [ca.cert], crls: [join(pki.dir, 'backup-ca.crl')] });
  const text = Object.entries({ enabled: 'true', ...o.settings }).map(([k, v]) => `dbms.ssl.policy.backup.${k}=${v}`).join('\n') + '\n';
  const file = o.file ?? 'quiver-admin.conf';
  const extra: string[] = [];
  if (file === 'additional') {
    writeFileSync(join(home, 'extra.conf'), text);
    extra.push(`--additional-config=${join(home, 'extra.conf')}`);
  } else writeFileSync(join(home, 'conf', file), text);
  const folder = folders.folder();
  const r = await runAdmin(['database', 'backup', `--from=${address}`, `--to-path=${folder}`, '--type=FULL', ...extra, 'neo4j'], { home });
  return { ...r, folder };
}

/** The client failed, its first error line (the one naming the cause) matching `pattern`; the next one points back to it. */
function assertClientRefused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, describeRun(r));
  const errors = (r.stdout + r.stderr).split('\n').filter((l) => / ERROR /.test(l));
  assert.match(errors[0] ?? '', /ERROR TLS policy dbms\.ssl\.policy\.backup: cannot connect to 127\.0\.0\.1:\d+: /, describeRun(r));
  assert.match(errors[0]!, pattern, describeRun(r));
  assert.match(errors[1] ?? '', /could not be backed up: .*\(the TLS error above says what to change\)/, describeRun(r));
}

async function assertServerLogged(server: TestServer, pattern: RegExp): Promise<void> {
  // The server notices some refusals (a client closing after the handshake) a moment after the client exits.
  for (let i = 0; i < 50 && !pattern.test(server.output); i++) await new Promise((r) => setTimeout(r, 100));
  const lines = server.output.split('\n').filter((l) => /WARN  backup service: TLS policy dbms\.ssl\.policy\.backup: refused client 127\.0\.0\.1:\d+: /.test(l));
  assert.ok(lines.some((l) => pattern.test(l)), `no server log line matches ${pattern}:\n${lines.join('\n')}`);
}

describe('backup service with dbms.ssl.policy.backup (client_auth=REQUIRE)', () => {
  let server: TestServer;
  before(async () => {
    server = await tlsServer(certs['server']!);
    const d = server.driver();
    await d.executeQuery("UNWIND range(1, 50) AS k CREATE (:W {k: k, v: 'tls'})");
    await d.close();
  });

  test('a backup over mutual TLS succeeds and its artifact restores', async () => {
    assert.match(server.output, /Backup service listening on 127\.0\.0\.1:\d+ \(TLS, client_auth=REQUIRE\)\./);
    const r = await clientBackup(server, { identity: certs['client'] });
    assert.equal(r.code, 0, describeRun(r));
    const restored = await restoreToTemp(r.folder);
    try {
      assert.equal(restored.result.code, 0, describeRun(restored.result));
      assert.equal(graphLinesOfStore(restored.storeDir).lines.length, 50);
    } finally {
      restored.cleanup();
    }
  });

  test('the policy is read from quiver-admin-database-backup.conf and --additional-config too, with a key password', async () => {
    assert.equal((await clientBackup(server, { identity: certs['client'], file: 'quiver-admin-database-backup.conf' })).code, 0);
    const r = await clientBackup(server, { identity: certs['locked'], file: 'additional', settings: { private_key_password: 'pw-1' } });
    assert.equal(r.code, 0, describeRun(r));
  });

  test('a wrong key password stops the client before it connects, naming the file and the setting', async () => {
    const r = await clientBackup(server, { identity: certs['locked'], settings: { private_key_password: 'nope' } });
    assert.equal(r.code, 64, describeRun(r));
    assert.match(r.stderr, /^error: TLS policy dbms\.ssl\.policy\.backup: private key ".*certificates\/backup\/private\.key" cannot be decrypted with dbms\.ssl\.policy\.backup\.private_key_password: wrong password; set /m);
  });

  test('no client certificate under REQUIRE', async () => {
    const r = await clientBackup(server, {});
    assertClientRefused(r, /the server requires a client certificate \(client_auth=REQUIRE there\) and this client presented none; put this client's key and certificate at ".*private\.key" and ".*public\.crt"/);
    await assertServerLogged(server, /it presented no certificate and dbms\.ssl\.policy\.backup\.client_auth=REQUIRE/);
  });

  test('a client certificate from another CA', async () => {
    const r = await clientBackup(server, { identity: certs['stranger'], trusted: [ca.cert] });
    assertClientRefused(r, /the server does not trust this client's certificate ".*public\.crt"; add its issuing CA to the server's trusted_dir/);
    await assertServerLogged(server, /the client's certificate \(stranger, issued by Other CA\) is not signed by a CA in ".*certificates\/backup\/trusted"/);
  });

  test('a revoked client certificate', async () => {
    const r = await clientBackup(server, { identity: certs['revoked'] });
    assertClientRefused(r, /the server holds a CRL revoking this client's certificate ".*public\.crt"; issue this client a new certificate/);
    await assertServerLogged(server, /the client's certificate \(revoked-client, issued by Backup CA\), serial \w+, is revoked by a CRL in ".*certificates\/backup\/revoked"/);
  });

  test('an expired and a not yet valid client certificate', async () => {
    const expired = await clientBackup(server, { identity: certs['expired'] });
    assert.match(expired.stdout + expired.stderr, /WARN .*certificate ".*public\.crt" expired on .*: servers will refuse it/);
    assertClientRefused(expired, /this client's certificate ".*public\.crt", which the server checked, expired on .*; renew it/);
    await assertServerLogged(server, /the client's certificate \(expired-client, issued by Backup CA\) expired on /);
    const future = await clientBackup(server, { identity: certs['future'] });
    assertClientRefused(future, /this client's certificate ".*public\.crt", which the server checked, is not valid yet \(not before .*\); check the clocks/);
    await assertServerLogged(server, /the client's certificate \(future-client, issued by Backup CA\) is not valid yet/);
  });

  test('a server certificate the client does not trust', async () => {
    const r = await clientBackup(server, { identity: certs['client'], trusted: [otherCa.cert] });
    assertClientRefused(r, /cannot connect to 127\.0\.0\.1:\d+: the server's certificate is not signed by a CA in ".*certificates\/backup\/trusted" \(self-signed certificate in certificate chain\); copy the CA certificate that issued it into that folder, or set dbms\.ssl\.policy\.backup\.trust_all=true to debug/);
    await assertServerLogged(server, /it closed the connection during or right after the TLS handshake; it probably refused this server's certificate ".*certificates\/backup\/public\.crt"/);
  });

  test('trust_all connects to an untrusted server and warns', async () => {
    const r = await clientBackup(server, { identity: certs['client'], trusted: [otherCa.cert], settings: { trust_all: 'true' } });
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout + r.stderr, /WARN .*trust_all=true accepts every peer certificate, so anyone can pose as the server/);
  });

  test('a plaintext client against the TLS port', async () => {
    const r = await clientBackup(server, { settings: { enabled: 'false' } });
    assertClientRefused(r, /the server requires TLS \(dbms\.ssl\.policy\.backup\.enabled=true there\) and this client spoke plaintext; set dbms\.ssl\.policy\.backup\.enabled=true/);
    await assertServerLogged(server, /it spoke plaintext to this TLS port \(dbms\.ssl\.policy\.backup\.enabled=true here\)/);
  });
});

describe('hostname verification, protocol versions and ciphers', () => {
  let server: TestServer;
  before(async () => {
    // A certificate for db.example only, on a TLSv1.2-only port.
    server = await tlsServer(certs['namedServer']!, { tls_versions: 'TLSv1.2' });
  });

  test('an IP address missing from the certificate is named as such; verify_hostname=false connects', async () => {
    const r = await clientBackup(server, { identity: certs['client'] });
    assertClientRefused(r, /the IP address 127\.0\.0\.1 is not among the certificate's subjectAltName IP addresses \(it names: DNS:db\.example\); .*set dbms\.ssl\.policy\.backup\.verify_hostname=false/);
    const off = await clientBackup(server, { identity: certs['client'], settings: { verify_hostname: 'false' } });
    assert.equal(off.code, 0, describeRun(off));
  });

  test('a TLSv1.3-only client against a TLSv1.2-only server', async () => {
    const r = await clientBackup(server, { identity: certs['client'], settings: { verify_hostname: 'false', tls_versions: 'TLSv1.3' } });
    assertClientRefused(r, /no TLS version in common: this client allows TLSv1\.3 \(dbms\.ssl\.policy\.backup\.tls_versions\)/);
    await assertServerLogged(server, /no TLS version in common: this server allows TLSv1\.2/);
  });

  test('no cipher suite in common', async () => {
    const r = await clientBackup(server, { identity: certs['client'], settings: { verify_hostname: 'false', tls_versions: 'TLSv1.2', ciphers: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' } });
    assertClientRefused(r, /no cipher suite in common.*this client allows TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 \(dbms\.ssl\.policy\.backup\.ciphers\)/);
    await assertServerLogged(server, /no cipher suite in common/);
  });
});

describe('a TLS client against a plaintext backup port', () => {
  test('both sides say the server has TLS off', async () => {
    const server = await createServer_();
    servers.push(server);
    await server.start();
    const r = await clientBackup(server, { identity: certs['client'] });
    assertClientRefused(r, /the server answered in plaintext \(dbms\.ssl\.policy\.backup\.enabled=false there\) and this client requires TLS; enable the policy on the server, or set dbms\.ssl\.policy\.backup\.enabled=false/);
    await assertServerLogged(server, /it started a TLS handshake on this plaintext port \(dbms\.ssl\.policy\.backup\.enabled=false here\)/);
  });
});
