/**
 * What a listener needs from an enabled SSL policy: its files loaded and checked, its warnings logged, and the
 * Node.js server options. Shared by the Bolt listener and the backup service; reload.ts calls it again to
 * rotate certificates without a restart.
 */
import type tls from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import { serverTlsOptions } from './context-options.js';
import { loadTlsMaterial, type TlsMaterial } from './material.js';

export interface ServerTls {
  policy: SslPolicy;
  material: TlsMaterial;
  options: tls.TlsOptions;
}

export function loadServerTls(policy: SslPolicy, warn: (line: string) => void): ServerTls {
  const material = loadTlsMaterial(policy, 'server');
  for (const w of material.warnings) warn(w);
  return { policy, material, options: serverTlsOptions(material) };
}

/** One line for the startup log: which certificate, valid until when, which peers it checks. */
export function describeServerTls(t: ServerTls): string {
  const leaf = t.material.identity!.leaf;
  const checks = t.policy.clientAuth === 'NONE' ? 'client certificates not requested' : `client certificates ${t.policy.clientAuth === 'REQUIRE' ? 'required' : 'checked when presented'} against ${t.material.trusted.length} trusted certificate(s)${t.material.crls.length ? ` and ${t.material.crls.length} CRL(s)` : ''}`;
  return `TLS policy dbms.ssl.policy.${t.policy.scope}: certificate "${t.material.identity!.certificateFile}" (${leaf.subject.replace(/\n/g, ', ')}, valid until ${leaf.validTo}), ${t.policy.tlsVersions.join(',')}, ${checks}`;
}
