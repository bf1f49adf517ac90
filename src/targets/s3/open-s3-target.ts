/**
 * `s3://bucket/prefix` to a ready S3Target: client from the settings and environment, then one probe
 * request so that a missing bucket, wrong credentials or an unreachable endpoint fail here, clearly,
 * before any backup or restore work starts.
 */
import { createS3Client } from './s3-client.js';
import type { S3TargetSettings } from './s3-settings.js';
import { S3Target } from './s3-target.js';
import { parseS3Uri } from './s3-uri.js';

export interface OpenedS3Target {
  target: S3Target;
  /** The artifact the URI named, when it named one. */
  artifactName: string | undefined;
}

export async function openS3Target(uri: string, settings: S3TargetSettings, env: NodeJS.ProcessEnv = process.env): Promise<OpenedS3Target> {
  const location = parseS3Uri(uri);
  const { client, endpoint } = createS3Client(settings, env);
  const target = new S3Target({ client, bucket: location.bucket, prefix: location.prefix, settings, endpoint, env });
  await target.probe();
  return { target, artifactName: location.artifactName };
}
