/**
 * --apply-metadata: finishes a restore on a running server. It brings the restored database online
 * there (CREATE DATABASE, which adopts the restored store, or START DATABASE when the server already
 * knows it), checks that the server really serves the restored store (same database id), and then
 * replays restore_metadata.cypher against the system database with `$database` bound. Neo4j users
 * have to script these steps by hand.
 */
import { readFileSync } from 'node:fs';
import neo4j from 'neo4j-driver';
import { QuiverError } from '../util/errors.js';

type Log = (l: 'info' | 'warn' | 'error', m: string) => void;

export async function bringOnlineAndApplyMetadata(uri: string, database: string, databaseId: string, script: string | null, log: Log): Promise<void> {
  const user = process.env['QUIVER_USER'] ?? 'neo4j';
  const password = process.env['QUIVER_PASSWORD'] ?? '';
  const driver = neo4j.driver(uri, neo4j.auth.basic(user, password), { logging: { level: 'error', logger: () => undefined } });
  const onSystem = { database: 'system' };
  try {
    const shown = await driver.executeQuery('SHOW DATABASES YIELD name, currentStatus, databaseID WHERE name = $name RETURN currentStatus, databaseID', { name: database }, onSystem);
    let created = false;
    if (shown.records.length === 0) {
      await driver.executeQuery(`CREATE DATABASE \`${database}\``, {}, onSystem);
      created = true;
    } else if (shown.records[0]!.get('currentStatus') !== 'online') {
      await driver.executeQuery(`START DATABASE \`${database}\``, {}, onSystem);
    }
    const now = await driver.executeQuery('SHOW DATABASES YIELD name, databaseID WHERE name = $name RETURN databaseID', { name: database }, onSystem);
    const servedId = now.records[0]?.get('databaseID');
    if (servedId !== databaseId) {
      if (created) await driver.executeQuery(`DROP DATABASE \`${database}\``, {}, onSystem);
      throw new QuiverError('UsageInvalid', `the server at ${uri} does not serve the restored store of "${database}" (it reports database id ${servedId}, the restored store has ${databaseId})`, {
        hint: 'pass the Bolt address of the server whose data folder the restore wrote to',
      });
    }
    log('info', `Database '${database}' is online on ${uri}.`);
    if (!script) return;
    const statements = readFileSync(script, 'utf8').split('\n').map((l) => l.trim().replace(/;$/, '')).filter((l) => l && !l.startsWith('//'));
    for (const s of statements) await driver.executeQuery(s, { database }, onSystem);
    log('info', `Applied ${statements.length} statement(s) from ${script} to ${uri}.`);
  } catch (e) {
    if (e instanceof QuiverError) throw e;
    throw new QuiverError('BackupFailed', `finishing the restore on ${uri} failed: ${(e as Error).message}`, {
      cause: e,
      hint: `the restored store is in place; bring it online and run ${script ?? 'the metadata script'} by hand (QUIVER_USER and QUIVER_PASSWORD give the credentials)`,
    });
  } finally {
    await driver.close();
  }
}
