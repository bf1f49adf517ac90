/**
 * SHOW TRANSACTIONS and TERMINATE TRANSACTION[S], with Neo4j 5's syntax and columns. They run
 * against any database. Every user sees and terminates their own transactions; other users'
 * transactions need SHOW TRANSACTION / TERMINATE TRANSACTION on their database (the built-in admin
 * role has TRANSACTION MANAGEMENT on every database). A terminated transaction stops at its
 * statement's next slice (or at once when idle) and fails with Neo.TransientError.Transaction.Terminated.
 */
import type { AuthenticatedUser } from '../bolt/backend.js';
import type { AdminCommand, Expr } from '../cypher/ast.js';
import type { Statement } from '../cypher/index.js';
import type { Dbms } from '../kernel/dbms.js';
import { typeMismatch } from '../cypher/value-util.js';
import { permissionsFor } from '../security/enforcement.js';
import { QuiverError } from '../util/errors.js';
import { QDuration } from '../values/temporal.js';
import type { Value } from '../values/value.js';
import type { AdminResult } from './admin-commands.js';
import { evaluateCommandExpr, showResult } from './admin-security-commands.js';
import type { RunningTransaction, TransactionRegistry } from './transaction-registry.js';

/** Every column, in Neo4j's order; the first ten are shown without YIELD. */
const allColumns = [
  'database', 'transactionId', 'currentQueryId', 'connectionId', 'clientAddress', 'username', 'currentQuery', 'startTime', 'status', 'elapsedTime',
  'outerTransactionId', 'metaData', 'currentQueryStartTime', 'protocol', 'currentQueryStatus', 'currentQueryElapsedTime', 'statusDetails',
];
const defaultColumnCount = 10;
const terminateColumns = ['transactionId', 'username', 'message'];

export function isTransactionCommand(s: Statement): boolean {
  return s.kind === 'AdminCommand' && (/^SHOW TRANSACTIONS?$/.test(s.action) || /^TERMINATE\b/.test(s.action));
}

/** Whether `user` may see (or terminate) `tx` of another user: self always, else the database privilege. */
function allowed(dbms: Dbms, user: AuthenticatedUser, tx: RunningTransaction, action: 'show_transaction' | 'terminate_transaction', authEnabled: boolean): boolean {
  if (!authEnabled || tx.owner.username === user.username) return true;
  return permissionsFor(dbms, user.username, tx.owner.database).allows(action);
}

function duration(ms: number): QDuration {
  const whole = Math.max(0, Math.floor(ms));
  return new QDuration(0n, 0n, BigInt(Math.floor(whole / 1000)), (whole % 1000) * 1e6);
}

function rowOf(tx: RunningTransaction, nowMs: number): Value[] {
  const o = tx.owner;
  const queryStart = tx.currentQueryStartMs;
  return [
    o.database, tx.transactionId, tx.currentQueryId ?? '', o.connectionId, o.clientAddress, o.username, tx.currentQueryId !== null ? tx.currentQuery : '',
    new Date(tx.startTimeMs).toISOString(), tx.status(), duration(nowMs - tx.startTimeMs),
    tx.outerTransactionId, o.metadata, queryStart === null ? null : new Date(queryStart).toISOString(), 'bolt', queryStart === null ? null : 'running',
    queryStart === null ? null : duration(nowMs - queryStart), '',
  ];
}

/**
 * The transaction ids a SHOW or TERMINATE TRANSACTIONS command names (parse-command.ts
 * parseTransactionIds), or null when a SHOW names none (all transactions).
 */
function transactionIdsOf(dbms: Dbms, cmd: AdminCommand, params: Map<string, Value>): string[] | null {
  const exprs = cmd.args.get('transactionIds') as Expr[] | undefined;
  if (exprs === undefined) return null;
  const ids: string[] = [];
  for (const e of exprs) {
    const v = evaluateCommandExpr(dbms, e, params);
    if (typeof v === 'string') ids.push(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) ids.push(...(v as string[]));
    else throw typeMismatch('String or List<String> (transaction ids)', v);
  }
  return ids;
}

export function executeTransactionCommand(registry: TransactionRegistry, dbms: Dbms, user: AuthenticatedUser, cmd: AdminCommand, params: Map<string, Value>, authEnabled: boolean, nowMs = Date.now()): AdminResult {
  const ids = transactionIdsOf(dbms, cmd, params);
  if (cmd.action.startsWith('SHOW')) {
    const wanted = ids === null ? null : new Set(ids);
    const rows = registry
      .list()
      .filter((tx) => (wanted === null || wanted.has(tx.transactionId)) && allowed(dbms, user, tx, 'show_transaction', authEnabled))
      .sort((a, b) => a.startTimeMs - b.startTimeMs)
      .map((tx) => rowOf(tx, nowMs));
    const m = cmd.modifiers;
    if (m && (m.yields || m.yieldStar || m.where || m.returnProjection)) return showResult(dbms, cmd, allColumns, rows, params);
    return { columns: allColumns.slice(0, defaultColumnCount), rows: rows.map((r) => r.slice(0, defaultColumnCount)), systemUpdates: 0 };
  }
  if (ids === null) throw new Error('assertion: the parser requires ids after TERMINATE TRANSACTIONS');
  const rows = ids.map((id): Value[] => {
    const tx = registry.find(id);
    // A transaction the user may not see is reported like one that does not exist, as Neo4j does.
    if (!tx || !allowed(dbms, user, tx, 'show_transaction', authEnabled)) return [id, null, 'Transaction not found.'];
    if (!allowed(dbms, user, tx, 'terminate_transaction', authEnabled)) {
      return [id, tx.owner.username, `Permission denied: TERMINATE TRANSACTION on database '${tx.owner.database}' is not granted to user '${user.username}'.`];
    }
    tx.terminate(new QuiverError('TransactionTerminated', `The transaction has been terminated: TERMINATE TRANSACTION by user '${user.username}'. Retry it in a new transaction.`));
    return [id, tx.owner.username, 'Transaction terminated.'];
  });
  return showResult(dbms, cmd, terminateColumns, rows, params);
}
