import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientTlsOptions, serverTlsOptions } from './context-options.js';
import { loadTlsMaterial } from './material.js';
import { homeWithPolicy, newHome, policyOf, writePolicyFolder } from './test-policy-home.js';
import { type IssuedCertificate, type TestCa, TestPki } from './test-pki.js';
import { TlsPolicyError } from './tls-error.js';

let pki: TestPki;
let ca: TestCa;
let server: IssuedCertificate;
let other: IssuedCertificate;
const homes: string[] = [];
before(() => {
  pki = new TestPki();
  ca = pki.ca('Material CA');
  server = ca.issue('server');
  other = ca.issue('other');
});
after(() => {
  pki.cleanup();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function home(identity: IssuedCertificate = server, crls: string[] = []): string {
  const h = homeWithPolicy(ca, 'backup', identity, { crls });
  homes.push(h);
  return h;
}

/** Expects a TlsPolicyError naming the policy, the file, and matching `problem` and `fix`. */
function policyError(file: string | undefined, problem: RegExp, fix: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof TlsPolicyError, String(e));
    assert.equal(e.file, file);
    assert.match(e.problem, problem);
    assert.match(e.fix, fix);
    assert.match(e.message, /^TLS policy dbms\.ssl\.policy\.backup: /);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

describe('loadTlsMaterial', () => {
  it('loads key, certificate, trusted CAs and CRLs from the default layout under certificates/<scope>', () => {
    const crl = join(pki.dir, 'material.crl');
    ca.writeCrl(crl);
    const h = home(server, [crl]);
    const m = loadTlsMaterial(policyOf(h, 'backup'), 'server');
    assert.equal(m.identity?.keyFile, join(h, 'certificates', 'backup', 'private.key'));
    assert.match(m.identity!.leaf.subject, /CN=server/);
    assert.equal(m.trusted.length, 1);
    assert.equal(m.crls.length, 1);
    assert.deepEqual(m.warnings, []);
    const o = serverTlsOptions(m);
    assert.equal(o.requestCert, true, 'backup defaults to client_auth=REQUIRE');
    assert.equal(o.minVersion, 'TLSv1.2');
    assert.equal(o.maxVersion, 'TLSv1.3');
  });

  it('refuses a base directory that does not exist, saying Quiver does not create it', () => {
    const h = newHome();
    homes.push(h);
    const base = join(h, 'certificates', 'backup');
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(base, /the base directory ".*" does not exist/, /Quiver does not.*dbms\.ssl\.policy\.backup\.base_directory/));
  });

  it('refuses a trusted or revoked folder that does not exist when the policy checks peers', () => {
    const h = home();
    rmSync(join(h, 'certificates', 'backup', 'revoked'), { recursive: true });
    const revoked = join(h, 'certificates', 'backup', 'revoked');
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(revoked, /the revoked folder ".*revoked" does not exist/, /revoked_dir/));
    const trusted = join(h, 'elsewhere');
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup', { trusted_dir: trusted }), 'server'), policyError(trusted, /the trusted folder ".*elsewhere" does not exist/, /trusted_dir/));
    // A server that does not check clients reads neither folder.
    assert.doesNotThrow(() => loadTlsMaterial(policyOf(h, 'backup', { client_auth: 'NONE' }), 'server'));
  });

  it('refuses an empty trusted folder and a file in it that holds no certificate', () => {
    const h = home();
    const trusted = join(h, 'certificates', 'backup', 'trusted');
    rmSync(trusted, { recursive: true });
    mkdirSync(trusted);
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'client'), policyError(trusted, /is empty/, /copy the CA certificate/));
    writeFileSync(join(trusted, 'notes.txt'), 'hello\n');
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'client'), policyError(join(trusted, 'notes.txt'), /holds no PEM certificate/, /remove it/));
  });

  it('refuses a revoked file that holds no CRL', () => {
    const h = home();
    const f = join(h, 'certificates', 'backup', 'revoked', 'crl.pem');
    writeFileSync(f, 'not a crl\n');
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(f, /holds no PEM CRL/, /openssl crl/));
  });

  it('refuses a missing key and, for a non-root user, an unreadable one', () => {
    const h = home();
    const key = join(h, 'certificates', 'backup', 'private.key');
    chmodSync(key, 0o000);
    if (process.getuid?.() !== 0) {
      assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(key, /is not readable by this process/, /chmod 0400/));
    }
    rmSync(key);
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(key, /private key ".*private\.key" does not exist/, /dbms\.ssl\.policy\.backup\.private_key/));
  });

  it('reads an encrypted key with its password, also through --expand-commands, and names a missing or wrong password', () => {
    const locked = ca.issue('locked', { keyPassword: 'open sesame' });
    const h = home(locked);
    const key = join(h, 'certificates', 'backup', 'private.key');
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(key, /is encrypted and dbms\.ssl\.policy\.backup\.private_key_password is not set/, /--expand-commands/));
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup', { private_key_password: 'guess' }), 'server'), policyError(key, /cannot be decrypted.*wrong password/, /private_key_password/));
    assert.ok(loadTlsMaterial(policyOf(h, 'backup', { private_key_password: 'open sesame' }), 'server').identity);
    const expanded = policyOf(h, 'backup', { private_key_password: "$(printf '%s' 'open sesame')" }, true);
    assert.ok(loadTlsMaterial(expanded, 'server').identity);
  });

  it('refuses a certificate that does not match the key, naming both files', () => {
    const h = home();
    const base = join(h, 'certificates', 'backup');
    writePolicyFolder(base, { identity: { key: other.key, cert: server.cert } });
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(join(base, 'public.crt'), /CN=server.*does not match private key ".*private\.key"/, /openssl x509 -noout -pubkey/));
  });

  it('refuses a certificate file without a PEM certificate', () => {
    const h = home();
    const cert = join(h, 'certificates', 'backup', 'public.crt');
    writeFileSync(cert, 'garbage\n');
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'server'), policyError(cert, /holds no PEM certificate/, /leaf first/));
  });

  it('warns about its own expired or not yet valid certificate, and about trust_all', () => {
    const expired = home(ca.issue('expired', { notBeforeDays: -10, notAfterDays: -1 }));
    assert.match(loadTlsMaterial(policyOf(expired, 'backup'), 'server').warnings.join('\n'), /certificate ".*public\.crt" expired on .*: clients will refuse it; renew it/);
    const future = home(ca.issue('future', { notBeforeDays: 3 }));
    assert.match(loadTlsMaterial(policyOf(future, 'backup'), 'client').warnings.join('\n'), /is not valid before .*: servers will refuse it/);
    const trustAll = loadTlsMaterial(policyOf(home(), 'backup', { trust_all: 'true' }), 'client');
    assert.match(trustAll.warnings.join('\n'), /trust_all=true accepts every peer certificate/);
    assert.equal(trustAll.trusted.length, 0);
    assert.equal(clientTlsOptions(trustAll, 'localhost').rejectUnauthorized, false);
  });

  it('lets a client without key and certificate present none, but refuses half an identity', () => {
    const h = home();
    const base = join(h, 'certificates', 'backup');
    rmSync(join(base, 'private.key'));
    rmSync(join(base, 'public.crt'));
    const m = loadTlsMaterial(policyOf(h, 'backup'), 'client');
    assert.equal(m.identity, undefined);
    assert.equal(clientTlsOptions(m, '127.0.0.1').servername, undefined, 'no SNI for an IP address');
    writePolicyFolder(base, { identity: server });
    rmSync(join(base, 'public.crt'));
    assert.throws(() => loadTlsMaterial(policyOf(h, 'backup'), 'client'), policyError(join(base, 'public.crt'), /does not exist/, /public_certificate/));
  });
});

describe('TLS options from a policy', () => {
  it("translates Neo4j's IANA cipher names to OpenSSL's and refuses unknown ones", () => {
    const h = home();
    const named = loadTlsMaterial(policyOf(h, 'backup', { ciphers: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,TLS_AES_256_GCM_SHA384', tls_versions: 'TLSv1.2' }), 'server');
    const o = serverTlsOptions(named);
    assert.equal(o.ciphers, 'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES256-SHA384');
    assert.equal(o.minVersion, 'TLSv1.2');
    assert.equal(o.maxVersion, 'TLSv1.2');
    const bad = loadTlsMaterial(policyOf(h, 'backup', { ciphers: 'TLS_FAKE_WITH_NOTHING' }), 'server');
    assert.throws(() => serverTlsOptions(bad), policyError(undefined, /ciphers names cipher suites this Quiver does not know: TLS_FAKE_WITH_NOTHING/, /openssl ciphers -stdname/));
  });

  it('turns off hostname verification only when verify_hostname=false', () => {
    const h = home();
    const on = clientTlsOptions(loadTlsMaterial(policyOf(h, 'backup'), 'client'), 'db.example');
    assert.equal(on.servername, 'db.example');
    assert.ok(on.checkServerIdentity!('other.example', { subject: { CN: 'x' }, subjectaltname: 'DNS:db.example' } as never) instanceof Error);
    const off = clientTlsOptions(loadTlsMaterial(policyOf(h, 'backup', { verify_hostname: 'false' }), 'client'), 'db.example');
    assert.equal(off.checkServerIdentity!('other.example', { subject: { CN: 'x' }, subjectaltname: 'DNS:db.example' } as never), undefined);
  });
});
