/**
 * The edge of the backup client: every answer of a backup service (JSON bodies and response
 * headers) is checked here against the shapes of protocol.ts before anything else reads it. A
 * malformed answer is a `ServerAnswerInvalid` error naming the server and the field; nothing from
 * the network reaches an assertion unchecked. Pure: no sockets.
 */
import { normalizeDatabaseName } from '../../config/database-name.js';
import { QuiverError } from '../../util/errors.js';
import { blockRawBytesMax, u64ExactMax } from '../limits.js';
import { type DatabasesResponse, type ErrorBody, headers, type RemoteDatabase } from './protocol.js';

/** Database entries a listing may hold: far more than one server hosts, few enough to hold in memory. */
export const listingDatabasesMax = 100_000;

/** What the snapshot's response headers promise. */
export interface SnapshotHeaders {
  txId: number;
  txChecksum: number;
  txTimeMs: number;
  databaseId: string;
  storeId: string;
  payloadFormat: string;
  /** Raw bytes of the store image the body carries (as encoded blocks). */
  imageBytes: number;
  blockRawBytes: number;
}

const statuses = ['online', 'offline', 'failed'] as const;
const wholeNumber = `a whole number from 0 to ${u64ExactMax}`;

/** Thrown inside the checks with the field's problem; the entry points add what and who. */
class Malformed extends Error {}

function fail(problem: string): never {
  throw new Malformed(problem);
}

function invalid(what: string, server: string, e: unknown, verb = 'is'): never {
  if (!(e instanceof Malformed)) throw e;
  throw new QuiverError('ServerAnswerInvalid', `${what} from ${server} ${verb} malformed: ${e.message}`, {
    hint: `check that ${server} is a Quiver backup service of the same version as this quiver-admin`,
  });
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where} is not an object`);
  return value as Record<string, unknown>;
}

function text(o: Record<string, unknown>, key: string, where: string, options: { empty?: boolean } = {}): string {
  const v = o[key];
  if (typeof v !== 'string' || (!options.empty && v.length === 0)) fail(`${where}${key} is missing or not a${options.empty ? '' : ' non-empty'} string`);
  return v;
}

function count(o: Record<string, unknown>, key: string, where: string, max = u64ExactMax): number {
  const v = o[key];
  if (v === undefined) fail(`${where}${key} is missing`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) fail(`${where}${key} is ${JSON.stringify(v)}, not a whole number from 0 to ${max}`);
  return v;
}

/** Artifact headers require a lowercase UUID (artifact-header.ts). */
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Store ids go into artifact headers, which bound them so. */
const storeIdCharsMax = 255;

function database(value: unknown, index: number): RemoteDatabase {
  const where = `databases[${index}].`;
  const o = record(value, `databases[${index}]`);
  const name = text(o, 'name', where);
  // Names become file names and header fields: only names the server itself could have accepted.
  const named = normalizeDatabaseName(name, { allowSystem: true });
  if (!named.ok || named.name !== name) fail(`${where}name ${JSON.stringify(name.slice(0, 100))} is not a database name: ${named.ok ? 'it is not in lower case' : named.reason}`);
  const databaseId = text(o, 'databaseId', where);
  if (!uuidPattern.test(databaseId)) fail(`${where}databaseId ${JSON.stringify(databaseId.slice(0, 100))} is not a lowercase UUID`);
  const storeId = text(o, 'storeId', where, { empty: true });
  if (storeId.length > storeIdCharsMax) fail(`${where}storeId is longer than ${storeIdCharsMax} characters`);
  const status = o['status'];
  if (typeof status !== 'string' || !(statuses as readonly string[]).includes(status)) fail(`${where}status is missing or not one of ${statuses.join(', ')}`);
  if (o['role'] !== 'primary') fail(`${where}role is ${JSON.stringify(o['role'])}, not "primary"`);
  const storeBytes = o['storeBytes'] === undefined ? undefined : count(o, 'storeBytes', where);
  return {
    name,
    databaseId,
    // Empty while the database is not online: the server cannot read it then.
    storeId,
    status: status as RemoteDatabase['status'],
    role: 'primary',
    lastCommittedTxId: count(o, 'lastCommittedTxId', where),
    lastCommittedChecksum: count(o, 'lastCommittedChecksum', where, 0xffffffff),
    lastCommitTimeMs: count(o, 'lastCommitTimeMs', where),
    oldestTxIdInLog: count(o, 'oldestTxIdInLog', where),
    ...(storeBytes === undefined ? {} : { storeBytes }),
  };
}

/** The listing (`GET /v1/databases`). The protocol version is checked first: another version may have another shape. */
export function checkDatabasesResponse(value: unknown, server: string): DatabasesResponse {
  try {
    const o = record(value, 'the answer');
    const protocol = count(o, 'protocol', '');
    const list = o['databases'];
    if (!Array.isArray(list)) fail('"databases" is not a list');
    if (list.length > listingDatabasesMax) fail(`it lists ${list.length} databases, more than ${listingDatabasesMax}`);
    return { protocol, serverId: typeof o['serverId'] === 'string' ? o['serverId'] : '', databases: list.map(database) };
  } catch (e) {
    invalid('the database listing', server, e);
  }
}

/** The users and roles of one database (`GET …/metadata`). */
export function checkMetadataResponse(value: unknown, server: string, db: string): string[] {
  try {
    const o = record(value, 'the answer');
    const commands = o['commands'];
    if (!Array.isArray(commands)) fail('"commands" is not a list');
    for (const [i, c] of commands.entries()) if (typeof c !== 'string') fail(`commands[${i}] is not a string`);
    return commands as string[];
  } catch (e) {
    invalid(`the users and roles of "${db}"`, server, e, 'are');
  }
}

type Headers = Record<string, string | string[] | number | undefined>;

function header(h: Headers, name: string): string {
  const v = h[name];
  if (v === undefined) fail(`header ${name} is missing`);
  if (Array.isArray(v)) fail(`header ${name} is given ${v.length} times`);
  return String(v);
}

function headerCount(h: Headers, name: string, min = 0, max = u64ExactMax): number {
  const v = header(h, name);
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`header ${name} is "${v}", not ${min === 0 && max === u64ExactMax ? wholeNumber : `a whole number from ${min} to ${max}`}`);
  return n;
}

/** The response headers of a store snapshot. */
export function checkSnapshotHeaders(h: Headers, server: string, db: string): SnapshotHeaders {
  try {
    const databaseId = header(h, headers.databaseId);
    const storeId = header(h, headers.storeId);
    if (!uuidPattern.test(databaseId)) fail(`header ${headers.databaseId} is "${databaseId.slice(0, 100)}", not a lowercase UUID`);
    if (storeId.length === 0 || storeId.length > storeIdCharsMax) fail(`header ${headers.storeId} is empty or longer than ${storeIdCharsMax} characters`);
    return {
      txId: headerCount(h, headers.txId),
      txChecksum: headerCount(h, headers.txChecksum, 0, 0xffffffff),
      txTimeMs: headerCount(h, headers.txTimeMs),
      databaseId,
      storeId,
      payloadFormat: header(h, headers.payloadFormat),
      imageBytes: headerCount(h, headers.imageBytes),
      blockRawBytes: headerCount(h, headers.blockRawBytes, 1, blockRawBytesMax),
    };
  } catch (e) {
    invalid(`the store snapshot of "${db}"`, server, e);
  }
}

/** The last transaction id a transaction stream announces. */
export function checkTransactionsHeaders(h: Headers, server: string, db: string): { lastTxId: number } {
  try {
    return { lastTxId: headerCount(h, headers.lastTxId) };
  } catch (e) {
    invalid(`the transactions of "${db}"`, server, e, 'are');
  }
}

/** An error body (`ErrorBody`) from a response or a trailer; empty fields when it is not one. */
export function parseErrorBody(text: string): Partial<ErrorBody> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const o = value as Record<string, unknown>;
  return {
    ...(typeof o['code'] === 'string' ? { code: o['code'] } : {}),
    ...(typeof o['message'] === 'string' ? { message: o['message'] } : {}),
    ...(typeof o['hint'] === 'string' ? { hint: o['hint'] } : {}),
  };
}
