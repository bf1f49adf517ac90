/** Messages between the compression pool and its worker threads. */
import { errnoCode } from '../../util/errors.js';

export type CompressionRequest =
  | { id: number; op: 'compress'; bytes: Uint8Array }
  | { id: number; op: 'decompress'; bytes: Uint8Array; rawBytes: number }
  /**
   * Decompress and write the result at `position` of the open file `fd` (restore writes a store image
   * this way); through `directFd` (the same file opened with O_DIRECT) when given and possible.
   */
  | { id: number; op: 'decompressTo'; bytes: Uint8Array; rawBytes: number; fd: number; position: number; directFd?: number };

export type CompressionReply =
  | { id: number; ok: true; bytes: Uint8Array; compressed: boolean }
  /** `writeFailed`: decompressTo decompressed the block but could not write it; `code` is the errno name. */
  | { id: number; ok: false; message: string; writeFailed?: boolean; code?: string };

/**
 * decompressTo's block was fine but the file write failed (a full disk, an I/O error): the artifact
 * is not to blame. Thrown in the worker, carried across as `writeFailed`, rethrown by the pool.
 */
export class FileWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }

  static of(cause: unknown): FileWriteError {
    return new FileWriteError(cause instanceof Error ? cause.message : String(cause), errnoCode(cause));
  }
}
