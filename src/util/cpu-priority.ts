/**
 * Lowers how strongly backup work competes with queries for the CPU (server.backup.cpu_priority).
 *
 * `idle` puts the thread (or the whole process) into Linux's SCHED_IDLE class with util-linux
 * `chrt`: it then runs only on CPU time nothing else wants, and a query thread that wakes up takes
 * the CPU from it at once. Measured on the reference machine (docs/performance.md): two busy loops
 * at SCHED_IDLE left foreground writes at 100% of their throughput; one busy loop at normal priority
 * cut them to 67%. Where `chrt` is missing or refused, nice 19 is the fallback; `low` is nice 10.
 * Best effort throughout: a backup at normal priority is slower for queries, not wrong.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export type CpuPriority = 'idle' | 'low' | 'normal';

/** Applies `mode` to the calling thread (a worker thread of the backup service). */
export function lowerThreadPriority(mode: CpuPriority): void {
  if (mode === 'normal') return;
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return;
  }
  if (Number.isInteger(tid) && tid > 0) apply(mode, tid, false);
}

/** Applies `mode` to every thread of this process, and so to threads it starts later (the backup client). */
export function lowerProcessPriority(mode: CpuPriority): void {
  if (mode !== 'normal') apply(mode, process.pid, true);
}

function apply(mode: 'idle' | 'low', id: number, allThreads: boolean): void {
  if (mode === 'idle') {
    try {
      execFileSync('chrt', ['--idle', ...(allThreads ? ['--all-tasks'] : []), '--pid', '0', String(id)], { stdio: 'ignore', timeout: 5000 });
      return;
    } catch {
      // No chrt, or not permitted: fall back to the nice value.
    }
  }
  try {
    // On Linux, a thread id is accepted where a process id is; for a process this sets its main
    // thread, whose later threads inherit it.
    setPriority(id, mode === 'idle' ? 19 : 10);
  } catch {
    // Not permitted: stay at normal priority.
  }
}
