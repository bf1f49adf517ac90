/**
 * A warning about something that took too long (a disk sync, a store apply, a stalled event loop),
 * logged at most once per `minIntervalMs` so that a slow disk yields a readable log rather than a
 * flood: the next warning says how many were held back and the longest of them.
 */
export class SlowWarning {
  private lastLoggedMs = Number.NEGATIVE_INFINITY;
  private heldBack = 0;
  private heldBackMaxMs = 0;

  constructor(
    private readonly warn: (message: string) => void,
    /** Durations below this are normal and never logged. */
    readonly thresholdMs: number,
    private readonly minIntervalMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Logs `describe(ms)` when `ms` reaches the threshold and no warning was logged in the last interval. */
  report(ms: number, describe: (ms: number) => string): void {
    if (ms < this.thresholdMs) return;
    const now = this.now();
    if (now - this.lastLoggedMs < this.minIntervalMs) {
      this.heldBack += 1;
      this.heldBackMaxMs = Math.max(this.heldBackMaxMs, ms);
      return;
    }
    const more = this.heldBack > 0 ? ` (${this.heldBack} more since the last such warning, the longest ${Math.round(this.heldBackMaxMs)} ms)` : '';
    this.warn(`${describe(Math.round(ms))}${more}`);
    this.lastLoggedMs = now;
    this.heldBack = 0;
    this.heldBackMaxMs = 0;
  }
}
