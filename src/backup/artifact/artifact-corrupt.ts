/**
 * The errors a reader raises about an artifact it cannot trust, worded once so that inspect, restore
 * and the tests all see the same text: `artifact "<file>" is corrupt: <what, where>`.
 */
import { QuiverError } from '../../util/errors.js';
import { formatVersion, startMagicText } from './artifact-header.js';

const hint = 'this artifact cannot be trusted: restore from another backup, or take a new FULL backup';

export function artifactCorrupt(name: string, detail: string, cause?: unknown): QuiverError {
  return new QuiverError('ArtifactCorrupt', `artifact "${name}" is corrupt: ${detail}`, { hint, cause });
}

/** The trailer is missing at the end of the file: the write never finished, or the file was cut. */
export function artifactTruncated(name: string, trailerMagicOffset: number): QuiverError {
  return new QuiverError('ArtifactCorrupt', `artifact "${name}" is truncated: expected trailer magic at offset ${trailerMagicOffset}`, { hint });
}

/** The file ends before the reader got all the bytes the trailer promised (it changed while being read). */
export function artifactEndedEarly(name: string, offset: number, what: string): QuiverError {
  return new QuiverError('ArtifactCorrupt', `artifact "${name}" is truncated: the file ends at offset ${offset}, inside ${what}`, { hint });
}

export function notAnArtifact(name: string): QuiverError {
  return new QuiverError('ArtifactCorrupt', `artifact "${name}" is not a Quiver backup artifact: expected magic "${startMagicText}" at offset 0`, {
    hint: 'pass a .backup file written by quiver-admin database backup',
  });
}

export function unsupportedVersion(name: string, version: number): QuiverError {
  return new QuiverError(
    'ArtifactCorrupt',
    `artifact "${name}" has unsupported format version ${version}: this Quiver reads version ${formatVersion}`,
    { hint: 'use the Quiver version that wrote the artifact, or a newer one' },
  );
}

export function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
