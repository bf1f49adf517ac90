/**
 * Client side of the backup protocol: one HTTP/2 session to one server's backup service.
 * Every failure is a QuiverError that names the server and says what to check.
 */
import http2 from 'node:http2';
import { type ClientTls, connectOptions, explainConnectError, explainRefusal } from '../tls/client-tls.js';
import { QuiverError } from '../util/errors.js';
import type { RefusalBody } from '../tls/http2-guard.js';
import { type DatabasesResponse, type ErrorBody, headers, paths, protocolVersion } from './protocol.js';

/** Connecting to a backup service that does not answer within this time counts as unreachable. */
const connectTimeoutMs = 10_000;
/** A stream with no data for this long is abandoned (the server checkpointing is fast: no long silences). */
const inactivityTimeoutMs = 120_000;
/**
 * HTTP/2 flow control: with the protocol's default 64 KiB window the server waits for a window
 * update every 64 KiB; a large window and frames keep a store image moving at disk speed.
 */
const sessionWindowBytes = 32 * 1024 * 1024;
const streamWindowBytes = 16 * 1024 * 1024;
const maxFrameBytes = 1024 * 1024;

export interface SnapshotStream {
  txId: number;
  txChecksum: number;
  txTimeMs: number;
  databaseId: string;
  storeId: string;
  payloadFormat: string;
  /** Raw bytes of the store image the body carries (as encoded blocks). */
  imageBytes: number;
  blockRawBytes: number;
  body: AsyncIterable<Buffer>;
}

export interface TransactionStream {
  lastTxId: number;
  body: AsyncIterable<Buffer>;
}

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new QuiverError('UsageInvalid', `invalid server address "${text}"`, { hint: 'use host:port, for example localhost:6362' });
  }
  return { host: m[1] ?? (m[2] || 'localhost'), port };
}

export class BackupConnection {
  private constructor(
    readonly address: string,
    private readonly session: http2.ClientHttp2Session,
    private readonly tls: ClientTls | undefined,
  ) {}

  /** `tls`: the client's dbms.ssl.policy.backup (tls/client-tls.ts); absent or disabled: plaintext. */
  static connect(address: string, tls?: ClientTls): Promise<BackupConnection> {
    const { host, port } = parseHostPort(address);
    const tlsOptions = tls ? connectOptions(tls, host) : undefined;
    const authority = `${tlsOptions ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return new Promise((resolve, reject) => {
      const session = http2.connect(authority, { ...tlsOptions, settings: { initialWindowSize: streamWindowBytes, maxFrameSize: maxFrameBytes } });
      const timer = setTimeout(() => {
        session.destroy();
        reject(unreachable(address, `no answer within ${connectTimeoutMs / 1000} s`));
      }, connectTimeoutMs);
      session.once('connect', () => {
        clearTimeout(timer);
        session.setLocalWindowSize(sessionWindowBytes);
        session.on('error', () => undefined);
        resolve(new BackupConnection(address, session, tls));
      });
      session.once('error', (e) => {
        clearTimeout(timer);
        const tlsFailure = tls ? explainConnectError(tls, address, host, e) : undefined;
        reject(tlsFailure ?? unreachable(address, (e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : e.message, e));
      });
    });
  }

  close(): void {
    this.session.close();
  }

  private request(path: string): Promise<{ status: number; responseHeaders: http2.IncomingHttpHeaders; stream: http2.ClientHttp2Stream }> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.session.request({ ':method': 'GET', ':path': path });
      } catch (e) {
        reject(unreachable(this.address, (e as Error).message, e));
        return;
      }
      stream.setTimeout(inactivityTimeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
      stream.once('response', (h) => resolve({ status: Number(h[':status']), responseHeaders: h, stream }));
      stream.once('error', (e) => reject(unreachable(this.address, e.message, e)));
      stream.once('close', () => reject(unreachable(this.address, 'the server closed the stream before answering')));
    });
  }

  private async failure(status: number, stream: http2.ClientHttp2Stream, what: string): Promise<QuiverError> {
    let text = '';
    for await (const c of stream) text += c.toString();
    const body = parseErrorBody(text);
    if (body.code === 'TlsRefused' && this.tls && body.reason) return explainRefusal(this.tls, this.address, body.reason, body.message ?? '');
    return new QuiverError(errorCodeOf(body), `${what} from ${this.address} failed: ${body.message ?? `HTTP status ${status}`}`, body.hint ? { hint: body.hint } : undefined);
  }

  private async json<T>(path: string, what: string): Promise<T> {
    const { status, stream } = await this.request(path);
    if (status !== 200) throw await this.failure(status, stream, what);
    let text = '';
    for await (const c of stream) text += c.toString();
    return JSON.parse(text) as T;
  }

  async listDatabases(): Promise<DatabasesResponse> {
    const list = await this.json<DatabasesResponse>(paths.databases, 'listing databases');
    if (list.protocol !== protocolVersion) throw protocolMismatch(this.address, list.protocol);
    return list;
  }

  /** A server speaking another protocol version would send a body this client misreads: stop before reading it. */
  private checkProtocol(h: http2.IncomingHttpHeaders, stream: http2.ClientHttp2Stream): void {
    const version = Number(h[headers.protocol]);
    if (version === protocolVersion) return;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    throw protocolMismatch(this.address, version);
  }

  async metadata(db: string, include: string): Promise<string[]> {
    const r = await this.json<{ commands: string[] }>(paths.metadata(db, include), `exporting users and roles of "${db}"`);
    return r.commands;
  }

  async snapshot(db: string, blockRawBytes: number, compress: boolean): Promise<SnapshotStream> {
    const { status, responseHeaders: h, stream } = await this.request(paths.snapshot(db, blockRawBytes, compress));
    if (status !== 200) throw await this.failure(status, stream, `store snapshot of "${db}"`);
    this.checkProtocol(h, stream);
    // Listened for now: the trailer can arrive while earlier data still waits to be read.
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.once('trailers', (t) => (trailers = t));
    return {
      payloadFormat: String(h[headers.payloadFormat]),
      imageBytes: Number(h[headers.imageBytes]),
      blockRawBytes: Number(h[headers.blockRawBytes]),
      txId: Number(h[headers.txId]),
      txChecksum: Number(h[headers.txChecksum]),
      txTimeMs: Number(h[headers.txTimeMs]),
      databaseId: String(h[headers.databaseId]),
      storeId: String(h[headers.storeId]),
      body: this.body(stream, `store snapshot of "${db}"`, () => trailers),
    };
  }

  async transactions(db: string, fromTxId: number): Promise<TransactionStream> {
    const { status, responseHeaders: h, stream } = await this.request(paths.transactions(db, fromTxId));
    if (status !== 200) throw await this.failure(status, stream, `transactions of "${db}" from tx ${fromTxId}`);
    return { lastTxId: Number(h[headers.lastTxId]), body: this.body(stream, `transactions of "${db}"`) };
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

/** An error body (protocol.ts `ErrorBody`) from a response or a trailer; empty when the text is not JSON. */
function parseErrorBody(text: string): Partial<ErrorBody & Pick<RefusalBody, 'reason'>> {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return {};
  }
}

/** Codes the server sends that keep their meaning here; any other is a failed backup. */
const knownServerCodes = ['DatabaseNotFound', 'TransactionsPruned', 'DatabaseUnavailable', 'UsageInvalid'] as const;

function errorCodeOf(body: Partial<ErrorBody>): (typeof knownServerCodes)[number] | 'BackupFailed' {
  return knownServerCodes.find((c) => c === body.code) ?? 'BackupFailed';
}

function protocolMismatch(address: string, version: number): QuiverError {
  return new QuiverError('BackupFailed', `the backup service at ${address} speaks backup protocol version ${version}, this quiver-admin speaks version ${protocolVersion}`, {
    hint: 'use the quiver-admin of the same Quiver version as the server',
  });
}

function unreachable(address: string, detail: string, cause?: unknown): QuiverError {
  return new QuiverError('ServerUnreachable', `cannot reach the backup service at ${address}: ${detail}`, {
    hint: 'check that the server runs with server.backup.enabled=true and that server.backup.listen_address matches --from',
    cause,
  });
}
