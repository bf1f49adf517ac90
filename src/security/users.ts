/**
 * Users, stored as `:User` nodes in the system database (so changes are transactions in its log
 * and travel with its backups). The initial `neo4j` user is created at first start with password
 * `neo4j` marked as must-change, or with the password set beforehand by
 * `quiver-admin dbms set-initial-password`.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../kernel/database.js';
import { QuiverError } from '../util/errors.js';
import { hashPassword, verifyPassword } from './password.js';
import { loadSecurityState } from './security-store.js';

const userLabel = 'User';
export const initialUser = 'neo4j';

export interface UserRecord {
  name: string;
  passwordHash: string;
  passwordChangeRequired: boolean;
  suspended: boolean;
}

export function initialPasswordFile(dataDir: string): string {
  return join(dataDir, 'dbms', 'initial-password');
}

function findUser(tx: { nodeIdsByLabel(l: string): Iterable<number>; getNode(id: number): any }, name: string): number | undefined {
  for (const id of tx.nodeIdsByLabel(userLabel)) if (tx.getNode(id)?.properties.get('name') === name) return id;
  return undefined;
}

/** Every user, from the security model the system database holds (cached per system transaction). */
export function listUsers(system: Database): UserRecord[] {
  return [...loadSecurityState(system).users.values()];
}

/** Creates the initial user when no user exists yet. */
export async function ensureInitialUser(system: Database, dataDir: string): Promise<void> {
  if (listUsers(system).length > 0) return;
  const file = initialPasswordFile(dataDir);
  let hash = hashPassword('neo4j');
  let changeRequired = true;
  if (existsSync(file)) {
    hash = readFileSync(file, 'utf8').trim();
    changeRequired = false;
  }
  const tx = await system.beginWrite();
  tx.createNode([userLabel], new Map<string, any>([
    ['name', initialUser],
    ['passwordHash', hash],
    ['passwordChangeRequired', changeRequired],
    ['suspended', false],
  ]));
  await tx.commit();
  rmSync(file, { force: true });
}

export function authenticateUser(system: Database, name: string, password: string): UserRecord {
  const user = listUsers(system).find((u) => u.name === name);
  if (!user || !verifyPassword(password, user.passwordHash)) {
    throw new QuiverError('Unauthorized', 'The client is unauthorized due to authentication failure.');
  }
  if (user.suspended) throw new QuiverError('Unauthorized', 'The client is unauthorized due to authentication failure.');
  return user;
}

export async function changeOwnPassword(system: Database, name: string, oldPassword: string, newPassword: string): Promise<void> {
  const user = listUsers(system).find((u) => u.name === name);
  if (!user || !verifyPassword(oldPassword, user.passwordHash)) {
    throw new QuiverError('Forbidden', `User '${name}' failed to alter their own password: Invalid principal or credentials.`);
  }
  if (oldPassword === newPassword) {
    throw new QuiverError('Forbidden', `User '${name}' failed to alter their own password: Old password and new password cannot be the same.`);
  }
  const tx = await system.beginWrite();
  try {
    const id = findUser(tx, name)!;
    tx.setNodeProperty(id, 'passwordHash', hashPassword(newPassword));
    tx.setNodeProperty(id, 'passwordChangeRequired', false);
    await tx.commit();
  } catch (e) {
    tx.rollback();
    throw e;
  }
}
