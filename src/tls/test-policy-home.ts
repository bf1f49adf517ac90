/**
 * Test helper: a Quiver home whose `certificates/<scope>` folder is laid out the way the SSL policy defaults
 * expect (private.key, public.crt, trusted/, revoked/), filled from a TestCa, and the policy read back
 * through the real configuration loader. Never used by the product.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import type { SslScope } from '../config/settings.js';
import type { SslPolicy } from '../config/ssl-policy.js';
import type { IssuedCertificate, TestCa } from './test-pki.js';

export interface PolicyFolderOptions {
  identity?: IssuedCertificate | undefined;
  /** CA certificate files copied into trusted/. */
  trusted?: string[];
  /** CRL files copied into revoked/. */
  crls?: string[];
}

/** Writes `<base>/{private.key, public.crt, trusted/, revoked/}`. */
export function writePolicyFolder(base: string, o: PolicyFolderOptions): void {
  mkdirSync(join(base, 'trusted'), { recursive: true });
  mkdirSync(join(base, 'revoked'), { recursive: true });
  if (o.identity) {
    copyFileSync(o.identity.key, join(base, 'private.key'));
    chmodSync(join(base, 'private.key'), 0o400);
    copyFileSync(o.identity.cert, join(base, 'public.crt'));
  }
  for (const [i, f] of (o.trusted ?? []).entries()) copyFileSync(f, join(base, 'trusted', `ca-${i}.crt`));
  for (const [i, f] of (o.crls ?? []).entries()) copyFileSync(f, join(base, 'revoked', `crl-${i}.pem`));
}

export function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'quiver-tls-home-'));
  mkdirSync(join(home, 'conf'), { recursive: true });
  return home;
}

/** The policy of `scope` as the loader builds it from `settings` (suffix → value) in conf/quiver.conf. */
export function policyOf(home: string, scope: SslScope, settings: Record<string, string> = {}, expandCommands = false): SslPolicy {
  const text = Object.entries({ enabled: 'true', ...settings }).map(([k, v]) => `dbms.ssl.policy.${scope}.${k}=${v}`).join('\n') + '\n';
  writeFileSync(join(home, 'conf', 'quiver.conf'), text, { mode: 0o600 });
  chmodSync(join(home, 'conf', 'quiver.conf'), 0o600);
  const config = loadConfig({ home, files: ['quiver.conf'], expandCommands, env: process.env, onWarning: () => undefined });
  return config.getSslPolicy(scope);
}

/** Shortcut: a home with `certificates/<scope>` holding an identity from `ca`, trusting `ca`. */
export function homeWithPolicy(ca: TestCa, scope: SslScope, identity: IssuedCertificate, o: Omit<PolicyFolderOptions, 'identity'> = {}): string {
  const home = newHome();
  writePolicyFolder(join(home, 'certificates', scope), { identity, trusted: [ca.cert], ...o });
  return home;
}
