/**
 * The TLS policy of one scope (`dbms.ssl.policy.<scope>.*`) as one typed object, with every file and folder
 * as an absolute path: the base directory resolves against home, the other paths under the base directory.
 * Reading and checking the key and certificate files is for src/security, not here.
 */
import { clientAuthValues, type SettingKey, type SettingValue, sslKey, type SslScope } from './settings.js';

export interface SslPolicy {
  scope: SslScope;
  enabled: boolean;
  baseDirectory: string;
  privateKey: string;
  privateKeyPassword: string | undefined;
  publicCertificate: string;
  trustedDir: string;
  revokedDir: string;
  clientAuth: (typeof clientAuthValues)[number];
  tlsVersions: string[];
  /** `undefined`: the Node.js defaults. */
  ciphers: string[] | undefined;
  verifyHostname: boolean;
  trustAll: boolean;
}

export interface SettingReader {
  get<K extends SettingKey>(key: K): SettingValue<K>;
}

export function sslPolicyOf(config: SettingReader, scope: SslScope): SslPolicy {
  return {
    scope,
    enabled: config.get(sslKey(scope, 'enabled')),
    baseDirectory: config.get(sslKey(scope, 'base_directory')),
    privateKey: config.get(sslKey(scope, 'private_key')),
    privateKeyPassword: config.get(sslKey(scope, 'private_key_password')),
    publicCertificate: config.get(sslKey(scope, 'public_certificate')),
    trustedDir: config.get(sslKey(scope, 'trusted_dir')),
    revokedDir: config.get(sslKey(scope, 'revoked_dir')),
    clientAuth: config.get(sslKey(scope, 'client_auth')),
    tlsVersions: config.get(sslKey(scope, 'tls_versions')),
    ciphers: config.get(sslKey(scope, 'ciphers')),
    verifyHostname: config.get(sslKey(scope, 'verify_hostname')),
    trustAll: config.get(sslKey(scope, 'trust_all')),
  };
}
