/**
 * A bare Bolt client over a real socket, for process-level tests: it sends exactly the bytes a test
 * asks for and reads whole response messages, so tests can see what drivers hide (has_more, IGNORED,
 * pipelining, how a connection ends). `runSocketTranscript` replays the C:/S: transcripts of
 * src/bolt/test-transcript.ts against a running server, with the same syntax and matching rules.
 */
import net from 'node:net';
import { Dechunker, chunk } from '../../src/bolt/chunking.js';
import { type BoltVersion, formatVersion } from '../../src/bolt/handshake.js';
import { decodeMessage, encodeMessage, requestTag, responseTag } from '../../src/bolt/messages.js';
import { PackStreamWriter } from '../../src/bolt/packstream.js';
import { parseValues } from '../../src/bolt/test-transcript.js';
import type { Value } from '../../src/values/value.js';

/** What neo4j-driver 6 proposes: manifest v1, 5.8 down to 5.0, 4.4 down to 4.2, 3.0. */
export const driverHandshake = Buffer.from('6060b017000001ff000808050002040400000003', 'hex');

/** A handshake that proposes exactly one version. */
export function handshakeFor(version: BoltVersion): Buffer {
  return Buffer.from([0x60, 0x60, 0xb0, 0x17, 0, 0, version.minor, version.major, ...new Array<number>(12).fill(0)]);
}

const writer = new PackStreamWriter({ elementIds: true, utcDateTime: true });

/** One request, framed for the wire. */
export function boltRequest(name: keyof typeof requestTag, ...fields: Value[]): Buffer {
  return Buffer.from(chunk(encodeMessage(writer, requestTag[name], fields).slice()));
}

export const responseNames = new Map<number, string>(Object.entries(responseTag).map(([name, tag]) => [tag, name]));

export interface BoltMessage {
  tag: number;
  /** SUCCESS, RECORD, IGNORED, FAILURE, or the tag in hex for anything else. */
  name: string;
  fields: Value[];
}

/** How long a read waits for the server before the test fails with what it got so far. */
export const rawReadTimeoutMs = 15_000;

/** A socket that speaks raw Bolt: send bytes, read the 4-byte version reply, then whole messages. */
export class RawBoltClient {
  private readonly socket: net.Socket;
  private handshakeReply = Buffer.alloc(0);
  private readonly dechunker = new Dechunker();
  private readonly messages: BoltMessage[] = [];
  private wake: (() => void) | null = null;
  private isClosed = false;
  /** Resolves when the socket is closed (by either side). */
  readonly closed: Promise<void>;
  /** A reply that could not be decoded: the server broke the protocol (fails the next read). */
  private protocolError: Error | null = null;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = net.connect(port, host);
    // Resets by the server are expected in fuzz and violation tests; `closed` tells the rest.
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.isClosed = true;
        resolve();
        this.wake?.();
      }),
    );
    this.socket.on('data', (bytes: Buffer) => this.onData(bytes));
  }

  private onData(bytes: Buffer): void {
    if (this.handshakeReply.length < 4) {
      const need = 4 - this.handshakeReply.length;
      this.handshakeReply = Buffer.concat([this.handshakeReply, bytes.subarray(0, need)]);
      bytes = bytes.subarray(need);
    }
    try {
      for (const body of this.dechunker.push(bytes)) {
        const { tag, fields } = decodeMessage(body);
        this.messages.push({ tag, name: responseNames.get(tag) ?? `0x${tag.toString(16)}`, fields });
      }
    } catch (e) {
      this.protocolError ??= new Error(`undecodable reply from the server: ${(e as Error).message}`);
    }
    this.wake?.();
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The server's version reply as hex (`00000805` is 5.8); `00000000` means no common version. */
  async version(timeoutMs = rawReadTimeoutMs): Promise<string> {
    await this.waitFor(() => this.handshakeReply.length >= 4, 'the version reply', timeoutMs);
    return this.handshakeReply.subarray(0, 4).toString('hex');
  }

  /** Waits for `count` more messages and returns them. Fails if the connection closes first. */
  async read(count: number, timeoutMs = rawReadTimeoutMs): Promise<BoltMessage[]> {
    await this.waitFor(() => this.messages.length >= count, `${count} messages`, timeoutMs);
    return this.messages.splice(0, count);
  }

  /** Reads messages up to and including the first that is not a RECORD (the summary of one request). */
  async readSummary(timeoutMs = rawReadTimeoutMs): Promise<{ records: Value[][]; summary: BoltMessage }> {
    const records: Value[][] = [];
    for (;;) {
      const [m] = await this.read(1, timeoutMs);
      if (m === undefined) throw new Error('assertion: read(1) returned nothing');
      if (m.tag !== responseTag.RECORD) return { records, summary: m };
      records.push(m.fields[0] as Value[]);
    }
  }

  /** Messages received and not yet read. */
  get buffered(): number {
    return this.messages.length;
  }

  /** Stops reading from the socket (the server's writes back up). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Polite end: GOODBYE, then wait for the server to close. */
  async goodbye(): Promise<void> {
    this.send(boltRequest('GOODBYE'));
    await this.closedWithin(rawReadTimeoutMs);
    this.destroy();
  }

  /** Waits until the connection is closed or `ms` have passed; true when it is closed. */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
    return this.isClosed;
  }

  private async waitFor(ready: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.protocolError) throw this.protocolError;
      if (this.isClosed) throw new Error(`connection closed while waiting for ${what} (${this.messages.length} unread: ${this.messages.map(showMessage).join('; ')})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.messages.length} unread: ${this.messages.map(showMessage).join('; ')})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
      });
    }
    if (this.protocolError) throw this.protocolError;
  }
}

/** Connects, negotiates `version` (default 5.8) and logs in; returns the client in READY. */
export async function connectRaw(
  port: number,
  options: { version?: BoltVersion; principal?: string; credentials?: string } = {},
): Promise<RawBoltClient> {
  const version = options.version ?? { major: 5, minor: 8 };
  const c = new RawBoltClient(port);
  const auth = new Map<string, Value>([
    ['scheme', 'basic'],
    ['principal', options.principal ?? 'neo4j'],
    ['credentials', options.credentials ?? 'unused'],
  ]);
  const logonInHello = version.major < 5 || (version.major === 5 && version.minor === 0);
  const hello = new Map<string, Value>([['user_agent', 'quiver-raw/1']]);
  if (logonInHello) for (const [k, v] of auth) hello.set(k, v);
  c.send(Buffer.concat([handshakeFor(version), boltRequest('HELLO', hello), ...(logonInHello ? [] : [boltRequest('LOGON', auth)])]));
  const reply = await c.version();
  if (reply !== Buffer.from([0, 0, version.minor, version.major]).toString('hex')) {
    c.destroy();
    throw new Error(`server answered ${reply} to a handshake for Bolt ${formatVersion(version)}`);
  }
  const replies = await c.read(logonInHello ? 1 : 2);
  const failed = replies.find((m) => m.tag !== responseTag.SUCCESS);
  if (failed) {
    c.destroy();
    throw new Error(`login failed: ${showMessage(failed)}`);
  }
  return c;
}

/**
 * Replays a transcript (syntax of src/bolt/test-transcript.ts) over a socket. Consecutive C: lines
 * go out in one write, so they are pipelined and a RESET among them can jump ahead. Each S: line
 * matches the next message from the server; `*` matches anything. Of the STATE: lines only
 * `STATE: DEFUNCT` is observable from outside (the server closes the connection within the read
 * timeout); the others cannot be checked without changing the state and are skipped.
 * The transcript starts right after the handshake, which negotiates `version`.
 */
export async function runSocketTranscript(port: number, version: BoltVersion, transcript: string): Promise<void> {
  const c = new RawBoltClient(port);
  try {
    c.send(handshakeFor(version));
    const reply = await c.version();
    const expected = Buffer.from([0, 0, version.minor, version.major]).toString('hex');
    if (reply !== expected) throw new Error(`server answered ${reply} to a handshake for Bolt ${formatVersion(version)}`);
    const lines = transcript
      .split('\n')
      .map((l, i) => ({ text: l.trim(), lineNo: i + 1 }))
      .filter((l) => l.text !== '' && !l.text.startsWith('#'));
    let batch: Buffer[] = [];
    for (const { text, lineNo } of lines) {
      const [prefix, rest] = splitOnce(text);
      if (prefix === 'C:') {
        const [name, fieldsText] = splitOnce(rest);
        if (!(name in requestTag)) throw new Error(`line ${lineNo}: unknown request ${name}`);
        batch.push(boltRequest(name as keyof typeof requestTag, ...(parseValues(fieldsText, false) as Value[])));
        continue;
      }
      if (batch.length > 0) {
        c.send(Buffer.concat(batch));
        batch = [];
      }
      if (prefix === 'S:') {
        const [name, fieldsText] = splitOnce(rest);
        let actual: BoltMessage | undefined;
        try {
          [actual] = await c.read(1);
        } catch (e) {
          throw new Error(`line ${lineNo}: expected ${text}, but: ${(e as Error).message}`, { cause: e });
        }
        const expectedFields = parseValues(fieldsText, true);
        if (actual === undefined || actual.name !== name || !matches(expectedFields, actual.fields)) {
          throw new Error(`line ${lineNo}: expected ${text}\n  actual S: ${actual ? showMessage(actual) : 'nothing'}`);
        }
      } else if (prefix === 'STATE:') {
        if (rest === 'DEFUNCT') {
          if (!(await c.closedWithin(rawReadTimeoutMs))) throw new Error(`line ${lineNo}: expected the server to close the connection (DEFUNCT), it is still open`);
        }
      } else {
        throw new Error(`line ${lineNo}: cannot parse "${text}"`);
      }
    }
    if (batch.length > 0) c.send(Buffer.concat(batch));
    // Anything the server sent beyond the transcript is a mismatch too; give it a moment to arrive.
    await sleep(50);
    if (c.buffered > 0) {
      const extra = await c.read(c.buffered);
      throw new Error(`responses not matched by the transcript:\n${extra.map((m) => `  S: ${showMessage(m)}`).join('\n')}`);
    }
  } finally {
    c.destroy();
  }
}

function splitOnce(s: string): [string, string] {
  const i = s.search(/\s/);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i).trim()];
}

type Expected = ReturnType<typeof parseValues>[number];

/** Same rules as the in-memory runner: `*` (the parser's only symbol value) matches anything, maps match exactly. */
function matches(expected: Expected, actual: Value): boolean {
  if (typeof expected === 'symbol') return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matches(e, actual[i] as Value));
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map) || actual.size !== expected.size) return false;
    for (const [k, e] of expected) if (!actual.has(k) || !matches(e as Expected, actual.get(k) as Value)) return false;
    return true;
  }
  return expected === actual;
}

export function showMessage(m: BoltMessage): string {
  return `${m.name} ${m.fields.map(show).join(' ')}`;
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

