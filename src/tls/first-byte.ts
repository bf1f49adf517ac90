/**
 * One port, two protocols: a TLS connection begins with a handshake record (content type 0x16); Bolt begins
 * with its magic 0x60 0x60 0xB0 0x17 and HTTP/2 with "PRI * HTTP/2.0". This listener reads the first byte of
 * each connection, puts it back, and hands the socket to the TLS or the plain side. It serves
 * `server.bolt.tls_level=OPTIONAL`, and lets a TLS-only port answer a plaintext client (and the reverse)
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

export function firstByteServer(handlers: FirstByteHandlers, timeoutMs = firstByteTimeoutMs): net.Server {
  return net.createServer((socket) => {
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
  });
}
