/**
 * Command expansion: a setting whose value is `$(program args…)` takes the trimmed standard output of that
 * program, as in Neo4j. Commands run only when expansion was asked for (`--expand-commands`), only from
 * config files that no one but the owner can write and others cannot read (mode at most 0640), without
 * a shell, and within a timeout. Every refusal and failure is a `ConfigInvalid` naming the setting.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { QuiverError } from '../util/errors.js';
import { commandOutputBytesMax, commandStderrCharsMax } from './limits.js';

export interface ExpandOptions {
  /** `--expand-commands` was given. */
  expandCommands: boolean;
  timeoutMs: number;
  /** Environment of the command. */
  env: NodeJS.ProcessEnv;
}

/** Owner read/write and group read: the widest mode a file may have for its commands to run (Neo4j's rule). */
export const commandFileModeMax = 0o640;

/** The text inside `$(…)` when the trimmed value has that form (Neo4j: longer than 3, `$(` … `)`), else `undefined`. */
export function commandOf(raw: string): string | undefined {
  const text = raw.trim();
  return text.length > 3 && text.startsWith('$(') && text.endsWith(')') ? text.slice(2, -1) : undefined;
}

/**
 * Splits a command line into argv the way a simple shell would, without expanding anything: whitespace
 * separates words; '…' is literal; "…" is literal except `\"` and `\\`; a backslash elsewhere quotes the
 * next character. Pipes, `$VAR` and globs are plain text: write `sh -c '…'` to get a shell.
 */
export function splitCommandLine(text: string): { ok: true; argv: string[] } | { ok: false; reason: string } {
  const argv: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 === text.length) return { ok: false, reason: 'it ends with a lone backslash' };
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return { ok: false, reason: `a ${quote} quote is not closed` };
  if (inWord) argv.push(word);
  if (argv.length === 0) return { ok: false, reason: 'it names no program' };
  return { ok: true, argv };
}

/**
 * The value of setting `key` as configured in `sourcePath`: `raw` itself, or, for `$(…)`, the command's
 * trimmed output. Throws when expansion is off, the file's mode is too wide, or the command fails.
 */
export function expandValue(key: string, raw: string, sourcePath: string, options: ExpandOptions): string {
  const command = commandOf(raw);
  if (command === undefined) return raw;
  if (!options.expandCommands) {
    throw new QuiverError(
      'ConfigInvalid',
      `setting "${key}" in "${sourcePath}" is a command, but command expansion is off`,
      { hint: 'pass --expand-commands to run it' },
    );
  }
  checkCommandFileMode(key, sourcePath);
  const split = splitCommandLine(command);
  if (!split.ok) {
    throw new QuiverError('ConfigInvalid', `cannot run the command of setting "${key}" in "${sourcePath}": ${split.reason}`);
  }
  return runCommand(key, split.argv, options);
}

/** Refuses a file that others could read or anyone but the owner could change (mode wider than 0640). */
export function checkCommandFileMode(key: string, path: string): void {
  if (process.platform === 'win32') {
    // Neo4j checks ACLs on Windows; we have not built that, so we refuse rather than run unchecked.
    throw new QuiverError('ConfigInvalid', `cannot run the command of setting "${key}": command expansion is supported on POSIX systems only`);
  }
  const mode = statSync(path).mode & 0o7777;
  if ((mode & ~commandFileModeMax) !== 0) {
    throw new QuiverError(
      'ConfigInvalid',
      `cannot run the command of setting "${key}": config file "${path}" has mode ${octal(mode)}, ` +
        `wider than the ${octal(commandFileModeMax)} allowed for files with commands`,
      { hint: `run: chmod 640 "${path}"` },
    );
  }
}

/** Runs argv without a shell and returns its trimmed stdout. */
function runCommand(key: string, argv: string[], options: ExpandOptions): string {
  const [program, ...args] = argv as [string, ...string[]];
  const failure = `cannot run the command of setting "${key}": "${program}"`;
  try {
    const stdout = execFileSync(program, args, {
      encoding: 'utf8',
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL', // a program that ignores SIGTERM must not hang startup
      maxBuffer: commandOutputBytesMax,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env,
      windowsHide: true,
    });
    return stdout.trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number | null; signal?: string | null; stderr?: string | null };
    const stderr = typeof err.stderr === 'string' ? err.stderr.trim().slice(0, commandStderrCharsMax) : '';
    const detail = stderr === '' ? '' : `: ${stderr}`;
    let message: string;
    let hint: string | undefined;
    if (err.code === 'ETIMEDOUT') {
      message = `${failure} did not finish within ${formatMs(options.timeoutMs)}`;
    } else if (err.code === 'ENOENT') {
      message = `${failure} was not found`;
      hint = 'give the full path of the program; commands run without a shell';
    } else if (err.code === 'EACCES') {
      message = `${failure} is not executable`;
    } else if (err.code === 'ENOBUFS') {
      message = `${failure} printed more than ${commandOutputBytesMax} bytes`;
    } else if (typeof err.status === 'number') {
      message = `${failure} exited with status ${err.status}${detail}`;
    } else if (typeof err.signal === 'string') {
      message = `${failure} was killed by signal ${err.signal}${detail}`;
    } else {
      message = `${failure} failed: ${err.message}`;
    }
    throw new QuiverError('ConfigInvalid', message, hint === undefined ? { cause: e } : { hint, cause: e });
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
