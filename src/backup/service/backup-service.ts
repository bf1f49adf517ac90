/**
 * The backup service: an HTTP/2 listener that lets `quiver-admin database backup` list databases,
 * stream a consistent store image (read and compressed in worker threads), stream committed transactions,
 * and export security metadata. It never stages a copy of the store on the server's disk.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type tls from 'node:tls';
import type { Dbms } from '../../kernel/dbms.js';
import { createGuardedHttp2Server, type Http2PortTls } from '../../tls/http2-guard.js';
import { exportSecurityMetadata } from '../../security/metadata-export.js';
import { isQuiverError, QuiverError, toQuiverError } from '../../util/errors.js';
import type { Database } from '../../kernel/database.js';
import {
  blockRawBytesDefault,
  blockRawBytesMax,
  serviceConcurrentStreamsMaxDefault,
  serviceHandshakeTimeoutMsDefault,
  serviceIdleTimeoutMsDefault,
  serviceStallTimeoutMsDefault,
} from '../limits.js';
import { LoadPacer } from './load-pacer.js';
import { pause, RatePacer } from './rate-pacer.js';
import { type BackupCpuPriority, captureLiveImage, type FreePagesReport, readImageBlocks, type StoreImageSnapshot, storeImagePayloadFormat } from './store-image.js';
import { type DatabasesResponse, type ErrorBody, headers, protocolVersion, type RemoteDatabase } from '../protocol/protocol.js';

/** Smallest block a client may ask for: below this the per-block overhead dominates. */
const blockRawBytesMin = 64 * 1024;
/** Transactions are batched into writes of at most this size (one larger transaction goes alone). */
const txBatchBytes = 1024 * 1024;

export interface BackupServiceOptions {
  host: string;
  port: number;
  dbms: Dbms;
  serverId: string;
  maxRateBytesPerSec: number;
  /** server.backup.max_rate_under_load: store bytes per second of a FULL while its database commits; 0 or absent: no such limit. */
  maxRateUnderLoadBytesPerSec?: number;
  /** server.backup.cpu_priority; default 'idle'. */
  cpuPriority?: BackupCpuPriority;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** dbms.ssl.policy.backup: TLS (or plaintext, with TLS clients told so) per tls/http2-guard.ts; absent: plain HTTP/2 (unit tests). */
  tls?: Http2PortTls | undefined;
  /** server.backup.max_concurrent and the server.backup.*_timeout settings; default: the limits.ts defaults. */
  limits?: Partial<ServiceLimits>;
}

/** What the service allows its clients (docs/backup-protocol.md, "Server limits"). A timeout of 0 is no limit. */
export interface ServiceLimits {
  /** Snapshot and transaction streams served at once. */
  streamsMax: number;
  /** A backup stream whose client reads nothing for this long is dropped. */
  stallTimeoutMs: number;
  /** A connection must complete the HTTP/2 handshake and send a request within this time. */
  handshakeTimeoutMs: number;
  /** A connection with no open request for this long is closed. */
  idleTimeoutMs: number;
}

const defaultLimits: ServiceLimits = {
  streamsMax: serviceConcurrentStreamsMaxDefault,
  stallTimeoutMs: serviceStallTimeoutMsDefault,
  handshakeTimeoutMs: serviceHandshakeTimeoutMsDefault,
  idleTimeoutMs: serviceIdleTimeoutMsDefault,
};

/** Per service: the limits, and the backup streams being served. */
interface ServiceState {
  limits: ServiceLimits;
  activeStreams: number;
}

export interface BackupService {
  address: { host: string; port: number };
  /** New TLS connections use these options (rotated certificates); open ones, and the backups they carry, keep theirs. */
  setTlsOptions(options: tls.TlsOptions): void;
  close(): Promise<void>;
}

export async function startBackupService(opts: BackupServiceOptions): Promise<BackupService> {
  const state: ServiceState = { limits: { ...defaultLimits, ...opts.limits }, activeStreams: 0 };
  // The handshake timeout also bounds the TLS handshake and the wait for a connection's first byte (tls/first-byte.ts).
  const server = opts.tls ? createGuardedHttp2Server(opts.tls, (line) => opts.log('warn', `backup service: ${line}`), state.limits.handshakeTimeoutMs) : http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    watchSession(s, state.limits);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  server.on('stream', (stream, reqHeaders) => {
    stream.on('error', () => undefined);
    handle(opts, state, stream, reqHeaders).catch((e) => {
      const err = toQuiverError(e);
      if (err.code === 'Internal') opts.log('error', `backup service: ${err.message}`);
      // After the headers only a reset reaches the client, without the reason: the log keeps it.
      else if (stream.headersSent) opts.log('warn', `backup service: ${err.message}; the stream was reset`);
      sendError(stream, err);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    address: { host: addr.address, port: addr.port },
    setTlsOptions(o: tls.TlsOptions): void {
      if (opts.tls?.options === undefined) throw new Error('assertion failed: setTlsOptions on a backup service without TLS');
      (server as http2.Http2SecureServer).setSecureContext(o);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Closes connections that hold a socket for nothing: one that has not sent a valid request within
 * the handshake timeout (HTTP/1 text, a partial preface, random bytes, silence: nghttp2 closes some
 * at once, this closes the rest), and one with no open request for the idle timeout.
 */
function watchSession(session: http2.ServerHttp2Session, limits: ServiceLimits): void {
  let openStreams = 0;
  const handshake = limits.handshakeTimeoutMs > 0 ? setTimeout(() => session.destroy(), limits.handshakeTimeoutMs) : undefined;
  session.on('stream', (stream) => {
    clearTimeout(handshake);
    openStreams += 1;
    stream.once('close', () => (openStreams -= 1));
  });
  if (limits.idleTimeoutMs > 0) {
    // Fires after that long without a frame either way; a stream that is open but silent is the stall timeout's.
    session.setTimeout(limits.idleTimeoutMs, () => {
      if (openStreams > 0) return;
      session.close();
      setTimeout(() => session.destroy(), 1000).unref();
    });
  }
  session.once('close', () => clearTimeout(handshake));
}

/** Counts a backup stream against server.backup.max_concurrent for as long as `serve` runs, or refuses it. */
async function asBackupStream(state: ServiceState, serve: () => Promise<void>): Promise<void> {
  if (state.activeStreams >= state.limits.streamsMax) {
    throw new QuiverError('BackupBusy', `the server is serving ${state.activeStreams} backups already (server.backup.max_concurrent=${state.limits.streamsMax})`, {
      hint: 'run the backup again once one of them has finished, or raise server.backup.max_concurrent on the server',
    });
  }
  state.activeStreams += 1;
  try {
    await serve();
  } finally {
    state.activeStreams -= 1;
  }
}

function sendError(stream: http2.ServerHttp2Stream, e: QuiverError): void {
  if (stream.destroyed || stream.closed) return;
  const body: ErrorBody = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  if (!stream.headersSent) {
    stream.respond({ ':status': e.httpStatus, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body));
  } else {
    // Mid-stream failure: reset so the client cannot mistake a partial body for a complete one.
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}

function sendJson(stream: http2.ServerHttp2Stream, body: unknown): void {
  stream.respond({ ':status': 200, 'content-type': 'application/json', [headers.protocol]: String(protocolVersion) });
  stream.end(JSON.stringify(body));
}

async function handle(opts: BackupServiceOptions, state: ServiceState, stream: http2.ServerHttp2Stream, reqHeaders: http2.IncomingHttpHeaders): Promise<void> {
  const url = new URL(String(reqHeaders[':path'] ?? '/'), 'http://backup');
  if (reqHeaders[':method'] !== 'GET') throw new QuiverError('UsageInvalid', `method ${reqHeaders[':method']} is not supported`);
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'v1' || parts[1] !== 'databases') throw new QuiverError('UsageInvalid', `unknown backup protocol path "${url.pathname}"`);
  if (parts.length === 2) return sendJson(stream, listDatabases(opts));
  const dbName = parts[2]!;
  const db = opts.dbms.database(dbName);
  switch (parts[3]) {
    case 'snapshot':
      return asBackupStream(state, () => streamSnapshot(opts, state.limits, stream, db, url));
    case 'transactions': {
      const from = Number(url.searchParams.get('from'));
      if (!Number.isSafeInteger(from) || from < 1) throw new QuiverError('UsageInvalid', `invalid "from" transaction id "${url.searchParams.get('from')}"`);
      return asBackupStream(state, () => streamTransactions(opts, state.limits, stream, db, from));
    }
    case 'metadata': {
      const include = url.searchParams.get('include') ?? 'all';
      if (include !== 'all' && include !== 'users' && include !== 'roles') throw new QuiverError('UsageInvalid', `invalid metadata selection "${include}": use all, users or roles`);
      return sendJson(stream, { include, commands: exportSecurityMetadata(opts.dbms.systemDatabase(), db.name, include) });
    }
    default:
      throw new QuiverError('UsageInvalid', `unknown backup protocol path "${url.pathname}"`);
  }
}

function listDatabases(opts: BackupServiceOptions): DatabasesResponse {
  const dbs: RemoteDatabase[] = [];
  for (const e of opts.dbms.entries()) {
    let info: RemoteDatabase = {
      name: e.name,
      databaseId: e.databaseId,
      storeId: '',
      status: e.currentStatus,
      role: 'primary',
      lastCommittedTxId: 0,
      lastCommittedChecksum: 0,
      lastCommitTimeMs: 0,
      oldestTxIdInLog: 0,
    };
    if (e.currentStatus === 'online') {
      try {
        const db = opts.dbms.database(e.name);
        const i = db.info();
        // The used part, up to the last page: data.mdb is longer by its headroom (storage/file-headroom.ts).
        info = { ...info, storeBytes: db.store.usedBytes(), databaseId: i.databaseId, storeId: i.storeId, lastCommittedTxId: i.lastCommittedTxId, lastCommittedChecksum: i.lastCommittedChecksum, lastCommitTimeMs: i.lastCommitTimeMs, oldestTxIdInLog: i.oldestTxIdInLog };
      } catch (err) {
        if (!isQuiverError(err, 'DatabaseUnavailable')) throw err;
        info.status = 'offline';
      }
    }
    dbs.push(info);
  }
  return { protocol: protocolVersion, serverId: opts.serverId, databases: dbs };
}

/**
 * Waits until the stream takes more data. False when its client read nothing for `stallTimeoutMs`:
 * the stream is then reset, and the caller stops.
 */
function waitDrain(stream: http2.ServerHttp2Stream, stallTimeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (drained: boolean) => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onDrain);
      if (!drained) stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve(drained);
    };
    const onDrain = () => done(true);
    const timer = stallTimeoutMs > 0 ? setTimeout(() => done(false), stallTimeoutMs) : undefined;
    stream.on('drain', onDrain);
    stream.on('close', onDrain);
  });
}

/** Who is at the other end of a stream, for log lines. */
function peerOf(stream: http2.ServerHttp2Stream): string {
  const socket = stream.session?.socket;
  return socket?.remoteAddress !== undefined ? `${socket.remoteAddress}:${socket.remotePort}` : 'a client';
}

function stalledLine(what: string, peer: string, limits: ServiceLimits, extra: string): string {
  return `backup service: dropped the ${what} for ${peer}: the client read nothing for ${limits.stallTimeoutMs / 1000} s (server.backup.stall_timeout)${extra}`;
}

/**
 * Streams the store image of one database (store-image.ts): captured here, on the thread that
 * applies writes, then read and compressed by worker threads while the database keeps committing.
 */
async function streamSnapshot(opts: BackupServiceOptions, limits: ServiceLimits, stream: http2.ServerHttp2Stream, db: Database, url: URL): Promise<void> {
  const block = url.searchParams.get('block') ?? String(blockRawBytesDefault);
  const blockRawBytes = Number(block);
  if (!Number.isSafeInteger(blockRawBytes) || blockRawBytes < blockRawBytesMin || blockRawBytes > blockRawBytesMax) {
    throw new QuiverError('UsageInvalid', `invalid block size "${block}": use ${blockRawBytesMin} to ${blockRawBytesMax} bytes`);
  }
  const compression = url.searchParams.get('compress') ?? 'zstd';
  if (compression !== 'zstd' && compression !== 'none') throw new QuiverError('UsageInvalid', `invalid compression "${compression}": use zstd or none`);
  const peer = peerOf(stream);
  const snapshot = await captureLiveImage(db);
  let stalled = false;
  // The body ends with a trailer saying whether the image is complete: a failure after the headers
  // then reaches the client with its reason, which a stream reset cannot carry.
  let outcome = 'complete';
  stream.on('wantTrailers', () => stream.sendTrailers({ [headers.outcome]: outcome }));
  try {
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/octet-stream',
        [headers.txId]: String(snapshot.tx.txId),
        [headers.txChecksum]: String(snapshot.tx.txChecksum),
        [headers.txTimeMs]: String(snapshot.tx.txTimeMs),
        [headers.databaseId]: db.databaseId,
        [headers.storeId]: db.store.meta().storeId,
        [headers.payloadFormat]: storeImagePayloadFormat,
        [headers.imageBytes]: String(snapshot.bytes),
        [headers.blockRawBytes]: String(blockRawBytes),
        [headers.protocol]: String(protocolVersion),
      },
      { waitForTrailers: true },
    );
    try {
      stalled = !(await sendImage(opts, limits, stream, db, snapshot, blockRawBytes, compression === 'zstd'));
    } catch (e) {
      const err = isQuiverError(e) ? e : new QuiverError('BackupFailed', `reading the store image of database "${db.name}" failed: ${(e as Error).message}`, { cause: e });
      opts.log('warn', `backup service: ${err.message}; the snapshot stream ends with this error`);
      const body: ErrorBody = { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
      outcome = JSON.stringify(body);
    }
    if (!stream.destroyed) stream.end();
  } finally {
    snapshot.release();
    if (stalled) opts.log('warn', stalledLine(`store snapshot of database "${db.name}" at transaction ${snapshot.tx.txId}`, peer, limits, '; its read transaction is released'));
  }
}

/**
 * Sends the image's blocks in order, with back-pressure; returns early when the client goes away.
 * False when the client stopped reading (the stream was dropped).
 */
async function sendImage(opts: BackupServiceOptions, limits: ServiceLimits, stream: http2.ServerHttp2Stream, db: Database, snapshot: StoreImageSnapshot, blockRawBytes: number, compress: boolean): Promise<boolean> {
  const onFreePages = (r: FreePagesReport) => {
    if (r.problem === undefined) opts.log('info', `backup service: store image of database "${db.name}" at transaction ${snapshot.tx.txId}: ${r.pages} of ${snapshot.head.pageCount} pages are free and go out as zeros`);
    else opts.log('warn', `backup service: the free-page list of database "${db.name}" could not be read (${r.problem}); its store image copies free pages as they are`);
  };
  const blocks = readImageBlocks(snapshot, { blockRawBytes, compress, maxRateBytesPerSec: opts.maxRateBytesPerSec, priority: opts.cpuPriority ?? 'idle', onFreePages });
  // Closing the database ends the read transaction that keeps the image's pages from being reused:
  // an image read across a STOP (and a START that writes) could mix two states. Fail instead.
  const stoppedMeanwhile = () => {
    // DROP DATABASE closes it too: gone from the DBMS (or replaced by another of the same name) means dropped.
    const now = opts.dbms.entries().find((e) => e.name === db.name);
    if (now === undefined || now.databaseId !== db.databaseId) {
      return new QuiverError('DatabaseNotFound', `database "${db.name}" was dropped while its store image was being read`, {
        hint: 'there is nothing left to back up: if the drop was a mistake, restore the database from an earlier backup',
      });
    }
    return new QuiverError('DatabaseUnavailable', `database "${db.name}" was stopped while its store image was being read`, { hint: 'run the backup again once the database is online' });
  };
  const pacer = new LoadPacer(() => db.lastCommittedTxId(), opts.maxRateUnderLoadBytesPerSec ?? 0);
  for await (const b of blocks) {
    // Paced by the bytes read from the disk: a stretch of free pages (sent as zeros) goes at once.
    await pause(pacer.delayFor(b.readBytes));
    if (stream.destroyed) {
      opts.log('warn', `backup service: snapshot stream closed by the client before the end (database "${db.name}")`);
      return true;
    }
    if (db.closingOrClosed) throw stoppedMeanwhile();
    if (!stream.write(b.encoded) && !(await waitDrain(stream, limits.stallTimeoutMs))) return false;
  }
  if (db.closingOrClosed) throw stoppedMeanwhile();
  return true;
}

async function streamTransactions(
  opts: BackupServiceOptions,
  limits: ServiceLimits,
  stream: http2.ServerHttp2Stream,
  db: { name: string; log: { lastTxId: number; readRaw(a: number, b: number): Generator<{ raw: Buffer }> }; lastCommittedTxId(): number },
  fromTxId: number,
): Promise<void> {
  const maxRateBytesPerSec = opts.maxRateBytesPerSec;
  const peer = peerOf(stream);
  let stalled = false;
  const last = db.lastCommittedTxId();
  // Validate before sending headers so that a pruned range is a clean 410, not a broken stream.
  const records = db.log.readRaw(fromTxId, last);
  let first: IteratorResult<{ raw: Buffer }> | undefined;
  if (fromTxId <= last) first = records.next();
  stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', [headers.lastTxId]: String(last), [headers.protocol]: String(protocolVersion) });
  const batch: Buffer[] = [];
  let batchBytes = 0;
  // server.backup.max_rate paces this stream as it paces store images (store-image-worker.ts).
  const pacer = new RatePacer(maxRateBytesPerSec);
  const flush = async () => {
    if (!batch.length || stalled) return;
    const bytes = Buffer.concat(batch);
    batch.length = 0;
    batchBytes = 0;
    // A batch can be far over txBatchBytes (one large transaction record ends it): it leaves in
    // pieces of txBatchBytes, each paced, or a DIFF of a few large transactions would go unpaced.
    for (let offset = 0; offset < bytes.length; offset += txBatchBytes) {
      const piece = bytes.subarray(offset, offset + txBatchBytes);
      if (stream.destroyed) return;
      const ok = stream.write(piece);
      if (!ok && !(await waitDrain(stream, limits.stallTimeoutMs))) {
        stalled = true;
        return;
      }
      await pause(pacer.delayAfter(piece.length));
    }
  };
  if (first && !first.done) {
    batch.push(first.value.raw);
    batchBytes += first.value.raw.length;
    for (const { raw } of { [Symbol.iterator]: () => records }) {
      if (stream.destroyed || stalled) {
        if (stalled) opts.log('warn', stalledLine(`transactions of database "${db.name}" from tx ${fromTxId}`, peer, limits, ''));
        return;
      }
      // Flush before a batch outgrows txBatchBytes, not after: the pacer lets each batch go whole, so one
      // batch holding a whole small DIFF would leave unpaced (test/backup-crash.test.ts).
      if (batchBytes > 0 && batchBytes + raw.length > txBatchBytes) await flush();
      batch.push(raw);
      batchBytes += raw.length;
    }
  }
  await flush();
  if (stalled) {
    opts.log('warn', stalledLine(`transactions of database "${db.name}" from tx ${fromTxId}`, peer, limits, ''));
    return;
  }
  if (!stream.destroyed) stream.end();
}
