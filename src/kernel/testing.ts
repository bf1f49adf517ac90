/**
 * Test support: a real database (LMDB store + transaction log) in a fresh temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, type DatabaseSettings, defaultDatabaseSettings, locateDatabase } from './database.js';

export async function openScratchDatabase(settings: Partial<DatabaseSettings> = {}): Promise<{ db: Database; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'quiver-db-'));
  const loc = locateDatabase(join(dir, 'data'), join(dir, 'data', 'transactions'), 'scratch');
  const db = await Database.create('scratch', loc, { ...defaultDatabaseSettings, rotationBytes: 1024 * 1024, ...settings }, () => undefined);
  return {
    db,
    dir,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
