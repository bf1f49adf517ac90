/**
 * Notices when the server's main thread did not run for a while, as Neo4j's VM pause monitor does.
 * Bolt, Cypher, commits and the store apply all share that thread, so every client waited for as
 * long as it was blocked: operators see it in the log, with the longest garbage collection of the
 * period, instead of only as a latency spike in their application.
 *
 * How: a timer due every `intervalMs` measures how late it fires. Lateness has three usual causes:
 * a long synchronous operation (a store apply waiting on a slow disk sync), a garbage collection,
 * or the machine not running the process (an overloaded or paused VM). The message names the GC
 * time when there was one.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { SlowWarning } from '../util/slow-warning.js';

export interface PauseMonitorOptions {
  intervalMs?: number;
  /** A pause at least this long is logged. */
  thresholdMs?: number;
  /** At most one warning per this many milliseconds (util/slow-warning.ts). */
  minIntervalMs?: number;
}

export interface PauseMonitor {
  stop(): void;
}

export function startPauseMonitor(warn: (message: string) => void, options: PauseMonitorOptions = {}): PauseMonitor {
  const intervalMs = options.intervalMs ?? 100;
  const slow = new SlowWarning(warn, options.thresholdMs ?? 500, options.minIntervalMs ?? 60_000);
  let longestGcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longestGcMs = Math.max(longestGcMs, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const pauseMs = now - last - intervalMs;
    last = now;
    const gcMs = longestGcMs;
    longestGcMs = 0;
    slow.report(pauseMs, (ms) => {
      const gcNote = gcMs >= 1 ? `; the longest garbage collection meanwhile took ${Math.round(gcMs)} ms` : '; no long garbage collection meanwhile';
      return `the server's main thread did not run for ${ms} ms: queries and commits waited${gcNote} (a long synchronous operation such as a store apply on a slow disk, or an overloaded machine)`;
    });
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      gc.disconnect();
    },
  };
}
