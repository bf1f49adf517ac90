/**
 * Paces a FULL backup's store image while its database is busy committing
 * (`server.backup.max_rate_under_load`), and lets it run at full speed while the database is quiet.
 *
 * Why: the image workers already run at idle CPU priority, yet on a busy 2-vCPU server an
 * unthrottled 2 GiB image cost the database's commits a quarter of their rate (they run in the
 * gaps the database leaves, and each gap they fill leaves the server a cold cache). Throttling is
 * cheap for the database, because the store's headroom keeps the longer read transaction from
 * slowing commits (storage/file-headroom.ts): measured, 32 MiB/s kept 0.97 of the commit rate
 * (docs/performance.md, "Backup"). A fixed `server.backup.max_rate` would slow every backup, the
 * nightly one on a quiet server too; this only slows a backup while commits happen.
 *
 * "Busy" means: the last committed transaction id changed within the last `quietMs`. It is sampled
 * each time a block is about to be sent, so a backup speeds up within a second of the load stopping.
 */
export class LoadPacer {
  private lastTxId: number;
  private lastChangeMs: number;
  /** When the next block may leave, while busy (a token bucket of one block). */
  private dueMs = 0;

  constructor(
    private readonly lastCommittedTxId: () => number,
    /** Bytes of store per second while busy; 0 or less: never paced. */
    private readonly rateBytesPerSec: number,
    private readonly now: () => number = Date.now,
    private readonly quietMs = 1000,
  ) {
    this.lastTxId = lastCommittedTxId();
    this.lastChangeMs = Number.NEGATIVE_INFINITY;
  }

  /** Milliseconds to wait before sending a block of `rawBytes` store bytes (0: send it now). */
  delayFor(rawBytes: number): number {
    const now = this.now();
    const txId = this.lastCommittedTxId();
    if (txId !== this.lastTxId) {
      this.lastTxId = txId;
      this.lastChangeMs = now;
    }
    if (this.rateBytesPerSec <= 0 || now - this.lastChangeMs >= this.quietMs) {
      this.dueMs = now;
      return 0;
    }
    const start = Math.max(this.dueMs, now);
    this.dueMs = start + (rawBytes / this.rateBytesPerSec) * 1000;
    return start - now;
  }
}
