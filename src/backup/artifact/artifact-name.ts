/**
 * Artifact file names: `<db>-<YYYY-MM-DDTHH-mm-ss>.backup` in UTC, with `_001` … `_999` before
 * `.backup` for artifacts of one database taken within the same second. For one database, byte order
 * of names is time order (docs/backup-format.md, "File names"). Names are for display and ordering;
 * the header is authoritative.
 */
import assert from 'node:assert/strict';
import { QuiverError } from '../../util/errors.js';
import type { BackupTarget } from '../../targets/target.js';
import { targetNameProblem } from '../../targets/target-name.js';
import { artifactNameCollisionsMax } from '../limits.js';

export const artifactSuffix = '.backup';
const sequenceDigits = String(artifactNameCollisionsMax).length;
const namePattern = /^(.+)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})(?:_(\d+))?\.backup$/;

/** The UTC second of `createdAt` as used in names: 2023-06-29T13-46-27. */
export function artifactNameStamp(createdAt: Date): string {
  assert.ok(Number.isFinite(createdAt.getTime()), 'artifact time must be a valid date');
  return createdAt.toISOString().slice(0, 19).replaceAll(':', '-');
}

/** The name of the `sequence`-th artifact (0 = no suffix) of `databaseName` taken in the second of `createdAt`. */
export function artifactFileName(databaseName: string, createdAt: Date, sequence = 0): string {
  assert.ok(Number.isInteger(sequence) && sequence >= 0 && sequence <= artifactNameCollisionsMax, `artifact name sequence ${sequence} out of range`);
  const suffix = sequence === 0 ? '' : `_${String(sequence).padStart(sequenceDigits, '0')}`;
  const name = `${databaseName}-${artifactNameStamp(createdAt)}${suffix}${artifactSuffix}`;
  const problem = targetNameProblem(name);
  assert.equal(problem, null, `database name "${databaseName}" cannot be part of an artifact file name: ${problem}`);
  return name;
}

export interface ParsedArtifactName {
  databaseName: string;
  /** 2023-06-29T13-46-27 */
  stamp: string;
  sequence: number;
}

/** Splits a name made by artifactFileName; null for any other name. */
export function parseArtifactFileName(name: string): ParsedArtifactName | null {
  const match = namePattern.exec(name);
  if (!match) return null;
  const [, databaseName, stamp, sequenceText] = match;
  if (databaseName === undefined || stamp === undefined) return null;
  if (sequenceText !== undefined && sequenceText.length !== sequenceDigits) return null;
  return { databaseName, stamp, sequence: sequenceText === undefined ? 0 : Number(sequenceText) };
}

/**
 * The name after `taken` in its second (`_001` after none, `_002` after `_001`), for a name taken
 * between choosing it and committing the artifact; null past `_999` or for a name not made by
 * artifactFileName.
 */
export function nextArtifactName(taken: string): string | null {
  const parsed = parseArtifactFileName(taken);
  if (parsed === null || parsed.sequence >= artifactNameCollisionsMax) return null;
  const suffix = `_${String(parsed.sequence + 1).padStart(sequenceDigits, '0')}`;
  return `${parsed.databaseName}-${parsed.stamp}${suffix}${artifactSuffix}`;
}

/** The first free name for an artifact of `databaseName` at `createdAt` in `target`. */
export async function chooseArtifactName(target: BackupTarget, databaseName: string, createdAt: Date): Promise<string> {
  const taken = new Set((await target.list()).map((entry) => entry.name));
  for (let sequence = 0; sequence <= artifactNameCollisionsMax; sequence++) {
    const name = artifactFileName(databaseName, createdAt, sequence);
    if (!taken.has(name)) return name;
  }
  throw new QuiverError(
    'BackupFailed',
    `cannot name an artifact of database "${databaseName}": ${artifactNameCollisionsMax + 1} artifacts already exist for ${artifactNameStamp(createdAt)} in ${target.uri()}`,
    { hint: 'wait a second and run the backup again' },
  );
}
