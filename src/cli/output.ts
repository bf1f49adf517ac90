/**
 * How admin commands talk to the user: timestamped log lines (the format Neo4j users' tooling
 * parses), one-line errors with a hint, and the cause chain under --verbose.
 */
import { timestamp } from '../server/logger.js';
import { causeChain, toQuiverError } from '../util/errors.js';

export type Level = 'info' | 'warn' | 'error';

/** Log lines go to stdout, or to stderr when stdout carries machine-readable output (--format=json). */
export function adminLogger(toStderr: boolean): (level: Level, message: string) => void {
  const out = toStderr ? process.stderr : process.stdout;
  return (level, message) => {
    out.write(`${timestamp()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  };
}

/** Prints an error as one line plus a hint line; returns the exit code it maps to. */
export function reportError(e: unknown, verbose: boolean): number {
  const err = toQuiverError(e);
  process.stderr.write(`error: ${err.message}\n`);
  if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
  if (verbose) for (const line of causeChain(e).slice(1)) process.stderr.write(`  caused by: ${line}\n`);
  else if (err.code === 'Internal') process.stderr.write(`(run with --verbose for details)\n`);
  return err.exitCode;
}
