/**
 * Logs each refused TLS connection once per peer host and reason within a window (limits.ts), with a count of
 * the ones left out: a client retrying in a loop with a bad certificate leaves one line a minute, not thousands.
 */
import { refusalLogKeysMax, refusalLogWindowMs } from './limits.js';

export class RefusalLog {
  private readonly seen = new Map<string, { atMs: number; suppressed: number }>();
  constructor(
    private readonly write: (line: string) => void,
    private readonly nowMs: () => number = Date.now,
    private readonly windowMs = refusalLogWindowMs,
  ) {}

  /** `peerHost` without the port: a client's every new connection has a new port. */
  refused(peerHost: string, reason: string, line: string): void {
    const key = `${peerHost} ${reason}`;
    const now = this.nowMs();
    const entry = this.seen.get(key);
    if (entry && now - entry.atMs < this.windowMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.seen.delete(key);
    if (this.seen.size >= refusalLogKeysMax) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, { atMs: now, suppressed: 0 });
    this.write(suppressed > 0 ? `${line} (${suppressed} more like it in the last ${Math.round(this.windowMs / 1000)} s not logged)` : line);
  }
}
