/**
 * What the admin tool can learn about a server running from the same home: whether it runs, and
 * (through its backup service) which databases it has online. Restore and check refuse to touch a
 * database that is online.
 */
import type { Config } from '../config/config.js';
import { BackupConnection } from '../backup/remote.js';
import { layoutOf } from '../server/home.js';
import { runningPid } from '../server/pid-file.js';
import { QuiverError } from '../util/errors.js';


export function databaseNotRunningCheck(config: Config): (database: string) => Promise<void> {
  return async (database: string) => {
    const pid = runningPid(layoutOf(config).pidFile);
    if (pid === null) return;
    const addr = config.get('server.backup.listen_address');
    let online: boolean;
    try {
      const conn = await BackupConnection.connect(`${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`);
      try {
        const list = await conn.listDatabases();
        online = list.databases.some((d) => d.name === database && d.status === 'online');
      } finally {
        conn.close();
      }
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
