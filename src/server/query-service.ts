/**
 * The Bolt backend of the real server: authenticates against the system database, runs Cypher
 * through the kernel in read or write transactions, executes administration commands against the
 * DBMS, and streams results in the batches the client pulls. Statements execute in slices of
 * executionSliceMs, so no statement holds the event loop longer; every transaction is registered
 * (SHOW / TERMINATE TRANSACTIONS) and stops at its next slice when terminated, timed out, reset or
 * disconnected.
 */
import type {
  AuthToken,
  AuthenticatedUser,
  AutoCommitResult,
  BoltBackend,
  BoltTransaction,
  QueryResult,
  ResultSummary,
  RoutingTable,
  TxOptions,
} from '../bolt/backend.js';
import type { AdminCommand } from '../cypher/ast.js';
import { ExecutionSlice, slicePause, type SlicePause } from '../cypher/execution-slice.js';
import { prepare, type PreparedQuery } from '../cypher/index.js';
import type { ReadTransaction, WriteTransaction } from '../kernel/api.js';
import type { Database } from '../kernel/database.js';
import type { Dbms } from '../kernel/dbms.js';
import { authorizeStatement, secureTransaction } from '../security/enforcement.js';
import { loadSecurityState } from '../security/security-store.js';
import { authenticateUser } from '../security/users.js';
import { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { executeAdmin, isPasswordChange } from './admin-commands.js';
import { executeSecurityAdmin } from './admin-security-commands.js';
import { executeTransactionCommand, isTransactionCommand } from './transaction-commands.js';
import { TransactionRegistry, type RunningTransaction, type TransactionTimeout } from './transaction-registry.js';
import { transactionSource } from './transaction-source.js';

export const serverAgent = 'Neo4j/5.26.0';

function kebab(stats: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) if (v) out[k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = v;
  return out;
}

function bookmarkOf(db: string, txId: number): string {
  return `quiver:${db}:${txId}`;
}

/** Lets timers, signals, other connections and the backup service run before we continue. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What a statement's rows run under: its slice clock, and why it must stop (null: carry on). */
interface StatementControl {
  slice: ExecutionSlice;
  transaction: RunningTransaction;
  queryId: string;
}

/**
 * Rows of an execution, pulled in batches; `onEnd` runs once when exhausted or discarded. Rows are
 * computed in slices of executionSliceMs: at each pause the event loop runs, then the transaction is
 * asked whether it was terminated, timed out, reset or closed meanwhile, and the statement fails
 * with that error if so (its generators are closed; the caller rolls the transaction back).
 */
class StreamingResult implements QueryResult {
  private done = false;
  private summaryValue: ResultSummary | null = null;
  /** False once the transaction committed: nothing can stop a result that is already durable. */
  private stoppable = true;
  constructor(
    readonly fields: string[],
    private rows: Iterator<Value[] | SlicePause>,
    private readonly finish: () => Promise<ResultSummary>,
    /**
     * Whether DISCARD must run the remaining rows. Read rows have no side effects, and dropping
     * them must not cost the server a full scan (drivers DISCARD when an application stops
     * iterating early); write and admin results were produced eagerly, so draining them is cheap.
     */
    private readonly drainOnDiscard: boolean,
    private readonly control: StatementControl | null,
  ) {}

  private checkStop(): void {
    const stop = this.stoppable ? this.control?.transaction.stopReason() : null;
    if (stop) throw stop;
  }

  /**
   * Runs `each` on the next rows until it returns false or the rows end, pausing whenever the slice
   * is used up. Returns true when the rows ended.
   */
  private async run(each: (row: Value[]) => boolean): Promise<boolean> {
    const control = this.control;
    this.checkStop();
    control?.transaction.beginExecution();
    try {
      control?.slice.start();
      for (;;) {
        const r = this.rows.next();
        if (r.done) return true;
        if (r.value === slicePause) {
          await yieldToEventLoop();
          this.checkStop();
          control?.slice.start();
          continue;
        }
        if (!each(r.value)) return false;
      }
    } catch (e) {
      this.done = true;
      this.rows.return?.();
      throw e;
    } finally {
      control?.transaction.endExecution();
    }
  }

  async pull(n: number): Promise<{ records: Value[][]; hasMore: boolean }> {
    const records: Value[][] = [];
    if (this.done) return { records, hasMore: false };
    const limit = n < 0 ? Infinity : n;
    if (limit === 0) return { records, hasMore: true };
    const ended = await this.run((row) => records.push(row) < limit);
    if (ended) {
      await this.end();
      return { records, hasMore: false };
    }
    return { records, hasMore: true };
  }

  private async end(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const control = this.control;
    if (control && control.transaction.currentQueryId === control.queryId) control.transaction.endQuery();
    this.summaryValue = await this.finish();
  }

  async discard(): Promise<void> {
    if (this.done) return;
    // Drain so that write statements complete their side effects, as Neo4j does on DISCARD.
    if (this.drainOnDiscard) await this.run(() => true);
    else this.rows.return?.();
    await this.end();
  }

  /** True once the rows are exhausted or discarded. */
  get ended(): boolean {
    return this.done;
  }

  /**
   * Computes the remaining rows now and keeps them for later pulls. A lazy read result must be
   * fixed before a later statement of its transaction writes: it must not see that statement's
   * changes, and must not lose rows either (Bolt lets clients keep several results open). A write
   * statement is buffered when it runs, so all its writes are done before its RUN succeeds.
   */
  async buffer(): Promise<void> {
    if (this.done) return;
    const rest: Value[][] = [];
    await this.run((row) => {
      rest.push(row);
      return true;
    });
    this.rows = rest[Symbol.iterator]();
  }

  /** The transaction committed: later pulls only read buffered rows and must not fail. */
  settled(): void {
    this.stoppable = false;
  }

  summary(): ResultSummary {
    if (!this.summaryValue) throw new Error('assertion: summary requested before the result ended');
    return this.summaryValue;
  }
}

export class QueryService implements BoltBackend {
  readonly serverAgent = serverAgent;

  constructor(
    private readonly dbms: Dbms,
    private readonly authEnabled: boolean,
    private readonly lockTimeoutMs: number,
    /** db.transaction.timeout: transactions older than this are stopped and rolled back (0 = none). */
    private readonly txTimeoutMs: number = 0,
    /** host:port clients use to reach this server (SHOW DATABASES `address`). */
    private readonly boltAddress: string = 'localhost:7687',
    /** Every transaction this service runs (SHOW / TERMINATE TRANSACTIONS, shutdown). */
    readonly transactions: TransactionRegistry = new TransactionRegistry(),
  ) {}

  async authenticate(token: AuthToken): Promise<AuthenticatedUser> {
    if (!this.authEnabled) return { username: token.principal || 'neo4j', passwordChangeRequired: false };
    if (token.scheme !== 'basic' || !token.principal) {
      throw new QuiverError('Unauthorized', 'The client is unauthorized due to authentication failure.');
    }
    const user = authenticateUser(this.dbms.systemDatabase(), token.principal, token.credentials ?? '');
    return { username: user.name, passwordChangeRequired: user.passwordChangeRequired };
  }

  /** The named database, else the user's home database, else the default database. */
  private resolveDb(name: string | undefined, user?: AuthenticatedUser): Database {
    if (name && name.length) return this.dbms.database(name);
    const home = user && this.authEnabled ? loadSecurityState(this.dbms.systemDatabase()).users.get(user.username)?.home : null;
    return this.dbms.database(home ?? this.dbms.defaultDatabaseName);
  }

  private check(user: AuthenticatedUser, q: PreparedQuery, query: string, db: Database): void {
    if (user.passwordChangeRequired && !(q.kind === 'admin' && isPasswordChange(q))) {
      throw new QuiverError('CredentialsExpired', 'The credentials you provided were valid, but must be changed before you can use this instance. If this is the first time you are using Neo4j, this is to ensure you are not using the default credentials in production. If you are not using the default credentials, please contact your administrator.');
    }
    // SHOW / TERMINATE TRANSACTIONS run against any database, as in Neo4j.
    if (q.kind === 'admin' && db.name !== 'system' && !isTransactionCommand(q.statement)) {
      throw new QuiverError('SemanticError', `This is an administration command and it should be executed against the system database: ${query.trim().split(/\s+/).slice(0, 3).join(' ')}`);
    }
    if (this.authEnabled) authorizeStatement(this.dbms, user.username, q, db.name);
  }

  /** The transaction as `user` may see and change it (docs/security.md); unchanged without auth. */
  private secured(user: AuthenticatedUser, db: Database, tx: ReadTransaction | WriteTransaction) {
    return this.authEnabled ? secureTransaction(this.dbms, user.username, db.name, tx) : tx;
  }

  /** Registers a transaction of `user` on `db` with its timeout: the client's, else db.transaction.timeout. */
  registerTransaction(user: AuthenticatedUser, db: string, options: TxOptions): RunningTransaction {
    const timeout: TransactionTimeout | null =
      options.txTimeoutMs !== undefined && options.txTimeoutMs > 0
        ? { ms: options.txTimeoutMs, source: 'client' }
        : this.txTimeoutMs > 0
          ? { ms: this.txTimeoutMs, source: 'setting' }
          : null;
    const owner = {
      database: db,
      username: user.username,
      connectionId: options.client?.connectionId ?? '',
      clientAddress: options.client?.address ?? '',
      metadata: options.metadata ?? new Map<string, Value>(),
    };
    return this.transactions.begin(owner, timeout, options.signal);
  }

  async beginTransaction(user: AuthenticatedUser, options: TxOptions): Promise<BoltTransaction> {
    const db = this.resolveDb(options.database, user);
    // The kernel transaction starts with the first data statement: administration commands in
    // the same transaction (drivers' executeQuery wraps everything in one) commit on their own.
    return new ExplicitTransaction(this, user, db, options.mode, this.lockTimeoutMs, this.registerTransaction(user, db.name, options));
  }

  /** Runs an administration command (its own system transaction). */
  async runAdmin(user: AuthenticatedUser, q: PreparedQuery, query: string, params: Map<string, Value>, db: Database): Promise<StreamingResult> {
    this.check(user, q, query, db);
    const r = isTransactionCommand(q.statement)
      ? executeTransactionCommand(this.transactions, this.dbms, user, q.statement as AdminCommand, params, this.authEnabled)
      : ((await executeSecurityAdmin(this.dbms, user, q, params, this.authEnabled)) ?? (await executeAdmin(this.dbms, user, q, params, this.boltAddress)));
    const stats: Record<string, number> = r.systemUpdates ? { 'system-updates': r.systemUpdates } : {};
    const database = isTransactionCommand(q.statement) ? db.name : 'system';
    return new StreamingResult(r.columns, r.rows[Symbol.iterator](), async () => ({ type: r.systemUpdates ? ('w' as const) : ('r' as const), stats, database }), true, null);
  }

  /** Runs one statement in `tx` under `control`; used by explicit transactions. */
  runIn(user: AuthenticatedUser, db: Database, tx: ReadTransaction | WriteTransaction, q: PreparedQuery, query: string, params: Map<string, Value>, control: StatementControl): StreamingResult {
    this.check(user, q, query, db);
    if (q.kind !== 'read' && tx.mode === 'read') {
      throw new QuiverError('ReadOnly', 'Writing in read access mode not allowed. Attempted write to internal graph 0 (' + db.name + ')');
    }
    const exec = q.execute(this.secured(user, db, tx), params, { slice: control.slice });
    const type = q.kind === 'read' ? 'r' : q.kind === 'schema' ? 's' : 'rw';
    return new StreamingResult(exec.columns, exec.rows(), async () => ({ type, stats: kebab(exec.stats()), database: db.name }), q.kind !== 'read', control);
  }

  /** A statement's control: a fresh slice and a query id, recorded as the transaction's current query. */
  statementControl(transaction: RunningTransaction, query: string): StatementControl {
    const queryId = this.transactions.nextQueryId();
    transaction.startQuery(query, queryId);
    return { slice: new ExecutionSlice(), transaction, queryId };
  }

  async runAutoCommit(user: AuthenticatedUser, query: string, params: Map<string, Value>, options: TxOptions): Promise<AutoCommitResult> {
    const db = this.resolveDb(options.database, user);
    const q = prepare(query);
    this.check(user, q, query, db);
    if (q.kind === 'admin') {
      const result = await this.runAdmin(user, q, query, params, db);
      return Object.assign(result, { bookmark: () => bookmarkOf('system', this.dbms.systemDatabase().lastCommittedTxId()) });
    }
    const running = this.registerTransaction(user, db.name, options);
    const control = this.statementControl(running, query);
    if (q.kind === 'read') {
      const tx = db.beginRead();
      let open = true;
      const close = (): void => {
        if (!open) return;
        open = false;
        tx.close();
        this.transactions.end(running);
      };
      // Terminated between PULLs: the snapshot is released at once; the next PULL fails.
      running.whenIdle(close);
      try {
        const exec = q.execute(this.secured(user, db, tx), params, { slice: control.slice });
        const result = new StreamingResult(exec.columns, exec.rows(), async () => {
          close();
          return { type: 'r', stats: kebab(exec.stats()), database: db.name };
        }, false, control);
        return Object.assign(result, { bookmark: () => null, rollback: async () => close() });
      } catch (e) {
        close();
        throw e;
      }
    }
    if (q.inTransactions) {
      // CALL { ... } IN TRANSACTIONS: no outer write transaction; each batch takes the writer slot
      // for its own transaction and commits (docs/cypher.md). SHOW TRANSACTIONS lists the statement
      // and its running batch; it runs in slices like any statement.
      running.beginExecution();
      try {
        const source = transactionSource(db, this.lockTimeoutMs, (tx) => this.secured(user, db, tx), this.transactions, running);
        const exec = await q.executeInTransactions(source, params, { slice: control.slice });
        const stats = kebab(exec.stats());
        const result = new StreamingResult(exec.columns, exec.rows(), async () => ({ type: 'rw', stats, database: db.name }), true, control);
        return Object.assign(result, { bookmark: () => bookmarkOf(db.name, db.lastCommittedTxId()) });
      } finally {
        running.endExecution();
        this.transactions.end(running);
      }
    }
    // Writes run to completion (in slices) and commit before the first record is returned: a
    // client that receives records knows the statement succeeded.
    let tx: WriteTransaction;
    try {
      tx = await db.beginWrite(this.lockTimeoutMs);
    } catch (e) {
      this.transactions.end(running);
      throw e;
    }
    let result: StreamingResult;
    let exec;
    try {
      exec = q.execute(this.secured(user, db, tx), params, { slice: control.slice });
      const stats = exec.stats;
      result = new StreamingResult(exec.columns, exec.rows(), async () => ({ type: q.kind === 'schema' ? 's' : 'rw', stats: kebab(stats()), database: db.name }), true, control);
      await result.buffer();
      // The last chance to stop it: a transaction terminated while its last slice ran is not committed.
      const stop = running.stopReason();
      if (stop) throw stop;
    } catch (e) {
      tx.rollback();
      this.transactions.end(running);
      throw e;
    }
    let txId: number;
    try {
      ({ txId } = await tx.commit());
    } finally {
      this.transactions.end(running);
    }
    result.settled();
    return Object.assign(result, { bookmark: () => bookmarkOf(db.name, txId) });
  }

  async route(_user: AuthenticatedUser, database: string | undefined, _bookmarks: string[], advertisedAddress: string): Promise<RoutingTable> {
    const db = this.resolveDb(database, _user);
    return { ttlSeconds: 300, database: db.name, routers: [advertisedAddress], readers: [advertisedAddress], writers: [advertisedAddress] };
  }
}

class ExplicitTransaction implements BoltTransaction {
  /** Results not yet exhausted: clients may pull them in any order by qid. */
  private open: StreamingResult[] = [];
  private tx: ReadTransaction | WriteTransaction | null = null;
  private finished = false;
  constructor(
    private readonly service: QueryService,
    private readonly user: AuthenticatedUser,
    private readonly db: Database,
    private readonly mode: 'READ' | 'WRITE',
    private readonly lockTimeoutMs: number,
    private readonly running: RunningTransaction,
  ) {
    // With one writer per database, an abandoned or terminated write transaction would block every
    // other writer: terminated while idle (timeout, TERMINATE TRANSACTION), it rolls back at once.
    running.whenIdle(() => void this.release());
  }

  /** Every request after a termination fails with its reason. */
  private assertAlive(): void {
    const stop = this.running.stopReason();
    if (stop) {
      this.release();
      throw stop;
    }
  }

  get database(): string {
    return this.db.name;
  }

  async run(query: string, params: Map<string, Value>): Promise<QueryResult> {
    this.assertAlive();
    this.open = this.open.filter((r) => !r.ended);
    const q = prepare(query);
    let result: StreamingResult;
    if (q.kind === 'admin') {
      result = await this.service.runAdmin(this.user, q, query, params, this.db);
    } else {
      // A WRITE-mode transaction takes the database's single writer slot only with its first
      // writing statement: until then it reads (read committed, as in Neo4j), so the reads of
      // drivers' default write-mode transactions (executeQuery, RETURN 1) never queue behind a writer.
      const writes = this.mode === 'WRITE' && q.kind !== 'read';
      if (writes && this.tx?.mode === 'read') {
        // Earlier results keep what they read: fixed now, from the snapshot they started on.
        for (const r of this.open) await r.buffer();
        this.tx.close();
        this.tx = null;
      }
      if (!this.tx) this.tx = writes ? await this.db.beginWrite(this.lockTimeoutMs) : this.db.beginRead();
      // Reads may interleave lazily; a write first fixes what earlier statements return.
      if (q.kind !== 'read' && this.tx.mode !== 'read') for (const r of this.open) await r.buffer();
      result = this.service.runIn(this.user, this.db, this.tx, q, query, params, this.service.statementControl(this.running, query));
      if (q.kind !== 'read') await result.buffer();
    }
    this.open.push(result);
    return result;
  }

  async commit(): Promise<{ bookmark: string }> {
    this.assertAlive();
    for (const r of this.open) await r.discard();
    this.assertAlive();
    this.open = [];
    const tx = this.tx;
    this.tx = null;
    try {
      if (!tx || tx.mode === 'read') {
        tx?.close();
        return { bookmark: bookmarkOf(this.db.name, this.db.lastCommittedTxId()) };
      }
      const { txId } = await tx.commit();
      return { bookmark: bookmarkOf(this.db.name, txId) };
    } finally {
      this.finish();
    }
  }

  async rollback(): Promise<void> {
    this.release();
  }

  /** Rolls the kernel transaction back (if any) and leaves the registry; safe to call twice. */
  private release(): void {
    this.open = [];
    const tx = this.tx;
    this.tx = null;
    this.finish();
    if (!tx) return;
    if (tx.mode === 'read') tx.close();
    else tx.rollback();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.service.transactions.end(this.running);
  }
}
