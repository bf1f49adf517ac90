/**
 * The server's process id file (run/quiver.pid): which process, if any, runs from this home.
 *
 * A pid in the file is trusted only when that process is a live Quiver server of this home. After a
 * SIGKILL the file stays behind and its pid may name a zombie (dead, not yet reaped by its parent),
 * a process of another program that reused the number, or a Quiver of another home; all of those
 * make the file stale, so `start` replaces it and `stop` never signals a stranger. The decision is
 * the pure `judgePidProcess`; `pidFileState` reads the facts from /proc (Linux). Where /proc is
 * missing only liveness can be checked, as before.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { errnoCode } from '../util/errors.js';

/** What /proc says about a process; undefined fields could not be read. */
export interface ProcessFacts {
  /** False when the process does not exist (kill(pid, 0) gave ESRCH). */
  exists: boolean;
  /** The state letter of /proc/<pid>/stat: R, S, D, Z (zombie), X (dead), ... */
  state?: string;
  /** argv from /proc/<pid>/cmdline. */
  argv?: string[];
  /** The process's working directory (to resolve relative paths in argv and QUIVER_HOME). */
  cwd?: string;
  /** QUIVER_HOME from /proc/<pid>/environ: a string, null when unset, undefined when unreadable. */
  quiverHome?: string | null;
}

export type PidProcessVerdict = { running: true } | { running: false; reason: string };

/** The path suffix of the compiled entry point that `bin/quiver console` runs. */
const serverEntrySuffix = '/cli/quiver.js';

/**
 * Whether the process named by the pid file is a running Quiver server of `home`. Unknown facts
 * (another user's process whose environment cannot be read) count in favour of running: refusing a
 * second start is safe, two servers on one store are not.
 */
export function judgePidProcess(pid: number, facts: ProcessFacts, home: string): PidProcessVerdict {
  if (!facts.exists) return { running: false, reason: `pid ${pid} is not running` };
  if (facts.state === 'Z' || facts.state === 'X') return { running: false, reason: `pid ${pid} is a zombie (state ${facts.state}): the process is dead` };
  if (facts.argv === undefined) return { running: true };
  const cwd = facts.cwd ?? '/';
  const entryIndex = facts.argv.findIndex((a) => resolve(cwd, a).endsWith(serverEntrySuffix));
  if (entryIndex < 0 || facts.argv[entryIndex + 1] !== 'console') {
    return { running: false, reason: `pid ${pid} is not a Quiver server (command line: ${JSON.stringify(facts.argv.join(' ').slice(0, 200))})` };
  }
  if (facts.quiverHome === undefined) return { running: true };
  // Without QUIVER_HOME a server's home is the installation root above dist/src/cli/quiver.js.
  const processHome = facts.quiverHome !== null ? resolve(cwd, facts.quiverHome) : installRootOf(resolve(cwd, facts.argv[entryIndex]!));
  if (processHome !== resolve(home)) return { running: false, reason: `pid ${pid} is a Quiver server of another home ("${processHome}")` };
  return { running: true };
}

function installRootOf(entry: string): string {
  let dir = dirname(entry);
  for (let i = 0; i < 4 && basename(dir) !== 'dist'; i++) dir = dirname(dir);
  return dirname(dir);
}

/** Reads what /proc knows about `pid`; only `exists` where /proc is missing or unreadable. */
export function processFacts(pid: number): ProcessFacts {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    if (errnoCode(e) !== 'EPERM') return { exists: false };
  }
  const facts: ProcessFacts = { exists: true };
  const proc = `/proc/${pid}`;
  const stat = readOrUndefined(`${proc}/stat`);
  if (stat === undefined) return facts;
  // "pid (comm) S ...": comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = /^\s*(\S)/.exec(stat.slice(stat.lastIndexOf(')') + 1))?.[1];
  if (state !== undefined) facts.state = state;
  const cmdline = readOrUndefined(`${proc}/cmdline`);
  if (cmdline !== undefined) facts.argv = cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  try {
    facts.cwd = readlinkSync(`${proc}/cwd`);
  } catch {
    // another user's process: relative paths resolve against '/', which errs towards "running"
  }
  const environ = readOrUndefined(`${proc}/environ`);
  if (environ !== undefined) {
    const entry = environ.split('\0').find((v) => v.startsWith('QUIVER_HOME='));
    facts.quiverHome = entry === undefined ? null : entry.slice('QUIVER_HOME='.length);
  }
  return facts;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export type PidFileState =
  | { kind: 'absent' }
  | { kind: 'running'; pid: number }
  | { kind: 'stale'; pid: number | null; reason: string };

/** What the pid file of `home` says, checked against the process it names. */
export function pidFileState(pidFile: string, home: string): PidFileState {
  if (!existsSync(pidFile)) return { kind: 'absent' };
  const text = readOrUndefined(pidFile)?.trim() ?? '';
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return { kind: 'stale', pid: null, reason: `it holds ${JSON.stringify(text.slice(0, 40))}, not a process id` };
  const verdict = judgePidProcess(pid, processFacts(pid), home);
  return verdict.running ? { kind: 'running', pid } : { kind: 'stale', pid, reason: verdict.reason };
}

/** The pid in the file when it is a running Quiver server of `home`; null otherwise. */
export function runningPid(pidFile: string, home: string): number | null {
  const state = pidFileState(pidFile, home);
  return state.kind === 'running' ? state.pid : null;
}
