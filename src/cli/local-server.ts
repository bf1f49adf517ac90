/**
 * What the admin tool can learn about a server running from the same home: whether it runs, and
 * (through its backup service) which databases it has online. Restore and check refuse to touch a
 * database that is online.
 */
import type { Config } from '../config/config.js';
import { BackupConnection } from '../backup/client/remote.js';
import { layoutOf } from '../server/home.js';
import { runningPid } from '../server/pid-file.js';
import { QuiverError } from '../util/errors.js';


/** The databases the local server knows and their status; null when no server runs from this home. Throws when one runs but cannot be asked. */
async function localDatabases(config: Config): Promise<{ pid: number; databases: Array<{ name: string; status: string }> } | null> {
  const pid = runningPid(layoutOf(config).pidFile, config.home);
  if (pid === null) return null;
  const addr = config.get('server.backup.listen_address');
  const conn = await BackupConnection.connect(`${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`);
  try {
    return { pid, databases: (await conn.listDatabases()).databases };
  } finally {
    conn.close();
  }
}

/**
 * How the local server knows `database`: 'absent' (not created on it), 'online', or 'stopped'
 * (created, not online); null when no server runs from this home or it cannot be asked.
 */
export async function localDatabaseState(config: Config, database: string): Promise<'absent' | 'online' | 'stopped' | null> {
  try {
    const local = await localDatabases(config);
    if (local === null) return null;
    const entry = local.databases.find((d) => d.name === database);
    return entry === undefined ? 'absent' : entry.status === 'online' ? 'online' : 'stopped';
  } catch {
    return null;
  }
}

export function databaseNotRunningCheck(config: Config): (database: string) => Promise<void> {
  return async (database: string) => {
    const pid = runningPid(layoutOf(config).pidFile, config.home);
    if (pid === null) return;
    let online: boolean;
    try {
      const local = await localDatabases(config);
      online = local !== null && local.databases.some((d) => d.name === database && d.status === 'online');
    } catch {
      throw new QuiverError('DatabaseRunning', `a local Quiver server is running (pid ${pid}) and its state cannot be checked`, {
        hint: `stop the database first (STOP DATABASE ${database}) or stop the server`,
      });
    }
    if (online) {
      throw new QuiverError('DatabaseRunning', `database "${database}" is running on the local server (pid ${pid})`, {
        hint: `stop it first: STOP DATABASE ${database} (against the system database), then run the restore again`,
      });
    }
  };
}
