/**
 * Runs a statement holding CALL { ... } IN TRANSACTIONS: the outer query reads one snapshot, and
 * every batch of input rows runs the subquery in its own write transaction, committed before the
 * next batch starts. The database has a single writer slot; the statement never holds it between
 * batches, so other writers take turns with the batches and a long import does not lock them out.
 * The caller (the query service) supplies the transactions through `TransactionSource`.
 *
 * Errors follow Neo4j: ON ERROR FAIL (the default) stops at the failing batch, leaves the batches
 * before it committed and rethrows its error with the count of committed transactions; CONTINUE
 * rolls the batch back, binds the subquery's columns to null for its rows and goes on; BREAK does
 * the same and then skips every later batch. REPORT STATUS binds a map per row: started,
 * committed, transactionId, errorMessage.
 *
 * Every part runs in the statement's execution slices; at each pause the statement stops when its
 * transaction or the running batch was terminated (a batch's transaction has its own id in SHOW
 * TRANSACTIONS). A stop ends the statement whatever ON ERROR says, leaving earlier batches committed.
 */
import type { GraphRead, GraphWrite } from '../kernel/api.js';
import { QuiverError, toQuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { refreshValue, type ExecContext, type QueryStats, type Row } from './context.js';
import { evaluate } from './evaluate.js';
import { slicePause, type Flow } from './execution-slice.js';
import { inTransactionsBatchRowsDefault } from './limits.js';
import { runPipeline } from './operators/basic.js';
import type { InTransactionsPlan } from './planner.js';
import { asInteger } from './value-util.js';

/** A read snapshot for the outer query. */
export interface OuterSnapshot {
  readonly graph: GraphRead;
  close(): void;
}

/** One batch's write transaction. */
export interface InnerTransaction {
  /** What the batch reads and writes (the caller may hand out a secured view of the transaction). */
  readonly graph: GraphWrite;
  /** Shown as `transactionId` by REPORT STATUS. */
  readonly id: string;
  commit(): Promise<unknown>;
  rollback(): void;
  /** Why this batch must stop now (TERMINATE TRANSACTION named its id), or null. */
  stopReason(): QuiverError | null;
}

export interface TransactionSource {
  beginRead(): OuterSnapshot;
  /** Waits for the database's writer slot; the slot is released by commit() or rollback(). */
  beginWrite(): Promise<InnerTransaction>;
  /** Lets the event loop run (other connections, timers, TERMINATE) when the statement's slice is used up. */
  pause(): Promise<void>;
  /** Why the whole statement must stop now (its transaction terminated, timed out, reset, closed), or null. */
  stopReason(): QuiverError | null;
}

export interface BatchedResult {
  rows: Value[][];
  /** Counters of the committed batches. */
  stats: QueryStats;
  transactionsCommitted: number;
}

type ContextFor = (graph: GraphRead | GraphWrite) => ExecContext;

interface BatchStatus {
  started: boolean;
  committed: boolean;
  transactionId: string | null;
  errorMessage: string | null;
}

const notStarted: BatchStatus = { started: false, committed: false, transactionId: null, errorMessage: null };

function statusValue(s: BatchStatus): Value {
  return new Map<string, Value>([
    ['started', s.started],
    ['committed', s.committed],
    ['transactionId', s.transactionId],
    ['errorMessage', s.errorMessage],
  ]);
}

function batchRowsOf(plan: InTransactionsPlan, ctx: ExecContext): number {
  if (!plan.call.spec.batchSize) return inTransactionsBatchRowsDefault;
  const v = evaluate(plan.call.spec.batchSize, new Map(), ctx);
  const rows = v === null ? null : asInteger(v, 'the batch size of CALL { ... } IN TRANSACTIONS');
  if (rows === null || rows < 1n) {
    throw new QuiverError('SemanticError', `Invalid input. '${String(v)}' is not a valid value for OF ... ROWS in CALL { ... } IN TRANSACTIONS. Must be a positive integer.`);
  }
  return Number(rows);
}

function addStats(total: QueryStats, batch: QueryStats): void {
  for (const k of Object.keys(batch) as (keyof QueryStats)[]) total[k] += batch[k];
}

/**
 * Up to `n` rows from `it` (fewer at its end), or all when `n` is Infinity. At each pause of the
 * slice, `checkpoint` lets the event loop run and throws when the statement must stop.
 */
async function take(it: Iterator<Flow>, n: number, checkpoint: () => Promise<void>): Promise<Row[]> {
  const rows: Row[] = [];
  while (rows.length < n) {
    const r = it.next();
    if (r.done) break;
    if (r.value === slicePause) await checkpoint();
    else rows.push(r.value);
  }
  return rows;
}

function stopReasonOf(source: TransactionSource, inner: InnerTransaction | null): QuiverError | null {
  return source.stopReason() ?? inner?.stopReason() ?? null;
}

function throwIfStopped(source: TransactionSource, inner: InnerTransaction | null): void {
  const stop = stopReasonOf(source, inner);
  if (stop) throw stop;
}

/** Runs the statement; `columns` are its result columns, `contextFor` makes an execution context over a transaction. */
export async function executeInTransactions(
  plan: InTransactionsPlan,
  columns: readonly string[],
  source: TransactionSource,
  contextFor: ContextFor,
  emptyStats: () => QueryStats,
): Promise<BatchedResult> {
  const { call } = plan;
  const { onError, reportStatus } = call.spec;
  const keepRows = plan.after.length > 0;
  const output: Row[] = [];
  const stats = emptyStats();
  let committed = 0;
  let broken = false;
  const emit = (rows: Iterable<Row>, status: BatchStatus) => {
    if (!keepRows) return;
    for (const r of rows) {
      if (reportStatus !== null) r.set(reportStatus, statusValue(status));
      output.push(r);
    }
  };

  // The outer input and every batch run in the statement's slices: a pause lets the event loop run
  // (SHOW TRANSACTIONS lists the batch, TERMINATE TRANSACTION stops it) however large the batch.
  const checkpointOf = (ctx: ExecContext, inner: InnerTransaction | null) => async (): Promise<void> => {
    await source.pause();
    throwIfStopped(source, inner);
    ctx.slice.start();
  };
  const outer = source.beginRead();
  try {
    const outerCtx = contextFor(outer.graph);
    const batchRows = batchRowsOf(plan, outerCtx);
    const input = runPipeline(plan.before, [new Map()], outerCtx, false)[Symbol.iterator]();
    const outerCheckpoint = checkpointOf(outerCtx, null);
    let rowsBefore = 0;
    for (let batch = await take(input, batchRows, outerCheckpoint), k = 1; batch.length > 0; batch = await take(input, batchRows, outerCheckpoint), k++) {
      const firstRow = rowsBefore + 1;
      rowsBefore += batch.length;
      if (broken) {
        emit(batch.map((r) => call.nullRow(r)), notStarted);
        continue;
      }
      let inner: InnerTransaction | null = null;
      try {
        throwIfStopped(source, null);
        inner = await source.beginWrite();
        const ctx = contextFor(inner.graph);
        const checkpoint = checkpointOf(ctx, inner);
        const produced: Row[] = [];
        // Not push(...rows): a subquery may return more rows than a call takes arguments.
        for (const row of batch) for (const out of await take(call.apply(row, ctx)[Symbol.iterator](), Infinity, checkpoint)) produced.push(out);
        // The last chance to stop the batch: one terminated during its last slice is not committed.
        throwIfStopped(source, inner);
        await inner.commit();
        committed++;
        addStats(stats, ctx.stats);
        emit(produced, { started: true, committed: true, transactionId: inner.id, errorMessage: null });
      } catch (e) {
        try {
          inner?.rollback();
        } catch {
          // a failed commit has already ended the transaction
        }
        const error = toQuiverError(e);
        // ON ERROR handles failing data, not an operator's stop: a terminated batch or statement ends the statement.
        if (onError === 'FAIL' || stopReasonOf(source, inner) !== null) {
          throw new QuiverError(error.code, `${error.message} (Transactions committed: ${committed}; batch ${k}, input rows ${firstRow}-${rowsBefore}, rolled back)`, {
            cause: e,
            hint: error.hint ?? 'the batches before it stay committed; ON ERROR CONTINUE or ON ERROR BREAK keep the statement going past a failing batch',
          });
        }
        emit(batch.map((r) => call.nullRow(r)), { started: inner !== null, committed: false, transactionId: inner?.id ?? null, errorMessage: error.message });
        if (onError === 'BREAK') broken = true;
      }
    }
  } finally {
    outer.close();
  }

  if (!keepRows) return { rows: [], stats, transactionsCommitted: committed };
  // The clauses after the CALL read a snapshot taken after the last batch committed, so they see
  // what the batches wrote.
  const after = source.beginRead();
  try {
    const ctx = contextFor(after.graph);
    const rows: Value[][] = [];
    for (const r of await take(runPipeline(plan.after, output, ctx, false)[Symbol.iterator](), Infinity, checkpointOf(ctx, null))) {
      if (plan.returns) rows.push(columns.map((c) => refreshValue(ctx, r.get(c) ?? null)));
    }
    return { rows, stats, transactionsCommitted: committed };
  } finally {
    after.close();
  }
}
