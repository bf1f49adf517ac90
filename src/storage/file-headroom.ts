/**
 * Keeps a zero-filled, already written stretch at the end of a live store's `data.mdb`.
 *
 * Why: LMDB writes a page past the end of the file whenever it cannot reuse a freed one. That
 * happens as the store grows, and all the time while a reader pins old pages, which is what a FULL
 * backup's read transaction does for as long as the store image is read. On ext4 an `fdatasync` after
 * a write that extends a file, or fills a hole in it, must also commit the block allocation and the
 * new size through the file system's journal; a write into blocks that are already allocated and
 * written is a plain data write. Measured on this project's machine (docs/performance.md, "Backup",
 * the "Store headroom" item): a read transaction held for 6 s cost 0.19-0.20 of foreground commit
 * throughput with the file growing page by page, 0.02-0.06 with zeros already written ahead. A sparse extension
 * (`ftruncate`) did not help, because the blocks still have to be allocated when LMDB writes them.
 *
 * LMDB never reads past its last page and does not care how long the file is (lmdb-js itself grows
 * the file ahead this way on Windows), and a store image copies only up to the last page, so the
 * zeros never reach a backup.
 *
 * Safety: zeros are only written past the current end of the file, and never while an LMDB write
 * transaction may run: the database awaits `idle()` before it applies a group of transactions, and
 * every LMDB write of a live database happens in that apply. A failed write (a full disk) truncates
 * the file back to where it was and turns headroom off with one warning; commits never fail for it.
 */
import { ftruncate, fdatasync, fstatSync, openSync, closeSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { DirectBuffer, openForDirectWrites, positionalWriteTo, type PositionalWrite } from '../util/direct-buffer.js';
import { writePieceBytes } from '../util/file-write.js';

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);

const kib = 1024;
const mib = 1024 * kib;

/** The zeros kept ahead: an eighth of the used part of the file, at least 256 KiB, at most 64 MiB. */
export function headroomTargetBytes(usedBytes: number): number {
  return Math.min(64 * mib, Math.max(256 * kib, Math.floor(usedBytes / 8)));
}

/** Zeros written per step: large enough to keep ahead of a pinned store's growth, small enough that
 * the apply that waits for it waits about a millisecond. */
const chunkBytes = 4 * mib;
const zeros = Buffer.alloc(writePieceBytes);
/** O_DIRECT pieces: no page cache, so the size of a write costs no copy and 1 MiB is fine. */
const directPieceBytes = 1 * mib;
/** O_DIRECT positions and lengths are multiples of the device's block size; LMDB's page is one. */
const pageBytes = 4 * kib;

export class FileHeadroom {
  private fd: number | undefined;
  /** The same file opened with O_DIRECT, or null once O_DIRECT was refused (then zeros go through the page cache). */
  private directFd: number | null | undefined;
  private directZeros: DirectBuffer | undefined;
  /** The running extension's write; an apply waits for it. */
  private writing: Promise<void> | null = null;
  /** The running extension as a whole (write and its fdatasync); the next one starts after it. */
  private extending: Promise<void> | null = null;
  private disabled = false;

  constructor(
    private readonly path: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Resolves once no zeros are being written; call before any LMDB write transaction. */
  idle(): Promise<void> | undefined {
    return this.writing ?? undefined;
  }

  /**
   * Called after an LMDB commit with the bytes the store uses (its last page's end). Starts writing
   * one chunk of zeros past the end of the file when the stretch ahead fell below its target.
   */
  topUp(usedBytes: number): void {
    if (this.disabled || this.extending) return;
    try {
      this.fd ??= openSync(this.path, 'r+');
      const fileBytes = fstatSync(this.fd).size;
      const ahead = fileBytes - usedBytes;
      const target = headroomTargetBytes(usedBytes);
      if (ahead >= target) return;
      const bytes = Math.min(chunkBytes, roundUp(target - ahead, 64 * kib));
      this.extend(this.fd, fileBytes, bytes);
    } catch (e) {
      this.giveUp(`could not check the store file's size: ${(e as Error).message}`);
    }
  }

  private extend(fd: number, at: number, bytes: number): void {
    const written = this.writeZeros(fd, at, bytes).then(
      () => undefined,
      async (e: Error) => {
        // Nothing else wrote past `at` meanwhile (applies wait for this write), so cutting back there
        // removes exactly the zeros that did get written.
        await ftruncateAsync(fd, at).catch(() => undefined);
        throw e;
      },
    );
    this.writing = written.catch(() => undefined).finally(() => {
      this.writing = null;
    });
    this.extending = written
      .then(() => fdatasyncAsync(fd))
      .catch((e: Error) => this.giveUp(`could not write ${bytes} bytes of headroom at the end of "${this.path}": ${e.message}`))
      .finally(() => {
        this.extending = null;
      });
  }

  private giveUp(reason: string): void {
    if (this.disabled) return;
    this.disabled = true;
    this.warn(`${reason}; the store goes on without headroom (commits may be slower while the file grows)`);
  }

  /** Waits for a running extension and closes the file. */
  async close(): Promise<void> {
    this.disabled = true;
    await this.extending;
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.directFd) closeSync(this.directFd);
    this.fd = undefined;
    this.directFd = undefined;
  }

  /**
   * Zeros with O_DIRECT where the file system takes it, else through the page cache in pieces (as
   * util/file-write.ts explains). Why O_DIRECT: zeros left dirty in the page cache would be written by
   * the store's own commit sync, since an fdatasync writes every dirty page of the file: a commit would
   * then wait for megabytes of zeros.
   */
  private async writeZeros(fd: number, at: number, bytes: number): Promise<void> {
    let done = 0;
    const direct = this.openDirect();
    if (direct !== null && at % pageBytes === 0 && bytes % pageBytes === 0) {
      this.directZeros ??= new DirectBuffer(directPieceBytes);
      while (done < bytes) {
        const length = Math.min(directPieceBytes, bytes - done);
        if (!(await this.directZeros.write(direct, length, at + done))) {
          closeSync(this.directFd!);
          this.directFd = null;
          break;
        }
        done += length;
      }
    }
    while (done < bytes) {
      const { bytesWritten } = await writeAsync(fd, zeros, 0, Math.min(writePieceBytes, bytes - done), at + done);
      done += bytesWritten;
    }
  }

  private openDirect(): PositionalWrite | null {
    if (this.directFd === undefined) this.directFd = openForDirectWrites(this.path) ?? null;
    return this.directFd === null ? null : positionalWriteTo(this.directFd);
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
