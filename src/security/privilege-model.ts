/**
 * The privilege model, pure: what a privilege is (one row of SHOW PRIVILEGES), how actions imply
 * each other, and how a set of privileges decides a request. DENY wins: a request is allowed when
 * at least one GRANTED privilege covers it and no DENIED privilege does.
 */

export type PrivilegeAccess = 'GRANTED' | 'DENIED';

/**
 * One atomic privilege, exactly as SHOW PRIVILEGES shows it. A command naming several graphs,
 * labels or properties becomes several privileges, one per (graph, segment, resource).
 */
export interface PrivilegeSpec {
  /** Neo4j's action name, e.g. 'traverse', 'read', 'match', 'write', 'access', 'role_management'. */
  action: string;
  /** 'graph' | 'database' | 'all_properties' | 'property(k)' | 'all_labels' | 'label(l)'. */
  resource: string;
  /** '*', 'HOME' or a database name; always '*' for DBMS privileges. */
  graph: string;
  /** 'database' | 'NODE(*)' | 'NODE(L)' | 'RELATIONSHIP(*)' | 'RELATIONSHIP(T)' | 'USER(*)'. */
  segment: string;
}

export interface Privilege extends PrivilegeSpec {
  access: PrivilegeAccess;
  role: string;
}

export type ActionScope = 'graph' | 'database' | 'dbms';

interface ActionSpec {
  scope: ActionScope;
  /** Compound actions that include this one: a grant or deny of a parent applies here too. */
  parents: string[];
  /** The privilege words of GRANT/DENY commands (for AS COMMANDS and messages). */
  words: string;
}

/** Every action this server knows, with the compound actions that contain it. */
export const actionTable: Record<string, ActionSpec> = {
  // graph: reads
  traverse: { scope: 'graph', parents: ['match', 'merge'], words: 'TRAVERSE' },
  read: { scope: 'graph', parents: ['match', 'merge'], words: 'READ' },
  match: { scope: 'graph', parents: ['graph_actions'], words: 'MATCH' },
  // graph: writes
  create_element: { scope: 'graph', parents: ['write', 'merge'], words: 'CREATE' },
  delete_element: { scope: 'graph', parents: ['write'], words: 'DELETE' },
  set_label: { scope: 'graph', parents: ['write'], words: 'SET LABEL' },
  remove_label: { scope: 'graph', parents: ['write'], words: 'REMOVE LABEL' },
  set_property: { scope: 'graph', parents: ['write', 'merge'], words: 'SET PROPERTY' },
  merge: { scope: 'graph', parents: ['graph_actions'], words: 'MERGE' },
  write: { scope: 'graph', parents: ['graph_actions'], words: 'WRITE' },
  graph_actions: { scope: 'graph', parents: [], words: 'ALL GRAPH PRIVILEGES' },
  // database
  access: { scope: 'database', parents: ['database_actions'], words: 'ACCESS' },
  start_database: { scope: 'database', parents: ['database_actions'], words: 'START' },
  stop_database: { scope: 'database', parents: ['database_actions'], words: 'STOP' },
  index: { scope: 'database', parents: ['database_actions'], words: 'INDEX MANAGEMENT' },
  create_index: { scope: 'database', parents: ['index'], words: 'CREATE INDEX' },
  drop_index: { scope: 'database', parents: ['index'], words: 'DROP INDEX' },
  show_index: { scope: 'database', parents: ['index'], words: 'SHOW INDEX' },
  constraint: { scope: 'database', parents: ['database_actions'], words: 'CONSTRAINT MANAGEMENT' },
  create_constraint: { scope: 'database', parents: ['constraint'], words: 'CREATE CONSTRAINT' },
  drop_constraint: { scope: 'database', parents: ['constraint'], words: 'DROP CONSTRAINT' },
  show_constraint: { scope: 'database', parents: ['constraint'], words: 'SHOW CONSTRAINT' },
  token: { scope: 'database', parents: ['database_actions'], words: 'NAME MANAGEMENT' },
  create_label: { scope: 'database', parents: ['token'], words: 'CREATE NEW NODE LABEL' },
  create_reltype: { scope: 'database', parents: ['token'], words: 'CREATE NEW RELATIONSHIP TYPE' },
  create_propertykey: { scope: 'database', parents: ['token'], words: 'CREATE NEW PROPERTY NAME' },
  transaction_management: { scope: 'database', parents: ['database_actions'], words: 'TRANSACTION MANAGEMENT' },
  show_transaction: { scope: 'database', parents: ['transaction_management'], words: 'SHOW TRANSACTION' },
  terminate_transaction: { scope: 'database', parents: ['transaction_management'], words: 'TERMINATE TRANSACTION' },
  database_actions: { scope: 'database', parents: [], words: 'ALL DATABASE PRIVILEGES' },
  // dbms
  role_management: { scope: 'dbms', parents: ['dbms_actions'], words: 'ROLE MANAGEMENT' },
  create_role: { scope: 'dbms', parents: ['role_management'], words: 'CREATE ROLE' },
  drop_role: { scope: 'dbms', parents: ['role_management'], words: 'DROP ROLE' },
  assign_role: { scope: 'dbms', parents: ['role_management'], words: 'ASSIGN ROLE' },
  remove_role: { scope: 'dbms', parents: ['role_management'], words: 'REMOVE ROLE' },
  show_role: { scope: 'dbms', parents: ['role_management'], words: 'SHOW ROLE' },
  rename_role: { scope: 'dbms', parents: ['role_management'], words: 'RENAME ROLE' },
  user_management: { scope: 'dbms', parents: ['dbms_actions'], words: 'USER MANAGEMENT' },
  create_user: { scope: 'dbms', parents: ['user_management'], words: 'CREATE USER' },
  drop_user: { scope: 'dbms', parents: ['user_management'], words: 'DROP USER' },
  show_user: { scope: 'dbms', parents: ['user_management'], words: 'SHOW USER' },
  rename_user: { scope: 'dbms', parents: ['user_management'], words: 'RENAME USER' },
  alter_user: { scope: 'dbms', parents: ['user_management'], words: 'ALTER USER' },
  set_passwords: { scope: 'dbms', parents: ['alter_user'], words: 'SET PASSWORDS' },
  set_user_status: { scope: 'dbms', parents: ['alter_user'], words: 'SET USER STATUS' },
  set_user_home_database: { scope: 'dbms', parents: ['alter_user'], words: 'SET USER HOME DATABASE' },
  database_management: { scope: 'dbms', parents: ['dbms_actions'], words: 'DATABASE MANAGEMENT' },
  create_database: { scope: 'dbms', parents: ['database_management'], words: 'CREATE DATABASE' },
  drop_database: { scope: 'dbms', parents: ['database_management'], words: 'DROP DATABASE' },
  alter_database: { scope: 'dbms', parents: ['database_management'], words: 'ALTER DATABASE' },
  privilege_management: { scope: 'dbms', parents: ['dbms_actions'], words: 'PRIVILEGE MANAGEMENT' },
  show_privilege: { scope: 'dbms', parents: ['privilege_management'], words: 'SHOW PRIVILEGE' },
  assign_privilege: { scope: 'dbms', parents: ['privilege_management'], words: 'ASSIGN PRIVILEGE' },
  remove_privilege: { scope: 'dbms', parents: ['privilege_management'], words: 'REMOVE PRIVILEGE' },
  dbms_actions: { scope: 'dbms', parents: [], words: 'ALL DBMS PRIVILEGES' },
};

export function actionSpec(action: string): ActionSpec {
  const spec = actionTable[action];
  if (!spec) throw new Error(`assertion: unknown privilege action "${action}"`);
  return spec;
}

const ancestorCache = new Map<string, ReadonlySet<string>>();

/** The action itself and every compound action that contains it. */
export function actionAndAncestors(action: string): ReadonlySet<string> {
  let set = ancestorCache.get(action);
  if (set) return set;
  const out = new Set<string>();
  const stack = [action];
  while (stack.length) {
    const a = stack.pop()!;
    if (out.has(a)) continue;
    out.add(a);
    stack.push(...actionSpec(a).parents);
  }
  set = out;
  ancestorCache.set(action, set);
  return set;
}

/** Actions whose resource names properties (`{*}` or `{k}`). */
export const propertyActions: ReadonlySet<string> = new Set(['read', 'match', 'merge', 'set_property']);
/** Actions whose resource names labels (`*` or `L`). */
export const labelActions: ReadonlySet<string> = new Set(['set_label', 'remove_label']);

// ---------------------------------------------------------------- identity and ordering

export function privilegeKey(p: PrivilegeSpec & { access?: string; role?: string }): string {
  return [p.access ?? '', p.action, p.resource, p.graph, p.segment, p.role ?? ''].join('\u0000');
}

export function comparePrivileges(a: Privilege, b: Privilege): number {
  return (
    a.role.localeCompare(b.role) ||
    a.graph.localeCompare(b.graph) ||
    a.action.localeCompare(b.action) ||
    a.segment.localeCompare(b.segment) ||
    a.resource.localeCompare(b.resource) ||
    a.access.localeCompare(b.access)
  );
}

// ---------------------------------------------------------------- rendering as commands

/** A name in backticks, with backticks inside doubled, as Neo4j prints names in commands. */
export function quoteName(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

function innerOf(s: string, prefix: string): string | null {
  return s.startsWith(prefix + '(') && s.endsWith(')') ? s.slice(prefix.length + 1, -1) : null;
}

function graphTarget(graph: string, kind: 'GRAPH' | 'DATABASE', databaseParam?: string): string {
  if (graph === '*') return `${kind} *`;
  if (graph === 'HOME') return `HOME ${kind}`;
  if (databaseParam && graph === databaseParam) return `${kind} $database`;
  return `${kind} ${quoteName(graph)}`;
}

function entityOf(segment: string): string {
  const node = innerOf(segment, 'NODE');
  if (node !== null) return `NODE ${node === '*' ? '*' : quoteName(node)}`;
  const rel = innerOf(segment, 'RELATIONSHIP');
  if (rel !== null) return `RELATIONSHIP ${rel === '*' ? '*' : quoteName(rel)}`;
  throw new Error(`assertion: graph privilege with segment "${segment}"`);
}

function propertiesOf(resource: string): string {
  if (resource === 'all_properties' || resource === 'graph') return '{*}';
  const k = innerOf(resource, 'property');
  if (k === null) throw new Error(`assertion: property privilege with resource "${resource}"`);
  return `{${quoteName(k)}}`;
}

export interface RenderOptions {
  /** Print this role instead of the privilege's own (SHOW USER PRIVILEGES prints `$role`). */
  roleText?: string;
  /** Print this database name as `$database` (metadata export). */
  databaseParam?: string;
}

/** The GRANT or DENY command that creates `p`. */
export function privilegeCommand(p: Privilege, opts: RenderOptions = {}): string {
  const verb = p.access === 'GRANTED' ? 'GRANT' : 'DENY';
  const role = opts.roleText ?? quoteName(p.role);
  return `${verb} ${privilegeText(p, opts.databaseParam)} TO ${role}`;
}

/** The privilege part of a command: between GRANT/DENY and TO. */
export function privilegeText(p: PrivilegeSpec, databaseParam?: string): string {
  const spec = actionSpec(p.action);
  if (spec.scope === 'dbms') return `${spec.words} ON DBMS`;
  if (spec.scope === 'database') {
    const suffix = p.segment === 'USER(*)' ? ' (*)' : '';
    return `${spec.words}${suffix} ON ${graphTarget(p.graph, 'DATABASE', databaseParam)}`;
  }
  const on = `ON ${graphTarget(p.graph, 'GRAPH', databaseParam)}`;
  if (p.action === 'write' || p.action === 'graph_actions') return `${spec.words} ${on}`;
  if (labelActions.has(p.action)) {
    const l = innerOf(p.resource, 'label');
    return `${spec.words} ${l === null ? '*' : quoteName(l)} ${on}`;
  }
  if (propertyActions.has(p.action)) return `${spec.words} ${propertiesOf(p.resource)} ${on} ${entityOf(p.segment)}`;
  return `${spec.words} ${on} ${entityOf(p.segment)}`;
}

// ---------------------------------------------------------------- decisions

/** What a request is about, for matching a privilege's segment and resource. */
export interface Target {
  /** Node labels (a node) or a relationship type (a relationship); absent for database/DBMS requests. */
  element?: { kind: 'node'; labels: readonly string[] } | { kind: 'relationship'; type: string };
  property?: string;
  label?: string;
}

function segmentMatches(segment: string, t: Target): boolean {
  const e = t.element;
  if (!e) return true;
  if (e.kind === 'node') {
    const l = innerOf(segment, 'NODE');
    return l !== null && (l === '*' || e.labels.includes(l));
  }
  const r = innerOf(segment, 'RELATIONSHIP');
  return r !== null && (r === '*' || r === e.type);
}

function resourceMatches(p: PrivilegeSpec & { access: PrivilegeAccess }, action: string, t: Target): boolean {
  if (t.property !== undefined) {
    if (p.resource === 'graph' || p.resource === 'all_properties') return true;
    return innerOf(p.resource, 'property') === t.property;
  }
  if (t.label !== undefined) {
    if (p.resource === 'graph' || p.resource === 'all_labels') return true;
    return innerOf(p.resource, 'label') === t.label;
  }
  // Finding an element: a MATCH on some properties still grants traversal, but only a DENY MATCH
  // on every property (stored with all_properties) denies it.
  if (action === 'traverse' && p.action === 'match' && p.access === 'DENIED') return p.resource === 'all_properties';
  return true;
}

/**
 * Whether `privileges` (already narrowed to the database in question) allow `action` on `target`:
 * some GRANT covers it and no DENY does.
 */
export function decide(privileges: readonly Privilege[], action: string, target: Target = {}): boolean {
  const actions = actionAndAncestors(action);
  let granted = false;
  for (const p of privileges) {
    if (!actions.has(p.action)) continue;
    if (!segmentMatches(p.segment, target)) continue;
    if (!resourceMatches(p, action, target)) continue;
    if (p.access === 'DENIED') return false;
    granted = true;
  }
  return granted;
}

/** The privileges that apply on `database` for a user whose home database is `homeDatabase`. */
export function privilegesOnDatabase(privileges: readonly Privilege[], database: string, homeDatabase: string): Privilege[] {
  return privileges.filter((p) => {
    if (actionSpec(p.action).scope === 'dbms') return false;
    return p.graph === '*' || p.graph === database || (p.graph === 'HOME' && database === homeDatabase);
  });
}

/** The DBMS-wide privileges. */
export function dbmsPrivileges(privileges: readonly Privilege[]): Privilege[] {
  return privileges.filter((p) => actionSpec(p.action).scope === 'dbms');
}
