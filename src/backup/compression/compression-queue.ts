/**
 * Keeps at most N asynchronous block jobs in flight and hands their results out in the order the
 * jobs were started, so blocks compressed in parallel are still written (or yielded) in file order.
 */

export class OrderedQueue<T> {
  private readonly jobs: Promise<T>[] = [];

  constructor(readonly inFlightMax: number) {
    if (!Number.isInteger(inFlightMax) || inFlightMax < 1) throw new Error(`inFlightMax must be a positive integer, got ${inFlightMax}`);
  }

  get length(): number {
    return this.jobs.length;
  }

  get full(): boolean {
    return this.jobs.length >= this.inFlightMax;
  }

  push(job: Promise<T>): void {
    // Rejections are observed when the job is shifted; this only stops Node from reporting a job
    // whose result is never taken (the stream failed earlier) as an unhandled rejection.
    job.catch(() => undefined);
    this.jobs.push(job);
  }

  /** The oldest job's result. */
  async shift(): Promise<T> {
    const job = this.jobs.shift();
    if (job === undefined) throw new Error('OrderedQueue.shift on an empty queue');
    return job;
  }
}

/** Maps `source` through `fn` with up to `inFlightMax` calls running, yielding results in source order. */
export async function* mapOrdered<S, T>(source: AsyncIterable<S>, fn: (item: S) => Promise<T>, inFlightMax: number): AsyncGenerator<T> {
  const queue = new OrderedQueue<T>(inFlightMax);
  for await (const item of source) {
    queue.push(fn(item));
    if (queue.full) yield await queue.shift();
  }
  while (queue.length > 0) yield await queue.shift();
}
