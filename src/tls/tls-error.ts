/**
 * The typed errors of the TLS layer. Each names the policy (`dbms.ssl.policy.<scope>`), the file when one is
 * at fault, and says the fix in the message itself, so it stays one line in a log, on stderr and in a
 * FAILURE. `TlsPolicyInvalid`: the policy cannot be used as configured; `TlsRefused`: a handshake failed.
 */
import type { SslScope } from '../config/settings.js';
import { QuiverError } from '../util/errors.js';

export class TlsPolicyError extends QuiverError {
  constructor(
    readonly scope: SslScope,
    /** The file or folder at fault, absolute; undefined when a setting is. */
    readonly file: string | undefined,
    /** What is wrong, e.g. `it does not exist`. */
    readonly problem: string,
    /** What to do about it. */
    readonly fix: string,
    cause?: unknown,
  ) {
    super('TlsPolicyInvalid', `TLS policy dbms.ssl.policy.${scope}: ${problem}; ${fix}`, cause === undefined ? undefined : { cause });
    this.name = 'TlsPolicyError';
  }
}

/** Why a TLS handshake (or the check of the peer right after it) failed, as one sentence with its fix. */
export class TlsRefusedError extends QuiverError {
  constructor(
    readonly scope: SslScope,
    /** A stable word for tests and metrics: `client-certificate-missing`, `expired`, `hostname`, ... */
    readonly reason: TlsRefusalReason,
    message: string,
    cause?: unknown,
  ) {
    super('TlsRefused', message, cause === undefined ? undefined : { cause });
    this.name = 'TlsRefusedError';
  }
}

export type TlsRefusalReason =
  | 'client-certificate-missing'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'untrusted'
  | 'crl-missing'
  | 'hostname'
  | 'protocol-version'
  | 'cipher'
  | 'plain-to-tls'
  | 'tls-to-plain'
  | 'closed'
  | 'other';
