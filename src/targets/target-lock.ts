/**
 * The backup lock of a database in a target, independent of where the target stores it: the lock's
 * name, its content (who holds it, read back as outside input), when a lock counts as stale, and
 * the words for all of it. Targets (file-target.ts, S3 later) only create, read and remove it.
 */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { backupLockAgeMaxMs } from '../backup/limits.js';
import { QuiverError } from '../util/errors.js';
import type { BackupTarget, LockOwner, TargetLock } from './target.js';
import { targetNameProblem } from './target-name.js';

/**
 * `.<database>.lock`: hidden like temporary files, so no listing shows it as an artifact, and not
 * ending in `.partial-…`, so `removeAbandoned` never takes it for a temporary file.
 */
export function lockFileName(database: string): string {
  const problem = targetNameProblem(`${database}.lock`);
  if (problem !== null) throw new QuiverError('TargetInvalid', `database name "${database}" cannot name a lock file: ${problem}`);
  return `.${database}.lock`;
}

/** What a lock file holds: its owner, and a random token that tells this holder's lock from a later one. */
export interface LockContent extends LockOwner {
  token: string;
}

export function encodeLock(content: LockContent): Buffer {
  return Buffer.from(JSON.stringify(content) + '\n', 'utf8');
}

/** The content of a lock file, or null when it is not a lock this version wrote (empty, cut short, foreign). */
export function decodeLock(bytes: Buffer): LockContent | null {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v['host'] !== 'string' || typeof v['command'] !== 'string' || typeof v['token'] !== 'string') return null;
  if (typeof v['pid'] !== 'number' || !Number.isSafeInteger(v['pid']) || v['pid'] <= 0) return null;
  if (typeof v['startedAt'] !== 'string' || !Number.isFinite(Date.parse(v['startedAt']))) return null;
  return { host: v['host'], pid: v['pid'], startedAt: v['startedAt'], command: v['command'], token: v['token'] };
}

export interface StaleCheck {
  /** `os.hostname()` of this process. */
  host: string;
  nowMs: number;
  /** Whether a process with this id runs on this host. */
  processRuns: (pid: number) => boolean;
}

/**
 * Why a lock is stale, or null when its holder may still run. `owner` null: the file could not be
 * read as a lock, and `fileTimeMs` (when it was last written) is all there is to judge it by.
 */
export function lockStaleReason(owner: LockOwner | null, fileTimeMs: number, check: StaleCheck): string | null {
  const ageLimitHours = backupLockAgeMaxMs / 3_600_000;
  if (owner === null) {
    return check.nowMs - fileTimeMs > backupLockAgeMaxMs ? `its content cannot be read and it was last written more than ${ageLimitHours} hours ago` : null;
  }
  if (owner.host === check.host) return check.processRuns(owner.pid) ? null : `process ${owner.pid} no longer runs on this host`;
  return check.nowMs - Date.parse(owner.startedAt) > backupLockAgeMaxMs ? `it was taken on another host more than ${ageLimitHours} hours ago` : null;
}

/** `host "db1", pid 4242, started at 2026-01-01T10:00:00.000Z`. */
export function describeOwner(owner: LockOwner): string {
  return `host "${owner.host}", pid ${owner.pid}, started at ${owner.startedAt}`;
}

/**
 * The lock is held. The message names the holder; `where` is what an operator removes when the
 * holder is gone for good (a path for a folder, a URI otherwise).
 */
export function lockHeld(database: string, targetUri: string, owner: LockOwner | null, where: string): QuiverError {
  const holder = owner === null ? `its lock ${where} cannot be read` : `${describeOwner(owner)}, command "${owner.command}"`;
  return new QuiverError('TargetLocked', `another backup of database '${database}' into ${targetUri} is running (${holder})`, {
    hint: `wait for it to finish; if it no longer runs, remove ${where}`,
  });
}

/**
 * Takes `database`'s backup lock in `target` for this process, running `command`: the one way
 * backup and aggregate-backup take it. A stale lock broken on the way is reported through `warn`.
 */
export function takeDatabaseLock(target: BackupTarget, database: string, command: string, warn: (message: string) => void): Promise<TargetLock> {
  return target.lock(database, {
    owner: { host: hostname(), pid: process.pid, startedAt: new Date().toISOString(), command },
    onStaleBroken: ({ uri, owner, reason }) =>
      warn(`Broke the stale lock ${displayLocation(uri)} of database '${database}'${owner ? ` (${describeOwner(owner)})` : ''}: ${reason}.`),
  });
}

/** A file path for a file:// URI (what an operator types), the URI otherwise. */
export function displayLocation(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}
