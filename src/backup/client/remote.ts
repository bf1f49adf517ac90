/**
 * Client side of the backup protocol: one HTTP/2 session to one server's backup service.
 * Every failure is a QuiverError that names the server and says what to check.
 */
import http2 from 'node:http2';
import { parseServerAddress, serverAddressExpected } from '../../config/listen-address.js';
import { type ErrorCode, isErrorCode, QuiverError } from '../../util/errors.js';
import { clientConnectTimeoutMsDefault, clientIdleTimeoutMsDefault, jsonResponseBytesMax } from '../limits.js';
import { type ClientTls, connectOptions, explainConnectError, explainRefusal, refusalReasonOf } from '../../tls/client-tls.js';
import { type DatabasesResponse, type ErrorBody, headers, paths, protocolVersion } from '../protocol/protocol.js';
import { checkDatabasesResponse, checkMetadataResponse, checkSnapshotHeaders, checkTransactionsHeaders, parseErrorBody, type SnapshotHeaders } from '../protocol/protocol-check.js';

/** How long the client waits for the server (backup.client.* settings; defaults in limits.ts). */
export interface ClientTimeouts {
  /** From dialling until the server's HTTP/2 SETTINGS arrive; 0: no limit. */
  connectTimeoutMs: number;
  /** Longest silence on a request: no answer, or no body bytes, for this long ends it; 0: no limit. */
  idleTimeoutMs: number;
}

export const defaultClientTimeouts: ClientTimeouts = { connectTimeoutMs: clientConnectTimeoutMsDefault, idleTimeoutMs: clientIdleTimeoutMsDefault };

/** Streams ended by the idle timeout: the reason their close gives is not the server's doing. */
const idleStreams = new WeakSet<http2.ClientHttp2Stream>();

/** After close(), a session still waiting for its streams is destroyed after this long, so that it never keeps the process alive. */
const closeGraceMs = 1000;
/**
 * HTTP/2 flow control: with the protocol's default 64 KiB window the server waits for a window
 * update every 64 KiB; a large window and frames keep a store image moving at disk speed.
 */
const sessionWindowBytes = 32 * 1024 * 1024;
const streamWindowBytes = 16 * 1024 * 1024;
const maxFrameBytes = 1024 * 1024;

/** A snapshot's checked headers (protocol-check.ts) and its body of encoded store image blocks. */
export interface SnapshotStream extends SnapshotHeaders {
  body: AsyncIterable<Buffer>;
}

export interface TransactionStream {
  lastTxId: number;
  body: AsyncIterable<Buffer>;
}

/** Host and port of a `--from` address; the CLI checked it already (cli/options.ts), this names the same problem for any other caller. */
export function parseHostPort(text: string): { host: string; port: number } {
  const parsed = parseServerAddress(text);
  if ('problem' in parsed) throw new QuiverError('UsageInvalid', `invalid server address "${text}": ${parsed.problem}`, { hint: serverAddressExpected });
  return parsed.address;
}

export class BackupConnection {
  /** The server said GOAWAY (it closes idle connections, server.backup.idle_timeout): the next request reconnects. */
  private goneAway = false;
  /** close() or destroy() was called: no more requests, and no reconnecting. */
  private ended = false;

  private constructor(
    readonly address: string,
    private session: http2.ClientHttp2Session,
    private readonly timeouts: ClientTimeouts,
    /** The client's dbms.ssl.policy.backup (tls/client-tls.ts); absent or disabled: plaintext. */
    private readonly tls: ClientTls | undefined,
  ) {
    this.watch(session);
  }

  /**
   * Connects and waits for the server's HTTP/2 SETTINGS: a port that accepts TCP but does not speak
   * HTTP/2 (or nothing at all) counts as unreachable after `connectTimeoutMs`.
   */
  static async connect(address: string, timeouts: ClientTimeouts = defaultClientTimeouts, tls?: ClientTls): Promise<BackupConnection> {
    return new BackupConnection(address, await openSession(address, timeouts, tls), timeouts, tls);
  }

  private watch(session: http2.ClientHttp2Session): void {
    session.on('error', () => undefined);
    session.once('goaway', () => {
      if (session === this.session) this.goneAway = true;
    });
  }

  /** The session for the next request: a new one when the server closed the last (it drops idle connections). */
  private async liveSession(): Promise<http2.ClientHttp2Session> {
    if (this.ended) throw unreachable(this.address, 'the connection was closed by this client');
    if (!this.goneAway && !this.session.closed && !this.session.destroyed) return this.session;
    this.session.destroy();
    this.session = await openSession(this.address, this.timeouts, this.tls);
    this.goneAway = false;
    this.watch(this.session);
    return this.session;
  }

  /** Ends the session once its streams are done; it is destroyed if they are not done within closeGraceMs. */
  close(): void {
    this.ended = true;
    const session = this.session;
    session.close();
    if (!session.destroyed) setTimeout(() => session.destroy(), closeGraceMs).unref();
  }

  /** Ends the session at once: every stream on it fails (the run was stopped, or a request failed). */
  destroy(): void {
    this.ended = true;
    this.session.destroy();
  }

  /** Sends a request and waits for the response headers, at most the idle timeout. `what` names the request in errors. */
  private async request(path: string, what: string): Promise<{ status: number; responseHeaders: http2.IncomingHttpHeaders; stream: http2.ClientHttp2Stream }> {
    const session = await this.liveSession();
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({ ':method': 'GET', ':path': path });
      } catch (e) {
        reject(unreachable(this.address, (e as Error).message, e));
        return;
      }
      if (this.timeouts.idleTimeoutMs > 0) {
        stream.setTimeout(this.timeouts.idleTimeoutMs, () => {
          idleStreams.add(stream);
          stream.close(http2.constants.NGHTTP2_CANCEL);
        });
      }
      stream.once('response', (h) => resolve({ status: Number(h[':status']), responseHeaders: h, stream }));
      stream.once('error', (e) => reject(unreachable(this.address, e.message, e)));
      stream.once('close', () => {
        if (idleStreams.has(stream)) reject(this.noAnswer(what));
        else if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && stream.rstCode !== http2.constants.NGHTTP2_CANCEL) {
          reject(unreachable(this.address, `the server reset the ${what} request (HTTP/2 error ${stream.rstCode}) before answering`));
        } else reject(unreachable(this.address, `the connection was lost before the server answered ${what}`));
      });
    });
  }

  private noAnswer(what: string): QuiverError {
    return new QuiverError('ServerUnreachable', `${what} from ${this.address} failed: no answer within ${seconds(this.timeouts.idleTimeoutMs)} (backup.client.idle_timeout)`, {
      hint: `check that the server at ${this.address} is running and not overloaded, and what its log says`,
    });
  }

  /** The whole body of a small response (JSON), bounded in bytes and by the idle timeout. */
  private async text(stream: http2.ClientHttp2Stream, what: string): Promise<string> {
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const c of stream) {
        bytes += (c as Buffer).length;
        if (bytes > jsonResponseBytesMax) {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          throw new QuiverError('BackupFailed', `${what} from ${this.address} failed: the answer is longer than ${jsonResponseBytesMax} bytes`);
        }
        chunks.push(c as Buffer);
      }
    } catch (e) {
      if (e instanceof QuiverError) throw e;
      throw unreachable(this.address, `${what} was interrupted: ${(e as Error).message}`, e);
    }
    if (idleStreams.has(stream)) throw this.noAnswer(what);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async failure(status: number, stream: http2.ClientHttp2Stream, what: string): Promise<QuiverError> {
    const text = await this.text(stream, what);
    // A TLS server that refused this client's certificate (or its plaintext) says why: tls/http2-guard.ts.
    const refusal = this.tls ? refusalReasonOf(status, text) : undefined;
    if (refusal) return explainRefusal(this.tls!, this.address, refusal.reason, refusal.message);
    const body = parseErrorBody(text);
    return new QuiverError(errorCodeOf(body), `${what} from ${this.address} failed: ${body.message ?? `HTTP status ${status}`}`, body.hint ? { hint: body.hint } : undefined);
  }

  /** A JSON answer, not yet checked: the caller checks its shape (protocol-check.ts). */
  private async json(path: string, what: string): Promise<unknown> {
    const { status, stream } = await this.request(path, what);
    if (status !== 200) throw await this.failure(status, stream, what);
    const text = await this.text(stream, what);
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new QuiverError('BackupFailed', `${what} from ${this.address} failed: the answer is not JSON`, { cause: e });
    }
  }

  async listDatabases(): Promise<DatabasesResponse> {
    const answer = await this.json(paths.databases, 'listing databases');
    // Another protocol version may have another shape: the version first.
    const protocol = typeof answer === 'object' && answer !== null ? (answer as { protocol?: unknown }).protocol : undefined;
    if (protocol !== protocolVersion) throw protocolMismatch(this.address, protocol);
    return checkDatabasesResponse(answer, this.address);
  }

  /** A server speaking another protocol version would send a body this client misreads: stop before reading it. */
  private checkProtocol(h: http2.IncomingHttpHeaders, stream: http2.ClientHttp2Stream): void {
    const version = h[headers.protocol];
    if (version === String(protocolVersion)) return;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    throw protocolMismatch(this.address, version);
  }

  async metadata(db: string, include: string): Promise<string[]> {
    return checkMetadataResponse(await this.json(paths.metadata(db, include), `exporting users and roles of "${db}"`), this.address, db);
  }

  async snapshot(db: string, blockRawBytes: number, compress: boolean): Promise<SnapshotStream> {
    const what = `store snapshot of "${db}"`;
    const { status, responseHeaders: h, stream } = await this.request(paths.snapshot(db, blockRawBytes, compress), what);
    if (status !== 200) throw await this.failure(status, stream, what);
    this.checkProtocol(h, stream);
    let checked: SnapshotHeaders;
    try {
      checked = checkSnapshotHeaders(h, this.address, db);
    } catch (e) {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      throw e;
    }
    // Listened for now: the trailer can arrive while earlier data still waits to be read.
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.once('trailers', (t) => (trailers = t));
    return { ...checked, body: this.body(stream, what, () => trailers) };
  }

  async transactions(db: string, fromTxId: number): Promise<TransactionStream> {
    // A stream, singular: "the transaction stream of "x" was interrupted", never "transactions … was".
    const what = `transaction stream of "${db}" (from tx ${fromTxId})`;
    const { status, responseHeaders: h, stream } = await this.request(paths.transactions(db, fromTxId), what);
    if (status !== 200) throw await this.failure(status, stream, what);
    this.checkProtocol(h, stream);
    let checked: { lastTxId: number };
    try {
      checked = checkTransactionsHeaders(h, this.address, db);
    } catch (e) {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      throw e;
    }
    return { ...checked, body: this.body(stream, `transaction stream of "${db}"`) };
  }

  /** `trailers`: for responses that end with an outcome trailer (snapshots), what arrived. */
  private async *body(stream: http2.ClientHttp2Stream, what: string, trailers?: () => http2.IncomingHttpHeaders | undefined): AsyncIterable<Buffer> {
    const hint = `check that the server at ${this.address} is still running and what its log says about the backup, then run the backup again`;
    try {
      for await (const chunk of stream) yield chunk as Buffer;
      // The body can end before the stream closes; only the close tells whether a reset ended it.
      if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    } catch (e) {
      throw new QuiverError('ServerUnreachable', `${what} from ${this.address} was interrupted: ${(e as Error).message}`, { cause: e, hint });
    }
    if (idleStreams.has(stream)) {
      throw new QuiverError('ServerUnreachable', `${what} from ${this.address} was interrupted: no data for ${seconds(this.timeouts.idleTimeoutMs)} (backup.client.idle_timeout)`, { hint });
    }
    if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
      // CANCEL (8) is also what the client sees when the connection drops (server process gone).
      const reason = stream.rstCode === http2.constants.NGHTTP2_CANCEL ? 'the stream was cancelled or the connection was lost' : `the server reset the stream, HTTP/2 error ${stream.rstCode}`;
      throw new QuiverError('ServerUnreachable', `${what} from ${this.address} was interrupted: ${reason}`, { hint });
    }
    if (trailers) {
      const outcome = trailers()?.[headers.outcome];
      if (outcome === 'complete') return;
      if (typeof outcome !== 'string') throw new QuiverError('ServerUnreachable', `${what} from ${this.address} was interrupted: the stream ended without saying it was complete`, { hint });
      const body = parseErrorBody(outcome);
      throw new QuiverError(errorCodeOf(body), `${what} from ${this.address} failed on the server: ${body.message ?? outcome}`, { hint: body.hint ?? hint });
    }
  }
}

/**
 * Dials `address` and resolves once the server's HTTP/2 SETTINGS arrived: a port that accepts TCP
 * but does not speak HTTP/2 (or nothing at all) counts as unreachable after `connectTimeoutMs`.
 */
function openSession(address: string, timeouts: ClientTimeouts, tls: ClientTls | undefined): Promise<http2.ClientHttp2Session> {
  const { host, port } = parseHostPort(address);
  const tlsOptions = tls ? connectOptions(tls, host) : undefined;
  const authority = `${tlsOptions ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, { ...tlsOptions, settings: { initialWindowSize: streamWindowBytes, maxFrameSize: maxFrameBytes } });
    let tcpConnected = false;
    const fail = (error: QuiverError) => {
      clearTimeout(timer);
      session.destroy();
      reject(error);
    };
    const timer =
      timeouts.connectTimeoutMs > 0
        ? setTimeout(() => {
            const waited = `within ${seconds(timeouts.connectTimeoutMs)}`;
            fail(tcpConnected ? unreachable(address, `no HTTP/2 answer ${waited} (the connection was accepted, but nothing came back)`, undefined, notBackupServiceHint) : unreachable(address, `no connection ${waited}`));
          }, timeouts.connectTimeoutMs)
        : undefined;
    session.once('connect', () => (tcpConnected = true));
    session.once('remoteSettings', () => {
      clearTimeout(timer);
      session.setLocalWindowSize(sessionWindowBytes);
      session.removeAllListeners('error');
      session.removeAllListeners('close');
      resolve(session);
    });
    session.once('error', (e) => fail((tls ? explainConnectError(tls, address, host, e) : undefined) ?? unreachable(address, (e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : e.message, e)));
    session.once('close', () => fail(unreachable(address, 'the connection was closed before the server answered', undefined, notBackupServiceHint)));
  });
}

/**
 * The code of a server's error: its own when the table knows it (the table is shared with the
 * server), except Internal, which on this side would read as a bug of quiver-admin.
 */
function errorCodeOf(body: Partial<ErrorBody>): ErrorCode {
  return isErrorCode(body.code) && body.code !== 'Internal' ? body.code : 'BackupFailed';
}

function protocolMismatch(address: string, version: unknown): QuiverError {
  const spoken = typeof version === 'number' || typeof version === 'string' ? `backup protocol version ${String(version).slice(0, 20)}` : 'no backup protocol version';
  return new QuiverError('BackupFailed', `the backup service at ${address} speaks ${spoken}, this quiver-admin speaks version ${protocolVersion}`, {
    hint: 'use the quiver-admin of the same Quiver version as the server',
  });
}

const notBackupServiceHint = 'check that --from names the backup service (server.backup.listen_address), not another port';

function unreachable(address: string, detail: string, cause?: unknown, hint = 'check that the server runs with server.backup.enabled=true and that server.backup.listen_address matches --from'): QuiverError {
  return new QuiverError('ServerUnreachable', `cannot reach the backup service at ${address}: ${detail}`, { hint, cause });
}

/** `10 s`, `2.5 s`. */
function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
