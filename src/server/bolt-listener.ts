/**
 * Starts the Bolt listener of a server with the real query service behind it.
 */
import type { Config } from '../config/config.js';
import { startBoltServer, type BoltServer } from '../bolt/server.js';
import type { Dbms } from '../kernel/dbms.js';
import { ensureSecurityModel } from '../security/security-store.js';
import { ensureInitialUser } from '../security/users.js';
import { QuiverError } from '../util/errors.js';
import type { Logger } from './logger.js';
import { QueryService } from './query-service.js';

export type BoltListener = BoltServer;

export async function startBolt(config: Config, dbms: Dbms, log: Logger): Promise<BoltListener> {
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
    log: (line) => log('info', `bolt: ${line}`),
  }).catch((e) => {
    throw new QuiverError('ConfigInvalid', `cannot start the Bolt server on ${addr.host}:${addr.port}: ${(e as Error).message}`, {
      hint: 'another process may use the port; change server.bolt.listen_address',
    });
  });
  log('info', `Bolt enabled on ${server.address.host}:${server.address.port}.`);
  return server;
}
