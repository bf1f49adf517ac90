/**
 * CALL { subquery } (correlated: it runs once per input row and sees the row's variables),
 * CALL procedure(...) YIELD ..., and UNION / UNION ALL of whole query parts.
 */
import type { GraphRead } from '../../kernel/api.js';
import type { Expr, InTransactions, YieldItem } from '../ast.js';
import { QuiverError } from '../../util/errors.js';
import type { Value } from '../../values/value.js';
import { valueKey } from '../compare.js';
import type { ExecContext, Row } from '../context.js';
import { evaluate } from '../evaluate.js';
import { slicePause, type Flow } from '../execution-slice.js';
import { runProcedure, procedureColumns } from '../procedures.js';
import type { Operator } from './basic.js';

/** A planned query part or union: rows in (the seed), rows out. */
export interface SubPlan {
  readonly returns: boolean;
  readonly columns: readonly string[];
  run(seed: Row, ctx: ExecContext): Iterable<Flow>;
  describe(graph: GraphRead): string[];
}

/**
 * The rows of a CALL subquery for one outer row: the outer row extended by each row the subquery
 * returns, or the outer row itself once for a unit subquery. `imports` (from `CALL (a, b)`) limits
 * what the subquery is seeded with; null seeds it with the whole row.
 */
function* applySubquery(plan: SubPlan, imports: readonly string[] | null, row: Row, ctx: ExecContext): Iterable<Flow> {
  const seed = imports === null ? row : new Map(imports.map((v) => [v, row.get(v) ?? null]));
  if (!plan.returns) {
    for (const out of plan.run(seed, ctx)) {
      // a unit subquery only writes; pauses go on
      if (out === slicePause) yield out;
    }
    yield row;
    return;
  }
  for (const out of plan.run(seed, ctx)) {
    if (out === slicePause) {
      yield out;
      continue;
    }
    const merged = new Map(row);
    for (const c of plan.columns) merged.set(c, out.get(c) ?? null);
    yield merged;
  }
}

export class CallSubquery implements Operator {
  constructor(private readonly plan: SubPlan, private readonly imports: readonly string[] | null) {}
  describe(graph: GraphRead): string {
    return `Apply(${this.plan.describe(graph).join(' -> ')})`;
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) yield row;
      else yield* applySubquery(this.plan, this.imports, row, ctx);
    }
  }
}

export function transactionStartFailed(): QuiverError {
  return new QuiverError('TransactionStartFailed', "A query with 'CALL { ... } IN TRANSACTIONS' can only be executed in an implicit transaction, but tried to execute in an explicit transaction.", {
    hint: 'run it as an auto-commit query (session.run, or :auto in Neo4j Browser), not in an explicit transaction or a transaction function',
  });
}

/**
 * CALL { ... } IN TRANSACTIONS. It cannot run inside the pipeline of one transaction: the
 * statement is driven by executeInTransactions (in-transactions.ts), which opens a transaction per
 * batch and calls `apply` for each row of it. Reaching `run` means the statement was given a single
 * transaction, i.e. an explicit one.
 */
export class CallInTransactions implements Operator {
  constructor(readonly plan: SubPlan, private readonly imports: readonly string[] | null, readonly spec: InTransactions) {}
  describe(graph: GraphRead): string {
    return `TransactionApply(${this.plan.describe(graph).join(' -> ')})`;
  }
  run(): Iterable<Flow> {
    throw transactionStartFailed();
  }
  apply(row: Row, ctx: ExecContext): Iterable<Flow> {
    return applySubquery(this.plan, this.imports, row, ctx);
  }
  /** The row for an input row whose batch failed or never ran: the subquery's columns are null. */
  nullRow(row: Row): Row {
    const out = new Map(row);
    if (this.plan.returns) for (const c of this.plan.columns) out.set(c, null);
    return out;
  }
}

export class CallProcedure implements Operator {
  constructor(private readonly name: string, private readonly args: readonly Expr[], private readonly yields: readonly YieldItem[] | null, private readonly where: Expr | null) {}
  describe(): string {
    return `ProcedureCall(${this.name})`;
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    const columns = procedureColumns(this.name) ?? [];
    const yields = this.yields ?? columns.map((name) => ({ name, alias: name }));
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const args = this.args.map((a) => evaluate(a, row, ctx));
      for (const record of runProcedure(this.name, ctx.graph, args)) {
        const out = new Map(row);
        for (const y of yields) out.set(y.alias, record[columns.indexOf(y.name)] ?? null);
        if (this.where && evaluate(this.where, out, ctx) !== true) continue;
        yield out;
      }
    }
  }
}

export class UnionPlan implements SubPlan {
  readonly returns = true;
  constructor(readonly columns: readonly string[], private readonly parts: readonly SubPlan[], private readonly all: readonly boolean[]) {}
  describe(graph: GraphRead): string[] {
    return [`Union(${this.parts.map((p) => p.describe(graph).join(' -> ')).join(' | ')})`];
  }
  *run(seed: Row, ctx: ExecContext): Iterable<Flow> {
    // Neo4j applies DISTINCT to the whole union as soon as one UNION is not ALL.
    const distinct = this.all.some((a) => !a);
    const seen = new Set<string>();
    for (const part of this.parts) {
      for (const row of part.run(seed, ctx)) {
        if (row !== slicePause && distinct) {
          const key = this.columns.map((c) => valueKey((row.get(c) ?? null) as Value)).join('\u0001');
          if (seen.has(key)) continue;
          seen.add(key);
        }
        yield row;
      }
    }
  }
}
