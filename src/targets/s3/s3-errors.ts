/**
 * Turns what the AWS SDK throws into one-line QuiverErrors that name the URI, say what went wrong in
 * operator words and what to check. Pure: it inspects the error value only.
 */
import { QuiverError } from '../../util/errors.js';
import { credentialChainPlaces } from './s3-settings.js';

export interface S3FailureContext {
  /** What we were doing, e.g. `cannot list backups at "s3://b/p/"`. */
  action: string;
  /** The URI of the bucket/prefix or object concerned. */
  uri: string;
  bucket: string;
  endpoint: string | undefined;
  env: NodeJS.ProcessEnv;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

function shape(e: unknown): SdkErrorShape {
  return typeof e === 'object' && e !== null ? (e as SdkErrorShape) : { message: String(e) };
}

/** The S3 error code (`NoSuchBucket`, `SlowDown`, …) or system error code (`ECONNREFUSED`) of a failure. */
export function s3ErrorCode(e: unknown): string | undefined {
  const s = shape(e);
  return s.Code ?? (typeof s.code === 'string' ? s.code : undefined) ?? s.name;
}

export function s3HttpStatus(e: unknown): number | undefined {
  return shape(e).$metadata?.httpStatusCode;
}

const networkCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'TimeoutError', 'RequestTimeout']);

/** A system error code anywhere in the cause chain (the SDK wraps socket errors). */
function networkCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 5; depth++) {
    const s = shape(cur);
    if (typeof s.code === 'string' && networkCodes.has(s.code)) return s.code;
    if (s.name && networkCodes.has(s.name)) return s.name;
    cur = s.cause;
  }
  return undefined;
}

export function describeS3Failure(e: unknown, ctx: S3FailureContext): QuiverError {
  if (e instanceof QuiverError) return e;
  const code = s3ErrorCode(e);
  const status = s3HttpStatus(e);
  const message = shape(e).message ?? String(e);
  const where = ctx.endpoint ? `endpoint "${ctx.endpoint}"` : 'AWS S3';
  const make = (errorCode: 'TargetInvalid' | 'IoError', detail: string, hint: string) =>
    new QuiverError(errorCode, `${ctx.action}: ${detail}`, { hint, cause: e });

  if (code === 'CredentialsProviderError' || /Could not load credentials from any providers/.test(message)) {
    return make('TargetInvalid', `no AWS credentials found; the default chain looked in ${credentialChainPlaces(ctx.env).join(', ')}`, 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in the shared files, or run with an instance or container role (docs/s3.md)');
  }
  if (/Region is missing/.test(message)) {
    return make('TargetInvalid', 'no AWS region is configured', 'set AWS_REGION (or AWS_DEFAULT_REGION, or region in the profile of ~/.aws/config); S3-compatible stores accept any region, e.g. us-east-1');
  }
  if (code === 'NoSuchBucket') {
    return make('TargetInvalid', `bucket "${ctx.bucket}" does not exist at ${where}`, `create the bucket first, or check the bucket name and AWS_ENDPOINT_URL_S3 / region`);
  }
  if (code === 'InvalidAccessKeyId') {
    return make('TargetInvalid', `${where} does not know the access key id (InvalidAccessKeyId)`, 'check AWS_ACCESS_KEY_ID / the profile in use, and that the endpoint is the store the key belongs to');
  }
  if (code === 'SignatureDoesNotMatch') {
    return make('TargetInvalid', `${where} rejected the request signature (SignatureDoesNotMatch): the secret key is wrong`, 'check AWS_SECRET_ACCESS_KEY / the profile in use');
  }
  if (code === 'RequestTimeTooSkewed' || code === 'RequestExpired') {
    return make('IoError', `${where} refused the request because this machine's clock differs too much from the store's (${code})`, 'synchronise the clock (NTP, e.g. "timedatectl set-ntp true") and retry');
  }
  if (code === 'AccessDenied' || code === 'Forbidden' || status === 403) {
    return make('TargetInvalid', `access denied to "${ctx.uri}" (${code ?? 'HTTP 403'})`, 'the credentials need s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject, s3:AbortMultipartUpload and s3:ListBucketMultipartUploads on the bucket and prefix (docs/s3.md)');
  }
  if (code === 'PreconditionFailed' || status === 412) {
    return make('IoError', `the object changed while it was being read (its ETag no longer matches)`, 'something rewrote or replaced the artifact during the read; artifacts are write-once, so check what else writes under this prefix, then retry');
  }
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) {
    return make('IoError', `"${ctx.uri}" does not exist`, 'list the prefix with --inspect-path to see which artifacts it holds');
  }
  if (code === 'InvalidObjectState') {
    return make('IoError', `"${ctx.uri}" is archived (storage class GLACIER or DEEP_ARCHIVE) and cannot be read until it is restored`, 'request a restore of the object in the store first');
  }
  const net = networkCode(e);
  if (net !== undefined) {
    return make('IoError', `${where} is unreachable (${net}${net === message ? '' : `: ${message}`})`, `check that the endpoint is right and reachable from this machine (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), then retry`);
  }
  if (code === 'SlowDown' || code === 'ServiceUnavailable' || (status !== undefined && status >= 500)) {
    return make('IoError', `${where} kept failing after every retry (${code ?? `HTTP ${status}`}: ${message})`, 'the store is throttling or unwell; retry later, or raise backup.s3.max_attempts');
  }
  return make('IoError', `${code && code !== 'Error' ? `${code}: ` : ''}${message}`, 'run with --verbose for the cause chain');
}
