/**
 * One port, two protocols: a TLS connection begins with a handshake record (content type 0x16); Bolt begins
 * with its magic 0x60 0x60 0xB0 0x17 and HTTP/2 with "PRI * HTTP/2.0". These helpers read the first byte of
 * a connection, put it back, and hand the socket to the TLS or the plain side. They serve
 * `server.bolt.tls_level=OPTIONAL`, and let a TLS-only port answer a plaintext client (and the reverse)
 * with the reason instead of garbage.
 */
import net from 'node:net';
import { firstByteTimeoutMs } from './limits.js';

/** First byte of a TLS record carrying a handshake message (RFC 8446 §5.1: ContentType.handshake). */
export const tlsHandshakeRecordType = 0x16;

export interface FirstByteHandlers {
  /** The socket is paused with the first bytes unshifted; emit it as 'connection' on a tls/http2 server, or resume it. */
  tls(socket: net.Socket): void;
  plain(socket: net.Socket): void;
  /** The peer sent nothing within the timeout; the socket is destroyed after this. */
  silent?(socket: net.Socket): void;
}

const peers = new WeakMap<net.Socket, { host: string; port: number }>();

/**
 * The peer of a routed socket, or of the TLS socket wrapping one, even after it closed: a refused handshake is
 * logged once the socket is gone, when Node.js no longer knows the address.
 */
export function peerOf(socket: net.Socket): { host: string; port: number } {
  const parent = (socket as net.Socket & { _parent?: net.Socket })._parent;
  return peers.get(socket) ?? (parent ? peers.get(parent) : undefined) ?? { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
}

/** Waits for the socket's first bytes and calls the handler for its protocol. */
export function routeByFirstByte(socket: net.Socket, handlers: FirstByteHandlers, timeoutMs = firstByteTimeoutMs): void {
  peers.set(socket, { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
  // Until a protocol owns the socket, its errors (a reset from a port scanner) are nobody's business.
  const ignore = () => undefined;
  socket.on('error', ignore);
  socket.setTimeout(timeoutMs, () => {
    handlers.silent?.(socket);
    socket.destroy();
  });
  socket.once('data', (chunk: Buffer) => {
    socket.pause();
    socket.unshift(chunk);
    socket.setTimeout(0);
    socket.off('error', ignore);
    if (chunk[0] === tlsHandshakeRecordType) handlers.tls(socket);
    else handlers.plain(socket);
  });
}

export function firstByteServer(handlers: FirstByteHandlers, timeoutMs = firstByteTimeoutMs): net.Server {
  return net.createServer((socket) => routeByFirstByte(socket, handlers, timeoutMs));
}

/**
 * Puts the first-byte router in front of an existing server's own connection handling (an http2 server made
 * elsewhere): its listeners get the sockets of `own` protocol, `other` gets the rest.
 */
export function interceptConnections(server: net.Server, own: 'tls' | 'plain', other: (socket: net.Socket) => void, timeoutMs = firstByteTimeoutMs): void {
  const listeners = server.listeners('connection') as Array<(socket: net.Socket) => void>;
  server.removeAllListeners('connection');
  // Both tls and http2 servers take over the socket's handle and read the unshifted bytes first.
  const mine = (socket: net.Socket) => {
    for (const l of listeners) l.call(server, socket);
  };
  server.on('connection', (socket: net.Socket) => routeByFirstByte(socket, own === 'tls' ? { tls: mine, plain: other } : { tls: other, plain: mine }, timeoutMs));
}

/**
 * Calls `refused` once when the peer of a TLS connection that completed its handshake ends it (a FIN, a reset,
 * an alert) before sending a byte: most clients check the server's certificate after the handshake and just
 * close when they do not trust it (Node.js clients, neo4j-driver), so this is the only trace the server sees.
 * A close this end makes (a timeout, shutdown) is not reported.
 */
export function onClosedBeforeFirstByte(socket: net.Socket, refused: (error: Error | undefined) => void): void {
  let spoke = false;
  const onData = () => {
    spoke = true;
    socket.off('data', onData);
  };
  socket.on('data', onData);
  let reported = false;
  const report = (e: Error | undefined) => {
    if (spoke || reported) return;
    reported = true;
    refused(e);
  };
  socket.once('end', () => report(undefined));
  socket.once('error', (e: Error) => report(e));
}
