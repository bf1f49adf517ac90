/**
 * Flushes a file to disk in the background while it is being written, instead of in one burst at
 * the end. Linux holds gigabytes of dirty pages before it writes them back on its own, so a single
 * final fsync adds the whole disk write to the operation and, meanwhile, stalls every other fsync on
 * the disk (the database's commits included).
 *
 * It never makes the writer wait: a flush that is still running when the next is due is simply not
 * followed by another until it ends. A failed flush is reported by the next `wrote` or by `settle`.
 */
export class BackgroundFlush {
  private unflushedBytes = 0;
  private running: Promise<void> | null = null;
  private failure: unknown = null;

  /** `sync` flushes the file's data (fdatasync); one starts once `everyBytes` were written since the last. */
  constructor(
    private readonly sync: () => Promise<void>,
    private readonly everyBytes: number,
  ) {}

  /** Counts `bytes` just written, and starts a flush when one is due. Throws a failure of an earlier flush. */
  wrote(bytes: number): void {
    if (this.failure) throw this.failure;
    this.unflushedBytes += bytes;
    if (this.running || this.unflushedBytes < this.everyBytes) return;
    this.unflushedBytes = 0;
    this.running = this.sync().then(
      () => {
        this.running = null;
      },
      (e: unknown) => {
        this.failure = e;
        this.running = null;
      },
    );
  }

  /** Waits for a running flush; throws if any flush failed. Call before the final fsync (and before closing the file). */
  async settle(): Promise<void> {
    await this.running;
    if (this.failure) throw this.failure;
  }

  /** Waits for a running flush without reporting failures: for cleanup paths that already fail. */
  async quiesce(): Promise<void> {
    await this.running;
  }
}
