/**
 * Aggregation: grouping by the non-aggregate projection items (implicit grouping keys), one
 * accumulator per aggregate expression (count, sum, avg, min, max, collect, stDev, percentiles,
 * with DISTINCT), results left in hidden row slots for the evaluator.
 */
import type { Expr } from './ast.js';
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { orderCompare, valueKey } from './compare.js';
import type { ExecContext, Row } from './context.js';
import { slicePause, type Flow } from './execution-slice.js';
import { evaluate } from './evaluate.js';
import { slotFor, type AggregateExpr } from './aggregate-slots.js';
import type { Operator } from './operators/basic.js';
import { add } from './arithmetic.js';
import { checkInt64, typeMismatch } from './value-util.js';

interface Accumulator {
  add(v: Value): void;
  result(): Value;
}

function makeAccumulator(e: AggregateExpr, ctx: ExecContext, row: Row): Accumulator {
  if (e.kind === 'CountStar') {
    let n = 0n;
    return { add: () => void n++, result: () => n };
  }
  const name = e.name.toLowerCase();
  switch (name) {
    case 'count': {
      let n = 0n;
      return { add: (v) => void (v !== null && n++), result: () => n };
    }
    case 'sum': {
      let total: Value = 0n;
      return {
        add: (v) => {
          if (v === null) return;
          if (typeof v !== 'bigint' && typeof v !== 'number' && !(v instanceof Object && 'months' in v)) throw typeMismatch('a number for sum()', v);
          total = add(total, v);
        },
        result: () => total,
      };
    }
    case 'avg': {
      let sum = 0;
      let n = 0;
      return {
        add: (v) => {
          if (v === null) return;
          if (typeof v !== 'bigint' && typeof v !== 'number') throw typeMismatch('a number for avg()', v);
          sum += Number(v);
          n++;
        },
        result: () => (n === 0 ? null : sum / n),
      };
    }
    case 'min':
    case 'max': {
      let best: Value = null;
      const sign = name === 'min' ? 1 : -1;
      return {
        add: (v) => {
          if (v === null) return;
          if (best === null || sign * orderCompare(v, best) < 0) best = v;
        },
        result: () => best,
      };
    }
    case 'collect': {
      const items: Value[] = [];
      return { add: (v) => void (v !== null && items.push(v)), result: () => items };
    }
    case 'stdev':
    case 'stdevp': {
      const xs: number[] = [];
      return {
        add: (v) => {
          if (v === null) return;
          if (typeof v !== 'bigint' && typeof v !== 'number') throw typeMismatch(`a number for ${e.name}()`, v);
          xs.push(Number(v));
        },
        result: () => {
          const n = xs.length;
          const denominator = name === 'stdev' ? n - 1 : n;
          if (denominator <= 0) return 0;
          const mean = xs.reduce((a, b) => a + b, 0) / n;
          return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / denominator);
        },
      };
    }
    case 'percentilecont':
    case 'percentiledisc': {
      const xs: number[] = [];
      const pct = evaluate(e.args[1] ?? { kind: 'Literal', pos: e.pos, value: 0.5 }, row, ctx);
      const p = typeof pct === 'number' || typeof pct === 'bigint' ? Number(pct) : NaN;
      if (!(p >= 0 && p <= 1)) throw new QuiverError('ArgumentError', `Invalid percentile: ${String(pct)} is not a number between 0.0 and 1.0`);
      let integers = true;
      return {
        add: (v) => {
          if (v === null) return;
          if (typeof v !== 'bigint' && typeof v !== 'number') throw typeMismatch(`a number for ${e.name}()`, v);
          if (typeof v === 'number') integers = false;
          xs.push(Number(v));
        },
        result: () => {
          if (xs.length === 0) return null;
          xs.sort((a, b) => a - b);
          if (name === 'percentiledisc') {
            const idx = Math.max(0, Math.ceil(p * xs.length) - 1);
            return integers ? checkInt64(BigInt(xs[idx]!)) : xs[idx]!;
          }
          const pos = p * (xs.length - 1);
          const lo = Math.floor(pos);
          const hi = Math.ceil(pos);
          return xs[lo]! + (xs[hi]! - xs[lo]!) * (pos - lo);
        },
      };
    }
    default:
      throw new QuiverError('SemanticError', `Unknown aggregating function ${e.name}`);
  }
}

/** Wraps an accumulator for `f(DISTINCT x)`. */
function distinctOnly(acc: Accumulator): Accumulator {
  const seen = new Set<string>();
  return {
    add: (v) => {
      const k = valueKey(v);
      if (seen.has(k)) return;
      seen.add(k);
      acc.add(v);
    },
    result: () => acc.result(),
  };
}

interface Group {
  keys: Value[];
  firstRow: Row;
  accumulators: Accumulator[];
}

export class Aggregate implements Operator {
  constructor(
    /** Projection items without aggregates: the grouping keys. */
    private readonly keys: readonly { name: string; expr: Expr }[],
    /** Projection items containing aggregates, evaluated per group. */
    private readonly aggregatedItems: readonly { name: string; expr: Expr }[],
    /** Every aggregate expression in the items and in ORDER BY. */
    private readonly aggregates: readonly AggregateExpr[],
  ) {}

  describe(): string {
    return `EagerAggregation(${this.keys.map((k) => k.name).join(', ')})`;
  }

  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    const groups = new Map<string, Group>();
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const keys = this.keys.map((k) => evaluate(k.expr, row, ctx));
      const id = keys.map(valueKey).join('\u0001');
      let g = groups.get(id);
      if (!g) {
        g = { keys, firstRow: row, accumulators: this.aggregates.map((a) => this.accumulator(a, ctx, row)) };
        groups.set(id, g);
      }
      this.aggregates.forEach((a, i) => {
        g!.accumulators[i]!.add(a.kind === 'CountStar' ? true : evaluate(a.args[0] ?? { kind: 'Literal', pos: 0, value: null }, row, ctx));
      });
    }
    if (groups.size === 0 && this.keys.length === 0) {
      groups.set('', { keys: [], firstRow: new Map(), accumulators: this.aggregates.map((a) => this.accumulator(a, ctx, new Map())) });
    }
    for (const g of groups.values()) {
      if (ctx.slice.due()) yield slicePause;
      const scope = new Map(g.firstRow);
      const out = new Map<string, Value>();
      this.keys.forEach((k, i) => {
        scope.set(k.name, g.keys[i]!);
        out.set(k.name, g.keys[i]!);
      });
      this.aggregates.forEach((a, i) => {
        const r = g.accumulators[i]!.result();
        scope.set(slotFor(a), r);
        out.set(slotFor(a), r);
      });
      for (const item of this.aggregatedItems) out.set(item.name, evaluate(item.expr, scope, ctx));
      yield out;
    }
  }

  private accumulator(a: AggregateExpr, ctx: ExecContext, row: Row): Accumulator {
    const acc = makeAccumulator(a, ctx, row);
    return a.kind === 'Call' && a.distinct ? distinctOnly(acc) : acc;
  }
}
