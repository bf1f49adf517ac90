/**
 * Why a TLS connection was refused, in one model for both ends: `judgePeer` (a server checking a client's
 * certificate right after the handshake), `classifyTlsError` (a Node.js/OpenSSL handshake error on either
 * end), and `refusalMessage`, the one sentence — with the file and the setting to change — that the server
 * logs and the client prints. Pure functions over plain facts, so every message is unit-tested.
 */
import { isIP } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import type { TlsRefusalReason } from './tls-error.js';

/** What the refusing end knows about the certificate at fault. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  serial: string;
  altNames: string;
}

export interface Refusal {
  reason: TlsRefusalReason;
  /** The certificate at fault, when one is. */
  certificate?: CertificateFacts | undefined;
  /** Node.js/OpenSSL's own words, kept for --verbose and for reasons without a better sentence. */
  detail?: string | undefined;
}

export function factsOf(c: PeerCertificate): CertificateFacts {
  const name = (n: PeerCertificate['subject'] | undefined) => (n?.CN ? String(n.CN) : Object.entries(n ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', ') || '?');
  return { subject: name(c.subject), issuer: name(c.issuer), validFrom: c.valid_from, validTo: c.valid_to, serial: c.serialNumber, altNames: c.subjectaltname ?? '' };
}

/** OpenSSL verification results (as Node.js names them) by what they mean to an operator. */
const verifyReasons: Readonly<Record<string, TlsRefusalReason>> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  CERT_REVOKED: 'revoked',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  INVALID_CA: 'untrusted',
  UNABLE_TO_GET_CRL: 'crl-missing',
  CRL_HAS_EXPIRED: 'crl-missing',
  CRL_NOT_YET_VALID: 'crl-missing',
  CRL_SIGNATURE_FAILURE: 'crl-missing',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname',
  // OpenSSL error codes of a failed handshake (err.code as Node.js sets it).
  ERR_SSL_WRONG_VERSION_NUMBER: 'tls-to-plain',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'tls-to-plain',
  ERR_SSL_RECORD_LAYER_FAILURE: 'tls-to-plain',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'protocol-version',
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: 'protocol-version',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'protocol-version',
  ERR_SSL_VERSION_TOO_LOW: 'protocol-version',
  ERR_SSL_NO_SHARED_CIPHER: 'cipher',
  ERR_SSL_NO_CIPHERS_AVAILABLE: 'cipher',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'cipher',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'client-certificate-missing',
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'client-certificate-missing',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'expired',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'revoked',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'untrusted',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'untrusted',
  ECONNRESET: 'closed',
  EPIPE: 'closed',
};

/** The reason of a handshake error thrown by Node.js on either end. */
export function classifyTlsError(e: unknown): Refusal {
  const err = e as NodeJS.ErrnoException & { reason?: string; cert?: PeerCertificate };
  const code = err.code ?? '';
  const byMessage = /socket disconnected before secure TLS connection|socket hang up/i.test(err.message ?? '') ? 'closed' : undefined;
  const reason = verifyReasons[code] ?? byMessage ?? 'other';
  const certificate = err.cert && Object.keys(err.cert).length ? factsOf(err.cert) : undefined;
  return { reason, certificate, detail: err.reason ?? err.message };
}

/**
 * Whose certificate a handshake error seen by a server is about. A server never refuses a client inside the
 * handshake (serverTlsOptions: rejectUnauthorized false), so an alert it receives is the client refusing this
 * server's certificate (unknown CA, expired, bad certificate); anything else is about the client.
 */
export function whoseFaultOnServer(e: unknown): 'own' | 'peer' {
  return /ALERT/.test(String((e as NodeJS.ErrnoException).code ?? '')) ? 'own' : 'peer';
}

/**
 * A server's verdict on the client certificate of a completed handshake (serverTlsOptions never rejects inside
 * it). Undefined: the client may proceed.
 */
export function judgePeer(socket: TLSSocket, policy: SslPolicy): Refusal | undefined {
  if (policy.clientAuth === 'NONE') return undefined;
  const peer = socket.getPeerCertificate();
  const present = peer !== null && peer !== undefined && Object.keys(peer).length > 0;
  if (!present) return policy.clientAuth === 'REQUIRE' ? { reason: 'client-certificate-missing' } : undefined;
  if (policy.trustAll || socket.authorized) return undefined;
  const code = String(socket.authorizationError ?? '');
  return { reason: verifyReasons[code] ?? 'untrusted', certificate: factsOf(peer), detail: code };
}

export interface MessageContext {
  policy: SslPolicy;
  /** `server`: this end is the listener judging a client; `client`: this end dialled. */
  side: 'server' | 'client';
  /** Whose certificate is at fault: `peer` (the other end's, as judged here) or `own` (this end's, judged by the peer). */
  whose: 'peer' | 'own';
  /** The other end: `host:port`, and for a client the host it dialled (hostname checks). */
  peerAddress: string;
  dialledHost?: string;
  /** This end's certificate file, for `own` messages. */
  ownCertificateFile?: string;
  ownKeyFile?: string;
}

/** One line: what was refused, why, and what to change where. */
export function refusalMessage(r: Refusal, ctx: MessageContext): string {
  const { policy } = ctx;
  const key = (suffix: string) => `dbms.ssl.policy.${policy.scope}.${suffix}`;
  const head = ctx.side === 'server' ? `TLS policy dbms.ssl.policy.${policy.scope}: refused client ${ctx.peerAddress}` : `TLS policy dbms.ssl.policy.${policy.scope}: cannot connect to ${ctx.peerAddress}`;
  const c = r.certificate;
  const peerName = ctx.side === 'server' ? 'client' : 'server';
  const theirCert = c ? `the ${peerName}'s certificate (${c.subject}, issued by ${c.issuer})` : `the ${peerName}'s certificate`;
  const ownCert = `this ${ctx.side}'s certificate "${ctx.ownCertificateFile ?? policy.publicCertificate}"`;
  const fault = ctx.whose === 'peer' ? theirCert : `${ownCert}, which the ${peerName} checked,`;
  const trustHolder = ctx.whose === 'peer' ? `"${policy.trustedDir}"` : `the ${peerName}'s trusted_dir`;
  switch (r.reason) {
    case 'client-certificate-missing':
      return ctx.side === 'server'
        ? `${head}: it presented no certificate and ${key('client_auth')}=REQUIRE; give the client a key and certificate signed by a CA in "${policy.trustedDir}" (its ${key('private_key')} and ${key('public_certificate')}), or set ${key('client_auth')}=OPTIONAL here`
        : `${head}: the server requires a client certificate (client_auth=REQUIRE there) and this client presented none; put this client's key and certificate at "${ctx.ownKeyFile ?? policy.privateKey}" and "${ctx.ownCertificateFile ?? policy.publicCertificate}" (${key('private_key')}, ${key('public_certificate')})`;
    case 'expired':
      return `${head}: ${fault} expired${c ? ` on ${c.validTo}` : ''}; renew it${ctx.whose === 'own' || ctx.side === 'client' ? ' and reload the certificates' : ''}`;
    case 'not-yet-valid':
      return `${head}: ${fault} is not valid yet${c ? ` (not before ${c.validFrom})` : ''}; check the clocks of both machines or reissue it`;
    case 'revoked':
      return ctx.whose === 'peer'
        ? `${head}: ${theirCert}${c ? `, serial ${c.serial},` : ''} is revoked by a CRL in "${policy.revokedDir}"; issue the ${peerName} a new certificate (or remove the CRL entry if the revocation was a mistake)`
        : `${head}: the ${peerName} holds a CRL revoking ${ownCert}; issue this ${ctx.side} a new certificate`;
    case 'untrusted':
      return ctx.whose === 'peer'
        ? `${head}: ${theirCert} is not signed by a CA in "${policy.trustedDir}"${r.detail ? ` (${r.detail})` : ''}; copy the CA certificate that issued it into that folder${ctx.side === 'client' ? `, or set ${key('trust_all')}=true to debug` : ''}`
        : `${head}: the ${peerName} does not trust ${ownCert}; add its issuing CA to ${trustHolder}, or use a certificate from a CA the ${peerName} trusts`;
    case 'crl-missing':
      return `${head}: ${ctx.whose === 'peer' ? `"${policy.revokedDir}" has no current revocation list from the CA that issued ${theirCert}` : `the ${peerName} has no current revocation list for the CA of ${ownCert}`} (${r.detail ?? 'no CRL'}); once revoked_dir holds any CRL, every trusted CA needs a current one there: add or refresh it`;
    case 'hostname': {
      const host = ctx.dialledHost ?? ctx.peerAddress;
      const names = c?.altNames ? c.altNames : 'none';
      const what = isIP(host) ? `the IP address ${host} is not among the certificate's subjectAltName IP addresses (it names: ${names})` : `the name "${host}" is not among the certificate's subjectAltNames (it names: ${names})`;
      return `${head}: ${what}; dial an address the certificate names, reissue it with subjectAltName ${isIP(host) ? 'IP' : 'DNS'}:${host}, or set ${key('verify_hostname')}=false`;
    }
    case 'protocol-version':
      return `${head}: no TLS version in common: this ${ctx.side} allows ${policy.tlsVersions.join(',')} (${key('tls_versions')}) and the ${peerName} none of them; make both sides allow a common one`;
    case 'cipher':
      return `${head}: no cipher suite in common${r.detail && !/handshake failure/.test(r.detail) ? ` (${r.detail})` : ''}: this ${ctx.side} allows ${policy.ciphers?.join(',') ?? 'the Node.js defaults'} (${key('ciphers')}) with ${policy.tlsVersions.join(',')}; make both sides share a suite (an ECDHE_RSA suite also needs an RSA certificate)`;
    case 'plain-to-tls':
      if (policy.scope === 'bolt' && ctx.side === 'server') {
        return `${head}: it connected without TLS (bolt:// or neo4j://) and server.bolt.tls_level=REQUIRED; connect with bolt+s:// or neo4j+s:// (bolt+ssc:// for a self-signed certificate), or set server.bolt.tls_level=OPTIONAL`;
      }
      return ctx.side === 'server'
        ? `${head}: it spoke plaintext to this TLS port (${key('enabled')}=true here); turn TLS on in the client (${key('enabled')}=true with the policy's files)`
        : `${head}: the server requires TLS (${key('enabled')}=true there) and this client spoke plaintext; set ${key('enabled')}=true with the policy's files in this client's configuration`;
    case 'tls-to-plain':
      if (policy.scope === 'bolt' && ctx.side === 'server') {
        return `${head}: it started a TLS handshake (bolt+s://, neo4j+s://) and Bolt serves no TLS here (server.bolt.tls_level=DISABLED); connect with bolt:// or neo4j://, or set ${key('enabled')}=true and server.bolt.tls_level=OPTIONAL`;
      }
      return ctx.side === 'server'
        ? `${head}: it started a TLS handshake on this plaintext port (${key('enabled')}=false here); enable the policy here or set ${key('enabled')}=false on the client`
        : `${head}: the server answered in plaintext (${key('enabled')}=false there) and this client requires TLS; enable the policy on the server, or set ${key('enabled')}=false in this client's configuration`;
    case 'closed':
      return ctx.side === 'server'
        ? `${head}: it closed the connection during or right after the TLS handshake; it probably refused this server's certificate "${policy.publicCertificate}" — its output says why`
        : `${head}: the server closed the connection during the TLS handshake${r.detail ? ` (${r.detail})` : ''}; the server's log names the reason`;
    case 'other':
      return `${head}: the TLS handshake failed: ${r.detail ?? 'unknown reason'}`;
  }
}
