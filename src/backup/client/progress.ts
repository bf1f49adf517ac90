/**
 * A one-line progress display for long transfers (bytes, rate, ETA when the total is known),
 * drawn on stderr only when it is a TTY, at most a few times per second.
 */
import { formatBytes, formatDuration } from '../../util/format.js';

const redrawIntervalMs = 250;

export class Progress {
  private bytes = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private readonly totalBytes: number | null,
    stream: NodeJS.WriteStream = process.stderr,
    private readonly out = stream,
  ) {
    this.enabled = Boolean(stream.isTTY);
  }

  add(n: number): void {
    this.bytes += n;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < redrawIntervalMs) return;
    this.lastDraw = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = this.bytes / secs;
    let line = `${this.label}: ${formatBytes(this.bytes)} at ${formatBytes(rate)}/s`;
    if (this.totalBytes && this.totalBytes > this.bytes && rate > 0) {
      const pct = Math.min(99, Math.floor((this.bytes / this.totalBytes) * 100));
      line += ` (~${pct}%, ETA ${formatDuration(((this.totalBytes - this.bytes) / rate) * 1000)})`;
    }
    this.out.write(`\r\x1b[2K${line}`);
  }

  done(): void {
    if (this.enabled && this.lastDraw) this.out.write('\r\x1b[2K');
  }
}
