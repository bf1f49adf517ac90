/**
 * Reads the files of one SSL policy — private key, certificate chain, trusted certificates, revocation
 * lists — and checks them before any socket opens: each problem is a TlsPolicyError naming the policy, the
 * file and the fix. The result is plain data; turning it into Node.js TLS options is context-options.ts.
 * Called again on reload, so new connections pick up rotated files.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import { errnoCode } from '../util/errors.js';
import { trustedFilesMax } from './limits.js';
import { TlsPolicyError } from './tls-error.js';

/** Which end of a connection this process is: a server always presents a certificate, a client may not. */
export type TlsRole = 'server' | 'client';

export interface TrustedCertificate {
  file: string;
  pem: string;
  certificate: X509Certificate;
}

export interface TlsMaterial {
  policy: SslPolicy;
  role: TlsRole;
  /** Our own identity; a client without key and certificate files presents none (undefined). */
  identity:
    | {
        keyFile: string;
        certificateFile: string;
        /** Unencrypted key: the password is checked here once, not on every handshake. */
        key: KeyObject;
        /** PEM of the certificate file, leaf first. */
        chainPem: string;
        leaf: X509Certificate;
      }
    | undefined;
  /** CA or peer certificates from trusted_dir; empty when the policy does not verify peers. */
  trusted: TrustedCertificate[];
  /** PEM CRLs from revoked_dir, one entry per file. */
  crls: { file: string; pem: string }[];
  /** Usable, but worth a WARN line (own certificate expired, trust_all, ...). */
  warnings: string[];
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const pemCrl = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;

/** Whether this end checks the peer's certificate against trusted_dir. */
export function verifiesPeers(policy: SslPolicy, role: TlsRole): boolean {
  if (policy.trustAll) return false;
  return role === 'client' || policy.clientAuth !== 'NONE';
}

export function loadTlsMaterial(policy: SslPolicy, role: TlsRole, nowMs = Date.now()): TlsMaterial {
  const { scope } = policy;
  const setting = (suffix: string) => `dbms.ssl.policy.${scope}.${suffix}`;
  const warnings: string[] = [];
  requireDirectory(policy, policy.baseDirectory, setting('base_directory'), 'the base directory');
  const identity = readIdentity(policy, role, nowMs, warnings);
  const verify = verifiesPeers(policy, role);
  const trusted = verify ? readTrusted(policy) : [];
  const crls = verify ? readCrls(policy) : [];
  if (policy.trustAll) {
    warnings.push(`TLS policy dbms.ssl.policy.${scope}: trust_all=true accepts every peer certificate, so anyone can pose as the ${role === 'client' ? 'server' : 'client'}; set ${setting('trust_all')}=false outside debugging`);
  }
  return { policy, role, identity, trusted, crls, warnings };
}

function requireDirectory(policy: SslPolicy, dir: string, settingKey: string, what: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const problem = errnoCode(e) === 'ENOENT' ? `${what} "${dir}" does not exist` : `cannot read ${what} "${dir}": ${(e as Error).message}`;
    throw new TlsPolicyError(policy.scope, dir, problem, `create it (Quiver does not) or point ${settingKey} at an existing folder`, e);
  }
  if (!isDir) throw new TlsPolicyError(policy.scope, dir, `${what} "${dir}" is not a folder`, `point ${settingKey} at a folder`);
}

function readText(policy: SslPolicy, file: string, what: string, settingKey: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    const problem =
      code === 'ENOENT'
        ? `${what} "${file}" does not exist`
        : code === 'EACCES'
          ? `${what} "${file}" is not readable by this process (user ${process.getuid?.() ?? '?'})`
          : `cannot read ${what} "${file}": ${(e as Error).message}`;
    const fix = code === 'EACCES' ? `give the user running Quiver read access (for a key: chown it, chmod 0400)` : `put the file there or point ${settingKey} at it`;
    throw new TlsPolicyError(policy.scope, file, problem, fix, e);
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function readIdentity(policy: SslPolicy, role: TlsRole, nowMs: number, warnings: string[]): TlsMaterial['identity'] {
  const { scope } = policy;
  const keySetting = `dbms.ssl.policy.${scope}.private_key`;
  const certSetting = `dbms.ssl.policy.${scope}.public_certificate`;
  const keyFile = policy.privateKey;
  const certificateFile = policy.publicCertificate;
  // A client may have no identity (servers with client_auth=NONE do not ask for one); half of one is a mistake.
  if (role === 'client' && !exists(keyFile) && !exists(certificateFile)) return undefined;
  const keyPem = readText(policy, keyFile, 'private key', keySetting);
  const chainPem = readText(policy, certificateFile, 'certificate', certSetting);
  const key = parseKey(policy, keyFile, keyPem);
  const blocks = chainPem.match(pemCertificate) ?? [];
  if (blocks.length === 0) {
    throw new TlsPolicyError(scope, certificateFile, `certificate "${certificateFile}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, `put the PEM certificate chain (leaf first) there, e.g. convert DER with "openssl x509 -inform der -in cert.der -out ${certificateFile}"`);
  }
  const chain = blocks.map((pem, index) => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw new TlsPolicyError(scope, certificateFile, `certificate number ${index + 1} in "${certificateFile}" cannot be parsed: ${(e as Error).message}`, 'replace the file with a valid PEM certificate chain', e);
    }
  });
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsPolicyError(scope, certificateFile, `certificate "${certificateFile}" (${leaf.subject.replace(/\n/g, ', ')}) does not match private key "${keyFile}"`, `use the key the certificate was issued for, or issue a certificate for this key; "openssl x509 -noout -pubkey -in <crt>" and "openssl pkey -pubout -in <key>" must print the same`);
  }
  const validFromMs = Date.parse(leaf.validFrom);
  const validToMs = Date.parse(leaf.validTo);
  const peer = role === 'server' ? 'clients' : 'servers';
  if (validToMs < nowMs) warnings.push(`TLS policy dbms.ssl.policy.${scope}: certificate "${certificateFile}" expired on ${leaf.validTo}: ${peer} will refuse it; renew it and reload`);
  else if (validFromMs > nowMs) warnings.push(`TLS policy dbms.ssl.policy.${scope}: certificate "${certificateFile}" is not valid before ${leaf.validFrom}: ${peer} will refuse it until then; check the clock or reissue it`);
  return { keyFile, certificateFile, key, chainPem: blocks.join('\n') + '\n', leaf };
}

function parseKey(policy: SslPolicy, keyFile: string, pem: string): KeyObject {
  const passwordSetting = `dbms.ssl.policy.${policy.scope}.private_key_password`;
  const encrypted = /-----BEGIN (ENCRYPTED PRIVATE KEY|RSA PRIVATE KEY-----\s*Proc-Type: 4,ENCRYPTED)/.test(pem);
  if (encrypted && policy.privateKeyPassword === undefined) {
    throw new TlsPolicyError(policy.scope, keyFile, `private key "${keyFile}" is encrypted and ${passwordSetting} is not set`, `set ${passwordSetting} (with --expand-commands it can be $(command) reading it from a secret store)`);
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', ...(policy.privateKeyPassword !== undefined ? { passphrase: policy.privateKeyPassword } : {}) });
  } catch (e) {
    const message = (e as Error).message;
    if (encrypted && /bad decrypt|decrypt|interrupted or cancelled/i.test(message)) {
      throw new TlsPolicyError(policy.scope, keyFile, `private key "${keyFile}" cannot be decrypted with ${passwordSetting}: wrong password`, `set ${passwordSetting} to the key's password`, e);
    }
    throw new TlsPolicyError(policy.scope, keyFile, `private key "${keyFile}" is not a PEM private key (${message})`, `put the PEM key (-----BEGIN PRIVATE KEY-----) there; convert others with "openssl pkey -in <key> -out ${keyFile}"`, e);
  }
}

/** The regular files of a folder, sorted, hidden ones (`.keep`, editor swap files) left out. */
function filesOf(policy: SslPolicy, dir: string, settingKey: string, what: string): string[] {
  requireDirectory(policy, dir, settingKey, what);
  const names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  if (names.length > trustedFilesMax) {
    throw new TlsPolicyError(policy.scope, dir, `${what} "${dir}" holds ${names.length} files, more than ${trustedFilesMax}`, 'keep only the CA certificates (or CRLs) peers are checked against');
  }
  return names.map((n) => join(dir, n)).filter((f) => statSync(f).isFile());
}

function readTrusted(policy: SslPolicy): TrustedCertificate[] {
  const settingKey = `dbms.ssl.policy.${policy.scope}.trusted_dir`;
  const trusted: TrustedCertificate[] = [];
  for (const file of filesOf(policy, policy.trustedDir, settingKey, 'the trusted folder')) {
    const blocks = readText(policy, file, 'trusted certificate', settingKey).match(pemCertificate) ?? [];
    if (blocks.length === 0) {
      throw new TlsPolicyError(policy.scope, file, `trusted certificate file "${file}" holds no PEM certificate`, `remove it from ${policy.trustedDir} or replace it with a PEM CA certificate`);
    }
    for (const pem of blocks) {
      try {
        trusted.push({ file, pem, certificate: new X509Certificate(pem) });
      } catch (e) {
        throw new TlsPolicyError(policy.scope, file, `trusted certificate file "${file}" holds a certificate that cannot be parsed: ${(e as Error).message}`, 'replace it with a valid PEM certificate', e);
      }
    }
  }
  if (trusted.length === 0) {
    throw new TlsPolicyError(policy.scope, policy.trustedDir, `the trusted folder "${policy.trustedDir}" is empty, so no peer certificate could be trusted`, `copy the CA certificate that signed the peers' certificates into it (or set dbms.ssl.policy.${policy.scope}.client_auth=NONE on a server that does not check clients)`);
  }
  return trusted;
}

function readCrls(policy: SslPolicy): { file: string; pem: string }[] {
  const settingKey = `dbms.ssl.policy.${policy.scope}.revoked_dir`;
  const crls: { file: string; pem: string }[] = [];
  for (const file of filesOf(policy, policy.revokedDir, settingKey, 'the revoked folder')) {
    const blocks = readText(policy, file, 'revocation list', settingKey).match(pemCrl) ?? [];
    if (blocks.length === 0) {
      throw new TlsPolicyError(policy.scope, file, `revocation list file "${file}" holds no PEM CRL (-----BEGIN X509 CRL-----)`, `remove it from ${policy.revokedDir} or convert it with "openssl crl -inform der -in <crl> -out ${file}"`);
    }
    for (const pem of blocks) {
      try {
        createSecureContext({ crl: pem });
      } catch (e) {
        throw new TlsPolicyError(policy.scope, file, `revocation list file "${file}" holds a CRL that cannot be parsed`, 'replace it with a valid PEM CRL', e);
      }
      crls.push({ file, pem });
    }
  }
  return crls;
}
