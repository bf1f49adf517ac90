/**
 * Users, roles and privileges as a graph in the system database, so that every change is a
 * transaction in its log and travels with its backups:
 *   (:User {name, passwordHash, passwordChangeRequired, suspended, home?})-[:HAS_ROLE]->(:Role {name})
 *   (:Role)-[:HAS_PRIVILEGE]->(:Privilege {access, action, resource, graph, segment})
 * The PUBLIC role is a `:Role` node too; every user holds it without a HAS_ROLE relationship.
 * Readers get an immutable snapshot (`loadSecurityState`), cached per committed system transaction.
 */
import type { GraphRead, WriteTransaction } from '../kernel/api.js';
import type { Database } from '../kernel/database.js';
import { QuiverError } from '../util/errors.js';
import { comparePrivileges, privilegeKey, type Privilege, type PrivilegeAccess, type PrivilegeSpec } from './privilege-model.js';
import { parsePrivilege } from './privilege-parse.js';
import { initialUser } from './users.js';

export const userLabel = 'User';
export const roleLabel = 'Role';
export const privilegeLabel = 'Privilege';
export const hasRoleType = 'HAS_ROLE';
export const hasPrivilegeType = 'HAS_PRIVILEGE';

export const publicRole = 'PUBLIC';
export const adminRole = 'admin';

export interface SecurityUser {
  name: string;
  passwordHash: string;
  passwordChangeRequired: boolean;
  suspended: boolean;
  /** The home database, or null for the default database. */
  home: string | null;
  /** Roles granted explicitly, sorted; PUBLIC is implicit and not listed. */
  roles: string[];
}

export interface SecurityRole {
  name: string;
  privileges: Privilege[];
}

/** Everything the security model holds, as of one committed system transaction. */
export interface SecurityState {
  readonly txId: number;
  readonly users: ReadonlyMap<string, SecurityUser>;
  readonly roles: ReadonlyMap<string, SecurityRole>;
}

/**
 * The built-in roles and their default privileges, as Neo4j 5 creates them (procedure, function
 * and LOAD privileges are not modelled: see docs/security.md).
 */
export const builtInRoles: ReadonlyArray<{ role: string; grants: string[] }> = [
  { role: publicRole, grants: ['ACCESS ON HOME DATABASE'] },
  { role: 'reader', grants: ['ACCESS ON DATABASE *', 'MATCH {*} ON GRAPH *', 'SHOW CONSTRAINT ON DATABASE *', 'SHOW INDEX ON DATABASE *'] },
  { role: 'editor', grants: ['ACCESS ON DATABASE *', 'MATCH {*} ON GRAPH *', 'WRITE ON GRAPH *', 'SHOW CONSTRAINT ON DATABASE *', 'SHOW INDEX ON DATABASE *'] },
  { role: 'publisher', grants: ['ACCESS ON DATABASE *', 'MATCH {*} ON GRAPH *', 'WRITE ON GRAPH *', 'NAME MANAGEMENT ON DATABASE *', 'SHOW CONSTRAINT ON DATABASE *', 'SHOW INDEX ON DATABASE *'] },
  {
    role: 'architect',
    grants: ['ACCESS ON DATABASE *', 'MATCH {*} ON GRAPH *', 'WRITE ON GRAPH *', 'NAME MANAGEMENT ON DATABASE *', 'SHOW CONSTRAINT ON DATABASE *', 'SHOW INDEX ON DATABASE *', 'INDEX MANAGEMENT ON DATABASE *', 'CONSTRAINT MANAGEMENT ON DATABASE *'],
  },
  {
    role: adminRole,
    grants: [
      'ACCESS ON DATABASE *', 'MATCH {*} ON GRAPH *', 'WRITE ON GRAPH *', 'NAME MANAGEMENT ON DATABASE *', 'SHOW CONSTRAINT ON DATABASE *', 'SHOW INDEX ON DATABASE *',
      'INDEX MANAGEMENT ON DATABASE *', 'CONSTRAINT MANAGEMENT ON DATABASE *', 'START ON DATABASE *', 'STOP ON DATABASE *', 'TRANSACTION MANAGEMENT (*) ON DATABASE *',
      'ALL DBMS PRIVILEGES ON DBMS',
    ],
  },
];

// ---------------------------------------------------------------- reading

function str(v: unknown): string {
  if (typeof v !== 'string') throw new QuiverError('StoreCorrupt', `system database: expected a string in the security model, found ${typeof v}`);
  return v;
}

function readState(g: GraphRead, txId: number): SecurityState {
  const roles = new Map<string, SecurityRole>();
  for (const id of g.nodeIdsByLabel(roleLabel)) {
    const name = str(g.getNode(id)!.properties.get('name'));
    const privileges: Privilege[] = [];
    for (const adj of g.relationshipsOf(id, 'out', [hasPrivilegeType])) {
      const p = g.getNode(adj.otherId)!.properties;
      privileges.push({
        access: str(p.get('access')) as PrivilegeAccess,
        action: str(p.get('action')),
        resource: str(p.get('resource')),
        graph: str(p.get('graph')),
        segment: str(p.get('segment')),
        role: name,
      });
    }
    roles.set(name, { name, privileges: privileges.sort(comparePrivileges) });
  }
  const users = new Map<string, SecurityUser>();
  for (const id of g.nodeIdsByLabel(userLabel)) {
    const p = g.getNode(id)!.properties;
    const name = str(p.get('name'));
    const userRoles: string[] = [];
    for (const adj of g.relationshipsOf(id, 'out', [hasRoleType])) userRoles.push(str(g.getNode(adj.otherId)!.properties.get('name')));
    const home = p.get('home');
    users.set(name, {
      name,
      passwordHash: str(p.get('passwordHash')),
      passwordChangeRequired: p.get('passwordChangeRequired') === true,
      suspended: p.get('suspended') === true,
      home: typeof home === 'string' ? home : null,
      roles: userRoles.sort(),
    });
  }
  return { txId, users, roles };
}

const cache = new WeakMap<Database, SecurityState>();

/** The security model as of the last committed system transaction (cached until the next one). */
export function loadSecurityState(system: Database): SecurityState {
  const txId = system.lastCommittedTxId();
  const hit = cache.get(system);
  if (hit && hit.txId === txId) return hit;
  const r = system.beginRead();
  try {
    const state = readState(r, txId);
    cache.set(system, state);
    return state;
  } finally {
    r.close();
  }
}

/** A user's roles as Neo4j lists them: PUBLIC and every granted role, sorted. */
export function effectiveRoles(state: SecurityState, userName: string): string[] {
  const user = state.users.get(userName);
  return [publicRole, ...(user?.roles ?? [])].sort();
}

/** The privileges of every role in `roles` (unknown roles contribute nothing). */
export function privilegesOfRoles(state: SecurityState, roles: readonly string[]): Privilege[] {
  return roles.flatMap((r) => state.roles.get(r)?.privileges ?? []);
}

// ---------------------------------------------------------------- writing

/** Mutations of the security model inside one system write transaction. */
export class SecurityWriter {
  constructor(readonly tx: WriteTransaction) {}

  private find(label: string, name: string): number | undefined {
    for (const id of this.tx.nodeIdsByLabel(label)) if (this.tx.getNode(id)?.properties.get('name') === name) return id;
    return undefined;
  }

  findUser(name: string): number | undefined {
    return this.find(userLabel, name);
  }

  findRole(name: string): number | undefined {
    return this.find(roleLabel, name);
  }

  roleNames(): string[] {
    return [...this.tx.nodeIdsByLabel(roleLabel)].map((id) => str(this.tx.getNode(id)!.properties.get('name')));
  }

  createRole(name: string): number {
    return this.tx.createNode([roleLabel], new Map([['name', name]]));
  }

  private privilegeNodes(roleId: number): Array<{ id: number; key: string; access: PrivilegeAccess }> {
    return [...this.tx.relationshipsOf(roleId, 'out', [hasPrivilegeType])].map((adj) => {
      const p = this.tx.getNode(adj.otherId)!.properties;
      const spec = { action: str(p.get('action')), resource: str(p.get('resource')), graph: str(p.get('graph')), segment: str(p.get('segment')) };
      const access = str(p.get('access')) as PrivilegeAccess;
      return { id: adj.otherId, key: privilegeKey({ ...spec, access }), access };
    });
  }

  /** Deletes a role, its privileges and its memberships. */
  dropRole(roleId: number): void {
    for (const p of this.privilegeNodes(roleId)) this.tx.deleteNode(p.id, true);
    this.tx.deleteNode(roleId, true);
  }

  /** Adds a privilege unless the role already has it; returns whether it was added. */
  addPrivilege(roleId: number, access: PrivilegeAccess, spec: PrivilegeSpec): boolean {
    const key = privilegeKey({ ...spec, access });
    if (this.privilegeNodes(roleId).some((p) => p.key === key)) return false;
    const id = this.tx.createNode(
      [privilegeLabel],
      new Map<string, string>([['access', access], ['action', spec.action], ['resource', spec.resource], ['graph', spec.graph], ['segment', spec.segment]]),
    );
    this.tx.createRelationship(hasPrivilegeType, roleId, id, new Map());
    return true;
  }

  /** Removes matching privileges (of `access`, or both kinds when null); returns how many. */
  removePrivilege(roleId: number, access: PrivilegeAccess | null, spec: PrivilegeSpec): number {
    let removed = 0;
    for (const a of access ? [access] : (['GRANTED', 'DENIED'] as const)) {
      const key = privilegeKey({ ...spec, access: a });
      for (const p of this.privilegeNodes(roleId)) {
        if (p.key !== key) continue;
        this.tx.deleteNode(p.id, true);
        removed++;
      }
    }
    return removed;
  }

  copyPrivileges(fromRoleId: number, toRoleId: number): void {
    for (const adj of [...this.tx.relationshipsOf(fromRoleId, 'out', [hasPrivilegeType])]) {
      const p = this.tx.getNode(adj.otherId)!.properties;
      this.addPrivilege(toRoleId, str(p.get('access')) as PrivilegeAccess, {
        action: str(p.get('action')), resource: str(p.get('resource')), graph: str(p.get('graph')), segment: str(p.get('segment')),
      });
    }
  }

  hasRole(userId: number, roleId: number): boolean {
    return [...this.tx.relationshipsOf(userId, 'out', [hasRoleType])].some((a) => a.otherId === roleId);
  }

  /** Returns whether the membership was added (false when it existed). */
  grantRole(userId: number, roleId: number): boolean {
    if (this.hasRole(userId, roleId)) return false;
    this.tx.createRelationship(hasRoleType, userId, roleId, new Map());
    return true;
  }

  revokeRole(userId: number, roleId: number): boolean {
    let removed = false;
    for (const a of [...this.tx.relationshipsOf(userId, 'out', [hasRoleType])]) {
      if (a.otherId !== roleId) continue;
      this.tx.deleteRelationship(a.relId);
      removed = true;
    }
    return removed;
  }

  createUser(u: Omit<SecurityUser, 'roles'>): number {
    const props = new Map<string, string | boolean>([
      ['name', u.name],
      ['passwordHash', u.passwordHash],
      ['passwordChangeRequired', u.passwordChangeRequired],
      ['suspended', u.suspended],
    ]);
    if (u.home !== null) props.set('home', u.home);
    return this.tx.createNode([userLabel], props);
  }

  setUserProperty(userId: number, key: 'name' | 'passwordHash' | 'passwordChangeRequired' | 'suspended' | 'home', value: string | boolean | null): void {
    this.tx.setNodeProperty(userId, key, value);
  }

  renameNode(id: number, name: string): void {
    this.tx.setNodeProperty(id, 'name', name);
  }

  userProperties(userId: number): ReadonlyMap<string, unknown> {
    return this.tx.getNode(userId)!.properties;
  }

  anyRoleMembership(): boolean {
    for (const id of this.tx.nodeIdsByLabel(userLabel)) for (const _ of this.tx.relationshipsOf(id, 'out', [hasRoleType])) return true;
    return false;
  }
}

/** Runs `work` in one system write transaction: committed when it returns, rolled back when it throws. */
export async function writeSecurity<T>(system: Database, work: (w: SecurityWriter) => T): Promise<T> {
  const tx = await system.beginWrite();
  let result: T;
  try {
    result = work(new SecurityWriter(tx));
  } catch (e) {
    tx.rollback();
    throw e;
  }
  await tx.commit();
  return result;
}

/**
 * Creates the built-in roles with their default privileges when the system database has no roles
 * yet (first start, or a system database from before roles existed: every existing user then gets
 * `admin`, which keeps what they could do). When users exist but nobody holds any role (auth was
 * off at first start), the initial user `neo4j` gets `admin`.
 */
export async function ensureSecurityModel(system: Database): Promise<{ rolesCreated: boolean }> {
  const state = loadSecurityState(system);
  const needsRoles = state.roles.size === 0;
  const needsAdmin = !needsRoles && state.users.size > 0 && [...state.users.values()].every((u) => u.roles.length === 0) && state.users.has(initialUser) && state.roles.has(adminRole);
  if (!needsRoles && !needsAdmin) return { rolesCreated: false };
  await writeSecurity(system, (w) => {
    if (needsRoles) {
      for (const { role, grants } of builtInRoles) {
        const roleId = w.createRole(role);
        for (const g of grants) for (const spec of parsePrivilege('GRANT', g).privileges) w.addPrivilege(roleId, 'GRANTED', spec);
      }
      const adminId = w.findRole(adminRole)!;
      for (const name of state.users.keys()) w.grantRole(w.findUser(name)!, adminId);
    } else if (!w.anyRoleMembership()) {
      w.grantRole(w.findUser(initialUser)!, w.findRole(adminRole)!);
    }
  });
  return { rolesCreated: needsRoles };
}
