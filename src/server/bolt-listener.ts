/**
 * Starts the Bolt listener of a server with the real query service behind it.
 */
import type { Config } from '../config/config.js';
import { startBoltServer, type BoltServer, type BoltTlsOptions } from '../bolt/server.js';
import type { ReloadablePort } from '../tls/reload.js';
import { describeServerTls, loadServerTls, type ServerTls } from '../tls/server-tls.js';
import type { Dbms } from '../kernel/dbms.js';
import { ensureSecurityModel } from '../security/security-store.js';
import { ensureInitialUser } from '../security/users.js';
import { QuiverError } from '../util/errors.js';
import type { Logger } from './logger.js';
import { QueryService } from './query-service.js';

export type BoltListener = BoltServer;

/**
 * The Bolt TLS settings as one decision. A policy switched on must be served (#16): enabled with
 * tls_level=DISABLED would leave Bolt plaintext behind an enabled policy, so both mismatches refuse the start.
 */
export function boltTlsOf(config: Config, log: Logger): (BoltTlsOptions & { loaded: ServerTls }) | undefined {
  const level = config.get('server.bolt.tls_level');
  const policy = config.getSslPolicy('bolt');
  if (level === 'DISABLED' && policy.enabled) {
    throw new QuiverError('ConfigInvalid', 'dbms.ssl.policy.bolt.enabled=true but server.bolt.tls_level=DISABLED: Bolt would stay plaintext behind an enabled policy; set server.bolt.tls_level=REQUIRED (or OPTIONAL to also serve plaintext clients), or remove dbms.ssl.policy.bolt.enabled');
  }
  if (level === 'DISABLED') return undefined;
  if (!policy.enabled) {
    throw new QuiverError('ConfigInvalid', `server.bolt.tls_level=${level} needs dbms.ssl.policy.bolt.enabled=true and the policy's key and certificate (under "${policy.baseDirectory}"); set it, or set server.bolt.tls_level=DISABLED`);
  }
  const loaded = loadServerTls(policy, (w) => log('warn', w));
  log('info', `Bolt ${describeServerTls(loaded)}.`);
  return { level, policy, options: loaded.options, loaded };
}

/** The listener, and its TLS side as a port whose certificates can be reloaded (undefined: plaintext). */
export async function startBolt(config: Config, dbms: Dbms, log: Logger): Promise<{ listener: BoltListener; tlsPort: ReloadablePort | undefined }> {
  const tls = boltTlsOf(config, log);
  const authEnabled = config.get('dbms.security.auth_enabled');
  if (authEnabled) await ensureInitialUser(dbms.systemDatabase(), config.get('server.directories.data'));
  // Built-in roles (and `admin` for the initial user) exist whether or not auth is enabled.
  await ensureSecurityModel(dbms.systemDatabase());
  const addr = config.get('server.bolt.listen_address');
  const adv = config.get('server.bolt.advertised_address');
  // Unless set explicitly, advertise the port actually listened on: changing only
  // server.bolt.listen_address must not send neo4j:// clients to the wrong port.
  const advertisedSet = config.sources.get('server.bolt.advertised_address')?.kind !== 'default';
  const advertised = `${adv.host}:${advertisedSet && adv.port !== 0 ? adv.port : addr.port}`;
  const service = new QueryService(dbms, authEnabled, config.get('db.lock.acquisition.timeout'), config.get('db.transaction.timeout'), advertised);
  const server = await startBoltServer({
    host: addr.host,
    port: addr.port,
    backend: service,
    advertisedAddress: advertised,
    tls,
    log: (line) => log('info', `bolt: ${line}`),
    logRefusal: (line) => log('warn', `bolt: ${line}`),
  }).catch((e) => {
    throw new QuiverError('ConfigInvalid', `cannot start the Bolt server on ${addr.host}:${addr.port}: ${(e as Error).message}`, {
      hint: 'another process may use the port; change server.bolt.listen_address',
    });
  });
  log('info', `Bolt enabled on ${server.address.host}:${server.address.port}.`);
  const tlsPort: ReloadablePort | undefined = tls && { name: 'Bolt', policy: tls.policy, current: tls.loaded, setTlsOptions: (o) => server.setTlsOptions(o) };
  return { listener: server, tlsPort };
}
