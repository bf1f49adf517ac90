import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SslPolicy } from '../config/ssl-policy.js';
import { classifyTlsError, type MessageContext, refusalMessage } from './refusal.js';
import { RefusalLog } from './refusal-log.js';

const policy: SslPolicy = {
  scope: 'backup',
  enabled: true,
  baseDirectory: '/q/certificates/backup',
  privateKey: '/q/certificates/backup/private.key',
  privateKeyPassword: undefined,
  publicCertificate: '/q/certificates/backup/public.crt',
  trustedDir: '/q/certificates/backup/trusted',
  revokedDir: '/q/certificates/backup/revoked',
  clientAuth: 'REQUIRE',
  tlsVersions: ['TLSv1.2', 'TLSv1.3'],
  ciphers: undefined,
  verifyHostname: true,
  trustAll: false,
};
const cert = { subject: 'client-a', issuer: 'Other CA', validFrom: 'Jan 1 00:00:00 2020 GMT', validTo: 'Jan 2 00:00:00 2020 GMT', serial: '1001', altNames: 'DNS:localhost, IP Address:127.0.0.1' };
const server: MessageContext = { policy, side: 'server', whose: 'peer', peerAddress: '10.0.0.7:51000' };
const client: MessageContext = { policy, side: 'client', whose: 'peer', peerAddress: '10.0.0.5:6362', dialledHost: '10.0.0.5' };

describe('refusalMessage', () => {
  it('says each refusal in one line naming the policy, the file or setting, and the fix', () => {
    const cases: Array<[Parameters<typeof refusalMessage>[0], MessageContext, RegExp]> = [
      [{ reason: 'client-certificate-missing' }, server, /refused client 10\.0\.0\.7:51000: it presented no certificate and dbms\.ssl\.policy\.backup\.client_auth=REQUIRE; give the client a key and certificate signed by a CA in "\/q\/certificates\/backup\/trusted"/],
      [{ reason: 'client-certificate-missing' }, { ...client, whose: 'own' }, /the server requires a client certificate .* put this client's key and certificate at "\/q\/certificates\/backup\/private\.key" and "\/q\/certificates\/backup\/public\.crt"/],
      [{ reason: 'expired', certificate: cert }, server, /the client's certificate \(client-a, issued by Other CA\) expired on Jan 2 00:00:00 2020 GMT; renew it/],
      [{ reason: 'expired' }, { ...client, whose: 'own' }, /this client's certificate "\/q\/certificates\/backup\/public\.crt", which the server checked, expired; renew it/],
      [{ reason: 'not-yet-valid', certificate: cert }, client, /the server's certificate .* is not valid yet \(not before Jan 1 00:00:00 2020 GMT\); check the clocks/],
      [{ reason: 'revoked', certificate: cert }, server, /serial 1001, is revoked by a CRL in "\/q\/certificates\/backup\/revoked"; issue the client a new certificate/],
      [{ reason: 'untrusted', certificate: cert }, server, /is not signed by a CA in "\/q\/certificates\/backup\/trusted".*copy the CA certificate that issued it into that folder/],
      [{ reason: 'untrusted', certificate: cert }, client, /set dbms\.ssl\.policy\.backup\.trust_all=true to debug/],
      [{ reason: 'hostname', certificate: cert }, client, /the IP address 10\.0\.0\.5 is not among the certificate's subjectAltName IP addresses \(it names: DNS:localhost, IP Address:127\.0\.0\.1\); .*subjectAltName IP:10\.0\.0\.5, or set dbms\.ssl\.policy\.backup\.verify_hostname=false/],
      [{ reason: 'hostname', certificate: cert }, { ...client, dialledHost: 'db.example' }, /the name "db\.example" is not among the certificate's subjectAltNames.*DNS:db\.example/],
      [{ reason: 'protocol-version' }, client, /no TLS version in common: this client allows TLSv1\.2,TLSv1\.3 \(dbms\.ssl\.policy\.backup\.tls_versions\)/],
      [{ reason: 'cipher' }, server, /no cipher suite in common: this server allows the Node\.js defaults \(dbms\.ssl\.policy\.backup\.ciphers\)/],
      [{ reason: 'plain-to-tls' }, server, /it spoke plaintext to this TLS port \(dbms\.ssl\.policy\.backup\.enabled=true here\); turn TLS on in the client/],
      [{ reason: 'plain-to-tls' }, client, /the server requires TLS \(dbms\.ssl\.policy\.backup\.enabled=true there\) and this client spoke plaintext/],
      [{ reason: 'tls-to-plain' }, client, /the server answered in plaintext \(dbms\.ssl\.policy\.backup\.enabled=false there\)/],
      [{ reason: 'tls-to-plain' }, server, /it started a TLS handshake on this plaintext port/],
    ];
    for (const [refusal, ctx, pattern] of cases) {
      const line = refusalMessage(refusal, ctx);
      assert.match(line, pattern);
      assert.match(line, /^TLS policy dbms\.ssl\.policy\.backup: /);
      assert.doesNotMatch(line, /\n/);
    }
  });
});

describe('classifyTlsError', () => {
  it('maps Node.js and OpenSSL codes to reasons', () => {
    const e = (code: string, message = code) => Object.assign(new Error(message), { code });
    assert.equal(classifyTlsError(e('CERT_HAS_EXPIRED')).reason, 'expired');
    assert.equal(classifyTlsError(e('ERR_TLS_CERT_ALTNAME_INVALID')).reason, 'hostname');
    assert.equal(classifyTlsError(e('ERR_SSL_WRONG_VERSION_NUMBER')).reason, 'tls-to-plain');
    assert.equal(classifyTlsError(e('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')).reason, 'protocol-version');
    assert.equal(classifyTlsError(e('ERR_SSL_NO_SHARED_CIPHER')).reason, 'cipher');
    assert.equal(classifyTlsError(e('X', 'Client network socket disconnected before secure TLS connection was established')).reason, 'closed');
    assert.equal(classifyTlsError(e('SOMETHING_NEW')).reason, 'other');
  });
});

describe('RefusalLog', () => {
  it('logs a (host, reason) once per window and counts the ones left out', () => {
    let now = 0;
    const lines: string[] = [];
    const log = new RefusalLog((l) => lines.push(l), () => now, 60_000);
    log.refused('10.0.0.7', 'expired', 'A');
    log.refused('10.0.0.7', 'expired', 'A');
    log.refused('10.0.0.8', 'expired', 'B');
    log.refused('10.0.0.7', 'revoked', 'C');
    now = 61_000;
    log.refused('10.0.0.7', 'expired', 'A');
    assert.deepEqual(lines, ['A', 'B', 'C', 'A (1 more like it in the last 60 s not logged)']);
  });
});
