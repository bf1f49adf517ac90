/**
 * Appends a byte stream to a file with O_DIRECT, in aligned 1 MiB pieces, so that what is written
 * goes to the disk without passing through (and without filling) the page cache. Used for backup
 * artifacts: the client usually runs on the database's own machine, and an artifact written through
 * the page cache both evicts the server's store pages and leaves the disk a burst of dirty pages to
 * write back while the server's commits wait on the same disk (docs/performance.md, "Backup").
 *
 * O_DIRECT wants the buffer's address aligned to the device's block size, and JavaScript cannot ask
 * for an aligned buffer: the staging buffer is 4 KiB larger than a piece, and the first write tries
 * start offsets 16 bytes apart (malloc's alignment) until one is accepted; a refused O_DIRECT write
 * (EINVAL) writes nothing. When no offset works, or a later write is refused, everything from there
 * on (the staged bytes included) goes to `writeBuffered`, the same file through the page cache. The
 * last piece is never full: `finish` hands it to `writeBuffered` as well.
 */
import type { FileHandle } from 'node:fs/promises';

const directAlignmentMax = 4096;
const mallocAlignment = 16;

export class DirectAppender {
  private readonly staging: Uint8Array;
  /** Start of the staged bytes in `staging`: aligned once a write was accepted (-1: not found yet). */
  private offset = -1;
  private start = 0;
  private staged = 0;
  /** File position of the first staged byte. */
  private position = 0;
  private direct = true;

  constructor(
    private readonly directHandle: FileHandle,
    private readonly writeBuffered: (bytes: Uint8Array, position: number) => Promise<void>,
    private readonly pieceBytes = 1024 * 1024,
  ) {
    this.staging = new Uint8Array(pieceBytes + directAlignmentMax);
  }

  /** True while pieces go to the disk directly (false after a fallback). */
  get isDirect(): boolean {
    return this.direct;
  }

  async append(bytes: Uint8Array): Promise<void> {
    if (!this.direct) {
      await this.writeBuffered(bytes, this.position);
      this.position += bytes.length;
      return;
    }
    let taken = 0;
    while (taken < bytes.length) {
      const n = Math.min(bytes.length - taken, this.pieceBytes - this.staged);
      this.staging.set(bytes.subarray(taken, taken + n), this.start + this.staged);
      this.staged += n;
      taken += n;
      if (this.staged === this.pieceBytes) await this.writePiece();
      if (!this.direct) {
        // The fallback took the staged bytes; the rest of this call goes the same way.
        await this.append(bytes.subarray(taken));
        return;
      }
    }
  }

  /** Writes what is still staged (less than a piece) through `writeBuffered`. Call once, at the end. */
  async finish(): Promise<void> {
    if (this.staged === 0) return;
    const tail = this.staging.slice(this.start, this.start + this.staged);
    this.staged = 0;
    await this.writeBuffered(tail, this.position);
    this.position += tail.length;
  }

  private async writePiece(): Promise<void> {
    for (;;) {
      try {
        let done = 0;
        while (done < this.pieceBytes) {
          const { bytesWritten } = await this.directHandle.write(this.staging, this.start + done, this.pieceBytes - done, this.position + done);
          done += bytesWritten;
        }
        this.offset = this.start;
        this.position += this.pieceBytes;
        this.staged = 0;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        if (this.offset >= 0 || this.start + mallocAlignment >= directAlignmentMax) {
          this.direct = false;
          const staged = this.staging.slice(this.start, this.start + this.staged);
          this.staged = 0;
          await this.writeBuffered(staged, this.position);
          this.position += staged.length;
          return;
        }
        this.staging.copyWithin(this.start + mallocAlignment, this.start, this.start + this.staged);
        this.start += mallocAlignment;
      }
    }
  }
}
