/**
 * CALL { subquery } (correlated: it runs once per input row and sees the row's variables),
 * CALL procedure(...) YIELD ..., and UNION / UNION ALL of whole query parts.
 */
import type { GraphRead } from '../../kernel/api.js';
import type { Expr, YieldItem } from '../ast.js';
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

export class CallSubquery implements Operator {
  constructor(private readonly plan: SubPlan) {}
  describe(graph: GraphRead): string {
    return `Apply(${this.plan.describe(graph).join(' -> ')})`;
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      if (!this.plan.returns) {
        for (const out of this.plan.run(row, ctx)) {
          // a unit subquery only writes; pauses go on
          if (out === slicePause) yield out;
        }
        yield row;
        continue;
      }
      for (const out of this.plan.run(row, ctx)) {
        if (out === slicePause) {
          yield out;
          continue;
        }
        const merged = new Map(row);
        for (const c of this.plan.columns) merged.set(c, out.get(c) ?? null);
        yield merged;
      }
    }
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
