/**
 * A backup target that is a local folder. Files are written under a hidden temporary name, made
 * read-only and fsynced, then hard-linked to their final name (which never overwrites), and the
 * folder is fsynced: a committed file is complete and durable, an uncommitted one is invisible.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { constants as fsConstants } from 'node:fs';
import { link, lstat, open, opendir, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { artifactNameCollisionsMax, backupLockAttemptsMax, backupLockBytesMax, fileReadChunkBytes, targetListEntriesMax } from '../backup/limits.js';
import { errnoCode, ioFailureDetail, QuiverError } from '../util/errors.js';
import { BackgroundFlush } from '../util/background-flush.js';
import { DirectAppender } from '../util/direct-appender.js';
import { writeAll } from '../util/file-write.js';
import { withEnvCrashPoint } from './crash-points.js';
import type { BackupTarget, CrashHook, LockOptions, TargetEntry, TargetLock, TargetWriter, WriteOnceOptions } from './target.js';
import { decodeLock, encodeLock, type LockContent, lockFileName, lockHeld, lockStaleReason } from './target-lock.js';
import { assertTargetName, targetNameProblem, temporaryName, temporaryWriterOf } from './target-name.js';
import { processRuns, thisWriter } from './writer-identity.js';

const artifactSuffix = '.backup';
/** Committed files are read-only for everyone: artifacts are immutable. */
const committedMode = 0o444;
/** Files being written are private to the writing user. */
const temporaryMode = 0o600;

export class FileTarget implements BackupTarget {
  readonly folder: string;

  constructor(folder: string) {
    if (!isAbsolute(folder)) throw new Error(`FileTarget needs an absolute folder, got "${folder}"`);
    this.folder = folder;
  }

  uri(name?: string): string {
    if (name === undefined) return pathToFileURL(this.folder.endsWith('/') ? this.folder : `${this.folder}/`).href;
    return pathToFileURL(join(this.folder, name)).href;
  }

  async list(): Promise<TargetEntry[]> {
    const names: string[] = [];
    try {
      const dir = await opendir(this.folder);
      let seen = 0;
      for await (const entry of dir) {
        if (++seen > targetListEntriesMax) {
          throw new QuiverError('TargetInvalid', `cannot list backup target "${this.folder}": it has more than ${targetListEntriesMax} entries`);
        }
        if (!(entry.isFile() || entry.isSymbolicLink())) continue;
        if (!entry.name.endsWith(artifactSuffix) || targetNameProblem(entry.name) !== null) continue;
        names.push(entry.name);
      }
    } catch (e) {
      throw wrapIo(e, `cannot list backup target "${this.folder}"`);
    }
    const entries: TargetEntry[] = [];
    for (const name of names) {
      try {
        const st = await stat(join(this.folder, name));
        if (st.isFile()) entries.push({ name, size: st.size, mtimeMs: st.mtimeMs });
      } catch (e) {
        // Removed between readdir and stat: it is simply no longer there.
        if (errnoCode(e) !== 'ENOENT') throw wrapIo(e, `cannot list backup target "${this.folder}": stat of "${name}" failed`);
      }
    }
    return entries.sort((a, b) => compareBytes(a.name, b.name));
  }

  async size(name: string): Promise<number> {
    assertTargetName(name);
    const path = join(this.folder, name);
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new QuiverError('IoError', `cannot read artifact "${name}": "${path}" is not a file`);
      return st.size;
    } catch (e) {
      throw wrapIo(e, `cannot read artifact "${name}" in "${this.folder}"`);
    }
  }

  async readRange(name: string, offset: number, length: number): Promise<Buffer> {
    assertTargetName(name);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new Error(`readRange: bad range offset=${offset} length=${length}`);
    }
    const path = join(this.folder, name);
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'r');
      const out = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return out.subarray(0, filled);
    } catch (e) {
      throw wrapIo(e, `cannot read artifact "${name}" in "${this.folder}"`);
    } finally {
      await handle?.close();
    }
  }

  openRead(name: string): Readable {
    assertTargetName(name);
    const path = join(this.folder, name);
    const folder = this.folder;
    async function* chunks(): AsyncGenerator<Buffer> {
      let handle: FileHandle | undefined;
      try {
        handle = await open(path, 'r');
        for (;;) {
          const chunk = Buffer.allocUnsafe(fileReadChunkBytes);
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
          if (bytesRead === 0) return;
          yield chunk.subarray(0, bytesRead);
        }
      } catch (e) {
        throw wrapIo(e, `cannot read artifact "${name}" in "${folder}"`);
      } finally {
        await handle?.close();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  async removeAbandoned(): Promise<string[]> {
    const me = thisWriter();
    const removed: string[] = [];
    let names: string[];
    try {
      names = (await readdir(this.folder)).slice(0, targetListEntriesMax);
    } catch (e) {
      throw wrapIo(e, `cannot list backup target "${this.folder}"`);
    }
    for (const fileName of names) {
      const writer = temporaryWriterOf(fileName);
      if (!writer || writer.hostTag !== me.hostTag || processRuns(writer.pid)) continue;
      await unlinkIfPresent(join(this.folder, fileName));
      removed.push(fileName);
    }
    return removed;
  }

  async createWriteOnce(name: string, options: WriteOnceOptions = {}): Promise<TargetWriter> {
    assertTargetName(name);
    let finalName = name;
    for (let collisions = 0; await exists(join(this.folder, finalName)); collisions++) {
      const next = collisions < artifactNameCollisionsMax ? options.nextNameOnCollision?.(finalName) : null;
      if (next === undefined || next === null) throw destinationExists(finalName, join(this.folder, finalName));
      assertTargetName(next);
      finalName = next;
    }
    const tempPath = join(this.folder, temporaryName(finalName, thisWriter(), randomBytes(8).toString('hex')));
    try {
      const handle = await open(tempPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, temporaryMode);
      // The same file for O_DIRECT appends where the file system takes them (util/direct-appender.ts).
      const directHandle = await open(tempPath, fsConstants.O_WRONLY | fsConstants.O_DIRECT).catch(() => undefined);
      return new FileTargetWriter(this.folder, finalName, tempPath, handle, directHandle, withEnvCrashPoint(options.crashHook), options.nextNameOnCollision);
    } catch (e) {
      throw wrapIo(e, `cannot write artifact "${finalName}" in "${this.folder}"`);
    }
  }

  async lock(database: string, options: LockOptions): Promise<TargetLock> {
    const name = lockFileName(database);
    const path = join(this.folder, name);
    const content: LockContent = { ...options.owner, token: randomBytes(8).toString('hex') };
    const nowMs = options.nowMs ?? Date.now;
    try {
      for (let attempt = 1; attempt <= backupLockAttemptsMax; attempt++) {
        if (await this.createLockFile(name, content)) return new FileTargetLock(path, this.uri(name), content.token);
        const held = await readLockFile(path);
        if (held === null) continue; // released meanwhile
        const reason = lockStaleReason(held.content, held.mtimeMs, { host: hostname(), nowMs: nowMs(), processRuns });
        if (reason === null) throw lockHeld(database, this.uri(), held.content, path);
        if (await this.breakLock(name, held.content)) options.onStaleBroken?.({ uri: this.uri(name), owner: held.content, reason });
      }
    } catch (e) {
      throw wrapIo(e, `cannot take the backup lock of database '${database}' in "${this.folder}"`);
    }
    throw lockHeld(database, this.uri(), (await readLockFile(path).catch(() => null))?.content ?? null, path);
  }

  /**
   * Creates the lock file with its content in one step: written under a temporary name, then
   * hard-linked to the lock's name, which fails when it exists. False when it exists.
   */
  private async createLockFile(name: string, content: LockContent): Promise<boolean> {
    const path = join(this.folder, name);
    const tempPath = join(this.folder, temporaryName(name, thisWriter(), randomBytes(8).toString('hex')));
    const handle = await open(tempPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, temporaryMode);
    try {
      await writeAll(handle, encodeLock(content), null);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tempPath, path);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw e;
      // No hard links on this file system: exclusive create. A reader may see the file empty for a
      // moment; it then counts as a held lock that cannot be read, which is what it is.
      let lockHandle: FileHandle;
      try {
        lockHandle = await open(path, 'wx', temporaryMode);
      } catch (ee) {
        if (errnoCode(ee) === 'EEXIST') return false;
        throw ee;
      }
      try {
        await writeAll(lockHandle, encodeLock(content), null);
        await lockHandle.sync();
      } finally {
        await lockHandle.close();
      }
    } finally {
      await unlinkIfPresent(tempPath);
    }
    await fsyncFolder(this.folder);
    return true;
  }

  /**
   * Removes a stale lock. It is renamed aside first and its token checked: when another run broke
   * the same stale lock and took a new one meanwhile, the rename moved that live lock, which is
   * then put back. True when the stale lock (and only it) was removed.
   */
  private async breakLock(name: string, stale: LockContent | null): Promise<boolean> {
    const path = join(this.folder, name);
    const aside = join(this.folder, temporaryName(`${name}.stale`, thisWriter(), randomBytes(8).toString('hex')));
    try {
      await rename(path, aside);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
    const moved = await readLockFile(aside);
    if (moved !== null && stale !== null && moved.content?.token !== stale.token) {
      await link(aside, path).catch(() => undefined);
      await unlinkIfPresent(aside);
      return false;
    }
    await unlinkIfPresent(aside);
    await fsyncFolder(this.folder);
    return true;
  }

  async remove(name: string): Promise<void> {
    assertTargetName(name);
    try {
      await unlink(join(this.folder, name));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      throw wrapIo(e, `cannot remove artifact "${name}" from "${this.folder}"`);
    }
  }
}

type WriterState = 'open' | 'committing' | 'committed' | 'aborted';

/** Bytes of an artifact written between two background flushes (util/background-flush.ts). */
const flushEveryBytes = 4 * 1024 * 1024;

class FileTargetWriter implements TargetWriter {
  private state: WriterState = 'open';
  private handle: FileHandle | undefined;
  private readonly flush: BackgroundFlush;
  private directHandle: FileHandle | undefined;
  /** Appends with O_DIRECT while it can; writes through `handle` at explicit positions otherwise. */
  private readonly appender: DirectAppender | undefined;

  constructor(
    private readonly folder: string,
    private name: string,
    private readonly tempPath: string,
    handle: FileHandle,
    directHandle: FileHandle | undefined,
    private readonly crashHook: CrashHook,
    private readonly nextNameOnCollision: WriteOnceOptions['nextNameOnCollision'],
  ) {
    this.handle = handle;
    this.directHandle = directHandle;
    this.flush = new BackgroundFlush(() => handle.datasync(), flushEveryBytes);
    this.appender = directHandle
      ? new DirectAppender(directHandle, async (bytes, position) => {
          await writeAll(handle, bytes, position);
          this.flush.wrote(bytes.length);
        })
      : undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open' || !this.handle) throw new Error(`write to artifact "${this.name}" after ${this.state}`);
    try {
      if (this.appender) {
        await this.appender.append(bytes);
        return;
      }
      await writeAll(this.handle, bytes, null);
      this.flush.wrote(bytes.length);
    } catch (e) {
      throw wrapIo(e, `cannot write artifact "${this.name}" in "${this.folder}"`);
    }
  }

  private get finalPath(): string {
    return join(this.folder, this.name);
  }

  async commit(): Promise<string> {
    if (this.state !== 'open' || !this.handle) throw new Error(`commit of artifact "${this.name}" after ${this.state}`);
    this.state = 'committing';
    let linked = false;
    try {
      const handle = this.handle;
      await this.appender?.finish();
      await this.directHandle?.close();
      this.directHandle = undefined;
      await this.flush.settle();
      await handle.chmod(committedMode);
      await handle.sync();
      this.handle = undefined;
      await handle.close();
      await this.crashHook('backup.beforeRename');
      await this.publish();
      linked = true;
      await fsyncFolder(this.folder);
      await this.crashHook('backup.afterRename');
      this.state = 'committed';
      return this.name;
    } catch (e) {
      // A commit that fails leaves nothing: neither the temporary file nor a final file we created.
      await this.discard(linked);
      this.state = 'aborted';
      if (e instanceof QuiverError) throw e;
      throw wrapIo(e, `cannot commit artifact "${this.name}" in "${this.folder}"`);
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    await this.discard(false);
    this.state = 'aborted';
  }

  /**
   * Gives the temporary file its final name without ever replacing an existing file. A name taken
   * meanwhile (another writer chose the same one) moves on to `nextNameOnCollision`'s name.
   */
  private async publish(): Promise<void> {
    for (let collisions = 0; ; collisions++) {
      if (await this.publishAs(this.finalPath)) return;
      const next = collisions < artifactNameCollisionsMax ? this.nextNameOnCollision?.(this.name) : null;
      if (next === undefined || next === null) throw destinationExists(this.name, this.finalPath);
      assertTargetName(next);
      this.name = next;
    }
  }

  /** False when `finalPath` exists. */
  private async publishAs(finalPath: string): Promise<boolean> {
    try {
      await link(this.tempPath, finalPath);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw e;
      // No hard links on this file system: check then rename. Two writers racing for one name
      // within this window could still collide; names carry a timestamp, so this is rare.
      if (await exists(finalPath)) return false;
      await rename(this.tempPath, finalPath);
      return true;
    }
    await unlink(this.tempPath);
    return true;
  }

  private async discard(removeFinal: boolean): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    // A background flush may still use the handle: let it end before closing.
    await this.flush.quiesce();
    await handle?.close().catch(() => undefined);
    await this.directHandle?.close().catch(() => undefined);
    this.directHandle = undefined;
    await unlinkIfPresent(this.tempPath);
    if (removeFinal) await unlinkIfPresent(this.finalPath);
  }
}

class FileTargetLock implements TargetLock {
  private released = false;
  constructor(
    private readonly path: string,
    readonly uri: string,
    private readonly token: string,
  ) {}

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const held = await readLockFile(this.path);
    // Judged stale and broken by another run (it then holds the lock): not ours to remove.
    if (held?.content?.token !== this.token) return;
    await unlink(this.path).catch((e) => {
      if (errnoCode(e) !== 'ENOENT') throw wrapIo(e, `cannot remove the backup lock "${this.path}"`);
    });
  }
}

/** A lock file's owner (null when its content is not a lock) and when it was written; null when there is no such file. */
async function readLockFile(path: string): Promise<{ content: LockContent | null; mtimeMs: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  }
  try {
    const st = await handle.stat();
    const bytes = Buffer.alloc(Math.min(st.size, backupLockBytesMax));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    return { content: decodeLock(bytes.subarray(0, bytesRead)), mtimeMs: st.mtimeMs };
  } finally {
    await handle.close();
  }
}

function destinationExists(name: string, path: string): QuiverError {
  return new QuiverError('DestinationExists', `cannot write artifact "${name}": "${path}" already exists`, {
    hint: 'artifacts are never overwritten: run the command again, it takes the next free name',
  });
}

async function fsyncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw e;
  }
}

/** Cleanup: errors other than "already gone" are swallowed because the caller is already reporting the failure that caused the cleanup. */
async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

function wrapIo(e: unknown, context: string): QuiverError {
  if (e instanceof QuiverError) return e;
  const detail = ioFailureDetail(e);
  return new QuiverError('IoError', `${context}: ${detail}`, { cause: e });
}

/** Sorts names by their UTF-8 bytes, the order in which S3 lists keys. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
