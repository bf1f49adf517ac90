/**
 * Database names as the kernel takes them: Neo4j's rules (src/config/database-name.ts), with a
 * QuiverError naming the rule that a bad name breaks.
 */
import { databaseNameExpected, normalizeDatabaseName as check } from '../config/database-name.js';
import { QuiverError } from '../util/errors.js';

export const systemDatabaseName = 'system';

export function normalizeDatabaseName(raw: string): string {
  const r = check(raw, { allowSystem: true });
  if (!r.ok) throw new QuiverError('UsageInvalid', `invalid database name "${raw}": ${r.reason}`, { hint: `use ${databaseNameExpected}` });
  return r.name;
}
