/**
 * A backup target that is a local folder. Files are written under a hidden temporary name, made
 * read-only and fsynced, then hard-linked to their final name (which never overwrites), and the
 * folder is fsynced: a committed file is complete and durable, an uncommitted one is invisible.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, lstat, open, opendir, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { fileReadChunkBytes, targetListEntriesMax } from '../backup/limits.js';
import { errnoCode, ioFailureDetail, QuiverError } from '../util/errors.js';
import { BackgroundFlush } from '../util/background-flush.js';
import { DirectAppender } from '../util/direct-appender.js';
import { writeAll } from '../util/file-write.js';
import { withEnvCrashPoint } from './crash-points.js';
import type { BackupTarget, CrashHook, TargetEntry, TargetWriter, WriteOnceOptions } from './target.js';
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
    const finalPath = join(this.folder, name);
    if (await exists(finalPath)) throw destinationExists(name, finalPath);
    const tempPath = join(this.folder, temporaryName(name, thisWriter(), randomBytes(8).toString('hex')));
    try {
      const handle = await open(tempPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, temporaryMode);
      // The same file for O_DIRECT appends where the file system takes them (util/direct-appender.ts).
      const directHandle = await open(tempPath, fsConstants.O_WRONLY | fsConstants.O_DIRECT).catch(() => undefined);
      return new FileTargetWriter(this.folder, name, tempPath, finalPath, handle, directHandle, withEnvCrashPoint(options.crashHook));
    } catch (e) {
      throw wrapIo(e, `cannot write artifact "${name}" in "${this.folder}"`);
    }
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
    private readonly name: string,
    private readonly tempPath: string,
    private readonly finalPath: string,
    handle: FileHandle,
    directHandle: FileHandle | undefined,
    private readonly crashHook: CrashHook,
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

  async commit(): Promise<void> {
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

  /** Gives the temporary file its final name without ever replacing an existing file. */
  private async publish(): Promise<void> {
    try {
      await link(this.tempPath, this.finalPath);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST') throw destinationExists(this.name, this.finalPath);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw e;
      // No hard links on this file system: check then rename. Two writers racing for one name
      // within this window could still collide; names carry a timestamp, so this is rare.
      if (await exists(this.finalPath)) throw destinationExists(this.name, this.finalPath);
      await rename(this.tempPath, this.finalPath);
      return;
    }
    await unlink(this.tempPath);
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

function destinationExists(name: string, path: string): QuiverError {
  return new QuiverError('DestinationExists', `cannot write artifact "${name}": "${path}" already exists`, {
    hint: 'artifacts are never overwritten; choose another name or remove the existing file',
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
