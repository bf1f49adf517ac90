/**
 * `s3://bucket/prefix` as typed by an operator, parsed into a bucket and a key prefix. Pure: no SDK,
 * no network. The prefix is a "folder" of artifacts: it ends with "/" (or is empty, the bucket's root).
 */
import { QuiverError } from '../../util/errors.js';

export interface S3Location {
  bucket: string;
  /** Key prefix of the target's objects: "" or ending with "/". */
  prefix: string;
  /** The object named by the URI when its last segment ends with ".backup" (one artifact), else undefined. */
  artifactName: string | undefined;
}

/** Bucket names S3 accepts (3–63 lowercase letters, digits, dots, hyphens); other stores accept a subset. */
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function isS3Uri(text: string): boolean {
  return /^s3:\/\//i.test(text);
}

/** Parses `s3://bucket`, `s3://bucket/prefix`, `s3://bucket/prefix/` or `s3://bucket/prefix/name.backup`. */
export function parseS3Uri(uri: string): S3Location {
  if (!isS3Uri(uri)) throw new Error(`assertion failed: parseS3Uri("${uri}") needs an s3:// URI`);
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let path = slash < 0 ? '' : rest.slice(slash + 1);
  if (!bucketPattern.test(bucket)) {
    throw new QuiverError('TargetInvalid', `cannot use "${uri}": "${bucket}" is not a valid bucket name`, {
      hint: 'write s3://<bucket>/<prefix>, with a bucket name of 3-63 lowercase letters, digits, "." or "-"',
    });
  }
  if (path.split('/').some((segment, i, all) => segment === '' && i < all.length - 1) || /(^|\/)\.\.?(\/|$)/.test(path)) {
    throw new QuiverError('TargetInvalid', `cannot use "${uri}": the prefix has an empty, "." or ".." segment`, {
      hint: 'write the prefix as folder names joined by single "/", for example s3://backups/prod/',
    });
  }
  let artifactName: string | undefined;
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (last.endsWith('.backup')) {
    artifactName = last;
    path = path.slice(0, path.length - last.length);
  }
  const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
  return { bucket, prefix, artifactName };
}

/** `s3://bucket/prefix/` for the target, or the URI of one object in it. */
export function formatS3Uri(location: { bucket: string; prefix: string }, name?: string): string {
  return `s3://${location.bucket}/${location.prefix}${name ?? ''}`;
}
