/**
 * A buffer that O_DIRECT writes can come from.
 *
 * O_DIRECT wants the buffer's address aligned to the device's block size, and JavaScript cannot ask
 * for an aligned buffer. So the buffer is 4 KiB larger than its capacity, and the first write from it
 * tries start offsets 16 bytes apart (malloc's alignment) until the kernel accepts one; a refused
 * O_DIRECT write (EINVAL) writes nothing, and the bytes are moved to the next offset and tried again.
 * The offset found is kept for every later write. When no offset works, or the found one stops
 * working (a length or position the device refuses), `write` answers false and the caller writes
 * the same bytes through the page cache.
 *
 * Used by the restore workers (backup/compression/compression-worker.ts) and by the artifact appender
 * (util/direct-appender.ts).
 */

import { constants, openSync, write } from 'node:fs';

const directAlignmentMax = 4096;
const mallocAlignment = 16;

/** A positional write of `length` bytes of `bytes` from `offset`; resolves to the bytes written. */
export type PositionalWrite = (bytes: Uint8Array, offset: number, length: number, position: number) => Promise<number>;

export class DirectBuffer {
  private readonly bytes: Uint8Array;
  private start = 0;
  private aligned = false;

  constructor(readonly capacity: number) {
    this.bytes = new Uint8Array(capacity + directAlignmentMax);
  }

  /** Where the payload lives: the first `length` (at most `capacity`) bytes at the current start. */
  view(length = this.capacity): Uint8Array {
    return this.bytes.subarray(this.start, this.start + length);
  }

  /**
   * Writes the first `length` bytes of the view at `position` through `write`, a descriptor opened
   * with O_DIRECT. True once written; false when O_DIRECT refused it (nothing was written, the view
   * still holds the bytes). Other errors are thrown.
   */
  async write(write: PositionalWrite, length: number, position: number): Promise<boolean> {
    for (;;) {
      try {
        let done = 0;
        while (done < length) done += await write(this.bytes, this.start + done, length - done, position + done);
        this.aligned = true;
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        if (this.aligned || this.start + mallocAlignment >= directAlignmentMax) return false;
        this.bytes.copyWithin(this.start + mallocAlignment, this.start, this.start + length);
        this.start += mallocAlignment;
      }
    }
  }
}

/** `path` opened for O_DIRECT writes, or undefined where the file system refuses O_DIRECT. */
export function openForDirectWrites(path: string): number | undefined {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_DIRECT);
  } catch {
    return undefined;
  }
}

/** A PositionalWrite to the descriptor `fd`, run on libuv's thread pool. */
export function positionalWriteTo(fd: number): PositionalWrite {
  return (bytes, offset, length, position) => new Promise((resolve, reject) => write(fd, bytes, offset, length, position, (e, n) => (e ? reject(e) : resolve(n))));
}
