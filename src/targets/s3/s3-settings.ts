/**
 * What an S3 target needs to know besides its URI: the `backup.s3.*` rows of the settings table
 * (src/config/settings.ts) plus the standard AWS environment variables, gathered into one plain value
 * so that the target and its tests never read the environment or a Config themselves.
 */
import type { Config } from '../../config/config.js';
import { settings } from '../../config/settings.js';
import { parseByteSize, parseDuration } from '../../config/units.js';

export type ServerSideEncryption = 'none' | 'SSE-S3' | 'SSE-KMS';

export interface S3TargetSettings {
  partSizeBytes: number;
  uploadConcurrency: number;
  storageClass: string | undefined;
  serverSideEncryption: ServerSideEncryption;
  sseKmsKeyId: string | undefined;
  requestTimeoutMs: number;
  maxAttempts: number;
  forcePathStyle: boolean;
  conditionalWrites: boolean;
}

/** The settings table's defaults, for callers without a Config (tests, library use). */
export function defaultS3Settings(): S3TargetSettings {
  const must = <T>(value: T | undefined, key: string): T => {
    if (value === undefined) throw new Error(`assertion failed: default of "${key}" does not parse`);
    return value;
  };
  return {
    partSizeBytes: must(parseByteSize(settings['backup.s3.part_size'].default), 'backup.s3.part_size'),
    uploadConcurrency: Number(settings['backup.s3.upload_concurrency'].default),
    storageClass: undefined,
    serverSideEncryption: 'none',
    sseKmsKeyId: undefined,
    requestTimeoutMs: must(parseDuration(settings['backup.s3.request_timeout'].default), 'backup.s3.request_timeout'),
    maxAttempts: Number(settings['backup.s3.max_attempts'].default),
    forcePathStyle: settings['backup.s3.force_path_style'].default === 'true',
    conditionalWrites: settings['backup.s3.conditional_writes'].default === 'true',
  };
}

export function s3SettingsFromConfig(config: Config): S3TargetSettings {
  return {
    partSizeBytes: config.get('backup.s3.part_size'),
    uploadConcurrency: config.get('backup.s3.upload_concurrency'),
    storageClass: config.get('backup.s3.storage_class'),
    serverSideEncryption: config.get('backup.s3.server_side_encryption'),
    sseKmsKeyId: config.get('backup.s3.sse_kms_key_id'),
    requestTimeoutMs: config.get('backup.s3.request_timeout'),
    maxAttempts: config.get('backup.s3.max_attempts'),
    forcePathStyle: config.get('backup.s3.force_path_style'),
    conditionalWrites: config.get('backup.s3.conditional_writes'),
  };
}

/** Where the SDK's default credential chain looks, in its order, for the "no credentials" error. */
export function credentialChainPlaces(env: NodeJS.ProcessEnv): string[] {
  const home = env['HOME'] ?? '~';
  const profile = env['AWS_PROFILE'] ?? 'default';
  return [
    'the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
    `the shared files "${env['AWS_SHARED_CREDENTIALS_FILE'] ?? `${home}/.aws/credentials`}" and "${env['AWS_CONFIG_FILE'] ?? `${home}/.aws/config`}" (profile "${profile}", including SSO and credential_process)`,
    `web identity (AWS_WEB_IDENTITY_TOKEN_FILE${env['AWS_WEB_IDENTITY_TOKEN_FILE'] ? ` = "${env['AWS_WEB_IDENTITY_TOKEN_FILE']}"` : ' unset'})`,
    `the container role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI${env['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] || env['AWS_CONTAINER_CREDENTIALS_FULL_URI'] ? '' : ' unset'})`,
    env['AWS_EC2_METADATA_DISABLED'] === 'true' ? 'the instance role (skipped: AWS_EC2_METADATA_DISABLED=true)' : 'the instance role (EC2 instance metadata service)',
  ];
}

/** The endpoint the SDK will use, as it resolves it from the environment (undefined: AWS's own). */
export function configuredEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if (env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'] === 'true') return undefined;
  const url = env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'];
  return url ? url : undefined;
}

/** AWS_REGION, else AWS_DEFAULT_REGION (which the JavaScript SDK alone does not read), else the shared config's. */
export function configuredRegion(env: NodeJS.ProcessEnv): string | undefined {
  return env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || undefined;
}
