/**
 * The Bolt backend of the real server: authenticates against the system database, runs Cypher
 * through the kernel in read or write transactions, executes administration commands against the
 * DBMS, and streams results in the batches the client pulls.
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

/** Rows of an execution, pulled in batches; `onEnd` runs once when exhausted or discarded. */
class StreamingResult implements QueryResult {
  private done = false;
  private summaryValue: ResultSummary | null = null;
  constructor(
    readonly fields: string[],
    private rows: Iterator<Value[]>,
    private readonly finish: () => Promise<ResultSummary>,
    /**
     * Whether DISCARD must run the remaining rows. Read rows have no side effects, and dropping
     * them must not cost the server a full scan (drivers DISCARD when an application stops
     * iterating early); write and admin results were produced eagerly, so draining them is cheap.
     */
    private readonly drainOnDiscard: boolean,
  ) {}

  async pull(n: number): Promise<{ records: Value[][]; hasMore: boolean }> {
    const records: Value[][] = [];
    if (this.done) return { records, hasMore: false };
    const limit = n < 0 ? Infinity : n;
    try {
      while (records.length < limit) {
        const r = this.rows.next();
        if (r.done) {
          await this.end();
          return { records, hasMore: false };
        }
        records.push(r.value);
      }
    } catch (e) {
      this.done = true;
      throw e;
    }
    return { records, hasMore: true };
  }

  private async end(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.summaryValue = await this.finish();
  }

  async discard(): Promise<void> {
    if (this.done) return;
    // Drain so that write statements complete their side effects, as Neo4j does on DISCARD.
    if (this.drainOnDiscard) for (let r = this.rows.next(); !r.done; r = this.rows.next()) void r;
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
   * changes, and must not lose rows either (Bolt lets clients keep several results open).
   */
  buffer(): void {
    if (this.done) return;
    const rest: Value[][] = [];
    try {
      for (let r = this.rows.next(); !r.done; r = this.rows.next()) rest.push(r.value);
    } catch (e) {
      this.done = true;
      throw e;
    }
    this.rows = rest[Symbol.iterator]();
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
    /** db.transaction.timeout: explicit transactions older than this are rolled back (0 = none). */
    private readonly txTimeoutMs: number = 0,
    /** host:port clients use to reach this server (SHOW DATABASES `address`). */
    private readonly boltAddress: string = 'localhost:7687',
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
    if (q.kind === 'admin' && db.name !== 'system') {
      throw new QuiverError('SemanticError', `This is an administration command and it should be executed against the system database: ${query.trim().split(/\s+/).slice(0, 3).join(' ')}`);
    }
    if (this.authEnabled) authorizeStatement(this.dbms, user.username, q, db.name);
  }

  /** The transaction as `user` may see and change it (docs/security.md); unchanged without auth. */
  private secured(user: AuthenticatedUser, db: Database, tx: ReadTransaction | WriteTransaction) {
    return this.authEnabled ? secureTransaction(this.dbms, user.username, db.name, tx) : tx;
  }

  async beginTransaction(user: AuthenticatedUser, options: TxOptions): Promise<BoltTransaction> {
    const db = this.resolveDb(options.database, user);
    // The kernel transaction starts with the first data statement: administration commands in
    // the same transaction (drivers' executeQuery wraps everything in one) commit on their own.
    const timeoutMs = options.txTimeoutMs !== undefined && options.txTimeoutMs > 0 ? options.txTimeoutMs : this.txTimeoutMs;
    return new ExplicitTransaction(this, user, db, options.mode, this.lockTimeoutMs, timeoutMs);
  }

  /** Runs an administration command (its own system transaction). */
  async runAdmin(user: AuthenticatedUser, q: PreparedQuery, query: string, params: Map<string, Value>, db: Database): Promise<StreamingResult> {
    this.check(user, q, query, db);
    const r = (await executeSecurityAdmin(this.dbms, user, q, params, this.authEnabled)) ?? (await executeAdmin(this.dbms, user, q, params, this.boltAddress));
    const stats: Record<string, number> = r.systemUpdates ? { 'system-updates': r.systemUpdates } : {};
    return new StreamingResult(r.columns, r.rows[Symbol.iterator](), async () => ({ type: r.systemUpdates ? ('w' as const) : ('r' as const), stats, database: 'system' }), true);
  }

  /** Runs one statement in `tx`; used by explicit transactions. */
  runIn(user: AuthenticatedUser, db: Database, tx: ReadTransaction | WriteTransaction, q: PreparedQuery, query: string, params: Map<string, Value>): StreamingResult {
    this.check(user, q, query, db);
    if (q.kind !== 'read' && tx.mode === 'read') {
      throw new QuiverError('ReadOnly', 'Writing in read access mode not allowed. Attempted write to internal graph 0 (' + db.name + ')');
    }
    const exec = q.execute(this.secured(user, db, tx), params);
    const type = q.kind === 'read' ? 'r' : q.kind === 'schema' ? 's' : 'rw';
    return new StreamingResult(exec.columns, exec.rows(), async () => ({ type, stats: kebab(exec.stats()), database: db.name }), q.kind !== 'read');
  }

  async runAutoCommit(user: AuthenticatedUser, query: string, params: Map<string, Value>, options: TxOptions): Promise<AutoCommitResult> {
    const db = this.resolveDb(options.database, user);
    const q = prepare(query);
    this.check(user, q, query, db);
    if (q.kind === 'admin') {
      const result = await this.runAdmin(user, q, query, params, db);
      return Object.assign(result, { bookmark: () => bookmarkOf('system', this.dbms.systemDatabase().lastCommittedTxId()) });
    }
    if (q.kind === 'read') {
      const tx = db.beginRead();
      try {
        const exec = q.execute(this.secured(user, db, tx), params);
        const result = new StreamingResult(exec.columns, exec.rows(), async () => {
          tx.close();
          return { type: 'r', stats: kebab(exec.stats()), database: db.name };
        }, false);
        return Object.assign(result, { bookmark: () => null, rollback: async () => tx.close() });
      } catch (e) {
        tx.close();
        throw e;
      }
    }
    if (q.inTransactions) {
      // CALL { ... } IN TRANSACTIONS: no outer write transaction; each batch takes the writer slot
      // for its own transaction and commits (docs/cypher.md).
      const source = transactionSource(db, this.lockTimeoutMs, (tx) => this.secured(user, db, tx));
      const exec = await q.executeInTransactions(source, params);
      const stats = kebab(exec.stats());
      const result = new StreamingResult(exec.columns, exec.rows(), async () => ({ type: 'rw', stats, database: db.name }), true);
      return Object.assign(result, { bookmark: () => bookmarkOf(db.name, db.lastCommittedTxId()) });
    }
    // Writes run to completion and commit before the first record is returned: a client that
    // receives records knows the statement succeeded.
    const tx = await db.beginWrite(this.lockTimeoutMs);
    let rows: Value[][];
    let exec;
    try {
      exec = q.execute(this.secured(user, db, tx), params);
      rows = [...{ [Symbol.iterator]: () => exec!.rows() }];
    } catch (e) {
      tx.rollback();
      throw e;
    }
    const { txId } = await tx.commit();
    const stats = kebab(exec.stats());
    const result = new StreamingResult(exec.columns, rows[Symbol.iterator](), async () => ({ type: q.kind === 'schema' ? 's' : 'rw', stats, database: db.name }), true);
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
  private readonly timer: NodeJS.Timeout | undefined;
  /** Set when the timeout rolled the transaction back; every later request fails with it. */
  private terminated: QuiverError | null = null;
  constructor(
    private readonly service: QueryService,
    private readonly user: AuthenticatedUser,
    private readonly db: Database,
    private readonly mode: 'READ' | 'WRITE',
    private readonly lockTimeoutMs: number,
    timeoutMs: number,
  ) {
    // With one writer per database, an abandoned write transaction would block every other writer:
    // the timeout frees the writer slot.
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.terminated = new QuiverError('TransactionTimedOut', `The transaction has been terminated: it did not complete within ${timeoutMs} ms (the client's transaction timeout, or db.transaction.timeout). Retry it in a new transaction.`);
        void this.rollback();
      }, timeoutMs);
      this.timer.unref();
    }
  }

  private assertAlive(): void {
    if (this.terminated) throw this.terminated;
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
      if (!this.tx) this.tx = this.mode === 'READ' ? this.db.beginRead() : await this.db.beginWrite(this.lockTimeoutMs);
      // Reads may interleave lazily; a write first fixes what earlier statements return.
      if (q.kind !== 'read' && this.tx.mode !== 'read') for (const r of this.open) r.buffer();
      result = this.service.runIn(this.user, this.db, this.tx, q, query, params);
    }
    this.open.push(result);
    return result;
  }

  async commit(): Promise<{ bookmark: string }> {
    this.assertAlive();
    if (this.timer) clearTimeout(this.timer);
    for (const r of this.open) await r.discard();
    this.open = [];
    const tx = this.tx;
    this.tx = null;
    if (!tx || tx.mode === 'read') {
      tx?.close();
      return { bookmark: bookmarkOf(this.db.name, this.db.lastCommittedTxId()) };
    }
    const { txId } = await tx.commit();
    return { bookmark: bookmarkOf(this.db.name, txId) };
  }

  async rollback(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.open = [];
    const tx = this.tx;
    this.tx = null;
    if (!tx) return;
    if (tx.mode === 'read') tx.close();
    else tx.rollback();
  }
}
