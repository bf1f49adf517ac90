/**
 * The security metadata of one database as Cypher commands, for `--include-metadata` backups:
 * replayed against `system` on the restoring server (with the parameter `$database` bound to the
 * name the database is restored as), they recreate the roles with their privileges that affect it
 * and the users who can use it, with their role grants. Format: docs/security.md.
 */
import type { Database } from '../kernel/database.js';
import { dbmsPrivileges, decide, privilegeCommand, privilegesOnDatabase, quoteName, type Privilege } from './privilege-model.js';
import { effectiveRoles, loadSecurityState, privilegesOfRoles, publicRole, type SecurityState } from './security-store.js';

export type MetadataInclude = 'all' | 'users' | 'roles';

function quoteString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The default database, read from the registry in `system` (the user's home when they have none). */
function defaultDatabaseOf(system: Database): string | null {
  const r = system.beginRead();
  try {
    for (const id of r.nodeIdsByLabel('Database')) {
      const p = r.getNode(id)!.properties;
      if (p.get('default') === true) return String(p.get('name'));
    }
    return null;
  } finally {
    r.close();
  }
}

/** Privileges of a role that are about `databaseName` (`*`, HOME or its name); never DBMS ones. */
function rolePrivilegesFor(state: SecurityState, role: string, databaseName: string): Privilege[] {
  const own = state.roles.get(role)?.privileges ?? [];
  const dbms = new Set(dbmsPrivileges(own));
  return own.filter((p) => !dbms.has(p) && (p.graph === '*' || p.graph === 'HOME' || p.graph === databaseName));
}

/**
 * Cypher commands, one per element, without trailing semicolons, that recreate on another server
 * the security metadata of `databaseName`:
 * - roles ('all' | 'roles'): `CREATE ROLE r IF NOT EXISTS` for every role with privileges on the
 *   database (PUBLIC always exists and is not created), then its GRANT/DENY commands, with the
 *   database's own name written as `$database`;
 * - users ('all' | 'users'): `CREATE USER u IF NOT EXISTS SET ENCRYPTED PASSWORD '…' …` for every
 *   user allowed to ACCESS the database, keeping change-required, status and home database;
 * - role grants ('all' only, since they need the roles): `GRANT ROLE r TO u`.
 */
export function exportSecurityMetadata(system: Database, databaseName: string, include: MetadataInclude): string[] {
  const name = databaseName.toLowerCase();
  const state = loadSecurityState(system);
  const out: string[] = [];
  const withRoles = include === 'all' || include === 'roles';
  const withUsers = include === 'all' || include === 'users';
  if (withRoles) {
    const roles = [...state.roles.keys()].sort().filter((r) => rolePrivilegesFor(state, r, name).length > 0);
    for (const r of roles) if (r !== publicRole) out.push(`CREATE ROLE ${quoteName(r)} IF NOT EXISTS`);
    for (const r of roles) {
      const commands = rolePrivilegesFor(state, r, name).map((p) => privilegeCommand(p, { databaseParam: name }));
      out.push(...new Set(commands));
    }
  }
  if (withUsers) {
    const defaultDb = defaultDatabaseOf(system) ?? name;
    const users = [...state.users.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .filter((u) => decide(privilegesOnDatabase(privilegesOfRoles(state, effectiveRoles(state, u.name)), name, u.home ?? defaultDb), 'access'));
    for (const u of users) {
      let cmd = `CREATE USER ${quoteName(u.name)} IF NOT EXISTS SET ENCRYPTED PASSWORD ${quoteString(u.passwordHash)} CHANGE ${u.passwordChangeRequired ? '' : 'NOT '}REQUIRED`;
      if (u.suspended) cmd += ' SET STATUS SUSPENDED';
      if (u.home !== null) cmd += ` SET HOME DATABASE ${u.home === name ? '$database' : quoteName(u.home)}`;
      out.push(cmd);
    }
    if (include === 'all') for (const u of users) for (const r of u.roles) out.push(`GRANT ROLE ${quoteName(r)} TO ${quoteName(u.name)}`);
  }
  return out;
}
