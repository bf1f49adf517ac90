/**
 * The single-writer slot of a database: write transactions take it in arrival order and hold it
 * until they commit or roll back. Readers never take it. A waiter gives up after its timeout.
 */
import { QuiverError } from '../util/errors.js';

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout | undefined;
}

export class WriterSlot {
  private held = false;
  private readonly queue: Waiter[] = [];

  constructor(private readonly databaseName: string) {}

  acquire(timeoutMs: number): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { grant: resolve, timer: undefined };
      if (timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(
            new QuiverError('LockTimeout', `timed out after ${timeoutMs} ms waiting to write to database "${this.databaseName}": another write transaction holds it`, {
              hint: 'retry; keep write transactions short, or raise db.lock.acquisition.timeout',
            }),
          );
        }, timeoutMs);
      }
      this.queue.push(waiter);
    });
  }

  release(): void {
    const next = this.queue.shift();
    if (next) {
      if (next.timer) clearTimeout(next.timer);
      next.grant();
    } else {
      this.held = false;
    }
  }

  get waiting(): number {
    return this.queue.length;
  }
}
