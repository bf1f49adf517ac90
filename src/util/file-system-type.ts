/**
 * The type of the file system holding `path`, as `stat -f` names it ("ext2/ext3", "xfs", "tmpfs"),
 * or "unknown". Tests use it: tmpfs accepts O_DIRECT at any alignment and keeps everything in the
 * page cache, so what an O_DIRECT test asserts about alignment and caching cannot hold there.
 */
import { execFileSync } from 'node:child_process';

export function fileSystemType(path: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Bytes of `path` in the page cache (util-linux `fincore`): how tests see that O_DIRECT writes left none. */
export function pageCachedBytes(path: string): number {
  return Number(execFileSync('fincore', ['-b', '-n', '-o', 'RES', path], { encoding: 'utf8' }).trim());
}
