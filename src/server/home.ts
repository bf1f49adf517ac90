/**
 * The home folder layout (QUIVER_HOME) and the server's view of its configuration: where stores,
 * logs and the pid file live, resolved from the same settings the admin tool reads, so that restore
 * and the server always agree on paths.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig } from '../config/config.js';
import type { DatabaseSettings } from '../kernel/database.js';

/** Default home: the installation root (two levels above dist/src/server or src/server). */
export function defaultHome(): string {
  if (process.env['QUIVER_HOME']) return resolve(process.env['QUIVER_HOME']);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (dir.endsWith('/dist')) return dirname(dir);
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export interface HomeLayout {
  home: string;
  dataDir: string;
  txRoot: string;
  logsDir: string;
  runDir: string;
  scriptsDir: string;
  pidFile: string;
}

export function layoutOf(config: Config): HomeLayout {
  const runDir = config.get('server.directories.run');
  return {
    home: config.home,
    dataDir: config.get('server.directories.data'),
    txRoot: config.get('server.directories.transaction.logs.root'),
    logsDir: config.get('server.directories.logs'),
    runDir,
    scriptsDir: config.get('server.directories.script.root'),
    pidFile: join(runDir, 'quiver.pid'),
  };
}

export function databaseSettingsOf(config: Config): DatabaseSettings {
  return {
    rotationBytes: config.get('db.tx_log.rotation.size'),
    preallocate: config.get('db.tx_log.preallocate'),
    retention: config.get('db.tx_log.rotation.retention_policy'),
    checkpointIntervalMs: config.get('db.checkpoint.interval.time'),
    checkpointIntervalTx: config.get('db.checkpoint.interval.tx'),
    lockTimeoutMs: config.get('db.lock.acquisition.timeout'),
    transactionMemoryMaxBytes: config.get('db.memory.transaction.max'),
    transactionMemoryTotalMaxBytes: config.get('db.memory.transaction.total.max'),
  };
}

export function loadServerConfig(home: string, opts: { expandCommands: boolean; additionalConfig?: string | undefined; onWarning: (m: string) => void }): Config {
  return loadConfig({
    home,
    files: ['quiver.conf'],
    expandCommands: opts.expandCommands,
    ...(opts.additionalConfig ? { additionalConfig: opts.additionalConfig } : {}),
    onWarning: opts.onWarning,
  });
}
