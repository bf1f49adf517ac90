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
}

/** A file being written. Nothing is visible under its name until `commit` resolves. */
export interface TargetWriter {
  /** Appends bytes; the buffer may be reused once the promise resolves. */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Makes the file durable and visible under its name, read-only. Fails with `DestinationExists`
   * if the name was taken meanwhile (never overwrites), and then leaves nothing behind.
   */
  commit(): Promise<void>;
  /** Discards everything written. Safe to call more than once, and after a failed commit; a no-op after a successful one. */
  abort(): Promise<void>;
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
}
