/**
 * What the Bolt layer needs from the rest of the server. The Bolt connection state machine talks
 * only to this interface, so it can be tested with transcripts and served by the real DBMS.
 * All errors thrown from these methods are QuiverErrors (src/util/errors.ts); their `status`
 * becomes the FAILURE code.
 */
import type { Value } from '../values/value.js';

export interface AuthToken {
  scheme: string;
  principal?: string;
  credentials?: string;
}

export interface AuthenticatedUser {
  username: string;
  /** Only `ALTER CURRENT USER SET PASSWORD` may run until the password is changed. */
  passwordChangeRequired: boolean;
}

export type AccessMode = 'READ' | 'WRITE';

export interface TxOptions {
  /** Database name; absent means the user's home/default database. */
  database?: string | undefined;
  mode: AccessMode;
  bookmarks: string[];
  txTimeoutMs?: number | undefined;
  metadata?: Map<string, Value> | undefined;
  /** Aborted when the client resets or closes the connection: running statements stop at their next slice. */
  signal?: AbortSignal | undefined;
  /** The connection the transaction runs on (SHOW TRANSACTIONS). */
  client?: { connectionId: string; address: string } | undefined;
}

export interface QueryStats {
  [counter: string]: number;
}

export interface ResultSummary {
  /** 'r' read-only, 'w' write-only, 'rw' read-write, 's' schema write. */
  type: 'r' | 'w' | 'rw' | 's';
  stats: QueryStats;
  /** Database the query ran against. */
  database: string;
}

/** A query result that is pulled in batches (PULL n). */
export interface QueryResult {
  readonly fields: string[];
  /** Up to `n` records (n = -1: all remaining). `hasMore` false when the stream is exhausted. */
  pull(n: number): Promise<{ records: Value[][]; hasMore: boolean }>;
  /** Drops the remaining records. */
  discard(): Promise<void>;
  /** Available once the stream is exhausted or discarded. */
  summary(): ResultSummary;
}

/** The result of an auto-commit query, which owns its transaction. */
export interface AutoCommitResult extends QueryResult {
  /** The committed state's bookmark once the result is consumed or discarded; null for read-only work. */
  bookmark(): string | null;
  /**
   * Abandons the transaction without committing (RESET or connection loss mid-stream, as Neo4j does).
   * Optional: when absent the Bolt layer can only call discard(), which commits.
   */
  rollback?(): Promise<void>;
}

export interface BoltTransaction {
  readonly database: string;
  run(query: string, parameters: Map<string, Value>): Promise<QueryResult>;
  /** Returns the bookmark that identifies the committed state. */
  commit(): Promise<{ bookmark: string }>;
  rollback(): Promise<void>;
}

export interface RoutingTable {
  ttlSeconds: number;
  database: string;
  routers: string[];
  readers: string[];
  writers: string[];
}

export interface BoltBackend {
  /** e.g. "Neo4j/5.26.0": drivers check the product prefix. */
  readonly serverAgent: string;
  authenticate(token: AuthToken): Promise<AuthenticatedUser>;
  beginTransaction(user: AuthenticatedUser, options: TxOptions): Promise<BoltTransaction>;
  /** Auto-commit: the backend commits when the result is fully consumed or discarded; the bookmark then comes from `bookmark()`. */
  runAutoCommit(user: AuthenticatedUser, query: string, parameters: Map<string, Value>, options: TxOptions): Promise<AutoCommitResult>;
  route(user: AuthenticatedUser, database: string | undefined, bookmarks: string[], advertisedAddress: string): Promise<RoutingTable>;
}
