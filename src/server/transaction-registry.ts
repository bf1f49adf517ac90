/**
 * The server's running transactions, as SHOW TRANSACTIONS lists them and TERMINATE TRANSACTION,
 * timeouts, RESET, closed connections and shutdown stop them. A transaction is never stopped from
 * outside while its statement runs: statements run in slices (src/cypher/execution-slice.ts), and
 * between slices the query service asks `stopReason()` and fails the statement with it.
 */
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';

/** Who runs a transaction and from where (SHOW TRANSACTIONS columns). */
export interface TransactionOwner {
  database: string;
  username: string;
  connectionId: string;
  clientAddress: string;
  metadata: Map<string, Value>;
}

/** How a transaction's timeout was set: by the client (Bolt tx_timeout) or by db.transaction.timeout. */
export interface TransactionTimeout {
  ms: number;
  source: 'client' | 'setting';
}

export class RunningTransaction {
  readonly startTimeMs: number;
  currentQuery = '';
  currentQueryId: string | null = null;
  currentQueryStartMs: number | null = null;
  private terminated: QuiverError | null = null;
  /** Run when the transaction is terminated while no statement of it executes (frees the writer). */
  private idleStop: (() => void) | null = null;
  /** Statements of this transaction executing now (pulling rows, possibly paused between slices). */
  private executing = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly transactionId: string,
    readonly owner: TransactionOwner,
    private readonly timeout: TransactionTimeout | null,
    /** Aborted by the connection on RESET and on close. */
    private readonly signal: AbortSignal | undefined,
    private readonly clockMs: () => number,
    /** SHOW TRANSACTIONS `outerTransactionId`: the statement's transaction of a CALL { ... } IN TRANSACTIONS batch, else ''. */
    readonly outerTransactionId = '',
  ) {
    this.startTimeMs = clockMs();
    // A transaction that sits idle (an abandoned explicit transaction holding the writer) must time
    // out too; one that executes notices its deadline itself at its next slice.
    if (timeout !== null) {
      this.timer = setTimeout(() => this.terminate(timeoutError(timeout)), timeout.ms);
      this.timer.unref();
    }
  }

  /** A statement of this transaction starts or resumes executing rows. */
  beginExecution(): void {
    this.executing++;
  }

  endExecution(): void {
    this.executing--;
  }

  /** The transaction ended: no timer may fire for it any more. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Records the statement now running (SHOW TRANSACTIONS `currentQuery`). */
  startQuery(query: string, queryId: string): void {
    this.currentQuery = query;
    this.currentQueryId = queryId;
    this.currentQueryStartMs = this.clockMs();
  }

  endQuery(): void {
    this.currentQueryId = null;
    this.currentQueryStartMs = null;
  }

  /** Why the transaction must stop now, or null; the error its running statement fails with. */
  stopReason(): QuiverError | null {
    if (this.terminated) return this.terminated;
    if (this.signal?.aborted) {
      return (this.terminated = new QuiverError('TransactionTerminated', 'The transaction has been terminated: the client reset or closed its connection.'));
    }
    if (this.timeout !== null && this.clockMs() - this.startTimeMs >= this.timeout.ms) return (this.terminated = timeoutError(this.timeout));
    return null;
  }

  /** Stops the transaction: its statement fails at its next slice, or `onIdle` runs now when none runs. */
  terminate(reason: QuiverError): void {
    if (this.terminated) return;
    this.terminated = reason;
    const stop = this.idleStop;
    if (stop && this.executing === 0) stop();
  }

  /** What terminate() does while no statement runs (explicit transactions roll back at once). */
  whenIdle(stop: () => void): void {
    this.idleStop = stop;
  }

  get isTerminated(): boolean {
    return this.terminated !== null;
  }

  /** SHOW TRANSACTIONS `status`, with Neo4j's wording. */
  status(): string {
    if (this.terminated) return `Terminated with reason: ${this.terminated.status}`;
    return this.executing > 0 ? 'Running' : 'Idle';
  }
}

export function timeoutError(timeout: TransactionTimeout): QuiverError {
  const setting = timeout.source === 'client' ? "the client's transaction timeout" : 'db.transaction.timeout';
  return new QuiverError(
    timeout.source === 'client' ? 'TransactionTimedOutClientConfiguration' : 'TransactionTimedOut',
    `The transaction has been terminated: it did not complete within ${timeout.ms} ms (${setting}). Retry it in a new transaction, with a longer timeout if it needs one.`,
  );
}

export class TransactionRegistry {
  private readonly running = new Map<string, RunningTransaction>();
  /** Per database, like Neo4j's `neo4j-transaction-42`. */
  private readonly lastSeqByDatabase = new Map<string, number>();
  private lastQuerySeq = 0;

  constructor(private readonly clockMs: () => number = () => Date.now()) {}

  begin(owner: TransactionOwner, timeout: TransactionTimeout | null, signal: AbortSignal | undefined): RunningTransaction {
    return this.add(new RunningTransaction(this.nextTransactionId(owner.database), owner, timeout, signal, this.clockMs));
  }

  /**
   * A batch transaction of `outer`'s CALL { ... } IN TRANSACTIONS statement: its own id from the
   * same counter, so TERMINATE TRANSACTION takes it; no timeout or signal of its own, since the
   * statement checks `outer` (its timeout, RESET, close) beside it.
   */
  beginInner(outer: RunningTransaction): RunningTransaction {
    const tx = new RunningTransaction(this.nextTransactionId(outer.owner.database), outer.owner, null, undefined, this.clockMs, outer.transactionId);
    if (outer.currentQueryId !== null) tx.startQuery(outer.currentQuery, outer.currentQueryId);
    return this.add(tx);
  }

  private nextTransactionId(database: string): string {
    const seq = (this.lastSeqByDatabase.get(database) ?? 0) + 1;
    this.lastSeqByDatabase.set(database, seq);
    return `${database}-transaction-${seq}`;
  }

  private add(tx: RunningTransaction): RunningTransaction {
    this.running.set(tx.transactionId, tx);
    return tx;
  }

  end(tx: RunningTransaction): void {
    tx.dispose();
    this.running.delete(tx.transactionId);
  }

  /** A new id for a statement (`query-7`). */
  nextQueryId(): string {
    return `query-${++this.lastQuerySeq}`;
  }

  list(): RunningTransaction[] {
    return [...this.running.values()];
  }

  find(transactionId: string): RunningTransaction | undefined {
    return this.running.get(transactionId);
  }

  /** Server shutdown: every transaction stops at its next slice. */
  terminateAll(reason: QuiverError): void {
    for (const tx of this.running.values()) tx.terminate(reason);
  }

  get size(): number {
    return this.running.size;
  }
}
