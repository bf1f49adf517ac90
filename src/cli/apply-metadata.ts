/**
 * --apply-metadata: runs a restore_metadata.cypher script against a server's system database
 * through Bolt (neo4j-driver when installed), one statement per line, with `$database` bound.
 */
import { readFileSync } from 'node:fs';
import { QuiverError } from '../util/errors.js';

export async function applyMetadataScript(uri: string, script: string, database: string, log: (l: 'info' | 'warn' | 'error', m: string) => void): Promise<void> {
  let neo4j: any;
  try {
    neo4j = (await import('neo4j-driver' as string)).default;
  } catch {
    throw new QuiverError('UsageInvalid', '--apply-metadata needs the neo4j-driver package', { hint: `run the commands in ${script} with any Cypher client instead` });
  }
  const user = process.env['QUIVER_USER'] ?? 'neo4j';
  const password = process.env['QUIVER_PASSWORD'] ?? '';
  const driver = neo4j.driver(uri, neo4j.auth.basic(user, password));
  try {
    const statements = readFileSync(script, 'utf8').split('\n').map((l) => l.trim().replace(/;$/, '')).filter((l) => l && !l.startsWith('//'));
    for (const s of statements) await driver.executeQuery(s, { database }, { database: 'system' });
    log('info', `Applied ${statements.length} statement(s) from ${script} to ${uri}.`);
  } catch (e) {
    throw new QuiverError('BackupFailed', `applying ${script} to ${uri} failed: ${(e as Error).message}`, { cause: e, hint: 'the restored database is in place; apply the script by hand' });
  } finally {
    await driver.close();
  }
}
