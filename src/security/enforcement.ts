/**
 * Enforcement for the query service (only when dbms.security.auth_enabled=true): database ACCESS
 * when a statement is run, schema commands' database privileges, and the secure graph around the
 * kernel transaction. Compiled permissions are cached per (system transaction, user, database).
 */
import type { PreparedQuery } from '../cypher/index.js';
import type { GraphRead, GraphWrite } from '../kernel/api.js';
import { systemDatabaseName } from '../kernel/database-name.js';
import type { Dbms } from '../kernel/dbms.js';
import { DatabasePermissions, forbiddenError, type Principal } from './permissions.js';
import { dbmsPrivileges, decide, privilegesOnDatabase } from './privilege-model.js';
import { secureGraph } from './secure-graph.js';
import { effectiveRoles, loadSecurityState, privilegesOfRoles } from './security-store.js';

/** Compiled permissions kept per (system tx, user, database); small because entries are cheap to rebuild. */
const permissionCacheEntriesMax = 256;
const permissionCache = new Map<string, DatabasePermissions>();

export function principalOf(dbms: Dbms, user: string): Principal {
  return { user, roles: effectiveRoles(loadSecurityState(dbms.systemDatabase()), user) };
}

/** The user's home database: their own setting, else the DBMS default. */
export function homeDatabaseOf(dbms: Dbms, user: string): string {
  return loadSecurityState(dbms.systemDatabase()).users.get(user)?.home ?? dbms.defaultDatabaseName;
}

export function permissionsFor(dbms: Dbms, user: string, database: string): DatabasePermissions {
  const state = loadSecurityState(dbms.systemDatabase());
  const key = `${state.txId}\u0000${user}\u0000${database}`;
  const hit = permissionCache.get(key);
  if (hit) return hit;
  const roles = effectiveRoles(state, user);
  const privileges = privilegesOnDatabase(privilegesOfRoles(state, roles), database, homeDatabaseOf(dbms, user));
  const perms = new DatabasePermissions({ user, roles }, database, privileges);
  permissionCache.set(key, perms);
  if (permissionCache.size > permissionCacheEntriesMax) permissionCache.delete(permissionCache.keys().next().value!);
  return perms;
}

/** Whether the user holds DBMS privilege `action` (e.g. 'create_user'). */
export function hasDbmsPrivilege(dbms: Dbms, user: string, action: string): boolean {
  const state = loadSecurityState(dbms.systemDatabase());
  return decide(dbmsPrivileges(privilegesOfRoles(state, effectiveRoles(state, user))), action);
}

const schemaActions: Record<string, [action: string, words: string]> = {
  CreateIndex: ['create_index', 'create index'],
  DropIndex: ['drop_index', 'drop index'],
  CreateConstraint: ['create_constraint', 'create constraint'],
  DropConstraint: ['drop_constraint', 'drop constraint'],
  ShowIndexes: ['show_index', 'show indexes'],
  ShowConstraints: ['show_constraint', 'show constraints'],
};

/**
 * Checks that the user may run a data or schema statement on `database`: ACCESS to it, the
 * schema privilege for schema commands, and on `system` (whose graph holds the password hashes)
 * ALL DBMS PRIVILEGES. Administration commands are checked by their DBMS privileges instead.
 */
export function authorizeStatement(dbms: Dbms, user: string, q: PreparedQuery, database: string): void {
  if (q.kind === 'admin') return;
  const perms = permissionsFor(dbms, user, database);
  if (!perms.allows('access')) throw forbiddenError('Database access', perms.principal);
  if (database === systemDatabaseName && !hasDbmsPrivilege(dbms, user, 'dbms_actions')) {
    throw forbiddenError(`Reading or writing the graph of database '${systemDatabaseName}'`, perms.principal);
  }
  const schema = schemaActions[q.statement.kind];
  if (schema && !perms.allows(schema[0])) throw perms.forbidden(`Schema operation '${schema[1]}'`);
}

/** The kernel transaction as the user may see and change it on `database`. */
export function secureTransaction<T extends GraphRead | GraphWrite>(dbms: Dbms, user: string, database: string, tx: T): GraphRead | GraphWrite {
  return secureGraph(tx, permissionsFor(dbms, user, database));
}
