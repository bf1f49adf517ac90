/**
 * Administration commands run against the system database: databases (SHOW / CREATE / DROP /
 * START / STOP) and the user's own password; users, roles and privileges are in
 * admin-security-commands.ts. Each returns rows like a query. Commands the parser
 * knows but this server does not implement yet fail with a clear message, never silently.
 */
import type { AuthenticatedUser } from '../bolt/backend.js';
import type { AdminCommand } from '../cypher/ast.js';
import type { PreparedQuery } from '../cypher/index.js';
import type { Dbms } from '../kernel/dbms.js';
import { changeOwnPassword } from '../security/users.js';
import { showResult } from './admin-security-commands.js';
import { QuiverError } from '../util/errors.js';
import { QDateTime } from '../values/temporal.js';
import type { Value } from '../values/value.js';

export interface AdminResult {
  columns: string[];
  rows: Value[][];
  systemUpdates: number;
}

function statementOf(q: PreparedQuery): AdminCommand {
  const s = (q as unknown as { statement?: AdminCommand }).statement;
  if (!s || s.kind !== 'AdminCommand') throw new Error('assertion: admin query without an AdminCommand statement');
  return s;
}

export function isPasswordChange(q: PreparedQuery): boolean {
  const s = (q as unknown as { statement?: AdminCommand }).statement;
  return s?.kind === 'AdminCommand' && /^ALTER CURRENT USER/.test(s.action);
}

function targetName(cmd: AdminCommand, params: Map<string, Value>): string {
  const t = cmd.target;
  if (t === null) throw new QuiverError('SyntaxError', `${cmd.action} needs a name`);
  if (typeof t === 'string') return t;
  const v = params.get(t.param);
  if (typeof v !== 'string') throw new QuiverError('ParameterMissing', `Expected parameter(s): ${t.param}`);
  return v;
}

function argString(cmd: AdminCommand, key: string, params: Map<string, Value>): string {
  const v = cmd.args.get(key) as unknown;
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'kind' in (v as object)) {
    const e = v as { kind: string; value?: unknown; name?: string };
    if (e.kind === 'Literal' && typeof e.value === 'string') return e.value;
    if (e.kind === 'Param' && e.name && typeof params.get(e.name) === 'string') return params.get(e.name) as string;
  }
  throw new QuiverError('SyntaxError', `${cmd.action}: expected a string for ${key}`);
}

function dt(ms: number | null): Value {
  if (ms === null || ms === 0) return null;
  return new QDateTime(BigInt(Math.floor(ms / 1000)), (ms % 1000) * 1e6, 0, null);
}

const databaseColumns = [
  'name', 'type', 'aliases', 'access', 'address', 'role', 'writer', 'requestedStatus', 'currentStatus', 'statusMessage',
  'default', 'home', 'constituents', 'databaseID', 'serverID', 'lastCommittedTxn', 'replicationLag', 'creationTime',
  'lastStartTime', 'lastStopTime', 'store',
];

export async function executeAdmin(dbms: Dbms, user: AuthenticatedUser, q: PreparedQuery, params: Map<string, Value>, boltAddress = 'localhost:7687'): Promise<AdminResult> {
  const cmd = statementOf(q);
  const action = cmd.action;
  switch (action) {
    case 'SHOW DATABASES':
    case 'SHOW DATABASE':
    case 'SHOW DEFAULT DATABASE':
    case 'SHOW HOME DATABASE': {
      const defaultName = dbms.defaultDatabaseName;
      let entries = dbms.entries();
      if (action === 'SHOW DATABASE') {
        const name = targetName(cmd, params).toLowerCase();
        entries = entries.filter((e) => e.name === name);
      }
      if (action === 'SHOW DEFAULT DATABASE' || action === 'SHOW HOME DATABASE') entries = entries.filter((e) => e.name === defaultName);
      const rows = entries.map((e): Value[] => {
        let lastTx: Value = null;
        try {
          lastTx = e.currentStatus === 'online' ? BigInt(dbms.database(e.name).lastCommittedTxId()) : null;
        } catch {
          lastTx = null;
        }
        return [
          e.name, e.name === 'system' ? 'system' : 'standard', [], 'read-write', boltAddress, 'primary', true,
          e.requestedStatus, e.currentStatus, e.statusMessage, e.name === defaultName, e.name === defaultName, null,
          e.databaseId, null, lastTx, 0n, dt(e.creationTimeMs), dt(e.lastStartTimeMs), dt(e.lastStopTimeMs), 'quiver-lmdb-1',
        ];
      });
      const cols = action === 'SHOW DEFAULT DATABASE' || action === 'SHOW HOME DATABASE' ? ['name', 'address', 'role', 'requestedStatus', 'currentStatus', 'statusMessage'] : databaseColumns;
      // YIELD / WHERE / RETURN see every column; without them Neo4j's default columns are shown.
      if (cmd.modifiers && (cmd.modifiers.yields || cmd.modifiers.yieldStar || cmd.modifiers.where || cmd.modifiers.returnProjection)) {
        return showResult(dbms, cmd, databaseColumns, rows, params);
      }
      const idx = cols.map((c) => databaseColumns.indexOf(c));
      return { columns: cols, rows: rows.map((r) => idx.map((i) => r[i] ?? null)), systemUpdates: 0 };
    }
    case 'CREATE DATABASE':
    case 'CREATE OR REPLACE DATABASE': {
      const name = targetName(cmd, params);
      if (cmd.orReplace || action === 'CREATE OR REPLACE DATABASE') await dbms.dropDatabase(name, { ifExists: true });
      const r = await dbms.createDatabase(name, { ifNotExists: cmd.ifNotExists });
      return { columns: [], rows: [], systemUpdates: r.created ? 1 : 0 };
    }
    case 'DROP DATABASE':
      await dbms.dropDatabase(targetName(cmd, params), { ifExists: cmd.ifExists });
      return { columns: [], rows: [], systemUpdates: 1 };
    case 'START DATABASE':
      await dbms.startDatabase(targetName(cmd, params));
      return { columns: [], rows: [], systemUpdates: 1 };
    case 'STOP DATABASE':
      await dbms.stopDatabase(targetName(cmd, params));
      return { columns: [], rows: [], systemUpdates: 1 };
    default:
      if (/^ALTER CURRENT USER/.test(action)) {
        await changeOwnPassword(dbms.systemDatabase(), user.username, argString(cmd, 'oldPassword', params), argString(cmd, 'password', params));
        return { columns: [], rows: [], systemUpdates: 1 };
      }
      throw new QuiverError('SemanticError', `"${action}" is not supported by this version of Quiver yet`, {
        hint: 'see docs/security.md and docs/server.md for the supported administration commands',
      });
  }
}
