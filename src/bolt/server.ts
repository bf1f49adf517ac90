/**
 * The Bolt listener: accepts TCP (or TLS, when given secure-context options) connections and gives
 * each its own BoltConnection. One bad client only ever closes its own connection; `close()` stops
 * listening, drops every connection and waits until their open transactions are rolled back.
 */
import net from 'node:net';
import tls from 'node:tls';
import { QuiverError } from '../util/errors.js';
import type { BoltBackend } from './backend.js';
import { BoltConnection } from './connection.js';
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
  /** Serve Bolt over TLS with these certificates; plain TCP when absent. */
  tls?: tls.SecureContextOptions | undefined;
  /** Versions to offer, in preference order; defaults to every supported one. Narrow it to pin older clients' behaviour (and in tests). */
  versions?: readonly BoltVersion[] | undefined;
  /** One line per noteworthy event (malformed input, closed connections, listener errors). */
  log: (line: string) => void;
}

export interface BoltServer {
  /** Where the server listens. */
  readonly address: { host: string; port: number };
  /** host:port handed to clients in routing tables. */
  readonly advertisedAddress: string;
  /** Connections currently open (for health checks and tests). */
  connectionCount(): number;
  close(): Promise<void>;
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

  const accept = (socket: net.Socket): void => {
    const connection = new BoltConnection(socket, {
      backend,
      advertisedAddress,
      connectionId: `bolt-${++connectionsOpened}`,
      versions,
      log,
    });
    connections.add(connection);
    void connection.closed.then(() => connections.delete(connection));
  };

  const server = options.tls ? tls.createServer({ ...options.tls }, accept) : net.createServer(accept);
  if (options.tls) {
    server.on('tlsClientError', (e: Error, socket: tls.TLSSocket) => log(`bolt tls ${socket.remoteAddress ?? '?'}: handshake failed: ${e.message}`));
  }

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
  log(`bolt listening on ${hostPort(bound.address, bound.port)}${options.tls ? ' (TLS)' : ''}, advertised as ${advertisedAddress}`);

  return {
    address: { host: bound.address, port: bound.port },
    advertisedAddress,
    connectionCount: () => connections.size,
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
