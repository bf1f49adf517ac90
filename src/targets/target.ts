/**
 * The seam between backup artifacts and where they are stored: a folder today, S3 later.
 * A target holds immutable named files; it can list them, read ranges or whole files, write a
 * new one exactly once (invisible until committed), and remove one. `target-contract.ts` is the
 * behaviour every implementation must pass.
 */
import type { Readable } from 'node:stream';

/** One artifact file in a target listing. */
export interface TargetEntry {
  name: string;
  /** Bytes. */
  size: number;
  mtimeMs: number;
}

/** Named points in a commit where tests (or QUIVER_CRASH_POINT) can stop the writer. */
export type CrashPoint = 'backup.beforeRename' | 'backup.afterRename';

/**
 * Called at each crash point. It may wait (a test inspects the folder meanwhile), or throw (the
 * commit then fails and cleans up as any failed commit does).
 */
export type CrashHook = (point: CrashPoint) => void | Promise<void>;

export interface WriteOnceOptions {
  crashHook?: CrashHook;
  /**
   * The name to use instead when `taken` exists already (at start or at commit), or null to fail
   * with `DestinationExists`. Without it, a taken name always fails. Called at most
   * `artifactNameCollisionsMax` times per file.
   */
  nextNameOnCollision?: (taken: string) => string | null;
}

/** How `TargetWriter.write` may treat the caller's bytes. */
export interface WriteOptions {
  /**
   * The caller hands `bytes` over: it never changes them after the call, so the writer may hold them
   * (an S3 part being filled) without a copy. Without it the caller may reuse the buffer once the
   * promise resolves, and a writer that holds bytes past that copies them.
   */
  handOver?: boolean;
}

/** A file being written. Nothing is visible under its name until `commit` resolves. */
export interface TargetWriter {
  /** Appends bytes; the buffer may be reused once the promise resolves, unless `options.handOver`. */
  write(bytes: Uint8Array, options?: WriteOptions): Promise<void>;
  /**
   * Makes the file durable and visible under its name, read-only, and returns that name. When the
   * name was taken meanwhile it never overwrites: it takes `nextNameOnCollision`'s name, or fails
   * with `DestinationExists` and then leaves nothing behind.
   */
  commit(): Promise<string>;
  /** Discards everything written. Safe to call more than once, and after a failed commit; a no-op after a successful one. */
  abort(): Promise<void>;
}

/** Who holds the backup lock of a database in a target (docs/backup.md, "One backup of a database at a time"). */
export interface LockOwner {
  /** `os.hostname()` of the holder. */
  host: string;
  pid: number;
  /** When the holder took the lock: ISO 8601, UTC. */
  startedAt: string;
  /** The holder's command line, for the operator who finds the lock. */
  command: string;
}

export interface LockOptions {
  owner: LockOwner;
  /** Now, in ms since the epoch; tests move it to age a lock. */
  nowMs?: () => number;
  /** Told about a stale lock broken to take this one (`owner` null: its content could not be read); the caller logs it. */
  onStaleBroken?: (stale: { uri: string; owner: LockOwner | null; reason: string }) => void;
}

export interface TargetLock {
  /** Where the lock lives, for messages. */
  readonly uri: string;
  /** Removes the lock if it is still this holder's (a holder judged stale may have lost it). Safe to call more than once. */
  release(): Promise<void>;
}

export interface BackupTarget {
  /** `file:///abs/folder/` for the target itself, or the URI of one file in it. */
  uri(name?: string): string;
  /** Committed `*.backup` files only (never temporary files), sorted by name. */
  list(): Promise<TargetEntry[]>;
  /** Size of a committed file; `IoError` when it does not exist. */
  size(name: string): Promise<number>;
  /**
   * Bytes `[offset, offset + length)`; fewer when the file ends first (none past its end).
   * `IoError` when the file does not exist.
   */
  readRange(name: string, offset: number, length: number): Promise<Buffer>;
  /** The whole file as a stream; a missing file is reported as a stream error (`IoError`). */
  openRead(name: string): Readable;
  /** Starts writing a new file; `DestinationExists` when the name is already taken. */
  createWriteOnce(name: string, options?: WriteOnceOptions): Promise<TargetWriter>;
  /** Removes a committed file; removing a missing file is not an error. */
  remove(name: string): Promise<void>;
  /**
   * Removes temporary files whose writer is known to be gone (on a folder: written from this host by
   * a process that no longer runs) and returns their names. Files of live or unknown writers stay.
   */
  removeAbandoned(): Promise<string[]>;
  /**
   * Takes the backup lock of `database` in this target: created atomically, never listed as a file
   * of the target. Fails with `TargetLocked`, naming the holder, while another holder has it. A
   * stale lock (its holder's process no longer runs on this host, or it is older than
   * `backupLockAgeMaxMs`) is broken and reported to `onStaleBroken`.
   */
  lock(database: string, options: LockOptions): Promise<TargetLock>;
}
