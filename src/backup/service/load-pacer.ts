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
import { RatePacer } from './rate-pacer.js';

export class LoadPacer {
  private lastTxId: number;
  private lastChangeMs: number;
  private readonly pacer: RatePacer;

  constructor(
    private readonly lastCommittedTxId: () => number,
    /** Bytes of store per second while busy; 0 or less: never paced. */
    rateBytesPerSec: number,
    private readonly now: () => number = Date.now,
    private readonly quietMs = 1000,
  ) {
    this.lastTxId = lastCommittedTxId();
    this.lastChangeMs = Number.NEGATIVE_INFINITY;
    this.pacer = new RatePacer(rateBytesPerSec, now);
  }

  /** Milliseconds to wait before sending a block of `rawBytes` store bytes (0: send it now). */
  delayFor(rawBytes: number): number {
    const now = this.now();
    const txId = this.lastCommittedTxId();
    if (txId !== this.lastTxId) {
      this.lastTxId = txId;
      this.lastChangeMs = now;
    }
    if (now - this.lastChangeMs >= this.quietMs) {
      // Quiet: full speed, and the next busy period starts with a fresh bucket.
      this.pacer.reset();
      return 0;
    }
    return this.pacer.delayFor(rawBytes);
  }
}
