/**
 * Who is writing a temporary file or upload: a tag of the host name and the process id. A later run
 * uses it to tell what a writer that died (SIGKILL, power loss) left from what a live one is writing.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { errnoCode } from '../util/errors.js';
import type { TemporaryWriter } from './target-name.js';

/** This process as the writer of temporary files. */
export function thisWriter(): TemporaryWriter {
  return { hostTag: createHash('sha256').update(hostname()).digest('hex').slice(0, 8), pid: process.pid };
}

/** Whether a process with this id runs on this host (one that exists but is not ours counts as running). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) !== 'ESRCH';
  }
}
