/**
 * A running Quiver server: the DBMS, the Bolt listener and the backup service, started in that
 * order and stopped in reverse. Startup fails fast with one clear message per problem.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { sslKey, type SslScope, sslScopes } from '../config/settings.js';
import { type BackupService, startBackupService } from '../backup/service/backup-service.js';
import { Dbms } from '../kernel/dbms.js';
import { QuiverError } from '../util/errors.js';
import { databaseSettingsOf, type HomeLayout, layoutOf } from './home.js';
import type { Logger } from './logger.js';
import { startPauseMonitor } from './pause-monitor.js';
import { startBolt, type BoltListener } from './bolt-listener.js';
import { describeServerTls, loadServerTls } from '../tls/server-tls.js';
import { type PolicyReloadOutcome, type ReloadablePort, reloadPorts } from '../tls/reload.js';

export interface RunningServer {
  dbms: Dbms;
  layout: HomeLayout;
  bolt: BoltListener | null;
  backup: BackupService | null;
  /** Reads every enabled policy's files again (SIGHUP); an empty list when no port serves TLS. Never throws for bad files. */
  reloadCertificates(): PolicyReloadOutcome[];
  stop(): Promise<void>;
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1']);

function serverIdOf(layout: HomeLayout): string {
  const path = join(layout.dataDir, 'server_id');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const id = randomUUID();
  mkdirSync(layout.dataDir, { recursive: true });
  writeFileSync(path, id + '\n');
  return id;
}

/**
 * TLS policies this server enforces. A policy switched on that nothing enforces would claim a protection
 * the server does not give, so start refuses it (#16). TODO(#16): cluster joins when clustering lands.
 */
const enforcedSslScopes: readonly SslScope[] = ['bolt', 'backup'];

function refuseUnenforcedSslPolicies(config: Config): void {
  for (const scope of sslScopes) {
    if (!config.get(sslKey(scope, 'enabled')) || enforcedSslScopes.includes(scope)) continue;
    throw new QuiverError('ConfigInvalid', `dbms.ssl.policy.${scope}.enabled=true, but this Quiver does not serve TLS for the ${scope} scope yet: it would serve plaintext while claiming protection`, {
      hint: `remove dbms.ssl.policy.${scope}.enabled (or set it to false) and keep the port on a loopback address`,
    });
  }
}

export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  refuseUnenforcedSslPolicies(config);
  const layout = layoutOf(config);
  for (const d of [layout.dataDir, layout.txRoot, layout.logsDir, layout.runDir]) mkdirSync(d, { recursive: true });
  const serverId = serverIdOf(layout);
  const dbms = await Dbms.start({
    dataDir: layout.dataDir,
    txRoot: layout.txRoot,
    defaultDatabase: config.get('initial.dbms.default_database'),
    settings: databaseSettingsOf(config),
    log,
  });
  let bolt: BoltListener | null = null;
  let backup: BackupService | null = null;
  const tlsPorts: ReloadablePort[] = [];
  try {
    if (config.get('server.bolt.enabled')) {
      const started = await startBolt(config, dbms, log);
      bolt = started.listener;
      if (started.tlsPort) tlsPorts.push(started.tlsPort);
    }
    if (config.get('server.backup.enabled')) {
      const addr = config.get('server.backup.listen_address');
      const ssl = config.getSslPolicy('backup');
      if (!loopbackHosts.has(addr.host) && !ssl.enabled) {
        log('warn', `*** the backup service listens on ${addr.host}:${addr.port}, which is not a loopback address, without a TLS policy: anyone who can reach this port can copy every database. Enable dbms.ssl.policy.backup (with client_auth=REQUIRE) or bind it to 127.0.0.1. ***`);
      }
      if (ssl.enabled && ssl.clientAuth !== 'REQUIRE') {
        log('warn', `dbms.ssl.policy.backup.client_auth=${ssl.clientAuth}: the backup service encrypts, but any client that can reach ${addr.host}:${addr.port} can copy every database; set it to REQUIRE`);
      }
      const backupTls = ssl.enabled ? loadServerTls(ssl, (w) => log('warn', w)) : undefined;
      if (backupTls) log('info', `Backup service ${describeServerTls(backupTls)}.`);
      backup = await startBackupService({
        host: addr.host,
        port: addr.port,
        dbms,
        serverId,
        maxRateBytesPerSec: config.get('server.backup.max_rate'),
        maxRateUnderLoadBytesPerSec: config.get('server.backup.max_rate_under_load'),
        cpuPriority: config.get('server.backup.cpu_priority'),
        tls: { policy: ssl, options: backupTls?.options },
        limits: {
          streamsMax: config.get('server.backup.max_concurrent'),
          stallTimeoutMs: config.get('server.backup.stall_timeout'),
          handshakeTimeoutMs: config.get('server.backup.handshake_timeout'),
          idleTimeoutMs: config.get('server.backup.idle_timeout'),
        },
        log,
      }).catch((e) => {
        throw new QuiverError('ConfigInvalid', `cannot start the backup service on ${addr.host}:${addr.port}: ${(e as Error).message}`, {
          hint: 'another process may use the port; change server.backup.listen_address',
        });
      });
      log('info', `Backup service listening on ${backup.address.host}:${backup.address.port}${backupTls ? ` (TLS, client_auth=${ssl.clientAuth})` : ''}.`);
      const service = backup;
      if (backupTls) tlsPorts.push({ name: 'Backup service', policy: ssl, current: backupTls, setTlsOptions: (o) => service.setTlsOptions(o) });
    }
  } catch (e) {
    await bolt?.close();
    await dbms.shutdown();
    throw e;
  }
  const pauses = startPauseMonitor((m) => log('warn', m));
  return {
    dbms,
    layout,
    bolt,
    backup,
    reloadCertificates: () => reloadPorts(tlsPorts, (w) => log('warn', w)),
    async stop() {
      pauses.stop();
      await backup?.close();
      await bolt?.close();
      await dbms.shutdown();
    },
  };
}
