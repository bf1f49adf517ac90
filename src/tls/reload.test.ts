import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { reloadPort, type ReloadablePort } from './reload.js';
import { loadServerTls } from './server-tls.js';
import { homeWithPolicy, policyOf } from './test-policy-home.js';
import { type IssuedCertificate, type TestCa, TestPki } from './test-pki.js';

let pki: TestPki;
let ca: TestCa;
let first: IssuedCertificate;
let second: IssuedCertificate;
const homes: string[] = [];
before(() => {
  pki = new TestPki();
  ca = pki.ca('Reload CA');
  first = ca.issue('first', { commonName: 'first' });
  second = ca.issue('second', { commonName: 'second' });
});
after(() => {
  pki.cleanup();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

/** A port over a fresh home serving `first`, recording every setTlsOptions call. */
function port(): { port: ReloadablePort; applied: tls.TlsOptions[]; base: string } {
  const home = homeWithPolicy(ca, 'backup', first);
  homes.push(home);
  const policy = policyOf(home, 'backup');
  const applied: tls.TlsOptions[] = [];
  return { port: { name: 'Backup service', policy, current: loadServerTls(policy, () => undefined), setTlsOptions: (o) => applied.push(o) }, applied, base: join(home, 'certificates', 'backup') };
}

describe('reloadPort', () => {
  it('applies the files found now and says which certificate new connections get', () => {
    const p = port();
    copyFileSync(second.key, join(p.base, 'private.key'));
    copyFileSync(second.cert, join(p.base, 'public.crt'));
    const outcome = reloadPort(p.port, () => undefined);
    assert.equal(outcome.ok, true);
    assert.match(outcome.message, /^TLS policy dbms\.ssl\.policy\.backup: certificates reloaded: Backup service serves new connections with ".*public\.crt" \(CN=second, serial \w+, valid until .*\), 1 trusted certificate\(s\), 0 CRL\(s\)/);
    assert.equal(p.applied.length, 1);
    assert.equal(p.port.current.material.identity!.leaf.subject, 'CN=second');
  });

  it('keeps the previous material when a file is missing, naming the file and the fix', () => {
    const p = port();
    rmSync(join(p.base, 'public.crt'));
    const outcome = reloadPort(p.port, () => undefined);
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.file === join(p.base, 'public.crt'));
    assert.match(outcome.message, /^TLS policy dbms\.ssl\.policy\.backup: certificates not reloaded, Backup service keeps serving the previous certificate ".*public\.crt" \(CN=first, serial \w+, valid until [^)]+\): certificate ".*public\.crt" does not exist; put the file there or point dbms\.ssl\.policy\.backup\.public_certificate at it$/);
    assert.equal(p.applied.length, 0);
    assert.equal(p.port.current.material.identity!.leaf.subject, 'CN=first');
  });

  it('keeps the previous material when the trusted folder is emptied', () => {
    const p = port();
    rmSync(join(p.base, 'trusted', 'ca-0.crt'));
    const outcome = reloadPort(p.port, () => undefined);
    assert.equal(outcome.ok, false);
    assert.match(outcome.message, /certificates not reloaded, .*: the trusted folder ".*trusted" is empty/);
    assert.equal(p.applied.length, 0);
  });
});
