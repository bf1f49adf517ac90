/**
 * Bolt messages: tags, typed request objects decoded from a message body, and encoding of the four
 * responses (SUCCESS, RECORD, IGNORED, FAILURE). `decodeRequest` never throws: bad input becomes an
 * UNDECODABLE request that says whether the connection can go on (the session answers it in order).
 */
import { QuiverError, isQuiverError, toQuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import type { AccessMode, AuthToken } from './backend.js';
import { failureMetadata } from './failure.js';
import { type BoltVersion, formatVersion, versionAtLeast } from './handshake.js';
import { PackStreamReader, type PackStreamWriter } from './packstream.js';

export const requestTag = {
  HELLO: 0x01,
  GOODBYE: 0x02,
  RESET: 0x0f,
  RUN: 0x10,
  BEGIN: 0x11,
  COMMIT: 0x12,
  ROLLBACK: 0x13,
  DISCARD: 0x2f,
  PULL: 0x3f,
  TELEMETRY: 0x54,
  ROUTE: 0x66,
  LOGON: 0x6a,
  LOGOFF: 0x6b,
} as const;

export const responseTag = {
  SUCCESS: 0x70,
  RECORD: 0x71,
  IGNORED: 0x7e,
  FAILURE: 0x7f,
} as const;

export type RequestType = keyof typeof requestTag;

/** Transaction settings carried by BEGIN and auto-commit RUN. */
export interface TxExtra {
  bookmarks: string[];
  /** Undefined: the user's home database (absent, null or "" on the wire). */
  database: string | undefined;
  mode: AccessMode;
  txTimeoutMs: number | undefined;
  txMetadata: Map<string, Value> | undefined;
  impersonatedUser: string | undefined;
}

export type Request =
  | { type: 'HELLO'; userAgent: string | undefined; auth: AuthToken | undefined; routing: Map<string, Value> | undefined; patchBolt: string[] }
  | { type: 'LOGON'; auth: AuthToken }
  | { type: 'LOGOFF' | 'GOODBYE' | 'RESET' | 'COMMIT' | 'ROLLBACK' }
  | { type: 'RUN'; query: string; parameters: Map<string, Value>; extra: TxExtra }
  | { type: 'BEGIN'; extra: TxExtra }
  | { type: 'PULL' | 'DISCARD'; n: bigint; qid: bigint }
  | { type: 'ROUTE'; routing: Map<string, Value>; bookmarks: string[]; database: string | undefined; impersonatedUser: string | undefined }
  | { type: 'TELEMETRY'; api: bigint };

/** A message we could not turn into a Request. `fatal`: the client speaks nonsense, close after FAILURE. */
export interface UndecodableRequest {
  type: 'UNDECODABLE';
  error: QuiverError;
  fatal: boolean;
}

export type DecodedRequest = Request | UndecodableRequest;

export type Response =
  | { type: 'SUCCESS'; metadata: Map<string, Value> }
  | { type: 'RECORD'; values: Value[] }
  | { type: 'IGNORED' }
  | { type: 'FAILURE'; error: QuiverError };

const tagNames = new Map<number, RequestType>(Object.entries(requestTag).map(([name, tag]) => [tag, name as RequestType]));

/** Messages that only exist from a given version on. */
const introducedIn: Partial<Record<RequestType, [number, number]>> = {
  LOGON: [5, 1],
  LOGOFF: [5, 1],
  TELEMETRY: [5, 4],
};

/**
 * Decodes one message body. Shape errors (unknown tag, wrong field count or field type, malformed
 * PackStream) are fatal. Problems inside well-formed fields (an `extra` key of the wrong type, a
 * parameter of a type we do not support) are not: the request fails and the connection goes on.
 */
export function decodeRequest(body: Uint8Array, version: BoltVersion): DecodedRequest {
  let request: RequestType | undefined;
  let fields: Value[];
  try {
    const reader = new PackStreamReader(body);
    const { tag, fieldCount } = reader.readStructHeader();
    request = tagNames.get(tag);
    if (request === undefined) return fatal(`unknown request message tag 0x${tag.toString(16)}`);
    const since = introducedIn[request];
    if (since && !versionAtLeast(version, since[0], since[1])) return fatal(`${request} is not part of Bolt ${formatVersion(version)}`);
    fields = [];
    for (let i = 0; i < fieldCount; i++) fields.push(reader.readValue());
    if (reader.remaining !== 0) return fatal(`${reader.remaining} bytes after the ${request} message`);
  } catch (e) {
    const error = toQuiverError(e);
    // Framing is intact, so a value we merely do not support need not end the connection.
    return { type: 'UNDECODABLE', error, fatal: !isQuiverError(e, 'TypeError') };
  }
  const shape = new Shape(request, fields);
  try {
    return decodeFields(request, shape, version);
  } catch (e) {
    return { type: 'UNDECODABLE', error: toQuiverError(e), fatal: e instanceof ShapeError };
  }
}

function decodeFields(type: RequestType, f: Shape, version: BoltVersion): Request {
  switch (type) {
    case 'HELLO': {
      f.count(1);
      const extra = f.map(0);
      return {
        type,
        userAgent: optString(extra, 'user_agent'),
        // From 5.1 credentials travel in LOGON; any left in HELLO are ignored.
        auth: versionAtLeast(version, 5, 1) ? undefined : authToken(extra),
        routing: optMap(extra, 'routing'),
        patchBolt: optStringList(extra, 'patch_bolt'),
      };
    }
    case 'LOGON':
      f.count(1);
      return { type, auth: authToken(f.map(0)) };
    case 'LOGOFF':
    case 'GOODBYE':
    case 'RESET':
    case 'COMMIT':
    case 'ROLLBACK':
      f.count(0);
      return { type };
    case 'RUN':
      f.count(3);
      return { type, query: f.string(0), parameters: f.map(1), extra: txExtra(f.map(2)) };
    case 'BEGIN':
      f.count(1);
      return { type, extra: txExtra(f.map(0)) };
    case 'PULL':
    case 'DISCARD': {
      f.count(1);
      const extra = f.map(0);
      const n = extra.get('n');
      if (typeof n !== 'bigint' || (n <= 0n && n !== -1n)) throw invalid(`${type} needs "n": a positive integer or -1, got ${show(n)}`);
      const qid = extra.get('qid') ?? -1n;
      if (typeof qid !== 'bigint' || qid < -1n) throw invalid(`${type} "qid" must be an integer ≥ -1, got ${show(qid)}`);
      return { type, n, qid };
    }
    case 'ROUTE': {
      f.count(3);
      const routing = f.map(0);
      const bookmarks = f.list(1).map((b) => {
        if (typeof b !== 'string') throw invalid('ROUTE bookmarks must be strings');
        return b;
      });
      // 4.4+ sends an extra map {db?, imp_user?}; 4.3 sent the db name (or null) directly.
      const third = f.any(2);
      const extra = third instanceof Map ? third : new Map<string, Value>([['db', third]]);
      return { type, routing, bookmarks, database: databaseName(extra), impersonatedUser: optString(extra, 'imp_user') };
    }
    case 'TELEMETRY': {
      f.count(1);
      const api = f.any(0);
      if (typeof api !== 'bigint') throw invalid(`TELEMETRY api must be an integer, got ${show(api)}`);
      return { type, api };
    }
  }
}

/** Thrown for wrong field counts or top-level field types: the client does not speak our Bolt. */
class ShapeError extends QuiverError {}

class Shape {
  constructor(
    private readonly type: RequestType,
    private readonly fields: Value[],
  ) {}
  count(n: number): void {
    if (this.fields.length !== n) throw new ShapeError('BoltRequestInvalid', `${this.type} has ${this.fields.length} fields, expected ${n}`);
  }
  any(i: number): Value {
    return this.fields[i] as Value;
  }
  string(i: number): string {
    const v = this.fields[i];
    if (typeof v !== 'string') throw this.wrong(i, 'a string');
    return v;
  }
  map(i: number): Map<string, Value> {
    const v = this.fields[i];
    if (!(v instanceof Map)) throw this.wrong(i, 'a map');
    return v;
  }
  list(i: number): Value[] {
    const v = this.fields[i];
    if (!Array.isArray(v)) throw this.wrong(i, 'a list');
    return v;
  }
  private wrong(i: number, expected: string): ShapeError {
    return new ShapeError('BoltRequestInvalid', `field ${i} of ${this.type} must be ${expected}, got ${show(this.fields[i])}`);
  }
}

function txExtra(extra: Map<string, Value>): TxExtra {
  const timeout = extra.get('tx_timeout') ?? null;
  // Drivers send integers; a float here means a JS number slipped through, so accept whole values.
  if (timeout !== null && !((typeof timeout === 'bigint' && timeout >= 0n) || (typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 0))) {
    throw invalid(`"tx_timeout" must be a non-negative integer (milliseconds), got ${show(timeout)}`);
  }
  const mode = extra.get('mode') ?? 'w';
  if (mode !== 'r' && mode !== 'w') throw invalid(`"mode" must be "r" or "w", got ${show(mode)}`);
  return {
    bookmarks: optStringList(extra, 'bookmarks'),
    database: databaseName(extra),
    mode: mode === 'r' ? 'READ' : 'WRITE',
    txTimeoutMs: timeout === null ? undefined : Number(timeout),
    txMetadata: optMap(extra, 'tx_metadata'),
    impersonatedUser: optString(extra, 'imp_user'),
  };
}

function databaseName(extra: Map<string, Value>): string | undefined {
  const db = optString(extra, 'db');
  return db === '' ? undefined : db;
}

function authToken(m: Map<string, Value>): AuthToken {
  // Drivers without credentials send {scheme: "none"}; some omit the map entirely.
  const token: AuthToken = { scheme: optString(m, 'scheme') ?? 'none' };
  const principal = optString(m, 'principal');
  const credentials = optString(m, 'credentials');
  if (principal !== undefined) token.principal = principal;
  if (credentials !== undefined) token.credentials = credentials;
  return token;
}

function optString(m: Map<string, Value>, key: string): string | undefined {
  const v = m.get(key) ?? null;
  if (v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`"${key}" must be a string, got ${show(v)}`);
  return v;
}

function optMap(m: Map<string, Value>, key: string): Map<string, Value> | undefined {
  const v = m.get(key) ?? null;
  if (v === null) return undefined;
  if (!(v instanceof Map)) throw invalid(`"${key}" must be a map, got ${show(v)}`);
  return v;
}

function optStringList(m: Map<string, Value>, key: string): string[] {
  const v = m.get(key) ?? null;
  if (v === null) return [];
  if (!Array.isArray(v) || !v.every((e): e is string => typeof e === 'string')) throw invalid(`"${key}" must be a list of strings`);
  return v;
}

function invalid(message: string): QuiverError {
  return new QuiverError('BoltRequestInvalid', message);
}

function fatal(message: string): UndecodableRequest {
  return { type: 'UNDECODABLE', error: invalid(message), fatal: true };
}

function show(v: Value | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a map';
  return v.constructor.name;
}

/** Encodes one response into `w` (reset first) and returns the body bytes (a view into `w`). */
export function encodeResponse(r: Response, w: PackStreamWriter, version: BoltVersion): Uint8Array {
  w.reset();
  switch (r.type) {
    case 'SUCCESS':
      w.writeStructHeader(responseTag.SUCCESS, 1);
      w.writeValue(r.metadata);
      break;
    case 'RECORD':
      w.writeStructHeader(responseTag.RECORD, 1);
      w.writeValue(r.values);
      break;
    case 'IGNORED':
      w.writeStructHeader(responseTag.IGNORED, 0);
      break;
    case 'FAILURE':
      w.writeStructHeader(responseTag.FAILURE, 1);
      w.writeValue(failureMetadata(r.error, version));
      break;
  }
  return w.bytes();
}

/** Encodes any message as a structure of plain values (clients, tests). */
export function encodeMessage(w: PackStreamWriter, tag: number, fields: Value[]): Uint8Array {
  w.reset();
  w.writeStructHeader(tag, fields.length);
  for (const f of fields) w.writeValue(f);
  return w.bytes();
}

/** Decodes any message into its tag and fields (clients, tests). Throws on malformed input. */
export function decodeMessage(body: Uint8Array): { tag: number; fields: Value[] } {
  const reader = new PackStreamReader(body);
  const { tag, fieldCount } = reader.readStructHeader();
  const fields: Value[] = [];
  for (let i = 0; i < fieldCount; i++) fields.push(reader.readValue());
  if (reader.remaining !== 0) throw new QuiverError('BoltMessageMalformed', `${reader.remaining} bytes after message 0x${tag.toString(16)}`);
  return { tag, fields };
}
