/**
 * Turns what an operator typed (`--to-path`, `--inspect-path`, `--from-path`) into a BackupTarget,
 * refusing with a TargetInvalid error that names the path and the remedy when it cannot be used.
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuiverError } from '../util/errors.js';
import { FileTarget } from './file-target.js';
import type { OpenedS3Target } from './s3/open-s3-target.js';
import { defaultS3Settings, type S3TargetSettings } from './s3/s3-settings.js';
import { isS3Uri } from './s3/s3-uri.js';
import type { BackupTarget } from './target.js';

/** What resolving a target needs besides the path: the `backup.s3.*` settings for s3:// URIs. */
export interface TargetSettings {
  s3?: S3TargetSettings;
}

export interface ResolveTargetOptions extends TargetSettings {
  /** The folder must already exist (as Neo4j requires of --to-path); it is never created here. */
  mustExist: true;
  /** Also require write permission (default true: a backup destination). */
  writable?: boolean;
}

/**
 * The S3 target, and with it the AWS SDK, is loaded only for an s3:// URI: importing the SDK costs
 * about 120 ms of CPU (and its heap) at every start, which folder commands need not pay.
 */
async function openS3(uri: string, settings: S3TargetSettings): Promise<OpenedS3Target> {
  const { openS3Target } = await import('./s3/open-s3-target.js');
  return openS3Target(uri, settings);
}

/** A folder or an S3 prefix (`s3://bucket/prefix`) to hold artifacts. */
export async function resolveTarget(pathOrUri: string, options: ResolveTargetOptions): Promise<BackupTarget> {
  if (isS3Uri(pathOrUri)) {
    const { target, artifactName } = await openS3(pathOrUri, options.s3 ?? defaultS3Settings());
    if (artifactName !== undefined) {
      throw new QuiverError('TargetInvalid', `cannot use "${pathOrUri}" as a backup target: it names an artifact, not a prefix`, {
        hint: `pass the prefix that holds (or will hold) the .backup objects, e.g. "${target.uri()}"`,
      });
    }
    return target;
  }
  const folder = localPath(pathOrUri);
  const st = await statOrNull(folder);
  if (st === null) {
    throw new QuiverError('TargetInvalid', `cannot use "${folder}" as a backup target: the folder does not exist; create it first`, {
      hint: `mkdir -p "${folder}"`,
    });
  }
  if (!st.isDirectory()) {
    throw new QuiverError('TargetInvalid', `cannot use "${folder}" as a backup target: it is not a folder`, {
      hint: 'pass the folder that holds (or will hold) the .backup files',
    });
  }
  await assertAccess(folder, options.writable === false ? fsConstants.R_OK : fsConstants.R_OK | fsConstants.W_OK);
  return new FileTarget(folder);
}

/** A target and, when the path named one artifact file rather than a folder, that file's name. */
export interface ResolvedArtifactPath {
  target: BackupTarget;
  fileName: string | undefined;
}

/**
 * For inspect and restore: a path that is either a folder of artifacts or one artifact file, or an
 * S3 prefix or one artifact object in it (its last segment ends with ".backup"); read access only.
 */
export async function resolveArtifactPath(pathOrUri: string, settings: TargetSettings = {}): Promise<ResolvedArtifactPath> {
  if (isS3Uri(pathOrUri)) {
    const { target, artifactName } = await openS3(pathOrUri, settings.s3 ?? defaultS3Settings());
    return { target, fileName: artifactName };
  }
  const path = localPath(pathOrUri);
  const st = await statOrNull(path);
  if (st === null) {
    throw new QuiverError('TargetInvalid', `cannot read backups at "${path}": no such file or folder`, {
      hint: 'pass a folder of .backup files or one .backup file',
    });
  }
  if (st.isDirectory()) {
    await assertAccess(path, fsConstants.R_OK);
    return { target: new FileTarget(path), fileName: undefined };
  }
  if (!st.isFile()) {
    throw new QuiverError('TargetInvalid', `cannot read backups at "${path}": it is neither a file nor a folder`);
  }
  await assertAccess(path, fsConstants.R_OK);
  return { target: new FileTarget(dirname(path)), fileName: basename(path) };
}

/** The absolute local path of a plain path or file: URI; other schemes are refused with a clear reason. */
function localPath(pathOrUri: string): string {
  if (pathOrUri.trim() === '') {
    throw new QuiverError('TargetInvalid', 'cannot use an empty path as a backup target', { hint: 'pass a folder, e.g. --to-path=/backups' });
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(pathOrUri)?.[1]?.toLowerCase();
  if (scheme === undefined) return resolvePath(pathOrUri);
  if (scheme === 'file') {
    try {
      return fileURLToPath(pathOrUri);
    } catch (e) {
      throw new QuiverError('TargetInvalid', `cannot use "${pathOrUri}" as a backup target: invalid file URI`, { cause: e });
    }
  }
  throw new QuiverError('TargetInvalid', `cannot use "${pathOrUri}": "${scheme}://" targets are not supported`, {
    hint: 'pass a local folder, a file:// URI or an s3://bucket/prefix URI',
  });
}

async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await stat(path);
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'code' in e && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return null;
    throw new QuiverError('TargetInvalid', `cannot use "${path}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function assertAccess(path: string, mode: number): Promise<void> {
  try {
    await access(path, mode);
  } catch (e) {
    const needs = mode & fsConstants.W_OK ? 'writable' : 'readable';
    throw new QuiverError('TargetInvalid', `cannot use "${path}" as a backup target: it is not ${needs} by this user`, {
      hint: `check the owner and mode of "${path}" (run the tool as the same user as the server)`,
      cause: e,
    });
  }
}
