/**
 * Replays Bolt transcripts against a BoltSession through the real codec, for tests.
 *
 * Syntax, one message per line (blank lines and `#` comments ignored):
 *   C: RUN "RETURN 1 AS n" {} {}      a request: name, then fields as JSON-like values
 *   S: SUCCESS {"fields": ["n"], "t_first": 0}
 *   S: RECORD [1]
 *   STATE: READY                      asserts the session state
 * Values: integers are Bolt Integers (bigint), numbers with a `.` or exponent are Floats, `{}` are maps,
 * and a bare `*` in an S: line matches anything. Consecutive C: lines form one pipelined batch: a RESET
 * in it interrupts the session first, as the socket shell does when they arrive in one read. Each S:
 * line matches the next response not yet matched; at the end every response must have been matched.
 */
import type { Value } from '../values/value.js';
import type { BoltVersion } from './handshake.js';
import { decodeMessage, decodeRequest, encodeMessage, encodeResponse, requestTag, responseTag, type Response } from './messages.js';
import { PackStreamWriter } from './packstream.js';
import type { BoltSession } from './session.js';

const wildcard = Symbol('*');
type Expected = Value | typeof wildcard | Expected[] | Map<string, Expected>;

const responseNames = new Map<number, string>(Object.entries(responseTag).map(([name, tag]) => [tag, name]));

export async function runTranscript(session: BoltSession, version: BoltVersion, transcript: string): Promise<void> {
  const writer = new PackStreamWriter({ elementIds: true, utcDateTime: true });
  const unmatched: { name: string; fields: Value[] }[] = [];
  const lines = transcript
    .split('\n')
    .map((l, i) => ({ text: l.trim(), lineNo: i + 1 }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
  let batch: { name: string; fields: Value[]; lineNo: number }[] = [];

  const runBatch = async (): Promise<void> => {
    const requests = batch.map((m) => {
      const tag = requestTag[m.name as keyof typeof requestTag];
      if (tag === undefined) throw new Error(`line ${m.lineNo}: unknown request ${m.name}`);
      return decodeRequest(encodeMessage(writer, tag, m.fields).slice(), version);
    });
    batch = [];
    for (const r of requests) if (r.type === 'RESET') session.interrupt();
    for (const r of requests) {
      for (const response of await session.handle(r)) unmatched.push(roundTrip(response, session, version));
    }
  };

  for (const { text, lineNo } of lines) {
    const [prefix, rest] = splitOnce(text);
    if (prefix === 'C:') {
      const [name, fieldsText] = splitOnce(rest);
      batch.push({ name, fields: parseValues(fieldsText, false) as Value[], lineNo });
      continue;
    }
    if (batch.length > 0) await runBatch();
    if (prefix === 'S:') {
      const [name, fieldsText] = splitOnce(rest);
      const actual = unmatched.shift();
      if (actual === undefined) throw new Error(`line ${lineNo}: expected ${text}, but the session sent nothing more`);
      const expected = parseValues(fieldsText, true);
      if (actual.name !== name || !matches(expected, actual.fields)) {
        throw new Error(`line ${lineNo}: expected ${text}\n  actual S: ${actual.name} ${actual.fields.map(show).join(' ')}`);
      }
    } else if (prefix === 'STATE:') {
      if (session.state !== rest) throw new Error(`line ${lineNo}: expected state ${rest}, session is in ${session.state}`);
    } else {
      throw new Error(`line ${lineNo}: cannot parse "${text}"`);
    }
  }
  if (batch.length > 0) await runBatch();
  if (unmatched.length > 0) {
    throw new Error(`responses not matched by the transcript:\n${unmatched.map((m) => `  S: ${m.name} ${m.fields.map(show).join(' ')}`).join('\n')}`);
  }
}

/** Encodes the response as the server would and decodes it as a client would. */
function roundTrip(r: Response, session: BoltSession, version: BoltVersion): { name: string; fields: Value[] } {
  const writer = new PackStreamWriter(session.structureOptions);
  const { tag, fields } = decodeMessage(encodeResponse(r, writer, version).slice());
  return { name: responseNames.get(tag) ?? `0x${tag.toString(16)}`, fields };
}

function splitOnce(s: string): [string, string] {
  const i = s.search(/\s/);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i).trim()];
}

function matches(expected: Expected[] | Expected, actual: Value): boolean {
  if (expected === wildcard) return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(e, actual[i] as Value));
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map) || actual.size !== expected.size) return false;
    for (const [k, e] of expected) if (!actual.has(k) || !matches(e, actual.get(k) as Value)) return false;
    return true;
  }
  return expected === actual;
}

/** Parses whitespace-separated JSON-like values (see the file comment). */
export function parseValues(text: string, allowWildcard: boolean): Expected[] {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}[\]:,*]|true|false|null|\S/g) ?? [];
  let at = 0;
  const value = (): Expected => {
    const t = tokens[at++];
    if (t === undefined) throw new Error(`unexpected end of values in: ${text}`);
    if (t === '{') {
      const m = new Map<string, Expected>();
      while (tokens[at] !== '}') {
        const key = value();
        if (typeof key !== 'string' || tokens[at++] !== ':') throw new Error(`bad map in: ${text}`);
        m.set(key, value());
        if (tokens[at] === ',') at++;
      }
      at++;
      return m;
    }
    if (t === '[') {
      const list: Expected[] = [];
      while (tokens[at] !== ']') {
        list.push(value());
        if (tokens[at] === ',') at++;
      }
      at++;
      return list;
    }
    if (t === '*' && allowWildcard) return wildcard;
    if (t.startsWith('"')) return JSON.parse(t) as string;
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    if (/^-?\d+$/.test(t)) return BigInt(t);
    if (/^-?\d/.test(t)) return Number(t);
    throw new Error(`unexpected "${t}" in: ${text}`);
  };
  const values: Expected[] = [];
  while (at < tokens.length) values.push(value());
  return values;
}

function show(v: Value): string {
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(1) : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(k)}: ${show(x)}`).join(', ')}}`;
  return v.constructor.name;
}
