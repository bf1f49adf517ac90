/**
 * Appends a byte stream to a file with O_DIRECT, in aligned 1 MiB pieces, so that what is written
 * goes to the disk without passing through (and without filling) the page cache. Used for backup
 * artifacts: the client usually runs on the database's own machine, and an artifact written through
 * the page cache both evicts the server's store pages and leaves the disk a burst of dirty pages to
 * write back while the server's commits wait on the same disk (docs/performance.md, "Backup").
 *
 * The staging buffer is a DirectBuffer (util/direct-buffer.ts: how it gets aligned). When O_DIRECT
 * refuses a write, everything from there on (the staged bytes included) goes to `writeBuffered`, the
 * same file through the page cache. The last piece is never full: `finish` hands it to
 * `writeBuffered` as well.
 */
import type { FileHandle } from 'node:fs/promises';
import { DirectBuffer, type PositionalWrite } from './direct-buffer.js';

export class DirectAppender {
  private readonly staging: DirectBuffer;
  private readonly writeDirect: PositionalWrite;
  private staged = 0;
  /** File position of the first staged byte. */
  private position = 0;
  private direct = true;

  constructor(
    directHandle: FileHandle,
    private readonly writeBuffered: (bytes: Uint8Array, position: number) => Promise<void>,
    private readonly pieceBytes = 1024 * 1024,
  ) {
    this.staging = new DirectBuffer(pieceBytes);
    this.writeDirect = async (bytes, offset, length, position) => (await directHandle.write(bytes, offset, length, position)).bytesWritten;
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
      this.staging.view().set(bytes.subarray(taken, taken + n), this.staged);
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
    await this.flushStagedBuffered();
  }

  private async writePiece(): Promise<void> {
    if (await this.staging.write(this.writeDirect, this.pieceBytes, this.position)) {
      this.position += this.pieceBytes;
      this.staged = 0;
      return;
    }
    this.direct = false;
    await this.flushStagedBuffered();
  }

  private async flushStagedBuffered(): Promise<void> {
    if (this.staged === 0) return;
    const staged = this.staging.view(this.staged).slice();
    this.staged = 0;
    await this.writeBuffered(staged, this.position);
    this.position += staged.length;
  }
}
