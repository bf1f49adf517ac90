/**
 * The Bolt listener: accepts plaintext and, per `server.bolt.tls_level`, TLS connections on one port (told
 * apart by their first byte) and gives each its own BoltConnection. A client refused for TLS reasons (plaintext
 * under REQUIRED, a client certificate that fails client_auth) still gets a Bolt FAILURE saying why, so the
 * driver shows the reason. One bad client only ever closes its own connection; `close()` stops
 * listening, drops every connection and waits until their open transactions are rolled back.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SslPolicy } from '../config/ssl-policy.js';
import { type FirstByteHandlers, firstByteServer, onClosedBeforeFirstByte, peerOf } from '../tls/first-byte.js';
import { classifyTlsError, judgePeer, type Refusal, refusalMessage, whoseFaultOnServer } from '../tls/refusal.js';
import { RefusalLog } from '../tls/refusal-log.js';
import { TlsRefusedError } from '../tls/tls-error.js';
import { QuiverError } from '../util/errors.js';
import type { BoltBackend } from './backend.js';
import { BoltConnection } from './connection.js';
import { handshakeTimeoutMs } from './limits.js';
import { type BoltVersion, formatVersion, supportedVersions } from './handshake.js';

export interface BoltServerOptions {
  host: string;
  /** 0 picks a free port (see `address`). */
  port: number;
  backend: BoltBackend;
  /**
   * host:port clients should use to reach this server, as returned by ROUTE (neo4j:// URIs).
   * Defaults to the bound address, with a wildcard host (0.0.0.0, ::) replaced by "localhost".
   */
  advertisedAddress?: string | undefined;
  /** TLS per server.bolt.tls_level; absent: plaintext only (a TLS client is told so in the log). */
  tls?: BoltTlsOptions | undefined;
  /** Versions to offer, in preference order; defaults to every supported one. Narrow it to pin older clients' behaviour (and in tests). */
  versions?: readonly BoltVersion[] | undefined;
  /** One line per noteworthy event (malformed input, closed connections, listener errors). */
  log: (line: string) => void;
  /** Refused TLS or plaintext connections (already rate-limited); default `log`. */
  logRefusal?: ((line: string) => void) | undefined;
}

export interface BoltTlsOptions {
  level: 'REQUIRED' | 'OPTIONAL';
  /** dbms.ssl.policy.bolt: client_auth and the files named in refusals. */
  policy: SslPolicy;
  /** From tls/context-options.ts serverTlsOptions. */
  options: tls.TlsOptions;
}

export interface BoltServer {
  /** Where the server listens. */
  readonly address: { host: string; port: number };
  /** host:port handed to clients in routing tables. */
  readonly advertisedAddress: string;
  /** Connections currently open (for health checks and tests). */
  connectionCount(): number;
  /** New TLS connections use these options (rotated certificates); open ones keep theirs. */
  setTlsOptions(options: tls.TlsOptions): void;
  close(): Promise<void>;
}

/** Answers HELLO/LOGON with a FAILURE carrying the refusal, and nothing else: the peer never authenticates. */
function refusingBackend(backend: BoltBackend, error: TlsRefusedError): BoltBackend {
  const refuse = () => Promise.reject(error);
  return { serverAgent: backend.serverAgent, authenticate: refuse, beginTransaction: refuse, runAutoCommit: refuse, route: refuse };
}

export async function startBoltServer(options: BoltServerOptions): Promise<BoltServer> {
  const { backend, log } = options;
  const versions = options.versions ?? supportedVersions;
  if (versions.some((v) => !supportedVersions.some((s) => s.major === v.major && s.minor === v.minor))) {
    throw new QuiverError('ConfigInvalid', `cannot offer Bolt ${versions.map(formatVersion).join(', ')}: supported are ${supportedVersions.map(formatVersion).join(', ')}`);
  }
  const connections = new Set<BoltConnection>();
  let connectionsOpened = 0;
  let advertisedAddress = options.advertisedAddress ?? '';

  const accept = (socket: net.Socket, refused?: TlsRefusedError): void => {
    const connection = new BoltConnection(socket, {
      backend: refused ? refusingBackend(backend, refused) : backend,
      advertisedAddress,
      connectionId: `bolt-${++connectionsOpened}`,
      versions,
      log,
    });
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
  };

  const tlsConfig = options.tls;
  const refusals = new RefusalLog(options.logRefusal ?? log);
  /** Logs (rate-limited) and returns the refusal as the error a refused client gets in its FAILURE. */
  const refuse = (socket: net.Socket, r: Refusal, whose: 'peer' | 'own' = 'peer'): TlsRefusedError => {
    const peer = peerOf(socket);
    const peerAddress = hostPort(peer.host, peer.port);
    const line = tlsConfig
      ? refusalMessage(r, { policy: tlsConfig.policy, side: 'server', whose, peerAddress })
      : `refused Bolt client ${peerAddress}: it started a TLS handshake (bolt+s://, neo4j+s://) and Bolt serves no TLS here (server.bolt.tls_level=DISABLED); connect with bolt:// or neo4j://, or set dbms.ssl.policy.bolt.enabled=true and server.bolt.tls_level=OPTIONAL`;
    refusals.refused(peer.host, r.reason, line);
    return new TlsRefusedError('bolt', r.reason, line);
  };
  const tlsServer = tlsConfig ? tls.createServer(tlsConfig.options) : undefined;
  tlsServer?.on('secureConnection', (socket: tls.TLSSocket) => {
    const refusal = judgePeer(socket, tlsConfig!.policy);
    if (refusal) return accept(socket, refuse(socket, refusal));
    accept(socket);
    // A client that does not trust our certificate mostly finds out after the handshake, and just leaves.
    onClosedBeforeFirstByte(socket, (e) => refuse(socket, e ? classifyTlsError(e) : { reason: 'closed' }, e ? whoseFaultOnServer(e) : 'own'));
  });
  tlsServer?.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => refuse(socket, classifyTlsError(e), whoseFaultOnServer(e)));
  const handlers: FirstByteHandlers = {
    tls: (socket) => {
      if (tlsServer) tlsServer.emit('connection', socket);
      else {
        refuse(socket, { reason: 'tls-to-plain' });
        socket.destroy();
      }
    },
    plain: (socket) => {
      accept(socket, tlsConfig?.level === 'REQUIRED' ? refuse(socket, { reason: 'plain-to-tls' }) : undefined);
      socket.resume();
    },
    silent: (socket) => log(`bolt ${hostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)}: closing: no Bolt handshake within ${handshakeTimeoutMs} ms`),
  };
  const server = firstByteServer(handlers, handshakeTimeoutMs);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e: Error) => log(`bolt listener error: ${e.message}`));

  const bound = server.address() as net.AddressInfo;
  if (advertisedAddress === '') advertisedAddress = hostPort(isWildcard(bound.address) ? 'localhost' : bound.address, bound.port);
  log(`bolt listening on ${hostPort(bound.address, bound.port)}${tlsConfig ? ` (TLS ${tlsConfig.level})` : ''}, advertised as ${advertisedAddress}`);

  return {
    address: { host: bound.address, port: bound.port },
    advertisedAddress,
    connectionCount: () => connections.size,
    setTlsOptions(o: tls.TlsOptions): void {
      if (!tlsServer) throw new Error('assertion failed: setTlsOptions on a Bolt server without TLS');
      tlsServer.setSecureContext(o);
    },
    async close(): Promise<void> {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const open = [...connections];
      for (const c of open) c.destroy();
      await Promise.all([stopped, ...open.map((c) => c.closed)]);
    },
  };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
