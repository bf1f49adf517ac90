/**
 * Crash points from the environment: QUIVER_CRASH_POINT=backup.beforeRename makes a process die by
 * SIGKILL when its writer reaches that point, leaving the disk exactly as a power cut would.
 * Process-level tests use it; in-process tests pass a CrashHook instead.
 */
import type { CrashHook, CrashPoint } from './target.js';

export const crashPointEnvVar = 'QUIVER_CRASH_POINT';

/** Runs the given hook, then dies if the environment names this point. */
export function withEnvCrashPoint(hook: CrashHook | undefined): CrashHook {
  return async (point: CrashPoint) => {
    if (hook) await hook(point);
    if (process.env[crashPointEnvVar] === point) {
      // A crash, not an exit: no cleanup, no exit handlers, nothing flushed that was not fsynced.
      process.kill(process.pid, 'SIGKILL');
    }
  };
}
