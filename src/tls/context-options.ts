/**
 * Turns an SSL policy and its loaded files into the options Node.js takes: `serverTlsOptions` for a listener
 * (Bolt, backup service), `clientTlsOptions` for a connection (quiver-admin). The one place where policy
 * keys meet `tls`; the server and the client both use it, so they cannot disagree about a key's meaning.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import { translateCipherNames } from './cipher-names.js';
import type { TlsMaterial } from './material.js';
import { TlsPolicyError } from './tls-error.js';

type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

function versionRange(policy: SslPolicy): { minVersion: TlsVersion; maxVersion: TlsVersion } {
  const versions = [...policy.tlsVersions].sort() as TlsVersion[];
  // Only TLSv1.2 and TLSv1.3 are allowed values (settings.ts), so any non-empty set is a contiguous range.
  return { minVersion: versions[0]!, maxVersion: versions[versions.length - 1]! };
}

function cipherOption(policy: SslPolicy): { ciphers?: string } {
  if (policy.ciphers === undefined) return {};
  const t = translateCipherNames(policy.ciphers);
  if (!t.ok) {
    throw new TlsPolicyError(policy.scope, undefined, `dbms.ssl.policy.${policy.scope}.ciphers names cipher suites this Quiver does not know: ${t.unknown.join(', ')}`, 'use IANA names (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) or OpenSSL names (ECDHE-RSA-AES256-GCM-SHA384); "openssl ciphers -stdname" lists both');
  }
  const versions = policy.tlsVersions;
  if (versions.includes('TLSv1.2') && !versions.includes('TLSv1.3') && t.tls12.length === 0) {
    throw new TlsPolicyError(policy.scope, undefined, `dbms.ssl.policy.${policy.scope}.ciphers lists only TLSv1.3 suites but tls_versions=TLSv1.2`, 'add TLSv1.2 cipher suites or allow TLSv1.3');
  }
  // Node.js keeps its default TLSv1.3 suites unless the list names some: say "these and only these".
  return { ciphers: t.opensslNames.join(':') };
}

/** The material as TLS context options, shared by both roles. */
function contextOptions(m: TlsMaterial): tls.SecureContextOptions {
  const o: tls.SecureContextOptions = { ...versionRange(m.policy), ...cipherOption(m.policy) };
  if (m.identity) {
    o.key = m.identity.key.export({ type: 'pkcs8', format: 'pem' });
    o.cert = m.identity.chainPem;
  }
  if (m.trusted.length) o.ca = m.trusted.map((t) => t.pem);
  if (m.crls.length) o.crl = m.crls.map((c) => c.pem);
  return o;
}

/**
 * Options for a listener. The peer's certificate is requested per client_auth but never rejected inside the
 * handshake (`rejectUnauthorized: false`): Node.js would then just drop the connection, and the client would
 * never learn why. peer-check.ts judges the certificate right after the handshake and refuses with a reason.
 */
export function serverTlsOptions(m: TlsMaterial): tls.TlsOptions {
  if (m.role !== 'server' || m.identity === undefined) throw new Error('assertion failed: server TLS options need server material with an identity');
  return {
    ...contextOptions(m),
    requestCert: m.policy.clientAuth !== 'NONE',
    rejectUnauthorized: false,
  };
}

/** Options to dial `host` (the name or address the user gave, checked against the certificate when verify_hostname). */
export function clientTlsOptions(m: TlsMaterial, host: string): tls.ConnectionOptions {
  if (m.role !== 'client') throw new Error('assertion failed: client TLS options need client material');
  return {
    ...contextOptions(m),
    // SNI carries names only; an IP address is still checked against the certificate's IP SANs.
    ...(isIP(host) ? {} : { servername: host }),
    rejectUnauthorized: !m.policy.trustAll,
    checkServerIdentity: m.policy.verifyHostname ? tls.checkServerIdentity : () => undefined,
  };
}
