/**
 * Foreground write load through the official driver: `concurrency` sessions in closed loops, each
 * running small auto-commit write transactions (one node, three properties), every one durable
 * (the server acknowledges after the log fsync). Records when each transaction ended and how long
 * it took, so throughput and latency can be computed for any time window (before / during a backup).
 */
import type { Driver, Session } from 'neo4j-driver';
import { percentile } from './stats.js';

/** A small write: one node with a sequence number, a short string and a server-side timestamp. */
export const smallWriteQuery = 'CREATE (:Load {seq: $seq, tag: $tag, at: timestamp()})';

/**
 * A session that is replaced by a new one every `runsPerSession` runs. neo4j-driver (6.x) keeps every
 * Result a session produced until the session closes: one long-lived session running small
 * transactions in a loop grew the load generator's heap by about 4.7 KB per transaction (3 GB after
 * two minutes at 5 000 tx/s), and the garbage collector's growing work made the generator, not the
 * server, slow down over the run: client CPU per transaction went from 126 to 220 µs and the rate
 * from 5 800 to 4 400 tx/s, while the server's CPU per transaction stayed flat
 * (docs/performance.md, "The load generator's drift"). Applications use short sessions; so does this.
 */
export class RenewingSession {
  private session: Session;
  private runs = 0;

  constructor(
    private readonly driver: Driver,
    private readonly runsPerSession = 1000,
  ) {
    this.session = driver.session({ database: 'neo4j' });
  }

  async run(query: string, parameters: Record<string, unknown>): Promise<void> {
    if (this.runs >= this.runsPerSession) {
      const old = this.session;
      this.session = this.driver.session({ database: 'neo4j' });
      this.runs = 0;
      await old.close();
    }
    this.runs += 1;
    await this.session.run(query, parameters);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

export interface WriteSample {
  /** performance.now() when the transaction's acknowledgement arrived. */
  endMs: number;
  latencyMs: number;
}

export interface WindowStats {
  seconds: number;
  transactions: number;
  txPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class WriteLoad {
  readonly samples: WriteSample[] = [];
  readonly errors: string[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;

  constructor(
    private readonly driver: Driver,
    private readonly concurrency: number,
  ) {}

  start(): void {
    this.running = true;
    for (let i = 0; i < this.concurrency; i++) this.loops.push(this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async loop(): Promise<void> {
    const session = new RenewingSession(this.driver);
    try {
      while (this.running) {
        const seq = this.seq++;
        const t0 = performance.now();
        try {
          await session.run(smallWriteQuery, { seq, tag: `t${seq % 97}` });
        } catch (e) {
          // Recorded, not swallowed: the report prints the count and the first message.
          this.errors.push((e as Error).message);
          if (this.errors.length > 100) throw e;
          continue;
        }
        const t1 = performance.now();
        this.samples.push({ endMs: t1, latencyMs: t1 - t0 });
      }
    } finally {
      await session.close();
    }
  }

  /** Transactions acknowledged in [fromMs, toMs). */
  window(fromMs: number, toMs: number): WindowStats {
    const inside = this.samples.filter((s) => s.endMs >= fromMs && s.endMs < toMs).map((s) => s.latencyMs);
    const seconds = (toMs - fromMs) / 1000;
    return {
      seconds,
      transactions: inside.length,
      txPerSec: inside.length / seconds,
      p50Ms: percentile(inside, 50),
      p99Ms: percentile(inside, 99),
      maxMs: inside.length ? inside.reduce((a, b) => Math.max(a, b)) : NaN,
    };
  }
}

/** Commits `count` small transactions with `concurrency` sessions as fast as the server takes them. */
export async function commitSmallTransactions(driver: Driver, count: number, concurrency: number): Promise<{ ms: number }> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const session = new RenewingSession(driver);
      try {
        for (let seq = next++; seq < count; seq = next++) {
          await session.run(smallWriteQuery, { seq, tag: `d${seq % 97}` });
        }
      } finally {
        await session.close();
      }
    }),
  );
  return { ms: performance.now() - started };
}
