/**
 * `quiver-admin database backup`: for each requested database, find a server that hosts it,
 * decide FULL / DIFF / empty DIFF (backup-plan.ts), stream the payload from the backup service
 * into a new artifact, and report one outcome per database. One database failing never stops
 * the others; an unreachable server makes the run's exit code 1 even when others served.
 */
import picomatch from 'picomatch';
import type { BackupTarget, TargetLock } from '../../targets/target.js';
import { takeDatabaseLock } from '../../targets/target-lock.js';
import { causeChain, isQuiverError, QuiverError, toQuiverError } from '../../util/errors.js';
import { formatDuration } from '../../util/format.js';
import type { IncludeMetadata } from '../artifact/artifact-header.js';
import { type BackupPlan, planBackup, type RequestedType } from '../plan/backup-plan.js';
import { readCatalog } from '../catalog/catalog.js';
import type { RemoteDatabase } from '../protocol/protocol.js';
import { BackupConnection, type ClientTimeouts } from './remote.js';
import type { ClientTls } from '../../tls/client-tls.js';

import { writeDiff, writeFull } from './artifact-transfer.js';
export interface BackupRunOptions {
  databases: string[];
  from: string[];
  target: BackupTarget;
  type: RequestedType;
  compress: boolean;
  keepFailed: boolean;
  tempPath: string | undefined;
  includeMetadata: IncludeMetadata;
  verbose: boolean;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Recorded in each database's backup lock for whoever finds it; default `quiver-admin database backup <databases>`. */
  command?: string;
  /**
   * Stops the run (the CLI aborts it on SIGINT and SIGTERM, with the signal's name as reason): the
   * transfers are cut, unfinished artifacts removed and the locks released before runBackup returns.
   */
  signal?: AbortSignal;
  /** backup.client.connect_timeout and backup.client.idle_timeout; default: the limits.ts defaults. */
  timeouts?: ClientTimeouts;
  /** The client's dbms.ssl.policy.backup; absent: plaintext. */
  tls?: ClientTls | undefined;
}

export interface DatabaseOutcome {
  database: string;
  databaseId: string | null;
  server: string | null;
  outcome: 'ok' | 'failed';
  type: 'FULL' | 'DIFF' | null;
  empty: boolean;
  artifact: string | null;
  uri: string | null;
  lowestTx: number | null;
  highestTx: number | null;
  bytesStored: number | null;
  bytesRaw: number | null;
  durationMs: number;
  fallbackReason: string | null;
  error: string | null;
  hint: string | null;
}

export interface BackupRunResult {
  outcomes: DatabaseOutcome[];
  unreachableServers: Array<{ server: string; error: string }>;
  exitCode: 0 | 1;
}

interface ServerListing {
  server: string;
  conn: BackupConnection;
  databases: RemoteDatabase[];
}

function emptyOutcome(database: string): DatabaseOutcome {
  return {
    database,
    databaseId: null,
    server: null,
    outcome: 'failed',
    type: null,
    empty: false,
    artifact: null,
    uri: null,
    lowestTx: null,
    highestTx: null,
    bytesStored: null,
    bytesRaw: null,
    durationMs: 0,
    fallbackReason: null,
    error: null,
    hint: null,
  };
}

/** Resolves names and quoted globs against the union of every server's databases. */
export function matchDatabases(patterns: string[], available: string[]): { matched: string[]; unmatched: string[] } {
  const matched = new Set<string>();
  const unmatched: string[] = [];
  for (const p of patterns) {
    const isGlob = picomatch.scan(p).isGlob;
    const hits = isGlob ? available.filter((n) => picomatch.isMatch(n, p, { nocase: true, dot: true })) : available.filter((n) => n === p.toLowerCase());
    if (hits.length === 0) unmatched.push(p);
    for (const h of hits) matched.add(h);
  }
  return { matched: [...matched].sort(), unmatched };
}

export async function runBackup(opts: BackupRunOptions): Promise<BackupRunResult> {
  const { log } = opts;
  // A backup killed mid-transfer (SIGKILL, power loss) could not remove its temporary file: this
  // run does, for writers on this host that no longer run. Never fatal: it is housekeeping.
  try {
    for (const name of await opts.target.removeAbandoned()) log('info', `Removed the unfinished file "${name}" of an interrupted earlier backup.`);
  } catch (e) {
    log('warn', `could not look for unfinished files of interrupted backups: ${toQuiverError(e).message}`);
  }
  const listings: ServerListing[] = [];
  const unreachable: BackupRunResult['unreachableServers'] = [];
  let tlsRefusals = 0;
  for (const server of opts.from) {
    try {
      const conn = await BackupConnection.connect(server, opts.timeouts, opts.tls);
      try {
        const r = await conn.listDatabases();
        listings.push({ server, conn, databases: r.databases });
      } catch (e) {
        // A server that failed to answer gets no graceful goodbye: it would keep this process waiting.
        conn.destroy();
        throw e;
      }
    } catch (e) {
      const err = toQuiverError(e);
      if (err.code === 'TlsRefused') tlsRefusals++;
      unreachable.push({ server, error: err.message });
      log('error', `${err.message}${err.hint ? ` (${err.hint})` : ''}`);
    }
  }
  const outcomes: DatabaseOutcome[] = [];
  try {
    const available = [...new Set(listings.flatMap((l) => l.databases.map((d) => d.name)))];
    const { matched, unmatched } = matchDatabases(opts.databases, available);
    for (const p of unmatched) {
      const o = emptyOutcome(p);
      o.error =
        listings.length === 0
          ? `Database '${p}' could not be backed up: no backup service in [${opts.from.join(', ')}] could be reached.`
          : `Database '${p}' does not exist on any of the servers [${listings.map((l) => l.server).join(', ')}].`;
      o.hint =
        listings.length > 0
          ? 'check the name with SHOW DATABASES; quote patterns such as "n*"'
          : tlsRefusals === opts.from.length
            ? 'the TLS error above says what to change'
            : 'start the server or correct --from';
      log('error', `${o.error} (${o.hint})`);
      outcomes.push(o);
    }
    // Stopping cuts every transfer: each then fails, aborts its artifact and releases its lock.
    const cut = () => {
      for (const l of listings) l.conn.destroy();
    };
    opts.signal?.addEventListener('abort', cut, { once: true });
    try {
      for (const name of matched) {
        if (opts.signal?.aborted) {
          outcomes.push(stoppedOutcome(opts, name, Date.now()));
          continue;
        }
        const locked = await lockDatabase(opts, name);
        if ('failed' in locked) {
          outcomes.push(locked.failed);
          continue;
        }
        try {
          // The catalog is read under the lock, for each database (backupFrom): an artifact another
          // run committed just before this one took the lock is then part of the plan.
          outcomes.push(await backupOne(opts, name, listings));
        } finally {
          await locked.lock.release().catch((e) => log('warn', `could not release the backup lock ${locked.lock.uri}: ${toQuiverError(e).message}`));
        }
      }
    } finally {
      opts.signal?.removeEventListener('abort', cut);
    }
  } finally {
    for (const l of listings) l.conn.close();
  }
  const exitCode = unreachable.length === 0 && outcomes.length > 0 && outcomes.every((o) => o.outcome === 'ok') ? 0 : 1;
  return { outcomes, unreachableServers: unreachable, exitCode };
}

/**
 * Takes the backup lock of one database in the target (targets/target-lock.ts): a second backup of
 * it into the same target fails here, before planning, naming the one that runs.
 */
async function lockDatabase(opts: BackupRunOptions, name: string): Promise<{ lock: TargetLock } | { failed: DatabaseOutcome }> {
  try {
    const command = opts.command ?? `quiver-admin database backup ${opts.databases.join(' ')}`;
    const lock = await takeDatabaseLock(opts.target, name, command, (m) => opts.log('warn', m));
    return { lock };
  } catch (e) {
    const err = toQuiverError(e);
    const failed = emptyOutcome(name);
    failed.error = err.message;
    failed.hint = err.hint ?? defaultRemedy(err);
    opts.log('error', `Backup of database '${name}' failed: ${err.message} (${failed.hint})`);
    return { failed };
  }
}

/** The outcome of a database the run did not finish because it was stopped (SIGINT, SIGTERM). */
function stoppedOutcome(opts: BackupRunOptions, name: string, startedMs: number): DatabaseOutcome {
  const outcome = emptyOutcome(name);
  const err = stoppedError(opts);
  outcome.error = err.message;
  outcome.hint = err.hint ?? null;
  outcome.durationMs = Date.now() - startedMs;
  opts.log('error', `Backup of database '${name}' failed: ${err.message} (${outcome.hint})`);
  return outcome;
}

function stoppedError(opts: BackupRunOptions): QuiverError {
  return new QuiverError('BackupFailed', `the backup was stopped by ${String(opts.signal?.reason ?? 'request')} before it finished; no artifact was written`, {
    hint: 'run the backup again',
  });
}

async function backupOne(opts: BackupRunOptions, name: string, listings: ServerListing[]): Promise<DatabaseOutcome> {
  const { log } = opts;
  const outcome = emptyOutcome(name);
  const started = Date.now();
  const hosts = listings.filter((l) => l.databases.some((d) => d.name === name));
  log('info', `Starting backup of database '${name}' from servers: [${hosts.map((h) => h.server).join(', ')}]`);
  let lastError: QuiverError | null = null;
  for (const host of hosts) {
    const db = host.databases.find((d) => d.name === name);
    if (db === undefined) continue; // hosts holds only servers that list it
    if (db.status !== 'online') {
      lastError = new QuiverError('DatabaseUnavailable', `database '${name}' is ${db.status} on ${host.server}`, { hint: `start it with START DATABASE ${name}` });
      continue;
    }
    outcome.server = host.server;
    outcome.databaseId = db.databaseId;
    log('info', `Using remote server ${host.server} for backup of database '${name}'.`);
    try {
      await backupFrom(opts, host.conn, db, outcome);
      outcome.outcome = 'ok';
      outcome.durationMs = Date.now() - started;
      return outcome;
    } catch (e) {
      if (opts.signal?.aborted) return stoppedOutcome(opts, name, started);
      lastError = toQuiverError(e);
      if (opts.verbose) for (const line of causeChain(e)) log('error', `  ${line}`);
      // A database-level refusal will not change on another server; a transport failure might.
      if (!isQuiverError(lastError, 'ServerUnreachable')) break;
      if (host !== hosts.at(-1)) log('warn', `backup of database '${name}' from ${host.server} failed: ${lastError.message}; trying the next server`);
    }
  }
  const err = lastError ?? new QuiverError('DatabaseUnavailable', `database '${name}' is not online on any server`);
  outcome.outcome = 'failed';
  outcome.error = err.message;
  outcome.hint = err.hint ?? defaultRemedy(err);
  outcome.durationMs = Date.now() - started;
  log('error', `Backup of database '${name}' failed: ${err.message} (${outcome.hint})`);
  return outcome;
}

/** Every failure line says what to do; this is the remedy when the error itself carries none. */
function defaultRemedy(err: QuiverError): string {
  if (err.code === 'IoError') return 'check the free space and permissions of --to-path (and --temp-path), then run the backup again';
  return 'run the backup again; if it fails the same way, run it with --verbose and check the server log';
}

async function backupFrom(opts: BackupRunOptions, conn: BackupConnection, db: RemoteDatabase, outcome: DatabaseOutcome): Promise<void> {
  const { log } = opts;
  // Read per database, right before planning: the chain is seen as restore will see it.
  const catalog = opts.type === 'FULL' ? null : await readCatalog([{ target: opts.target }]);
  if (catalog) for (const u of catalog.unreadable) log('warn', `ignoring "${u.name}" in ${opts.target.uri()}: ${u.message}`);
  const plan: BackupPlan = planBackup(opts.type, db, catalog ?? { artifacts: [], unreadable: [], checksumsInside: new Map() });
  if (plan.type === 'FAIL') throw new QuiverError('BackupFailed', plan.message, { hint: plan.hint });
  for (const n of plan.notes) log('info', n);
  let metadata: string[] = [];
  let include = opts.includeMetadata;
  if (db.name === 'system') {
    if (include !== 'none') log('info', `--include-metadata does not apply to the system database: it holds the users and roles itself.`);
    include = 'none';
  } else if (include !== 'none') {
    metadata = await conn.metadata(db.name, include);
  }
  let plannedType = plan.type;
  let fallbackReason = plan.type === 'FULL' ? plan.fallbackReason : null;
  if (fallbackReason) {
    log('warn', `Differential backup of database '${db.name}' failed. Reason: ${fallbackReason}`);
    log('warn', `Falling back to full backup of database '${db.name}'.`);
  }
  const started = Date.now();
  let written: { name: string; uri: string; bytesStored: number; bytesRaw: number; lowestTx: number; highestTx: number; lastTxChecksum: number; createdAt: string };
  if (plan.type === 'DIFF' || plan.type === 'EMPTY_DIFF') {
    try {
      written = await writeDiff(opts, conn, db, plan.parent, plan.type === 'DIFF' ? plan.fromTxId : null, metadata, include);
    } catch (e) {
      // The server cannot continue the chain: it pruned the transactions (raced the plan), or its
      // history no longer contains the parent's last transaction (the database was restored).
      if (opts.type === 'AUTO' && (isQuiverError(e, 'TransactionsPruned') || isQuiverError(e, 'ChainBroken'))) {
        fallbackReason = e.message;
        log('warn', `Differential backup of database '${db.name}' failed. Reason: ${e.message}`);
        log('warn', `Falling back to full backup of database '${db.name}'.`);
        plannedType = 'FULL';
        written = await writeFull(opts, conn, db, metadata, include);
      } else throw e;
    }
  } else {
    written = await writeFull(opts, conn, db, metadata, include);
  }
  const kind = plannedType === 'FULL' ? 'FULL' : 'DIFF';
  log('info', `Finished artifact creation '${written.name}' for database '${db.name}', took ${formatDuration(Date.now() - started)}.`);
  Object.assign(outcome, {
    type: kind,
    empty: plannedType === 'EMPTY_DIFF',
    artifact: written.name,
    uri: written.uri,
    lowestTx: written.lowestTx,
    highestTx: written.highestTx,
    bytesStored: written.bytesStored,
    bytesRaw: written.bytesRaw,
    fallbackReason,
  });
}

