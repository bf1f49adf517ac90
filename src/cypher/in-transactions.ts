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
 */
import type { GraphRead, GraphWrite } from '../kernel/api.js';
import { QuiverError, toQuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { refreshValue, type ExecContext, type QueryStats, type Row } from './context.js';
import { evaluate } from './evaluate.js';
import { withoutPauses } from './execution-slice.js';
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
}

export interface TransactionSource {
  beginRead(): OuterSnapshot;
  /** Waits for the database's writer slot; the slot is released by commit() or rollback(). */
  beginWrite(): Promise<InnerTransaction>;
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

/** Up to `n` rows from `it` (fewer at its end). */
function take(it: Iterator<Row>, n: number): Row[] {
  const rows: Row[] = [];
  while (rows.length < n) {
    const r = it.next();
    if (r.done) break;
    rows.push(r.value);
  }
  return rows;
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

  const outer = source.beginRead();
  try {
    const outerCtx = contextFor(outer.graph);
    const batchRows = batchRowsOf(plan, outerCtx);
    // Batches run with unbounded slices (contextFor): each batch's commit already returns to the event loop.
    const input = withoutPauses<Row>(runPipeline(plan.before, [new Map()], outerCtx, false))[Symbol.iterator]();
    let rowsBefore = 0;
    for (let batch = take(input, batchRows), k = 1; batch.length > 0; batch = take(input, batchRows), k++) {
      const firstRow = rowsBefore + 1;
      rowsBefore += batch.length;
      if (broken) {
        emit(batch.map((r) => call.nullRow(r)), notStarted);
        continue;
      }
      let inner: InnerTransaction | null = null;
      try {
        inner = await source.beginWrite();
        const ctx = contextFor(inner.graph);
        const produced: Row[] = [];
        for (const row of batch) for (const out of withoutPauses<Row>(call.apply(row, ctx))) produced.push(out);
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
        if (onError === 'FAIL') {
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
    for (const r of withoutPauses<Row>(runPipeline(plan.after, output, ctx, false))) {
      if (plan.returns) rows.push(columns.map((c) => refreshValue(ctx, r.get(c) ?? null)));
    }
    return { rows, stats, transactionsCommitted: committed };
  } finally {
    after.close();
  }
}
