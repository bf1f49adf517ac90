/**
 * The public face of Cypher: `prepare(query)` parses, checks and plans once (cached by text in a
 * bounded LRU) and returns a PreparedQuery that executes against a kernel transaction. Read
 * queries stream lazily; write queries run to completion before their first row; schema queries run
 * inside `execute`. Given an ExecutionSlice, rows come interleaved with `slicePause` markers whenever
 * the slice is used up: the caller lets the event loop run, restarts the slice and pulls on.
 */
import type { GraphRead, GraphWrite } from '../kernel/api.js';
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import type { AdminCommand, Statement } from './ast.js';
import { emptyStats, refreshValue, type ExecContext, type QueryStats, type Row } from './context.js';
import { ExecutionSlice, slicePause, type SlicePause } from './execution-slice.js';
import { preparedCacheEntriesMax } from './limits.js';
import type { SubPlan } from './operators/call.js';
import { parse } from './parser.js';
import { executeInTransactions, type TransactionSource } from './in-transactions.js';
import { transactionStartFailed } from './operators/call.js';
import { planQuery, splitAtInTransactions } from './planner.js';
import { runSchemaCommand, schemaColumns, modifierColumns } from './schema-commands.js';
import { analyzeQuery } from './semantic.js';

export type { AdminCommand, Statement } from './ast.js';
export type { InnerTransaction, OuterSnapshot, TransactionSource } from './in-transactions.js';
export { parse } from './parser.js';

export interface CypherExecution {
  readonly columns: string[];
  /**
   * The rows, produced lazily (a write statement's writes all happen before its first row), with a
   * `slicePause` whenever the execution slice is used up. Without ExecuteOptions.slice none come.
   */
  rows(): Iterator<Value[] | SlicePause>;
  /** Counters; complete once the rows are exhausted. */
  stats(): Record<string, number>;
}

export interface ExecuteOptions {
  /** The statement clock (date(), datetime(), timestamp() ...); defaults to the system clock. */
  now?: () => Date;
  /** When to pause; default: never (the statement runs in one go). */
  slice?: ExecutionSlice;
}

export interface PreparedQuery {
  readonly columns: string[];
  readonly kind: 'read' | 'write' | 'schema' | 'admin';
  /**
   * True for CALL { ... } IN TRANSACTIONS: run it with `executeInTransactions` in an auto-commit
   * statement; `execute` (one given transaction, i.e. an explicit one) refuses it.
   */
  readonly inTransactions: boolean;
  /** The parsed statement; for `admin` the DBMS executes the AdminCommand itself. */
  readonly statement: Statement;
  execute(graph: GraphRead | GraphWrite, parameters: Map<string, Value>, options?: ExecuteOptions): CypherExecution;
  /** Runs a CALL { ... } IN TRANSACTIONS statement with a transaction per batch from `source` (in-transactions.ts). */
  executeInTransactions(source: TransactionSource, parameters: Map<string, Value>, options?: ExecuteOptions): Promise<CypherExecution>;
  /** One line per operator, describing how the query would run against `graph` now (index use included). */
  explain(graph: GraphRead): string[];
}

const cache = new Map<string, PreparedQuery>();

export function prepare(query: string): PreparedQuery {
  const hit = cache.get(query);
  if (hit) {
    // Re-insert to mark as most recently used.
    cache.delete(query);
    cache.set(query, hit);
    return hit;
  }
  const prepared = build(query);
  cache.set(query, prepared);
  if (cache.size > preparedCacheEntriesMax) cache.delete(cache.keys().next().value!);
  return prepared;
}

/** For tests: forget every prepared query. */
export function clearPreparedCache(): void {
  cache.clear();
}

function isWritable(graph: GraphRead | GraphWrite): graph is GraphWrite {
  return typeof (graph as Partial<GraphWrite>).createNode === 'function';
}

function makeContext(graph: GraphRead | GraphWrite, parameters: Map<string, Value>, options?: ExecuteOptions): ExecContext {
  return {
    graph,
    writer: isWritable(graph) ? graph : null,
    params: parameters,
    statementTime: (options?.now ?? (() => new Date()))(),
    stats: emptyStats(),
    deletedNodes: new Set(),
    deletedRels: new Set(),
    slice: options?.slice ?? ExecutionSlice.unbounded(),
  };
}

function build(text: string): PreparedQuery {
  const statement = parse(text);
  if (statement.kind === 'AdminCommand') return adminQuery(statement);
  if (statement.kind !== 'Query') {
    const columns = schemaColumns(statement);
    const command = statement;
    return {
      columns,
      kind: 'schema',
      inTransactions: false,
      statement,
      execute(graph, parameters, options) {
        const ctx = makeContext(graph, parameters, options);
        let iterator: Iterator<Value[] | SlicePause> | null = null;
        function* produce(): Generator<Value[] | SlicePause> {
          for (const r of runSchemaCommand(command, ctx)) yield r === slicePause ? r : columns.map((c) => r.get(c) ?? null);
        }
        return { columns, rows: () => (iterator ??= produce()), stats: () => ({ ...ctx.stats }) };
      },
      explain: () => [statement.kind],
      executeInTransactions: () => Promise.reject(new Error('assertion: only CALL { ... } IN TRANSACTIONS runs in transactions')),
    };
  }
  const analysis = analyzeQuery(statement, text);
  const plan = planQuery(statement, analysis);
  const columns = analysis.columns;
  const kind = analysis.updating ? 'write' : 'read';
  const batched = splitAtInTransactions(plan);
  const checkParameters = (parameters: Map<string, Value>) => {
    const missing = [...analysis.parameters].filter((p) => !parameters.has(p));
    if (missing.length) throw new QuiverError('ParameterMissing', `Expected parameter(s): ${missing.join(', ')}`);
  };
  return {
    columns,
    kind,
    inTransactions: batched !== null,
    statement,
    async executeInTransactions(source, parameters, options) {
      if (!batched) throw new Error('assertion: only CALL { ... } IN TRANSACTIONS runs in transactions');
      checkParameters(parameters);
      // One statement clock for every batch.
      const statementTime = (options?.now ?? (() => new Date()))();
      const slice = options?.slice ?? ExecutionSlice.unbounded();
      const contextFor = (graph: GraphRead | GraphWrite) => makeContext(graph, parameters, { now: () => statementTime, slice });
      const result = await executeInTransactions(batched, columns, source, contextFor, emptyStats);
      return finished(columns, result.rows, result.stats);
    },
    execute(graph, parameters, options) {
      if (batched) throw transactionStartFailed();
      checkParameters(parameters);
      const ctx = makeContext(graph, parameters, options);
      if (kind === 'write') {
        if (!ctx.writer) throw new QuiverError('ReadOnly', 'Writing in read access mode not allowed: run this query in a write transaction');
        return writing(columns, plan, ctx);
      }
      return streaming(columns, plan, ctx);
    },
    explain: (graph) => plan.describe(graph),
  };
}

function finished(columns: string[], rows: Value[][], stats: QueryStats): CypherExecution {
  return { columns, rows: () => rows[Symbol.iterator](), stats: () => ({ ...stats }) };
}

/** Every write first, then the rows as they read after the statement. */
function writing(columns: string[], plan: SubPlan, ctx: ExecContext): CypherExecution {
  let iterator: Iterator<Value[] | SlicePause> | null = null;
  function* produce(): Generator<Value[] | SlicePause> {
    // Rows are kept only for a statement that returns them: a million-row MERGE without RETURN
    // held every row (its map and node value) until the end.
    const all: Row[] = [];
    for (const r of plan.run(new Map(), ctx)) {
      if (r === slicePause) yield r;
      else if (plan.returns) all.push(r);
    }
    if (!plan.returns) return;
    for (const r of all) yield columns.map((c) => refreshValue(ctx, r.get(c) ?? null));
  }
  return {
    columns,
    rows: () => (iterator ??= produce()),
    stats: () => ({ ...ctx.stats }),
  };
}

function streaming(columns: string[], plan: SubPlan, ctx: ExecContext): CypherExecution {
  let iterator: Iterator<Value[] | SlicePause> | null = null;
  function* produce(): Generator<Value[] | SlicePause> {
    for (const r of plan.run(new Map(), ctx)) {
      if (r === slicePause) yield r;
      else if (plan.returns) yield columns.map((c) => r.get(c) ?? null);
    }
  }
  return {
    columns,
    rows: () => (iterator ??= produce()),
    stats: () => ({ ...ctx.stats }),
  };
}

function adminQuery(cmd: AdminCommand): PreparedQuery {
  return {
    columns: cmd.modifiers && (cmd.modifiers.yields || cmd.modifiers.returnProjection) ? modifierColumns(cmd.modifiers, []) : [],
    kind: 'admin',
    inTransactions: false,
    statement: cmd,
    executeInTransactions: () => Promise.reject(new Error('assertion: only CALL { ... } IN TRANSACTIONS runs in transactions')),
    execute() {
      throw new QuiverError('SemanticError', `${cmd.action} is an administration command: it must be executed against the system database by the DBMS`);
    },
    explain: () => [`AdminCommand(${cmd.action})`],
  };
}
