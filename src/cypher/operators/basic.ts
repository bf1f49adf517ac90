/**
 * The operator contract (rows in, rows out, lazily) and the simple row operators: filter, unwind,
 * projection, distinct, sort, skip, limit, select. Each `run` is a generator, so a pipeline only
 * computes what its consumer pulls. Pauses (execution-slice.ts) pass through every operator unchanged;
 * loops that produce rows on their own (UNWIND, sort output, eager buffers) are where pauses start.
 */
import type { GraphRead } from '../../kernel/api.js';
import type { Expr, SortItem } from '../ast.js';
import { QuiverError } from '../../util/errors.js';
import type { Value } from '../../values/value.js';
import { orderCompare, valueKey } from '../compare.js';
import type { ExecContext, Row } from '../context.js';
import { slicePause, type Flow, type SlicePause } from '../execution-slice.js';
import { evaluate } from '../evaluate.js';
import { rangeBounds, rangeValues } from '../functions.js';
import { rowCountProblem } from '../value-util.js';

export interface Operator {
  /** One line for the plan description (explain). */
  describe(graph: GraphRead): string;
  /** Rows in, rows out; every `slicePause` of the input is passed on as it comes. */
  run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow>;
}

export class Filter implements Operator {
  constructor(private readonly predicate: Expr) {}
  describe(): string {
    return 'Filter';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) if (row === slicePause || evaluate(this.predicate, row, ctx) === true) yield row;
  }
}

export class Unwind implements Operator {
  constructor(private readonly expr: Expr, private readonly variable: string) {}
  describe(): string {
    return `Unwind(${this.variable})`;
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    const e = this.expr;
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      // UNWIND range(...) streams instead of building the list, so huge ranges stay cheap.
      if (e.kind === 'Call' && e.name.toLowerCase() === 'range' && (e.args.length === 2 || e.args.length === 3)) {
        const args = e.args.map((a) => evaluate(a, row, ctx));
        if (args.some((a) => a === null)) continue;
        const { start, end, step } = rangeBounds(args);
        for (const i of rangeValues(start, end, step)) {
          if (ctx.slice.due()) yield slicePause;
          yield new Map(row).set(this.variable, i);
        }
        continue;
      }
      const v = evaluate(e, row, ctx);
      if (v === null) continue;
      if (Array.isArray(v)) {
        for (const item of v) {
          if (ctx.slice.due()) yield slicePause;
          yield new Map(row).set(this.variable, item);
        }
      } else {
        yield new Map(row).set(this.variable, v);
      }
    }
  }
}

/** Adds projected columns to each row (the input variables stay visible for ORDER BY). */
export class Project implements Operator {
  constructor(private readonly items: readonly { name: string; expr: Expr }[]) {}
  describe(): string {
    return `Projection(${this.items.map((i) => i.name).join(', ')})`;
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const values = this.items.map((i) => evaluate(i.expr, row, ctx));
      const out = new Map(row);
      this.items.forEach((i, k) => out.set(i.name, values[k]!));
      yield out;
    }
  }
}

/** Keeps only the named columns, in order. */
export class Select implements Operator {
  constructor(private readonly names: readonly string[]) {}
  describe(): string {
    return `Select(${this.names.join(', ')})`;
  }
  *run(input: Iterable<Flow>): Iterable<Flow> {
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const out = new Map<string, Value>();
      for (const n of this.names) out.set(n, row.get(n) ?? null);
      yield out;
    }
  }
}

export class Distinct implements Operator {
  constructor(private readonly names: readonly string[]) {}
  describe(): string {
    return 'Distinct';
  }
  *run(input: Iterable<Flow>): Iterable<Flow> {
    const seen = new Set<string>();
    for (const row of input) {
      if (row === slicePause) {
        yield row;
        continue;
      }
      const key = this.names.map((n) => valueKey(row.get(n) ?? null)).join('\u0001');
      if (seen.has(key)) continue;
      seen.add(key);
      yield row;
    }
  }
}

export class Sort implements Operator {
  constructor(private readonly items: readonly SortItem[]) {}
  describe(): string {
    return 'Sort';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    const keyed: SortEntry[] = [];
    for (const row of input) {
      if (row === slicePause) yield row;
      else keyed.push({ row, keys: this.items.map((s) => evaluate(s.expr, row, ctx)) });
    }
    const compare = (a: SortEntry, b: SortEntry): number => {
      for (let i = 0; i < this.items.length; i++) {
        const c = orderCompare(a.keys[i]!, b.keys[i]!);
        if (c !== 0) return this.items[i]!.descending ? -c : c;
      }
      return 0;
    };
    let sorted: SortEntry[] = [];
    for (const step of sortInSlices(keyed, compare, ctx)) {
      if (step === slicePause) yield step;
      else sorted = step;
    }
    for (const k of sorted) {
      if (ctx.slice.due()) yield slicePause;
      yield k.row;
    }
  }
}

interface SortEntry {
  row: Row;
  keys: Value[];
}

/**
 * Rows per run sorted in one Array.prototype.sort call: a few ms at most, so the statement can pause
 * between runs (a million rows in one call took about 1 s of the event loop).
 */
const sortRunRows = 4096;

/**
 * A stable merge sort that pauses when the slice is used up: runs of `sortRunRows` sorted by the
 * engine's (stable) sort, then merged pairwise, the left run winning ties. Yields pauses, and the
 * sorted array last.
 */
function* sortInSlices<T>(items: T[], compare: (a: T, b: T) => number, ctx: ExecContext): Generator<T[] | SlicePause> {
  if (items.length <= sortRunRows) {
    yield items.sort(compare);
    return;
  }
  let runs: T[][] = [];
  for (let i = 0; i < items.length; i += sortRunRows) {
    runs.push(items.slice(i, i + sortRunRows).sort(compare));
    if (ctx.slice.due()) yield slicePause;
  }
  while (runs.length > 1) {
    const next: T[][] = [];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1]!;
      const out: T[] = new Array(a.length + b.length);
      let i = 0;
      let j = 0;
      let o = 0;
      while (i < a.length && j < b.length) {
        out[o++] = compare(b[j]!, a[i]!) < 0 ? b[j++]! : a[i++]!;
        if ((o & 127) === 0 && ctx.slice.due()) yield slicePause;
      }
      while (i < a.length) out[o++] = a[i++]!;
      while (j < b.length) out[o++] = b[j++]!;
      next.push(out);
    }
    if (runs.length % 2 === 1) next.push(runs[runs.length - 1]!);
    runs = next;
  }
  yield runs[0]!;
}

/**
 * The row count of a SKIP or LIMIT. A literal that is not a non-negative integer is refused by
 * semantic analysis; a parameter is checked here, before the first row, with the same status
 * (Neo4j's SyntaxError) and message.
 */
function count(expr: Expr, ctx: ExecContext, what: 'SKIP' | 'LIMIT'): number {
  const v = evaluate(expr, new Map(), ctx);
  const problem = rowCountProblem(v, what);
  if (problem) throw new QuiverError('SyntaxError', problem);
  return Number(v);
}

export class Skip implements Operator {
  constructor(private readonly expr: Expr) {}
  describe(): string {
    return 'Skip';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    let toSkip = count(this.expr, ctx, 'SKIP');
    for (const row of input) {
      if (row !== slicePause && toSkip > 0) {
        toSkip--;
        continue;
      }
      yield row;
    }
  }
}

export class Limit implements Operator {
  constructor(private readonly expr: Expr) {}
  describe(): string {
    return 'Limit';
  }
  *run(input: Iterable<Flow>, ctx: ExecContext): Iterable<Flow> {
    const limit = count(this.expr, ctx, 'LIMIT');
    if (limit === 0) return;
    let n = 0;
    for (const row of input) {
      yield row;
      if (row !== slicePause && ++n >= limit) return;
    }
  }
}

/** Runs a list of operators over an input, optionally materialising between them (write queries). */
export function runPipeline(ops: readonly Operator[], input: Iterable<Flow>, ctx: ExecContext, eager: boolean): Iterable<Flow> {
  if (!eager) return ops.reduce((rows, op) => op.run(rows, ctx), input);
  // Each operator starts only once its input is complete, so an operator that pulls nothing
  // (`LIMIT 0`) still lets the writes before it happen, as Neo4j's do.
  const rows = ops.reduce((rows, op) => afterInput(op, rows, ctx), input);
  return materialize(rows, ctx);
}

function* afterInput(op: Operator, input: Iterable<Flow>, ctx: ExecContext): Generator<Flow> {
  const rows: Row[] = [];
  for (const row of input) {
    if (row === slicePause) yield row;
    else rows.push(row);
  }
  yield* op.run(replay(rows, ctx), ctx);
}

/**
 * The buffered rows, each let go as it is passed on: an eager pipeline holds one buffer per clause,
 * and a clause's input need not outlive its use (a million-row import kept every clause's rows).
 */
function* replay(rows: Row[], ctx: ExecContext): Generator<Flow> {
  for (let i = 0; i < rows.length; i++) {
    if (ctx.slice.due()) yield slicePause;
    const row = rows[i]!;
    rows[i] = released;
    yield row;
  }
}

/** What a passed-on slot of a replayed buffer holds. */
const released: Row = new Map();

/**
 * All of `input` before the first row goes on (a write clause completes before the next one
 * starts), with its pauses passed on while it fills and new ones while it empties.
 */
function* materialize(input: Iterable<Flow>, ctx: ExecContext): Generator<Flow> {
  const rows: Row[] = [];
  for (const row of input) {
    if (row === slicePause) yield row;
    else rows.push(row);
  }
  yield* replay(rows, ctx);
}
