/**
 * Security administration commands against the system database: users, roles, role grants,
 * privileges (GRANT / DENY / REVOKE) and the SHOW commands for them; and, when auth is enabled,
 * the privilege check of every administration command. Commands that are not about security
 * return null so the caller runs them (databases, ALTER CURRENT USER). Every change is one
 * system transaction: a command that fails changes nothing.
 */
import type { AuthenticatedUser } from '../bolt/backend.js';
import type { AdminCommand, Expr } from '../cypher/ast.js';
import { emptyStats, type ExecContext, type Row } from '../cypher/context.js';
import { evaluate } from '../cypher/evaluate.js';
import { ExecutionSlice } from '../cypher/execution-slice.js';
import type { PreparedQuery } from '../cypher/index.js';
import { applyShowModifiers, modifierColumns } from '../cypher/schema-commands.js';
import type { Dbms } from '../kernel/dbms.js';
import { authorizeAdmin, normalizedAction } from '../security/admin-authorization.js';
import { hashPassword, isPasswordHash, verifyPassword } from '../security/password.js';
import { comparePrivileges, privilegeCommand, privilegeText, quoteName, type Privilege } from '../security/privilege-model.js';
import { parsePrivilege } from '../security/privilege-parse.js';
import {
  adminRole,
  effectiveRoles,
  loadSecurityState,
  privilegesOfRoles,
  publicRole,
  writeSecurity,
  type SecurityState,
} from '../security/security-store.js';
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import type { AdminResult } from './admin-commands.js';

const userColumns = ['user', 'roles', 'passwordChangeRequired', 'suspended', 'home'];
const privilegeColumns = ['access', 'action', 'resource', 'graph', 'segment', 'role', 'immutable'];
const userPrivilegeColumns = [...privilegeColumns, 'user'];

/** Roles that cannot be dropped: PUBLIC (every user holds it) and admin (the one that can recreate the others). */
const undroppableRoles = new Set([publicRole, adminRole]);

function statementOf(q: PreparedQuery): AdminCommand {
  const s = q.statement;
  if (s.kind !== 'AdminCommand') throw new Error('assertion: admin query without an AdminCommand statement');
  return s;
}

function invalid(message: string, hint?: string): QuiverError {
  return new QuiverError('UsageInvalid', message, hint ? { hint } : undefined);
}

function resolveName(raw: string | { param: string } | null, params: Map<string, Value>, what: string): string {
  if (raw === null) throw new QuiverError('SyntaxError', `a ${what} name is required`);
  const paramName = typeof raw === 'string' ? (raw.startsWith('$') ? raw.slice(1) : null) : raw.param;
  if (paramName === null) return raw as string;
  const v = params.get(paramName);
  if (typeof v !== 'string') throw new QuiverError('ParameterMissing', `Expected parameter(s): ${paramName}`);
  return v;
}

function stringExpr(e: unknown, params: Map<string, Value>, what: string): string {
  const x = e as Expr;
  if (x.kind === 'Literal' && typeof x.value === 'string') return x.value;
  if (x.kind === 'Param') {
    const v = params.get(x.name);
    if (typeof v !== 'string') throw new QuiverError('ParameterMissing', `Expected parameter(s): ${x.name} (a string for the ${what})`);
    return v;
  }
  throw new QuiverError('SyntaxError', `the ${what} must be a string literal or a $parameter`);
}

function checkRoleName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
    throw invalid(`Role name '${name}' contains illegal characters: use simple ASCII letters, numbers and underscores, starting with a letter.`);
  }
}

function checkUserName(name: string): void {
  if (name.length === 0 || /[,:\s]/.test(name)) throw invalid(`User name '${name}' is invalid: it must be non-empty and contain no ',', ':' or whitespace.`);
}

/** The password hash a CREATE/ALTER USER command asks for, or undefined when it sets none. */
function passwordHashOf(cmd: AdminCommand, params: Map<string, Value>, userName: string, verb: string): string | undefined {
  if (!cmd.args.has('password')) return undefined;
  const password = stringExpr(cmd.args.get('password'), params, 'password');
  if (cmd.args.get('encrypted') === true) {
    if (!isPasswordHash(password)) {
      throw invalid(`Failed to ${verb} the specified user '${userName}': Incorrectly formatted encrypted password.`, 'SET ENCRYPTED PASSWORD takes a stored hash of the form scrypt$N$r$p$<salt base64>$<hash base64>, as exported with the metadata of a backup');
    }
    return password;
  }
  if (password.length === 0) throw invalid(`Failed to ${verb} the specified user '${userName}': A password cannot be empty.`);
  return hashPassword(password);
}

function homeOf(cmd: AdminCommand, params: Map<string, Value>): string | null | undefined {
  if (!cmd.args.has('homeDatabase')) return undefined;
  const raw = cmd.args.get('homeDatabase') as string | { param: string } | null;
  return raw === null ? null : resolveName(raw, params, 'database').toLowerCase();
}

function result(columns: string[], rows: Value[][] = [], systemUpdates = 0): AdminResult {
  return { columns, rows, systemUpdates };
}

/** Applies YIELD / WHERE / RETURN of a SHOW command to rows with columns `all`. */
export function showResult(dbms: Dbms, cmd: AdminCommand, all: string[], rows: Value[][], params: Map<string, Value>): AdminResult {
  const m = cmd.modifiers;
  if (!m || (!m.yields && !m.where && !m.returnProjection)) return result(all, rows);
  return inCommandContext(dbms, params, (ctx) => {
    const maps: Row[] = rows.map((row) => new Map(all.map((c, i) => [c, row[i] ?? null])));
    const columns = modifierColumns(m, all);
    const out = [...applyShowModifiers(maps, m, all, ctx)].map((row) => columns.map((c) => row.get(c) ?? null));
    return result(columns, out);
  });
}

/** The value of an expression an administration command takes (no variables in scope, only parameters). */
export function evaluateCommandExpr(dbms: Dbms, e: Expr, params: Map<string, Value>): Value {
  return inCommandContext(dbms, params, (ctx) => evaluate(e, new Map(), ctx));
}

/** Runs `fn` with an execution context over the system graph: commands' expressions read no user data. */
function inCommandContext<T>(dbms: Dbms, params: Map<string, Value>, fn: (ctx: ExecContext) => T): T {
  const r = dbms.systemDatabase().beginRead();
  try {
    return fn({ graph: r, writer: null, params, statementTime: new Date(), stats: emptyStats(), deletedNodes: new Set(), deletedRels: new Set(), slice: ExecutionSlice.unbounded() });
  } finally {
    r.close();
  }
}

function isSelf(user: AuthenticatedUser, name: string, authEnabled: boolean): boolean {
  return authEnabled && user.username === name;
}

/**
 * Runs `q` when it is a security command, after checking (auth enabled) that the user may run it;
 * for other administration commands only checks the privilege and returns null.
 */
export async function executeSecurityAdmin(dbms: Dbms, user: AuthenticatedUser, q: PreparedQuery, params: Map<string, Value>, authEnabled: boolean): Promise<AdminResult | null> {
  const cmd = statementOf(q);
  const action = normalizedAction(cmd);
  if (authEnabled) {
    let self = false;
    let database: string | undefined;
    if (/^SHOW USER (.* )?PRIVILEGES/.test(action)) self = cmd.target === null || resolveName(cmd.target, params, 'user') === user.username;
    if (action === 'START DATABASE' || action === 'STOP DATABASE') database = resolveName(cmd.target, params, 'database').toLowerCase();
    authorizeAdmin(dbms, user.username, cmd, action, database === undefined ? { self } : { self, database });
  }
  const system = dbms.systemDatabase();
  switch (action) {
    case 'SHOW USERS': {
      const state = loadSecurityState(system);
      const rows = [...state.users.values()].sort((a, b) => a.name.localeCompare(b.name)).map((u): Value[] => [u.name, effectiveRoles(state, u.name), u.passwordChangeRequired, u.suspended, u.home]);
      return showResult(dbms, cmd, userColumns, rows, params);
    }
    case 'SHOW CURRENT USER': {
      const state = loadSecurityState(system);
      const u = state.users.get(user.username);
      const row: Value[] = u ? [u.name, effectiveRoles(state, u.name), u.passwordChangeRequired, u.suspended, u.home] : [user.username, [publicRole], user.passwordChangeRequired, false, null];
      return showResult(dbms, cmd, userColumns, [row], params);
    }
    case 'CREATE USER':
      return createUser(dbms, user, cmd, params, authEnabled);
    case 'ALTER USER':
      return alterUser(dbms, user, cmd, params, authEnabled);
    case 'DROP USER': {
      const name = resolveName(cmd.target, params, 'user');
      if (isSelf(user, name, authEnabled)) throw invalid(`Failed to delete the specified user '${name}': Deleting yourself is not allowed.`);
      const n = await writeSecurity(system, (w) => {
        const id = w.findUser(name);
        if (id === undefined) {
          if (cmd.ifExists) return 0;
          throw invalid(`Failed to delete the specified user '${name}': User does not exist.`);
        }
        w.tx.deleteNode(id, true);
        return 1;
      });
      return result([], [], n);
    }
    case 'RENAME USER':
    case 'RENAME ROLE':
      return rename(dbms, user, cmd, action === 'RENAME USER' ? 'user' : 'role', params, authEnabled);
    case 'CREATE ROLE':
      return createRole(dbms, cmd, params);
    case 'DROP ROLE': {
      const name = resolveName(cmd.target, params, 'role');
      if (undroppableRoles.has(name)) throw invalid(`Failed to delete the specified role '${name}': '${name}' is a reserved role and cannot be dropped.`, name === adminRole ? "revoke privileges from 'admin' instead" : undefined);
      const n = await writeSecurity(system, (w) => {
        const id = w.findRole(name);
        if (id === undefined) {
          if (cmd.ifExists) return 0;
          throw invalid(`Failed to delete the specified role '${name}': Role does not exist.`);
        }
        w.dropRole(id);
        return 1;
      });
      return result([], [], n);
    }
    case 'GRANT ROLE':
    case 'REVOKE ROLE':
      return grantOrRevokeRoles(dbms, cmd, action === 'GRANT ROLE', params);
    case 'GRANT':
    case 'DENY':
    case 'REVOKE':
      return changePrivileges(dbms, cmd, action, params);
    default:
      if (/^SHOW (POPULATED )?ROLES/.test(action)) return showRoles(dbms, cmd, action, params);
      if (/^SHOW .*PRIVILEGES/.test(action)) return showPrivileges(dbms, user, cmd, action, params);
      return null;
  }
}

// ---------------------------------------------------------------- users

async function createUser(dbms: Dbms, user: AuthenticatedUser, cmd: AdminCommand, params: Map<string, Value>, authEnabled: boolean): Promise<AdminResult> {
  const name = resolveName(cmd.target, params, 'user');
  checkUserName(name);
  if (cmd.orReplace && cmd.ifNotExists) throw invalid(`Failed to create the specified user '${name}': cannot have both 'OR REPLACE' and 'IF NOT EXISTS'.`);
  if (cmd.orReplace && isSelf(user, name, authEnabled)) throw invalid(`Failed to replace the specified user '${name}': Deleting yourself is not allowed.`);
  const passwordHash = passwordHashOf(cmd, params, name, 'create');
  if (passwordHash === undefined) throw invalid(`Failed to create the specified user '${name}': a password is required.`, "add SET PASSWORD 'secret' (or SET ENCRYPTED PASSWORD '<hash>')");
  const home = homeOf(cmd, params) ?? null;
  const n = await writeSecurity(dbms.systemDatabase(), (w) => {
    const existing = w.findUser(name);
    if (existing !== undefined) {
      if (cmd.ifNotExists) return 0;
      if (!cmd.orReplace) throw invalid(`Failed to create the specified user '${name}': User already exists.`);
      w.tx.deleteNode(existing, true);
    }
    w.createUser({
      name,
      passwordHash,
      passwordChangeRequired: cmd.args.get('changeRequired') !== false,
      suspended: cmd.args.get('status') === 'SUSPENDED',
      home,
    });
    return 1;
  });
  return result([], [], n);
}

async function alterUser(dbms: Dbms, user: AuthenticatedUser, cmd: AdminCommand, params: Map<string, Value>, authEnabled: boolean): Promise<AdminResult> {
  const name = resolveName(cmd.target, params, 'user');
  if (!['password', 'changeRequired', 'status', 'homeDatabase'].some((k) => cmd.args.has(k))) {
    throw new QuiverError('SyntaxError', `ALTER USER ${name} changes nothing: add SET PASSWORD, SET PASSWORD CHANGE [NOT] REQUIRED, SET STATUS or SET HOME DATABASE`);
  }
  if (cmd.args.has('status') && isSelf(user, name, authEnabled)) throw invalid(`Failed to alter the specified user '${name}': Changing your own activation status is not allowed.`);
  const passwordHash = passwordHashOf(cmd, params, name, 'alter');
  const plaintext = cmd.args.has('password') && cmd.args.get('encrypted') !== true ? stringExpr(cmd.args.get('password'), params, 'password') : null;
  const home = homeOf(cmd, params);
  const n = await writeSecurity(dbms.systemDatabase(), (w) => {
    const id = w.findUser(name);
    if (id === undefined) {
      if (cmd.ifExists) return 0;
      throw invalid(`Failed to alter the specified user '${name}': User does not exist.`);
    }
    if (plaintext !== null && verifyPassword(plaintext, String(w.userProperties(id).get('passwordHash')))) {
      throw invalid(`Failed to alter the specified user '${name}': Old password and new password cannot be the same.`);
    }
    if (passwordHash !== undefined) w.setUserProperty(id, 'passwordHash', passwordHash);
    if (cmd.args.has('changeRequired')) w.setUserProperty(id, 'passwordChangeRequired', cmd.args.get('changeRequired') === true);
    if (cmd.args.has('status')) w.setUserProperty(id, 'suspended', cmd.args.get('status') === 'SUSPENDED');
    if (home !== undefined) w.setUserProperty(id, 'home', home);
    return 1;
  });
  return result([], [], n);
}

async function rename(dbms: Dbms, user: AuthenticatedUser, cmd: AdminCommand, what: 'user' | 'role', params: Map<string, Value>, authEnabled: boolean): Promise<AdminResult> {
  const from = resolveName(cmd.target, params, what);
  const to = resolveName(cmd.args.get('newName') as string | { param: string }, params, what);
  const fail = (reason: string) => invalid(`Failed to rename the specified ${what} '${from}' to '${to}': ${reason}`);
  if (what === 'role') {
    checkRoleName(to);
    if (undroppableRoles.has(from) || to === publicRole) throw fail(`'${undroppableRoles.has(from) ? from : to}' is a reserved role.`);
  } else {
    checkUserName(to);
    if (isSelf(user, from, authEnabled)) throw fail('Renaming yourself is not allowed.');
  }
  const n = await writeSecurity(dbms.systemDatabase(), (w) => {
    const find = (x: string) => (what === 'user' ? w.findUser(x) : w.findRole(x));
    const id = find(from);
    if (id === undefined) {
      if (cmd.ifExists) return 0;
      throw fail(`The ${what} '${from}' does not exist.`);
    }
    if (find(to) !== undefined) throw fail(`${what === 'user' ? 'User' : 'Role'} '${to}' already exists.`);
    w.renameNode(id, to);
    return 1;
  });
  return result([], [], n);
}

// ---------------------------------------------------------------- roles

async function createRole(dbms: Dbms, cmd: AdminCommand, params: Map<string, Value>): Promise<AdminResult> {
  const name = resolveName(cmd.target, params, 'role');
  checkRoleName(name);
  if (cmd.orReplace && cmd.ifNotExists) throw invalid(`Failed to create the specified role '${name}': cannot have both 'OR REPLACE' and 'IF NOT EXISTS'.`);
  if (cmd.orReplace && undroppableRoles.has(name)) throw invalid(`Failed to replace the specified role '${name}': '${name}' is a reserved role.`);
  const copyOf = cmd.args.has('copyOf') ? resolveName(cmd.args.get('copyOf') as string | { param: string }, params, 'role') : null;
  const n = await writeSecurity(dbms.systemDatabase(), (w) => {
    const existing = w.findRole(name);
    if (existing !== undefined) {
      if (cmd.ifNotExists) return 0;
      if (!cmd.orReplace) throw invalid(`Failed to create the specified role '${name}': Role already exists.`);
      w.dropRole(existing);
    }
    const source = copyOf === null ? undefined : w.findRole(copyOf);
    if (copyOf !== null && source === undefined) throw invalid(`Failed to create a role as copy of '${copyOf}': Role does not exist.`);
    const id = w.createRole(name);
    if (source !== undefined) w.copyPrivileges(source, id);
    return 1;
  });
  return result([], [], n);
}

async function grantOrRevokeRoles(dbms: Dbms, cmd: AdminCommand, grant: boolean, params: Map<string, Value>): Promise<AdminResult> {
  const roles = (cmd.args.get('roles') as string[]).map((r) => resolveName(r, params, 'role'));
  const users = (cmd.args.get('users') as string[]).map((u) => resolveName(u, params, 'user'));
  const verb = grant ? 'grant' : 'revoke';
  const prep = grant ? 'to' : 'from';
  const n = await writeSecurity(dbms.systemDatabase(), (w) => {
    let changed = 0;
    for (const r of roles) {
      for (const u of users) {
        const fail = (reason: string) => invalid(`Failed to ${verb} role '${r}' ${prep} user '${u}': ${reason}`);
        if (r === publicRole) throw fail(`'${publicRole}' is held by every user and cannot be ${grant ? 'granted' : 'revoked'}.`);
        const roleId = w.findRole(r);
        if (roleId === undefined) throw fail('Role does not exist.');
        const userId = w.findUser(u);
        if (userId === undefined) throw fail('User does not exist.');
        if (grant ? w.grantRole(userId, roleId) : w.revokeRole(userId, roleId)) changed++;
      }
    }
    return changed;
  });
  return result([], [], n);
}

function showRoles(dbms: Dbms, cmd: AdminCommand, action: string, params: Map<string, Value>): AdminResult {
  const state = loadSecurityState(dbms.systemDatabase());
  const withUsers = action.includes('WITH USERS') || action.includes('WITH USER');
  const populated = action.includes('POPULATED');
  const members = new Map<string, string[]>();
  for (const r of state.roles.keys()) members.set(r, []);
  for (const u of [...state.users.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const r of effectiveRoles(state, u.name)) members.get(r)?.push(u.name);
  }
  const rows: Value[][] = [];
  for (const role of [...state.roles.keys()].sort()) {
    const m = members.get(role)!;
    if (populated && m.length === 0) continue;
    if (!withUsers) rows.push([role]);
    else if (m.length === 0) rows.push([role, null]);
    else for (const u of m) rows.push([role, u]);
  }
  return showResult(dbms, cmd, withUsers ? ['role', 'member'] : ['role'], rows, params);
}

// ---------------------------------------------------------------- privileges

async function changePrivileges(dbms: Dbms, cmd: AdminCommand, verb: 'GRANT' | 'DENY' | 'REVOKE', params: Map<string, Value>): Promise<AdminResult> {
  const text = cmd.args.get('privilege') as string;
  const parsed = parsePrivilege(verb, text, params);
  const roles = (cmd.args.get('roles') as string[]).map((r) => resolveName(r, params, 'role'));
  const first = parsed.privileges[0];
  const what = first ? privilegeText(first).replace(/ ON .*$/, '') : text;
  const fail = (role: string, reason: string) =>
    invalid(`Failed to ${verb.toLowerCase()} ${what} privilege ${verb === 'REVOKE' ? 'from' : 'to'} role '${role}': ${reason}`);
  if (verb !== 'REVOKE') {
    const known = new Set(dbms.entries().map((e) => e.name));
    const missing = parsed.databases.find((d) => !known.has(d));
    if (missing !== undefined) throw new QuiverError('DatabaseNotFound', `Failed to ${verb.toLowerCase()} ${what} privilege to role '${roles[0]}': Database '${missing}' does not exist.`);
  }
  const n = await writeSecurity(dbms.systemDatabase(), (w) => {
    let changed = 0;
    for (const role of roles) {
      const roleId = w.findRole(role);
      if (roleId === undefined) throw fail(role, 'Role does not exist.');
      for (const spec of parsed.privileges) {
        if (verb === 'REVOKE') changed += w.removePrivilege(roleId, parsed.revokeAccess, spec);
        else if (w.addPrivilege(roleId, verb === 'GRANT' ? 'GRANTED' : 'DENIED', spec)) changed++;
      }
    }
    return changed;
  });
  return result([], [], n);
}

function revokeCommand(p: Privilege, roleText: string): string {
  return `REVOKE ${p.access === 'GRANTED' ? 'GRANT' : 'DENY'} ${privilegeText(p)} FROM ${roleText}`;
}

function showPrivileges(dbms: Dbms, user: AuthenticatedUser, cmd: AdminCommand, action: string, params: Map<string, Value>): AdminResult {
  const state: SecurityState = loadSecurityState(dbms.systemDatabase());
  const asRevoke = action.includes('AS REVOKE COMMANDS');
  const asCommands = asRevoke || action.includes('AS COMMANDS');
  let rows: Value[][];
  if (action.startsWith('SHOW USER')) {
    const name = cmd.target === null ? user.username : resolveName(cmd.target, params, 'user');
    if (!state.users.has(name)) throw invalid(`Failed to show privileges of user '${name}': User does not exist.`);
    const privileges = privilegesOfRoles(state, effectiveRoles(state, name)).sort(comparePrivileges);
    if (asCommands) {
      const commands = [...new Set(privileges.map((p) => (asRevoke ? revokeCommand(p, '$role') : privilegeCommand(p, { roleText: '$role' }))))].sort();
      return showResult(dbms, cmd, ['command'], commands.map((c) => [c]), params);
    }
    rows = privileges.map((p) => [p.access, p.action, p.resource, p.graph, p.segment, p.role, false, name]);
    return showResult(dbms, cmd, userPrivilegeColumns, rows, params);
  }
  let privileges: Privilege[];
  if (action.startsWith('SHOW ROLE')) {
    const name = resolveName(cmd.target, params, 'role');
    const role = state.roles.get(name);
    if (!role) throw invalid(`Failed to show privileges of role '${name}': Role does not exist.`);
    privileges = [...role.privileges];
  } else {
    privileges = [...state.roles.values()].flatMap((r) => r.privileges);
  }
  privileges.sort(comparePrivileges);
  if (asCommands) {
    const commands = [...new Set(privileges.map((p) => (asRevoke ? revokeCommand(p, quoteName(p.role)) : privilegeCommand(p))))].sort();
    return showResult(dbms, cmd, ['command'], commands.map((c) => [c]), params);
  }
  rows = privileges.map((p) => [p.access, p.action, p.resource, p.graph, p.segment, p.role, false]);
  return showResult(dbms, cmd, privilegeColumns, rows, params);
}
