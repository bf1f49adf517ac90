/**
 * Which names a target accepts for its files: plain, visible file names that are valid on every
 * file system and as S3 key suffixes. Names starting with "." are reserved for temporary files.
 */
import { QuiverError } from '../util/errors.js';
import { targetNameBytesMax } from '../backup/limits.js';

/** Why `name` cannot name a file in a target, or null when it can. */
export function targetNameProblem(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (Buffer.byteLength(name, 'utf8') > targetNameBytesMax) return `it is longer than ${targetNameBytesMax} bytes`;
  if (name.startsWith('.')) return 'it starts with "." (reserved for temporary files)';
  if (/[/\\\0]/.test(name)) return 'it contains "/", "\\" or a NUL character';
  return null;
}

export function assertTargetName(name: string): void {
  const problem = targetNameProblem(name);
  if (problem !== null) {
    throw new QuiverError('TargetInvalid', `invalid artifact file name "${name}": ${problem}`);
  }
}

/**
 * Temporary name of a file being written: hidden, and never ending in ".backup". It names its
 * writer (a tag of the host name and the process id), so that a later run can tell a file left by
 * a writer that died (SIGKILL, power loss) from one another backup is still writing.
 */
export function temporaryName(name: string, writer: TemporaryWriter, randomHex: string): string {
  return `.${name}.partial-${writer.hostTag}-${writer.pid}-${randomHex}`;
}

export interface TemporaryWriter {
  /** First 8 hex digits of the SHA-256 of the host name. */
  hostTag: string;
  pid: number;
}

const temporaryPattern = /^\.(.+)\.partial-([0-9a-f]{8})-(\d{1,10})-[0-9a-f]{16}$/;

/** The writer a temporary name records, or null when `fileName` is not a temporary name. */
export function temporaryWriterOf(fileName: string): TemporaryWriter | null {
  const m = temporaryPattern.exec(fileName);
  return m ? { hostTag: m[2]!, pid: Number(m[3]) } : null;
}
