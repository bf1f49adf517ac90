/**
 * The client end of an SSL policy (quiver-admin dialling the backup service): the policy's files loaded once,
 * the options for each connection, and the one-line explanation of a failed connection — whether the
 * handshake failed here or the server refused us and said why (http2-guard.ts RefusalBody).
 */
import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import { clientTlsOptions } from './context-options.js';
import { refusedStatus } from './http2-guard.js';
import { loadTlsMaterial, type TlsMaterial } from './material.js';
import { type CertificateFacts, classifyTlsError, refusalMessage } from './refusal.js';
import { type TlsRefusalReason, TlsRefusedError } from './tls-error.js';

export interface ClientTls {
  policy: SslPolicy;
  /** Undefined when the policy is disabled: the client speaks plaintext. */
  material: TlsMaterial | undefined;
}

export function loadClientTls(policy: SslPolicy, warn: (line: string) => void): ClientTls {
  if (!policy.enabled) return { policy, material: undefined };
  const material = loadTlsMaterial(policy, 'client');
  for (const w of material.warnings) warn(w);
  return { policy, material };
}

/** Options for `http2.connect`/`tls.connect` to `host`; undefined for plaintext. */
export function connectOptions(t: ClientTls, host: string): tls.ConnectionOptions | undefined {
  return t.material ? clientTlsOptions(t.material, host) : undefined;
}

function ownFacts(t: ClientTls): CertificateFacts | undefined {
  const leaf: X509Certificate | undefined = t.material?.identity?.leaf;
  if (!leaf) return undefined;
  const cn = (dn: string) => /CN=([^\n,]+)/.exec(dn)?.[1] ?? dn;
  return { subject: cn(leaf.subject), issuer: cn(leaf.issuer), validFrom: leaf.validFrom, validTo: leaf.validTo, serial: leaf.serialNumber, altNames: leaf.subjectAltName ?? '' };
}

/** A connection error explained, when it is a TLS one; undefined for anything else (refused port, timeout). */
export function explainConnectError(t: ClientTls, address: string, host: string, e: unknown): TlsRefusedError | undefined {
  if (!t.material) return undefined;
  const refusal = classifyTlsError(e);
  if (refusal.reason === 'other' && !/SSL|TLS|CERT/i.test(String((e as NodeJS.ErrnoException).code ?? ''))) return undefined;
  // Alerts the server sent about our own certificate, and "certificate required", are about this end.
  const code = String((e as NodeJS.ErrnoException).code ?? '');
  const whose = /ALERT|CERTIFICATE_REQUIRED/.test(code) ? 'own' : 'peer';
  const facts = whose === 'own' ? ownFacts(t) : refusal.certificate;
  const message = refusalMessage({ ...refusal, certificate: facts }, { policy: t.policy, side: 'client', whose, peerAddress: address, dialledHost: host, ...ownFiles(t) });
  return new TlsRefusedError(t.policy.scope, refusal.reason, message, e);
}

function ownFiles(t: ClientTls): { ownCertificateFile: string; ownKeyFile: string } {
  return { ownCertificateFile: t.policy.publicCertificate, ownKeyFile: t.policy.privateKey };
}

const refusalReasons: readonly TlsRefusalReason[] = ['client-certificate-missing', 'expired', 'not-yet-valid', 'revoked', 'untrusted', 'crl-missing', 'hostname', 'protocol-version', 'cipher', 'plain-to-tls', 'tls-to-plain', 'closed', 'other'];

/** The refusal in a response body (http2-guard.ts RefusalBody), checked at the edge; undefined for any other body. */
export function refusalReasonOf(status: number, text: string): { reason: TlsRefusalReason; message: string } | undefined {
  if (status !== refusedStatus) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  const reason = refusalReasons.find((r) => r === o['reason']);
  if (o['code'] !== 'TlsRefused' || reason === undefined) return undefined;
  return { reason, message: typeof o['message'] === 'string' ? o['message'] : '' };
}

/** The server refused this client after the handshake and said why (403 with a RefusalBody). */
export function explainRefusal(t: ClientTls, address: string, reason: TlsRefusalReason, serverMessage: string): TlsRefusedError {
  // The server judged our certificate: the sentence is about our files. Its own line goes to --verbose.
  const message = refusalMessage({ reason, certificate: ownFacts(t), detail: serverMessage }, { policy: t.policy, side: 'client', whose: 'own', peerAddress: address, ...ownFiles(t) });
  return new TlsRefusedError(t.policy.scope, reason, message, new Error(`the server said: ${serverMessage}`));
}
