/**
 * Which privilege each administration command needs (Neo4j 5's DBMS privileges, and START/STOP
 * as database privileges), and the check itself. A table, so docs/security.md and the code agree.
 */
import type { AdminCommand } from '../cypher/ast.js';
import type { Dbms } from '../kernel/dbms.js';
import { QuiverError } from '../util/errors.js';
import { hasDbmsPrivilege, permissionsFor, principalOf } from './enforcement.js';
import { actionSpec } from './privilege-model.js';

/** Normalised command words: plural and singular forms collapse, `ALL` in SHOW ALL PRIVILEGES drops. */
export function normalizedAction(cmd: AdminCommand): string {
  const words = cmd.action.split(' ');
  if (words[0] === 'SHOW' && words.some((w) => w === 'PRIVILEGES' || w === 'PRIVILEGE')) {
    return words
      .filter((w) => w !== 'ALL')
      .map((w) => (w === 'ROLES' ? 'ROLE' : w === 'USERS' ? 'USER' : w === 'PRIVILEGE' ? 'PRIVILEGES' : w === 'COMMAND' ? 'COMMANDS' : w))
      .join(' ');
  }
  if (words[0] === 'SHOW' && (words[1] === 'ROLE' || (words[1] === 'POPULATED' && words[2] === 'ROLE'))) return words.map((w) => (w === 'ROLE' ? 'ROLES' : w === 'USER' ? 'USERS' : w)).join(' ');
  if (cmd.action === 'SHOW USER') return 'SHOW USERS';
  return cmd.action;
}

/** DBMS actions a command needs (all of them); `self` is whether it targets the caller. */
export function requiredDbmsActions(cmd: AdminCommand, action: string, self: boolean): string[] {
  switch (action) {
    case 'SHOW USERS':
      return ['show_user'];
    case 'CREATE USER':
      return cmd.orReplace ? ['create_user', 'drop_user'] : ['create_user'];
    case 'DROP USER':
      return ['drop_user'];
    case 'RENAME USER':
      return ['rename_user'];
    case 'ALTER USER': {
      const out: string[] = [];
      if (cmd.args.has('password') || cmd.args.has('changeRequired')) out.push('set_passwords');
      if (cmd.args.has('status')) out.push('set_user_status');
      if (cmd.args.has('homeDatabase')) out.push('set_user_home_database');
      return out.length ? out : ['alter_user'];
    }
    case 'CREATE ROLE':
      return cmd.orReplace ? ['create_role', 'drop_role'] : ['create_role'];
    case 'DROP ROLE':
      return ['drop_role'];
    case 'RENAME ROLE':
      return ['rename_role'];
    case 'GRANT ROLE':
      return ['assign_role'];
    case 'REVOKE ROLE':
      return ['remove_role'];
    case 'GRANT':
    case 'DENY':
      return ['assign_privilege'];
    case 'REVOKE':
      return ['remove_privilege'];
    case 'CREATE DATABASE':
      return cmd.orReplace ? ['create_database', 'drop_database'] : ['create_database'];
    case 'DROP DATABASE':
      return ['drop_database'];
    case 'ALTER DATABASE':
      return ['alter_database'];
    default:
      if (/^SHOW (POPULATED )?ROLES WITH USERS/.test(action)) return ['show_role', 'show_user'];
      if (/^SHOW (POPULATED )?ROLES/.test(action)) return ['show_role'];
      if (/^SHOW USER .*PRIVILEGES/.test(action) || /^SHOW USER PRIVILEGES/.test(action)) return self ? [] : ['show_privilege', 'show_user'];
      if (/^SHOW (ROLE )?PRIVILEGES/.test(action) || /^SHOW ROLE .*PRIVILEGES/.test(action)) return ['show_privilege'];
      return [];
  }
}

/** Throws Forbidden unless `user` may run `cmd` (whose target database, for START/STOP, is `database`). */
export function authorizeAdmin(dbms: Dbms, user: string, cmd: AdminCommand, action: string, opts: { self: boolean; database?: string }): void {
  const principal = principalOf(dbms, user);
  const deny = (privilege: string): QuiverError =>
    new QuiverError('Forbidden', `Permission denied for ${action}: user '${user}' with roles [${principal.roles.join(', ')}] needs the ${privilege} privilege, which is missing or denied.`, {
      hint: 'run SHOW USER PRIVILEGES to see what is granted; an administrator can GRANT the privilege (or REVOKE a DENY)',
    });
  if (action === 'START DATABASE' || action === 'STOP DATABASE') {
    const a = action === 'START DATABASE' ? 'start_database' : 'stop_database';
    if (opts.database !== undefined && !permissionsFor(dbms, user, opts.database).allows(a)) throw deny(`${actionSpec(a).words} ON DATABASE ${opts.database}`);
    return;
  }
  for (const a of requiredDbmsActions(cmd, action, opts.self)) {
    if (!hasDbmsPrivilege(dbms, user, a)) throw deny(`${actionSpec(a).words} ON DBMS`);
  }
}
