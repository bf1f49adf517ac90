/**
 * One client socket around a BoltSession: handshake, framing, decoding, writing, back-pressure.
 * Requests run one at a time in arrival order. While a request runs, reading goes on until one more
 * request is queued (so a RESET or a closed socket is seen and stops a running statement at its next
 * slice), then pauses; it also pauses while the client is not draining our writes, so neither side
 * can make us buffer without bound. Malformed input closes this connection only (with a log line);
 * closing always rolls back open work.
 */
import type { Socket } from 'node:net';
import { toQuiverError } from '../util/errors.js';
import type { BoltBackend } from './backend.js';
import { Dechunker, chunk } from './chunking.js';
import { type BoltVersion, chooseVersion, encodeVersion, formatVersion, handshakeBytes, parseHandshake } from './handshake.js';
import { closeLingerMs, handshakeTimeoutMs, requestQueueMessagesMax, socketWriteBytesHighWater, writeCoalesceBytesMax } from './limits.js';
import { type DecodedRequest, type Response, decodeRequest, encodeResponse } from './messages.js';
import { PackStreamWriter } from './packstream.js';
import { BoltSession } from './session.js';

export interface ConnectionOptions {
  backend: BoltBackend;
  advertisedAddress: string;
  connectionId: string;
  /** Versions we offer, in preference order. */
  versions: readonly BoltVersion[];
  log: (line: string) => void;
}

/** Lets timers and other sockets' I/O run before we continue. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Socket errors that only mean the client went away. */
const disconnectCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

export class BoltConnection {
  /** Resolves once the socket is closed and the session has rolled back whatever was open. */
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private phase: 'handshake' | 'bolt' | 'closing' = 'handshake';
  private handshakeBuffer = new Uint8Array(0);
  private readonly handshakeTimer: NodeJS.Timeout;
  private version: BoltVersion | null = null;
  private session: BoltSession | null = null;
  private readonly dechunker = new Dechunker();
  private readonly writer = new PackStreamWriter({ elementIds: true, utcDateTime: true });
  private queue: DecodedRequest[] = [];
  private busy = false;
  private socketClosed = false;
  private cleanedUp = false;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.setNoDelay(true);
    socket.on('data', (bytes: Buffer) => this.onData(bytes));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (!disconnectCodes.has(e.code ?? '')) this.log(`socket error: ${e.message}`);
    });
    socket.on('close', () => this.onClose());
    this.handshakeTimer = setTimeout(() => this.abort(`no Bolt handshake within ${handshakeTimeoutMs} ms`), handshakeTimeoutMs);
  }

  /** Closes the socket now; `closed` resolves after cleanup. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(bytes: Uint8Array): void {
    try {
      if (this.phase === 'handshake') this.onHandshakeBytes(bytes);
      else if (this.phase === 'bolt') this.onBoltBytes(bytes);
    } catch (e) {
      const error = toQuiverError(e);
      this.abort(error.hint ? `${error.message} (hint: ${error.hint})` : error.message);
    }
  }

  private onHandshakeBytes(bytes: Uint8Array): void {
    const buffered = new Uint8Array(this.handshakeBuffer.length + bytes.length);
    buffered.set(this.handshakeBuffer);
    buffered.set(bytes, this.handshakeBuffer.length);
    if (buffered.length < handshakeBytes) {
      this.handshakeBuffer = buffered;
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.handshakeBuffer = new Uint8Array(0);
    const proposals = parseHandshake(buffered);
    const version = chooseVersion(proposals, this.options.versions);
    this.socket.write(encodeVersion(version));
    if (version === null) {
      const offered = proposals.map((p) => `${p.major}.${p.minor}-${p.range}`).join(', ');
      this.log(`closing: no common Bolt version (client offered ${offered})`);
      this.endGracefully();
      return;
    }
    this.version = version;
    this.session = new BoltSession({
      backend: this.options.backend,
      version,
      connectionId: this.options.connectionId,
      advertisedAddress: this.options.advertisedAddress,
      clientAddress: `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`,
    });
    this.phase = 'bolt';
    // The client may pipeline HELLO right behind the handshake, in the same read.
    if (buffered.length > handshakeBytes) this.onBoltBytes(buffered.subarray(handshakeBytes));
  }

  private onBoltBytes(bytes: Uint8Array): void {
    const session = this.session;
    const version = this.version;
    if (session === null || version === null) return;
    for (const body of this.dechunker.push(bytes)) {
      const request = decodeRequest(body, version);
      // Jump-ahead RESET: everything queued before it will be IGNORED.
      if (request.type === 'RESET') session.interrupt();
      this.queue.push(request);
    }
    if (this.queue.length > requestQueueMessagesMax) {
      throw new Error(`more than ${requestQueueMessagesMax} pipelined requests in one read`);
    }
    if (this.busy) {
      // Enough to see a RESET (already signalled above) or the client going away; no more.
      if (this.queue.length > 0) this.socket.pause();
      return;
    }
    if (this.queue.length > 0) void this.pump();
  }

  /** Runs queued requests in order; reading stays paused until the queue is empty and writes drained. */
  private async pump(): Promise<void> {
    const session = this.session;
    if (session === null) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.socketClosed) {
        const request = this.queue.shift() as DecodedRequest;
        // Read while it runs, until a request queues behind it (onBoltBytes pauses again).
        if (this.queue.length === 0 && this.socket.writableLength <= socketWriteBytesHighWater) this.socket.resume();
        await session.handleInto(request, this.emit);
        if (session.state === 'DEFUNCT') {
          this.flush();
          this.endGracefully();
          break;
        }
      }
      this.flush();
      if (this.socket.writableLength > socketWriteBytesHighWater) {
        this.socket.pause();
        await this.drained();
      }
    } catch (e) {
      this.log(`closing after an internal error: ${toQuiverError(e).message}`);
      this.socket.destroy();
    } finally {
      this.busy = false;
    }
    if (this.socketClosed) await this.cleanup();
    else if (this.phase === 'bolt') {
      this.socket.resume();
      // Requests may have been queued while the last one finished (never while paused, but cheap to check).
      if (this.queue.length > 0) void this.pump();
    }
  }

  /** The session's sink: encode at once (so encoding errors surface in the session), coalesce writes. */
  private readonly emit = (response: Response): void | Promise<void> => {
    const session = this.session;
    const version = this.version;
    if (session === null || version === null || this.socketClosed) return;
    this.writer.options = session.structureOptions;
    const framed = chunk(encodeResponse(response, this.writer, version));
    this.pending.push(framed);
    this.pendingBytes += framed.length;
    // Responses to pipelined requests that finish in one turn still go out in one write; a
    // response ahead of a long request (RUN's SUCCESS before its PULL) goes out at its first pause.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    if (this.pendingBytes >= writeCoalesceBytesMax) {
      this.flush();
      if (this.socket.writableLength > socketWriteBytesHighWater) return this.drained();
      // A client that reads as fast as we write never fills the socket buffer, so the wait above
      // never happens: without this turn of the event loop, one long result would starve every
      // other connection (and this one's own close) until it ends.
      return yieldToEventLoop();
    }
  };

  private flush(): void {
    if (this.pending.length === 0) return;
    const bytes = this.pending.length === 1 ? (this.pending[0] as Uint8Array) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.socketClosed && !this.socket.destroyed) this.socket.write(bytes);
  }

  private drained(): Promise<void> {
    if (this.socketClosed || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private onClose(): void {
    this.socketClosed = true;
    this.phase = 'closing';
    clearTimeout(this.handshakeTimer);
    this.queue = [];
    this.pending = [];
    // Stop a running PULL between steps; the pump cleans up when it returns.
    this.session?.interrupt();
    if (!this.busy) void this.cleanup();
  }

  private async cleanup(): Promise<void> {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    try {
      await this.session?.close();
    } catch (e) {
      this.log(`rolling back on close failed: ${toQuiverError(e).message}`);
    }
    this.resolveClosed();
  }

  /**
   * Ends our side after the last response. Reading resumes (input is discarded) so the client's
   * close is noticed and unread bytes do not turn our FIN into a reset that could lose the last
   * FAILURE; a client that never closes is dropped after closeLingerMs.
   */
  private endGracefully(): void {
    this.phase = 'closing';
    this.queue = [];
    this.socket.end();
    this.socket.resume();
    setTimeout(() => this.socket.destroy(), closeLingerMs).unref();
  }

  /** Malformed input or a stuck client: log why and drop this connection only. */
  private abort(reason: string): void {
    if (this.phase === 'closing') return;
    this.phase = 'closing';
    const version = this.version ? ` (Bolt ${formatVersion(this.version)})` : '';
    this.log(`closing${version}: ${reason}`);
    this.socket.destroy();
  }

  private log(line: string): void {
    this.options.log(`bolt ${this.options.connectionId} ${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}: ${line}`);
  }
}
