/**
 * Certificate reload between the running server and `quiver-admin server reload-certificates`: the admin
 * tool sends SIGHUP to the server of its home (pid-file.ts checks the pid is one); the server reloads every
 * TLS policy (tls/reload.ts), logs one line per policy, and writes the outcome to run/tls-reload.json
 * (temp name, then rename: a reader never sees half a record), which the admin tool waits for and prints.
 * A signal carries no reply, so the record is the reply; `startedAtMs` tells the tool that a record answers
 * a signal sent at or before that time.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyReloadOutcome } from '../tls/reload.js';
import type { HomeLayout } from './home.js';
import type { Logger } from './logger.js';

/** Version of the record's format; a tool refuses a record of another version rather than misread it. */
export const reloadRecordVersion = 1;

export interface CertificateReloadRecord {
  version: typeof reloadRecordVersion;
  /** The server that wrote it. */
  pid: number;
  /** Wall clock (ms) when the server began this reload, after the signal arrived. */
  startedAtMs: number;
  /** One entry per TLS policy the server serves; empty when it serves none. */
  policies: Array<{ scope: string; ok: boolean; message: string }>;
}

export function reloadRecordFile(layout: HomeLayout): string {
  return join(layout.runDir, 'tls-reload.json');
}

/** Reloads, logs one line per policy, writes the record. Never throws: a failed write is logged (the reload stands). */
export function reloadCertificates(server: { reloadCertificates(): PolicyReloadOutcome[] }, layout: HomeLayout, log: Logger, trigger: string, nowMs = Date.now): CertificateReloadRecord {
  const startedAtMs = nowMs();
  const outcomes = server.reloadCertificates();
  if (outcomes.length === 0) log('warn', `${trigger}: no TLS policy is enabled on this server (dbms.ssl.policy.bolt, dbms.ssl.policy.backup): no certificates to reload`);
  for (const o of outcomes) log(o.ok ? 'info' : 'error', o.message);
  const record: CertificateReloadRecord = { version: reloadRecordVersion, pid: process.pid, startedAtMs, policies: outcomes.map((o) => ({ scope: o.scope, ok: o.ok, message: o.message })) };
  const file = reloadRecordFile(layout);
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(record) + '\n', { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    log('error', `${trigger}: cannot write the reload outcome to "${file}" for quiver-admin: ${(e as Error).message}; the reload itself is done (see the lines above)`);
  }
  return record;
}

/** The record in `file`, checked at the edge; undefined when absent, unreadable, of another version or malformed. */
export function readReloadRecord(file: string): CertificateReloadRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  if (o['version'] !== reloadRecordVersion || typeof o['pid'] !== 'number' || typeof o['startedAtMs'] !== 'number' || !Array.isArray(o['policies'])) return undefined;
  const policies: CertificateReloadRecord['policies'] = [];
  for (const p of o['policies'] as unknown[]) {
    if (typeof p !== 'object' || p === null) return undefined;
    const e = p as Record<string, unknown>;
    if (typeof e['scope'] !== 'string' || typeof e['ok'] !== 'boolean' || typeof e['message'] !== 'string') return undefined;
    policies.push({ scope: e['scope'], ok: e['ok'], message: e['message'] });
  }
  return { version: reloadRecordVersion, pid: o['pid'], startedAtMs: o['startedAtMs'], policies };
}
