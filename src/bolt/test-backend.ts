/**
 * An in-memory BoltBackend for the Bolt layer's tests: a few fixed queries over generated rows, one
 * user, two databases, and counters so tests can observe pulls, commits and rollbacks. Rows are
 * produced lazily, so a large result never sits in memory. Not a database; not used in production.
 */
import { QuiverError } from '../util/errors.js';
import { NodeValue, PathValue, RelationshipValue, type Value } from '../values/value.js';
import type {
  AuthToken,
  AuthenticatedUser,
  AutoCommitResult,
  BoltBackend,
  BoltTransaction,
  QueryResult,
  QueryStats,
  ResultSummary,
  RoutingTable,
  TxOptions,
} from './backend.js';

export const testUser = { username: 'neo4j', password: 'pass' };
export const testDatabases = ['neo4j', 'system'];

/** Counters and logs a test can assert on. */
export interface TestBackendActivity {
  /** `n` of every QueryResult.pull call, in order. */
  pullSizes: number[];
  commits: number;
  rollbacks: number;
  autoCommitRollbacks: number;
  routes: number;
  /** Transactions begun and not yet committed or rolled back. */
  openTransactions: number;
  queries: string[];
}

interface Plan {
  fields: string[];
  rows: Iterable<Value[]>;
  type: ResultSummary['type'];
  stats: QueryStats;
}

export class TestBackend implements BoltBackend {
  readonly serverAgent = 'Neo4j/5.26.0';
  readonly activity: TestBackendActivity = {
    pullSizes: [],
    commits: 0,
    rollbacks: 0,
    autoCommitRollbacks: 0,
    routes: 0,
    openTransactions: 0,
    queries: [],
  };
  private bookmarkSeq = 0;
  private nodeIdNext = 0;

  async authenticate(token: AuthToken): Promise<AuthenticatedUser> {
    if (token.scheme === 'basic' && token.principal === testUser.username && token.credentials === testUser.password) {
      return { username: testUser.username, passwordChangeRequired: false };
    }
    throw new QuiverError('Unauthorized', 'The client is unauthorized due to authentication failure.');
  }

  async beginTransaction(_user: AuthenticatedUser, options: TxOptions): Promise<BoltTransaction> {
    const database = this.database(options.database);
    this.activity.openTransactions++;
    return new TestTransaction(this, database);
  }

  async runAutoCommit(_user: AuthenticatedUser, query: string, parameters: Map<string, Value>, options: TxOptions): Promise<AutoCommitResult> {
    const database = this.database(options.database);
    return new TestAutoCommitResult(this, this.plan(query, parameters), database);
  }

  async route(_user: AuthenticatedUser, database: string | undefined, _bookmarks: string[], advertisedAddress: string): Promise<RoutingTable> {
    this.activity.routes++;
    return { ttlSeconds: 300, database: this.database(database), routers: [advertisedAddress], readers: [advertisedAddress], writers: [advertisedAddress] };
  }

  nextBookmark(): string {
    return `FB:test:${++this.bookmarkSeq}`;
  }

  private database(name: string | undefined): string {
    const db = name ?? 'neo4j';
    if (!testDatabases.includes(db)) throw new QuiverError('DatabaseNotFound', `Database does not exist. Database name: '${db}'.`);
    return db;
  }

  /** The queries this backend understands; anything else is a syntax error. */
  plan(query: string, parameters: Map<string, Value>): Plan {
    this.activity.queries.push(query);
    const read = (fields: string[], rows: Iterable<Value[]>): Plan => ({ fields, rows, type: 'r', stats: {} });
    const echo = /^RETURN \$(\w+) AS (\w+)$/.exec(query);
    if (echo) return read([echo[2] as string], [[parameters.get(echo[1] as string) ?? null]]);
    switch (query) {
      case 'RETURN 1 AS n':
        return read(['n'], [[1n]]);
      case 'RETURN 1 AS a, 2 AS b':
        return read(['a', 'b'], [[1n, 2n]]);
      case 'UNWIND range(1, $n) AS i RETURN i': {
        const n = parameters.get('n');
        if (typeof n !== 'bigint' && typeof n !== 'number') throw new QuiverError('ParameterMissing', 'Expected parameter(s): n');
        return read(['i'], range(1n, BigInt(n)));
      }
      case 'CREATE (n:Person {name: $name}) RETURN n': {
        const name = parameters.get('name');
        if (typeof name !== 'string') throw new QuiverError('ParameterMissing', 'Expected parameter(s): name');
        const node = new NodeValue(this.nodeIdNext++, ['Person'], new Map([['name', name]]));
        return { fields: ['n'], rows: [[node]], type: 'w', stats: { 'nodes-created': 1, 'labels-added': 1, 'properties-set': 1 } };
      }
      case 'MATCH p = (a)-[r]->(b)<-[s]-(c) RETURN p': {
        const [a, b, c] = [0, 1, 2].map((id) => new NodeValue(id, ['N'], new Map([['i', BigInt(id)]]))) as [NodeValue, NodeValue, NodeValue];
        const r = new RelationshipValue(10, 'R', a.id, b.id, new Map());
        const s = new RelationshipValue(11, 'S', c.id, b.id, new Map([['w', 1.5]]));
        return read(['p'], [[new PathValue([a, b, c], [r, s])]]);
      }
      case 'UNWIND [1, 0] AS x RETURN 1 / x':
        return read(['1 / x'], divide());
    }
    throw new QuiverError('SyntaxError', `Invalid input '${query.slice(0, 20)}': expected a query this test backend knows`);
  }
}

function* range(from: bigint, to: bigint): Generator<Value[]> {
  for (let i = from; i <= to; i++) yield [i];
}

function* divide(): Generator<Value[]> {
  yield [1n];
  throw new QuiverError('ArithmeticError', '/ by zero');
}

class TestResult implements QueryResult {
  private readonly rows: Iterator<Value[]>;
  private lookahead: IteratorResult<Value[]> | undefined;
  protected exhausted = false;

  constructor(
    protected readonly backend: TestBackend,
    private readonly plan: Plan,
    private readonly database: string,
  ) {
    this.rows = plan.rows[Symbol.iterator]();
  }

  get fields(): string[] {
    return this.plan.fields;
  }

  async pull(n: number): Promise<{ records: Value[][]; hasMore: boolean }> {
    this.backend.activity.pullSizes.push(n);
    const records: Value[][] = [];
    while (n === -1 || records.length < n) {
      const next = this.next();
      if (next.done) break;
      records.push(next.value);
    }
    const hasMore = !this.peek().done;
    if (!hasMore) this.exhausted = true;
    return { records, hasMore };
  }

  async discard(): Promise<void> {
    this.exhausted = true;
  }

  summary(): ResultSummary {
    if (!this.exhausted) throw new QuiverError('Internal', 'summary requested before the result was consumed');
    return { type: this.plan.type, stats: this.plan.stats, database: this.database };
  }

  private next(): IteratorResult<Value[]> {
    const r = this.peek();
    this.lookahead = undefined;
    return r;
  }

  private peek(): IteratorResult<Value[]> {
    this.lookahead ??= this.rows.next();
    return this.lookahead;
  }
}

class TestAutoCommitResult extends TestResult implements AutoCommitResult {
  private bookmarkValue: string | null = null;
  private readonly writes: boolean;

  constructor(backend: TestBackend, plan: Plan, database: string) {
    super(backend, plan, database);
    this.writes = plan.type !== 'r';
  }

  override async pull(n: number): Promise<{ records: Value[][]; hasMore: boolean }> {
    const batch = await super.pull(n);
    if (!batch.hasMore) this.commit();
    return batch;
  }

  override async discard(): Promise<void> {
    await super.discard();
    this.commit();
  }

  bookmark(): string | null {
    return this.bookmarkValue;
  }

  async rollback(): Promise<void> {
    this.exhausted = true;
    this.backend.activity.autoCommitRollbacks++;
  }

  private commit(): void {
    if (this.writes && this.bookmarkValue === null) this.bookmarkValue = this.backend.nextBookmark();
  }
}

class TestTransaction implements BoltTransaction {
  private open = true;

  constructor(
    private readonly backend: TestBackend,
    readonly database: string,
  ) {}

  async run(query: string, parameters: Map<string, Value>): Promise<QueryResult> {
    this.check();
    return new TestResult(this.backend, this.backend.plan(query, parameters), this.database);
  }

  async commit(): Promise<{ bookmark: string }> {
    this.end();
    this.backend.activity.commits++;
    return { bookmark: this.backend.nextBookmark() };
  }

  async rollback(): Promise<void> {
    this.end();
    this.backend.activity.rollbacks++;
  }

  private end(): void {
    this.check();
    this.open = false;
    this.backend.activity.openTransactions--;
  }

  private check(): void {
    if (!this.open) throw new QuiverError('TransactionClosed', 'the transaction has already been committed or rolled back');
  }
}
