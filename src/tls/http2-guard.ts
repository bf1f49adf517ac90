/**
 * TLS policy enforcement around an HTTP/2 server made elsewhere (the backup service), kept out of that
 * server's code: installed with one call, it routes each connection by its first byte, answers a plaintext
 * client of a TLS port (and logs a TLS client of a plaintext port), judges each client certificate per
 * client_auth before any request reaches the server, and answers refused clients' requests with 403 and the
 * reason — so the client prints why instead of "connection reset". Every refusal is logged (rate-limited).
 */
import http2 from 'node:http2';
import type net from 'node:net';
import type tls from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import { interceptConnections, peerOf } from './first-byte.js';
import { firstByteTimeoutMs } from './limits.js';
import { classifyTlsError, judgePeer, type Refusal, refusalMessage, whoseFaultOnServer } from './refusal.js';
import { RefusalLog } from './refusal-log.js';
import { errorTable } from '../util/errors.js';

/** The JSON body of a refused request (the backup protocol's error body plus the reason word). */
export interface RefusalBody {
  code: 'TlsRefused';
  reason: Refusal['reason'];
  message: string;
}

/** HTTP status of a refused request (403: understood, and this client will not be served), from the error table. */
export const refusedStatus = errorTable.TlsRefused.httpStatus;

function peerAddressOf(socket: net.Socket): { host: string; address: string } {
  const { host, port } = peerOf(socket);
  return { host, address: `${host.includes(':') ? `[${host}]` : host}:${port}` };
}

/** An HTTP/2 session whose every request is answered with the refusal. */
function answerWithRefusal(session: http2.ServerHttp2Session, body: RefusalBody): void {
  session.on('error', () => undefined);
  session.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.respond({ ':status': refusedStatus, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body), () => session.close());
  });
  // A client that never sends a request must not hold the socket.
  setTimeout(() => session.destroy(), 10_000).unref();
}

export interface GuardOptions {
  policy: SslPolicy;
  /** How long a connection may stay silent before its first byte; 0: no limit. */
  handshakeTimeoutMs: number;
  /** One line, WARN level, already rate-limited. */
  logRefusal: (line: string) => void;
}

/** For a server made with http2.createSecureServer(serverTlsOptions(...)). */
export function guardTlsHttp2Server(server: http2.Http2SecureServer, o: GuardOptions): void {
  const refusals = new RefusalLog(o.logRefusal);
  const refuse = (socket: net.Socket, r: Refusal, whose: 'peer' | 'own' = 'peer'): RefusalBody => {
    const peer = peerAddressOf(socket);
    const message = refusalMessage(r, { policy: o.policy, side: 'server', whose, peerAddress: peer.address });
    refusals.refused(peer.host, r.reason, message);
    return { code: 'TlsRefused', reason: r.reason, message };
  };

  // Plaintext HTTP/2 on the TLS port: answered in plaintext HTTP/2, so the client can read why.
  const plainRefuser = http2.createServer();
  interceptConnections(server, 'tls', (socket) => {
    const body = refuse(socket, { reason: 'plain-to-tls' });
    plainRefuser.once('session', (session) => answerWithRefusal(session, body));
    plainRefuser.emit('connection', socket);
  }, o.handshakeTimeoutMs);
  server.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => refuse(socket, classifyTlsError(e), whoseFaultOnServer(e)));

  // The certificate check sits between the handshake and HTTP/2: http2 starts a session on 'secureConnection'.
  const startSession = server.listeners('secureConnection') as Array<(socket: tls.TLSSocket) => void>;
  server.removeAllListeners('secureConnection');
  const refusedSessions = http2.createSecureServer({ allowHTTP1: false });
  const startRefusedSession = refusedSessions.listeners('secureConnection') as Array<(socket: tls.TLSSocket) => void>;
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const refusal = judgePeer(socket, o.policy);
    if (refusal) {
      const body = refuse(socket, refusal);
      refusedSessions.once('session', (session) => answerWithRefusal(session, body));
      for (const l of startRefusedSession) l.call(refusedSessions, socket);
      return;
    }
    let requested = false;
    server.once('session', (session) => session.once('stream', () => (requested = true)));
    for (const l of startSession) l.call(server, socket);
    // A client that closes right after the handshake without a request most likely refused our certificate.
    socket.once('close', () => {
      if (!requested) refuse(socket, { reason: 'closed' });
    });
  });
}

/** For a plaintext server (policy disabled): a TLS client is logged with the settings to change. */
export function guardPlainHttp2Server(server: http2.Http2Server, o: GuardOptions): void {
  const refusals = new RefusalLog(o.logRefusal);
  const plainListeners = server.listeners('connection') as Array<(socket: net.Socket) => void>;
  interceptConnections(server, 'plain', (socket) => {
    const peer = peerAddressOf(socket);
    refusals.refused(peer.host, 'tls-to-plain', refusalMessage({ reason: 'tls-to-plain' }, { policy: o.policy, side: 'server', whose: 'peer', peerAddress: peer.address }));
    // The plaintext HTTP/2 answer makes the client's TLS stack fail with "wrong version number": it then knows.
    for (const l of plainListeners) l.call(server, socket);
  }, o.handshakeTimeoutMs);
}

export interface Http2PortTls {
  policy: SslPolicy;
  /** From context-options.ts serverTlsOptions; undefined: the policy is disabled and the port is plaintext. */
  options: tls.TlsOptions | undefined;
}

/** The HTTP/2 server of a port governed by `t.policy`, with the guard installed (the one call a service makes). */
export function createGuardedHttp2Server(t: Http2PortTls, logRefusal: (line: string) => void, handshakeTimeoutMs = firstByteTimeoutMs): http2.Http2Server | http2.Http2SecureServer {
  if (t.options === undefined) {
    const server = http2.createServer();
    guardPlainHttp2Server(server, { policy: t.policy, logRefusal, handshakeTimeoutMs });
    return server;
  }
  // 0 means no limit to the service; Node.js's TLS handshake timeout then keeps its default.
  const server = http2.createSecureServer({ ...t.options, allowHTTP1: false, ...(handshakeTimeoutMs > 0 ? { handshakeTimeout: handshakeTimeoutMs } : {}) });
  guardTlsHttp2Server(server, { policy: t.policy, logRefusal, handshakeTimeoutMs });
  return server;
}
