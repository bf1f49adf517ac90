/**
 * The one rate limiter of the backup service: bytes leave at most at a given rate, as a token bucket
 * of one item (each item waits for the time the items before it took at the rate). Used for
 * `server.backup.max_rate` by the store image workers and the transaction stream, and, through
 * LoadPacer, for `server.backup.max_rate_under_load`. A stall (slow disk, slow client) is never made
 * up for by a burst afterwards: the bucket starts again from now.
 */
export class RatePacer {
  /** When the next item may leave; null: at once. */
  private dueMs: number | null = null;

  constructor(
    /** Bytes per second; 0 or less: never paced. */
    private readonly rateBytesPerSec: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before sending `bytes` (0: send it now). */
  delayFor(bytes: number): number {
    if (this.rateBytesPerSec <= 0) return 0;
    const now = this.now();
    const start = Math.max(this.dueMs ?? now, now);
    this.dueMs = start + (bytes / this.rateBytesPerSec) * 1000;
    return start - now;
  }

  /**
   * Milliseconds to wait after sending `bytes`, so that everything sent so far, these bytes
   * included, fits the rate (0: go on now). For senders that cannot know an item's size before
   * producing it (a block read and compressed, a batch of log records).
   */
  delayAfter(bytes: number): number {
    if (this.rateBytesPerSec <= 0) return 0;
    this.delayFor(bytes);
    return Math.max(0, (this.dueMs ?? 0) - this.now());
  }

  /** Forgets what was sent: the next item leaves at once. */
  reset(): void {
    this.dueMs = null;
  }
}

/** Waits `ms` when it is worth a timer (over 1 ms). */
export async function pause(ms: number): Promise<void> {
  if (ms > 1) await new Promise((resolve) => setTimeout(resolve, ms));
}
