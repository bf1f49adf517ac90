/**
 * The server's process id file (run/quiver.pid): which process, if any, runs from this home.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The pid in the file when that process is alive; null otherwise (no file, garbage, or a stale pid). */
export function runningPid(pidFile: string): number | null {
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}
