/**
 * Writes large buffers to files in 128 KiB pieces.
 *
 * Why pieces: on this project's Linux VM (kernel 6.18, ext4), writing 2 GiB into a new file through
 * the page cache cost 2.3-3.9 s of kernel CPU in 1 MiB write calls and 0.41-0.44 s in 128 KiB calls,
 * from the same buffer in the same memory state (docs/performance.md, "Restore"); `zstd -d` writes
 * 128 KiB at a time and was never slow. Almost all of the difference was the kernel's copy into
 * fresh page-cache memory; smaller calls also keep the source bytes in the CPU cache.
 */
import { readSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export const writePieceBytes = 128 * 1024;

/** Writes all of `bytes` at `position` (a positional write: the file offset does not move). */
export function writeAllSync(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, Math.min(writePieceBytes, bytes.length - done), position + done);
  }
}

/**
 * Reads `length` bytes at `position` into `into` from `offset` on, as several reads when the kernel
 * returns fewer; stops early only at the end of the file. Returns the bytes read.
 */
export function readAllSync(fd: number, into: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `bytes` at `position`, or at the file's current offset when `position` is null. */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number | null): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(writePieceBytes, bytes.length - done), position === null ? null : position + done);
    done += bytesWritten;
  }
}
