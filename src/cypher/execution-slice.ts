/**
 * Cooperative time slicing of the lazy executor. Operators are synchronous generators; a loop that
 * produces rows asks `ctx.slice.due()` and, when the slice is used up, yields `slicePause` instead
 * of a row. Every operator passes a pause straight up, so the whole pipeline stays suspended while
 * the caller (the query service) lets the event loop run and then resumes it with a fresh slice.
 * A pause is never a row: `Flow` makes the compiler insist that every consumer tells them apart.
 */
import { executionSliceMs, sliceCheckEveryRows } from './limits.js';
import type { Row } from './context.js';

/** The marker a pipeline yields when its slice is used up. */
export const slicePause: unique symbol = Symbol('slice pause');
export type SlicePause = typeof slicePause;

/** What flows between operators: rows, and pauses to pass on. */
export type Flow = Row | SlicePause;

export class ExecutionSlice {
  private deadlineMs = Infinity;
  private countdown: number;

  constructor(
    /** Infinity: never due (administration commands, callers that cannot wait). */
    private readonly sliceMs: number = executionSliceMs,
    private readonly clockMs: () => number = () => performance.now(),
    /** Calls of due() per clock read; tests pass 1 with sliceMs 0 to pause at every chance. */
    private readonly checkEveryRows: number = sliceCheckEveryRows,
  ) {
    this.countdown = checkEveryRows;
    this.start();
  }

  /** A slice that is never due: the statement runs to completion in one go. */
  static unbounded(): ExecutionSlice {
    return new ExecutionSlice(Infinity);
  }

  /** Starts a new slice now (before the first row, and after every pause). */
  start(): void {
    this.deadlineMs = this.sliceMs === Infinity ? Infinity : this.clockMs() + this.sliceMs;
    this.countdown = this.checkEveryRows;
  }

  /**
   * Whether the slice is used up; cheap enough to ask per row. A loop that cannot yield (an
   * expression, a MERGE lookup) may ignore the answer: the next loop that can yield will pause.
   */
  due(): boolean {
    if (--this.countdown > 0) return false;
    this.countdown = this.checkEveryRows;
    return this.clockMs() >= this.deadlineMs;
  }
}

/** Rows of a fully consumed iterator, skipping pauses (callers without an event loop to return to). */
export function* withoutPauses<T>(flow: Iterable<T | SlicePause>): Generator<T> {
  for (const x of flow) if (x !== slicePause) yield x as T;
}
