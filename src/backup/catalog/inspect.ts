/**
 * `--inspect-path`: describes every artifact in a folder (or one artifact file) from its header and
 * trailer only, as Neo4j's table or as JSON. An unreadable artifact becomes a row with its error;
 * it never stops the listing. Order: database name, then time oldest first, then file name;
 * unreadable artifacts last, by file name (docs/backup-format.md, "Inspect output").
 */
import type { BackupTarget } from '../../targets/target.js';
import { resolveArtifactPath, type TargetSettings } from '../../targets/resolve.js';
import { hex32 } from '../artifact/artifact-corrupt.js';
import type { ArtifactInfo } from '../artifact/artifact-info.js';
import { readInfos } from './catalog.js';
import { compareText } from '../../util/compare-text.js';
import { renderTable } from './inspect-table.js';

export interface InspectOptions {
  format: 'table' | 'json';
  /** Table only: adds the columns that are not in Neo4j's table. JSON always has every field. */
  verbose: boolean;
  /** Settings for opening an s3:// path. */
  targetSettings?: TargetSettings;
}

/** One artifact as inspect saw it: `info` when it could be read, else `error`. */
export interface InspectedArtifact {
  name: string;
  uri: string;
  info: ArtifactInfo | null;
  error: Error | null;
}

/** Inspects a folder of artifacts or one artifact file, and formats the result. */
export async function inspectPath(path: string, options: InspectOptions): Promise<string> {
  return (await inspectPathReport(path, options)).output;
}

export interface InspectReport {
  /** The formatted table or JSON, ending with a newline. */
  output: string;
  /** Artifacts that could not be read (the CLI exits 1 when there are any). */
  problems: number;
  artifacts: InspectedArtifact[];
}

/** Like inspectPath, also counting the artifacts that could not be read. */
export async function inspectPathReport(path: string, options: InspectOptions): Promise<InspectReport> {
  const { target, fileName } = await resolveArtifactPath(path, options.targetSettings);
  const artifacts = await inspectArtifacts(target, fileName === undefined ? undefined : [fileName]);
  const output = options.format === 'json' ? formatInspectJson(artifacts) : formatInspectTable(artifacts, options.verbose);
  return { output, problems: artifacts.filter((one) => one.error !== null).length, artifacts };
}

/** Reads the header and trailer of each named artifact (default: every artifact in the target), sorted for display. */
export async function inspectArtifacts(target: BackupTarget, names?: readonly string[]): Promise<InspectedArtifact[]> {
  // The one catalog reader: inspect sees a folder exactly as restore and AUTO backup see it.
  const { artifacts, unreadable } = await readInfos([names === undefined ? { target } : { target, names }]);
  const inspected: InspectedArtifact[] = [
    ...artifacts.map((info) => ({ name: info.name, uri: info.uri, info, error: null })),
    // Reported in the artifact's row, not thrown: one bad artifact must not hide the others.
    ...unreadable.map((u) => ({ name: u.name, uri: u.uri, info: null, error: new Error(u.message) })),
  ];
  return inspected.sort(compareForDisplay);
}

function compareForDisplay(a: InspectedArtifact, b: InspectedArtifact): number {
  if (a.info && b.info) {
    return compareText(a.info.header.databaseName, b.info.header.databaseName)
      || compareText(a.info.header.createdAt, b.info.header.createdAt)
      || compareText(a.name, b.name);
  }
  if (a.info) return -1;
  if (b.info) return 1;
  return compareText(a.name, b.name);
}


const tableHeaders = ['FILE', 'DATABASE', 'DATABASE ID', 'TIME (UTC)', 'FULL', 'COMPRESSED', 'LOWEST TX', 'HIGHEST TX'];
const verboseHeaders = [
  'STORE ID', 'PARENT', 'TX COUNT', 'HIGHEST TX TIME (UTC)', 'LAST TX CHECKSUM', 'PAYLOAD FORMAT',
  'BLOCKS', 'RAW BYTES', 'STORED BYTES', 'SIZE', 'METADATA', 'TOOL VERSION',
];

/** Neo4j's table; an ERROR column is added only when some artifact could not be read. */
export function formatInspectTable(inspected: readonly InspectedArtifact[], verbose: boolean): string {
  const anyError = inspected.some((one) => one.error !== null);
  const headers = [...tableHeaders, ...(verbose ? verboseHeaders : []), ...(anyError ? ['ERROR'] : [])];
  const rows = inspected.map((one) => {
    const cells = one.info ? [...mainCells(one.uri, one.info), ...(verbose ? verboseCells(one.info) : [])] : [one.uri];
    while (cells.length < headers.length - (anyError ? 1 : 0)) cells.push('');
    if (anyError) cells.push(one.error?.message ?? '');
    return cells;
  });
  return renderTable(headers, rows);
}

function mainCells(uri: string, info: ArtifactInfo): string[] {
  const { header, trailer } = info;
  return [
    uri,
    header.databaseName,
    header.databaseId,
    displayTime(header.createdAt),
    String(header.kind === 'FULL'),
    String(header.compressed),
    String(trailer.lowestTx),
    String(trailer.highestTx),
  ];
}

function verboseCells(info: ArtifactInfo): string[] {
  const { header, trailer } = info;
  return [
    header.storeId,
    header.parent?.artifactName ?? '',
    String(trailer.txCount),
    trailer.highestTx === 0 ? '' : displayTime(new Date(trailer.highestTxCommitTimeMs).toISOString()),
    hex32(trailer.lastTxChecksum),
    header.payloadFormat,
    String(trailer.blockCount),
    String(trailer.payloadRawBytes),
    String(trailer.payloadStoredBytes),
    String(info.sizeBytes),
    `${header.includeMetadata} (${header.metadataCommands.length} commands)`,
    header.toolVersion,
  ];
}

/** ISO-8601 without fraction or zone, as Neo4j prints it: 2023-06-29T13:46:27. */
function displayTime(iso: string): string {
  return iso.slice(0, 19);
}

/** Every header and trailer field of each artifact, plus `file` (URI) and `error` (message or null). */
export function formatInspectJson(inspected: readonly InspectedArtifact[]): string {
  return `${JSON.stringify(inspected.map(toJsonRecord), null, 2)}\n`;
}

const headerKeys = [
  'databaseName', 'databaseId', 'storeId', 'kind', 'compressed', 'compression', 'createdAt', 'payloadFormat',
  'parent', 'metadataCommands', 'includeMetadata', 'toolVersion', 'blockRawBytes',
] as const;
const trailerKeys = [
  'lowestTx', 'highestTx', 'highestTxCommitTimeMs', 'txCount', 'lastTxChecksum', 'blockCount',
  'payloadRawBytes', 'payloadStoredBytes', 'headerBytes', 'headerCrc32', 'sha256Hex',
] as const;

function toJsonRecord(one: InspectedArtifact): Record<string, unknown> {
  const record: Record<string, unknown> = { file: one.uri, error: one.error?.message ?? null };
  record.formatVersion = one.info?.formatVersion ?? null;
  record.sizeBytes = one.info?.sizeBytes ?? null;
  for (const key of headerKeys) record[key] = one.info?.header[key] ?? null;
  for (const key of trailerKeys) record[key] = one.info?.trailer[key] ?? null;
  return record;
}
