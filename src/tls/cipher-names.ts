/**
 * `ciphers` of an SSL policy accepts the IANA/JSSE names Neo4j's documentation uses
 * (`TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384`) as well as OpenSSL's (`ECDHE-RSA-AES256-SHA384`); Node.js
 * only takes OpenSSL's. This is the one translation table, taken from `openssl ciphers -stdname` (OpenSSL 3.0)
 * for the TLSv1.2 suites Node.js can negotiate; TLSv1.3 suites have one name in both worlds.
 */
import { getCiphers } from 'node:tls';

const ianaToOpenssl: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'DHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 'ECDHE-ECDSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 'ECDHE-RSA-AES256-SHA384',
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: 'DHE-RSA-AES256-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA256: 'DHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA: 'DHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA: 'DHE-RSA-AES128-SHA',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_CBC_SHA256: 'AES256-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
};

/** TLSv1.3 suites: Node.js takes them in the same `ciphers` string, by these names. */
export const tls13CipherNames: readonly string[] = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'];

export type CipherTranslation = { ok: true; opensslNames: string[]; tls12: string[]; tls13: string[] } | { ok: false; unknown: string[] };

/** Translates configured cipher names to OpenSSL's; names neither table nor this Node.js knows are `unknown`. */
export function translateCipherNames(names: readonly string[]): CipherTranslation {
  const known = new Set(getCiphers().map((c) => c.toUpperCase()));
  const tls12: string[] = [];
  const tls13: string[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    const upper = name.toUpperCase();
    if (tls13CipherNames.includes(upper)) tls13.push(upper);
    else {
      const openssl = ianaToOpenssl[upper] ?? upper;
      if (known.has(openssl)) tls12.push(openssl);
      else unknown.push(name);
    }
  }
  return unknown.length ? { ok: false, unknown } : { ok: true, opensslNames: [...tls13, ...tls12], tls12, tls13 };
}
