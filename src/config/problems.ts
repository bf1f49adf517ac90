/**
 * Collects configuration problems so that one run reports all of them, then throws them as a single
 * `ConfigInvalid` error (the one problem itself when there is only one).
 */
import { QuiverError } from '../util/errors.js';

export interface Problem {
  /** What failed and why, values quoted. */
  message: string;
  /** What to do about it. */
  hint?: string | undefined;
}

export function throwProblems(problems: readonly Problem[]): void {
  const first = problems[0];
  if (first === undefined) return;
  if (problems.length === 1) throw new QuiverError('ConfigInvalid', first.message, hintOption(first.hint));
  const lines = problems.map((p) => `  - ${p.message}${p.hint !== undefined ? ` (${p.hint})` : ''}`);
  throw new QuiverError('ConfigInvalid', `invalid configuration: ${problems.length} problems:\n${lines.join('\n')}`);
}

export function hintOption(hint: string | undefined): { hint?: string } {
  return hint === undefined ? {} : { hint };
}
