/**
 * Neo4j's database-name rules, shared by the `initial.dbms.default_database` setting and by anything
 * else that accepts a database name: 3–63 characters, an ASCII letter first, then `[a-z0-9.-]`,
 * case-insensitive and normalised to lower case; names starting with `system` are reserved.
 */

export const databaseNameExpected =
  'a database name of 3 to 63 characters: an ASCII letter, then letters, digits, "." or "-" (not starting with "system")';

/**
 * The normalised (lower-case) name, or the rule it breaks. `system` itself passes only with
 * `allowSystem` (naming the system database is fine for backup, not as the default database).
 */
export function normalizeDatabaseName(
  raw: string,
  options: { allowSystem?: boolean } = {},
): { ok: true; name: string } | { ok: false; reason: string } {
  const name = raw.trim().toLowerCase();
  if (name.length < 3 || name.length > 63) return { ok: false, reason: `it has ${name.length} characters, not 3 to 63` };
  if (!/^[a-z]/.test(name)) return { ok: false, reason: 'it does not start with an ASCII letter' };
  const bad = /[^a-z0-9.-]/.exec(name);
  if (bad !== null) return { ok: false, reason: `it contains "${bad[0]}"` };
  if (name === 'system' && options.allowSystem === true) return { ok: true, name };
  if (name.startsWith('system')) return { ok: false, reason: 'names starting with "system" are reserved' };
  return { ok: true, name };
}
