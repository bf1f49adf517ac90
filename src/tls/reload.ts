/**
 * Certificate rotation without a restart: every TLS port of the server reads its policy's files again
 * (key, certificate chain, trusted_dir, revoked_dir) and, when they load and make a TLS context, serves new
 * connections with them; open connections keep the context they shook hands with. A policy whose files fail
 * keeps serving its previous material, and its outcome names the policy, the file and the fix. Policies are
 * independent: one broken folder does not hold back the rotation of another. The settings themselves
 * (paths, client_auth, versions) are not re-read: they are the configuration, read at start.
 */
import tls from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import { loadServerTls, type ServerTls } from './server-tls.js';
import { TlsPolicyError } from './tls-error.js';

/** A listener whose TLS context can be swapped: the Bolt port, the backup service. */
export interface ReloadablePort {
  /** For log lines: `Bolt`, `Backup service`. */
  name: string;
  policy: SslPolicy;
  /** What it serves now; replaced after a successful reload. */
  current: ServerTls;
  /** New connections use these options; open ones keep theirs (tls.Server#setSecureContext). */
  setTlsOptions(options: tls.TlsOptions): void;
}

export type PolicyReloadOutcome =
  | { scope: SslPolicy['scope']; ok: true; message: string }
  | { scope: SslPolicy['scope']; ok: false; file: string | undefined; message: string };

/** `CN=x, valid until <date>` of what a port serves, for the lines that say what stays or what came. */
function servedCertificate(t: ServerTls): string {
  const leaf = t.material.identity!.leaf;
  return `"${t.material.identity!.certificateFile}" (${leaf.subject.replace(/\n/g, ', ')}, serial ${leaf.serialNumber}, valid until ${leaf.validTo})`;
}

/** Reloads one port; never throws for the files' problems (they are the outcome), only for our bugs. */
export function reloadPort(port: ReloadablePort, warn: (line: string) => void): PolicyReloadOutcome {
  const { scope } = port.policy;
  const head = `TLS policy dbms.ssl.policy.${scope}`;
  let next: ServerTls;
  try {
    next = loadServerTls(port.policy, warn);
    // Build the context once here: what OpenSSL refuses (a chain it cannot use) must fail the reload, not the next handshake.
    tls.createSecureContext(next.options);
  } catch (e) {
    const keeping = `${port.name} keeps serving the previous certificate ${servedCertificate(port.current)}`;
    if (e instanceof TlsPolicyError) {
      return { scope, ok: false, file: e.file, message: `${head}: certificates not reloaded, ${keeping}: ${e.problem}; ${e.fix}` };
    }
    return { scope, ok: false, file: undefined, message: `${head}: certificates not reloaded, ${keeping}: OpenSSL cannot use the files under "${port.policy.baseDirectory}": ${(e as Error).message}; check them with "openssl x509 -noout -text -in <crt>" and "openssl pkey -noout -in <key>"` };
  }
  port.setTlsOptions(next.options);
  port.current = next;
  return { scope, ok: true, message: `${head}: certificates reloaded: ${port.name} serves new connections with ${servedCertificate(next)}, ${next.material.trusted.length} trusted certificate(s), ${next.material.crls.length} CRL(s); open connections keep the previous ones until they close` };
}

export function reloadPorts(ports: readonly ReloadablePort[], warn: (line: string) => void): PolicyReloadOutcome[] {
  return ports.map((p) => reloadPort(p, warn));
}
