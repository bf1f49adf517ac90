/**
 * The per-connection Bolt state machine: takes one decoded request at a time (strictly in order) and
 * produces its responses through a sink, talking only to a BoltBackend. It owns the connection's open
 * transaction and result streams, and promises to roll them back on RESET, on failure and on close.
 * No sockets here: the shell in connection.ts feeds it and writes what it emits.
 */
import { QuiverError, toQuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import type { AuthenticatedUser, AutoCommitResult, BoltBackend, BoltTransaction, QueryResult, QueryStats, TxOptions } from './backend.js';
import { type BoltVersion, versionAtLeast } from './handshake.js';
import { pullStepRecordsMax } from './limits.js';
import type { DecodedRequest, Request, RequestType, Response, TxExtra } from './messages.js';
import type { StructureOptions } from './structures.js';

export type BoltState =
  | 'NEGOTIATION'
  | 'AUTHENTICATION'
  | 'READY'
  | 'STREAMING'
  | 'TX_READY'
  | 'TX_STREAMING'
  | 'FAILED'
  | 'INTERRUPTED'
  | 'DEFUNCT';

/** Receives responses in order. Returning a promise applies back-pressure: the session waits for it. */
export type ResponseSink = (r: Response) => void | Promise<void>;

export interface SessionOptions {
  backend: BoltBackend;
  version: BoltVersion;
  /** Sent in HELLO SUCCESS; drivers log it. */
  connectionId: string;
  /** host:port clients should use to reach this server; passed to the backend for ROUTE. */
  advertisedAddress: string;
  /** Milliseconds for t_first / t_last; injectable so transcripts are deterministic. */
  clockMs?: () => number;
  /** The client's host:port (SHOW TRANSACTIONS `clientAddress`). */
  clientAddress?: string;
}

interface OpenTransaction {
  tx: BoltTransaction;
  /** Open result streams by qid (0, 1, 2… per transaction). */
  results: Map<bigint, QueryResult>;
  nextQid: bigint;
  lastQid: bigint;
}

/** An open result stream and how to close it. */
type Stream = { kind: 'auto'; result: AutoCommitResult } | { kind: 'tx'; result: QueryResult; qid: bigint; open: OpenTransaction };

const authenticated: readonly BoltState[] = ['READY', 'STREAMING', 'TX_READY', 'TX_STREAMING', 'FAILED'];

/** Where each request is legal. Anything else is a protocol violation (FAILURE, then close). */
const allowedIn: Record<Exclude<RequestType, 'GOODBYE'>, readonly BoltState[]> = {
  HELLO: ['NEGOTIATION'],
  LOGON: ['AUTHENTICATION'],
  LOGOFF: ['READY'],
  RESET: authenticated,
  RUN: ['READY', 'TX_READY', 'TX_STREAMING'],
  BEGIN: ['READY'],
  // The spec lists COMMIT/ROLLBACK for TX_READY only; accepting them with streams still open (which
  // are discarded first) is harmless and spares clients that do not drain results first.
  COMMIT: ['TX_READY', 'TX_STREAMING'],
  ROLLBACK: ['TX_READY', 'TX_STREAMING'],
  PULL: ['STREAMING', 'TX_STREAMING'],
  DISCARD: ['STREAMING', 'TX_STREAMING'],
  ROUTE: ['READY'],
  TELEMETRY: ['READY'],
};

export class BoltSession {
  private stateValue: BoltState = 'NEGOTIATION';
  private user: AuthenticatedUser | null = null;
  private transaction: OpenTransaction | null = null;
  private autoCommit: AutoCommitResult | null = null;
  /** RESETs seen ahead of the queue (jump-ahead <INTERRUPT>) and not yet processed. */
  private interruptsPending = 0;
  /**
   * Aborted by <INTERRUPT> (a RESET ahead in the queue, or the connection closing): the backend's
   * running statement stops at its next slice. Renewed once the RESET is handled.
   */
  private interruption = new AbortController();
  private utcPatch = false;
  private readonly clockMs: () => number;

  constructor(private readonly options: SessionOptions) {
    this.clockMs = options.clockMs ?? (() => performance.now());
  }

  get state(): BoltState {
    return this.interruptsPending > 0 && this.stateValue !== 'DEFUNCT' ? 'INTERRUPTED' : this.stateValue;
  }

  /** How values are encoded on this connection; changes after HELLO when the 4.4 "utc" patch is agreed. */
  get structureOptions(): StructureOptions {
    const bolt5 = this.options.version.major >= 5;
    return { elementIds: bolt5, utcDateTime: bolt5 || this.utcPatch };
  }

  /**
   * The <INTERRUPT> signal: a RESET has arrived behind requests not yet processed. Until that RESET is
   * handled, queued requests are IGNORED and a running PULL stops between steps. Before
   * authentication a RESET is a protocol violation, so there is nothing to interrupt.
   */
  interrupt(): void {
    if (authenticated.includes(this.stateValue)) this.interruptsPending++;
    this.interruption.abort();
  }

  /** Handles one request and collects its responses (transcripts, tests). */
  async handle(req: DecodedRequest): Promise<Response[]> {
    const out: Response[] = [];
    await this.handleInto(req, (r) => {
      out.push(r);
    });
    return out;
  }

  /** Handles one request, emitting its responses in order. Requests must not overlap. */
  async handleInto(req: DecodedRequest, emit: ResponseSink): Promise<void> {
    const state = this.stateValue;
    if (state === 'DEFUNCT') return;
    if (req.type === 'GOODBYE') return this.close();
    if (req.type === 'UNDECODABLE' && req.fatal) return this.violation(req.error, emit);
    if (req.type !== 'RESET' && (this.interruptsPending > 0 || state === 'FAILED')) return emit({ type: 'IGNORED' });
    if (req.type === 'UNDECODABLE') return this.fail(req.error, emit);
    if (!allowedIn[req.type].includes(state)) {
      return this.violation(new QuiverError('BoltRequestInvalid', `message ${req.type} cannot be handled by a connection in state ${state}`), emit);
    }
    try {
      await this.dispatch(req, emit);
    } catch (e) {
      if (this.interruptsPending > 0) return this.interrupted(emit);
      await this.fail(e, emit);
    }
  }

  /** The request was stopped by <INTERRUPT>: IGNORED, like everything else before the RESET that cleans up. */
  private async interrupted(emit: ResponseSink): Promise<void> {
    await emit({ type: 'IGNORED' });
    try {
      await this.abandonWork();
    } catch {
      // The RESET that follows finds nothing left to roll back.
    }
    this.stateValue = 'FAILED';
  }

  /** Ends the connection: rolls back any open work. Throws the first cleanup error (for the log). */
  async close(): Promise<void> {
    if (this.stateValue === 'DEFUNCT') return;
    this.stateValue = 'DEFUNCT';
    this.user = null;
    await this.abandonWork();
  }

  private async dispatch(req: Exclude<Request, { type: 'GOODBYE' }>, emit: ResponseSink): Promise<void> {
    switch (req.type) {
      case 'HELLO':
        return this.hello(req, emit);
      case 'LOGON':
        this.user = await this.options.backend.authenticate(req.auth);
        this.stateValue = 'READY';
        return emit(success());
      case 'LOGOFF':
        this.user = null;
        this.stateValue = 'AUTHENTICATION';
        return emit(success());
      case 'TELEMETRY':
        return emit(success());
      case 'RESET':
        return this.reset(emit);
      case 'ROUTE':
        return this.route(req, emit);
      case 'BEGIN':
        return this.begin(req.extra, emit);
      case 'RUN':
        return this.run(req, emit);
      case 'PULL':
      case 'DISCARD':
        return this.pullOrDiscard(req, emit);
      case 'COMMIT':
        return this.commit(emit);
      case 'ROLLBACK':
        return this.rollback(emit);
    }
  }

  private async hello(req: Extract<Request, { type: 'HELLO' }>, emit: ResponseSink): Promise<void> {
    const { version, backend, connectionId } = this.options;
    const metadata = new Map<string, Value>([
      ['server', backend.serverAgent],
      ['connection_id', connectionId],
      // No hints: connection.recv_timeout_seconds would oblige us to send NOOPs during long queries,
      // telemetry.enabled would only add traffic.
      ['hints', new Map()],
    ]);
    if (versionAtLeast(version, 5, 1)) {
      this.stateValue = 'AUTHENTICATION';
      return emit(success(metadata));
    }
    // 4.4 and 5.0 authenticate inside HELLO.
    this.user = await backend.authenticate(req.auth ?? { scheme: 'none' });
    if (version.major === 4 && req.patchBolt.includes('utc')) {
      this.utcPatch = true;
      metadata.set('patch_bolt', ['utc']);
    }
    this.stateValue = 'READY';
    return emit(success(metadata));
  }

  private async reset(emit: ResponseSink): Promise<void> {
    if (this.interruptsPending > 0) this.interruptsPending--;
    try {
      await this.abandonWork();
      if (this.interruptsPending === 0) this.interruption = new AbortController();
    } catch (e) {
      // The spec's only failure path for RESET: the connection cannot be trusted any more.
      await emit({ type: 'FAILURE', error: toQuiverError(e) });
      this.stateValue = 'DEFUNCT';
      return;
    }
    this.stateValue = 'READY';
    return emit(success());
  }

  private async route(req: Extract<Request, { type: 'ROUTE' }>, emit: ResponseSink): Promise<void> {
    refuseImpersonation(req.impersonatedUser);
    const table = await this.options.backend.route(this.currentUser(), req.database, req.bookmarks, this.options.advertisedAddress);
    const servers = [
      ['ROUTE', table.routers],
      ['READ', table.readers],
      ['WRITE', table.writers],
    ].map(([role, addresses]) => new Map<string, Value>([['addresses', addresses as string[]], ['role', role as string]]));
    const rt = new Map<string, Value>([
      ['ttl', BigInt(table.ttlSeconds)],
      ['db', table.database],
      ['servers', servers],
    ]);
    return emit(success(new Map([['rt', rt]])));
  }

  private async begin(extra: TxExtra, emit: ResponseSink): Promise<void> {
    const tx = await this.options.backend.beginTransaction(this.currentUser(), this.txOptions(extra));
    this.transaction = { tx, results: new Map(), nextQid: 0n, lastQid: -1n };
    this.stateValue = 'TX_READY';
    const metadata = new Map<string, Value>();
    // 5.8: tell the client which home database it got, so it can pin it for the session.
    if (extra.database === undefined && versionAtLeast(this.options.version, 5, 8)) metadata.set('db', tx.database);
    return emit(success(metadata));
  }

  private async run(req: Extract<Request, { type: 'RUN' }>, emit: ResponseSink): Promise<void> {
    const started = this.clockMs();
    const open = this.transaction;
    if (open === null) {
      const result = await this.options.backend.runAutoCommit(this.currentUser(), req.query, req.parameters, this.txOptions(req.extra));
      this.autoCommit = result;
      this.stateValue = 'STREAMING';
      return emit(success(new Map<string, Value>([['fields', result.fields], ['t_first', this.elapsedMs(started)]])));
    }
    // Inside a transaction the RUN extra is empty by protocol: database and mode came with BEGIN.
    const result = await open.tx.run(req.query, req.parameters);
    const qid = open.nextQid++;
    open.results.set(qid, result);
    open.lastQid = qid;
    this.stateValue = 'TX_STREAMING';
    return emit(success(new Map<string, Value>([['fields', result.fields], ['t_first', this.elapsedMs(started)], ['qid', qid]])));
  }

  private async pullOrDiscard(req: Extract<Request, { type: 'PULL' | 'DISCARD' }>, emit: ResponseSink): Promise<void> {
    const started = this.clockMs();
    const stream = this.stream(req.qid);
    const all = req.n === -1n;
    if (req.type === 'DISCARD' && all) {
      await stream.result.discard();
      return this.finish(stream, started, emit);
    }
    let remaining = all ? Infinity : Number(req.n);
    let hasMore = true;
    while (remaining > 0) {
      const batch = await stream.result.pull(Math.min(remaining, pullStepRecordsMax));
      if (req.type === 'PULL') {
        for (const values of batch.records) {
          const wait = emit({ type: 'RECORD', values });
          if (wait) await wait;
        }
      }
      remaining -= batch.records.length;
      hasMore = batch.hasMore;
      if (!hasMore) break;
      if (this.interruptsPending > 0) return emit({ type: 'IGNORED' }); // the queued RESET cleans up
      if (batch.records.length === 0) break; // no progress from the backend: let the client ask again
    }
    if (hasMore) return emit(success(new Map([['has_more', true]])));
    return this.finish(stream, started, emit);
  }

  /** The final summary of an exhausted or discarded stream, and the state it leaves. */
  private async finish(stream: Stream, started: number, emit: ResponseSink): Promise<void> {
    const summary = stream.result.summary();
    const metadata = new Map<string, Value>();
    if (stream.kind === 'auto') {
      const bookmark = stream.result.bookmark();
      if (bookmark !== null) metadata.set('bookmark', bookmark);
      this.autoCommit = null;
      this.stateValue = 'READY';
    } else {
      stream.open.results.delete(stream.qid);
      this.stateValue = stream.open.results.size > 0 ? 'TX_STREAMING' : 'TX_READY';
    }
    metadata.set('type', summary.type);
    metadata.set('t_last', this.elapsedMs(started));
    metadata.set('db', summary.database);
    const stats = statsMap(summary.stats);
    if (stats.size > 0) metadata.set('stats', stats);
    return emit(success(metadata));
  }

  private stream(qid: bigint): Stream {
    if (this.stateValue === 'STREAMING') {
      const result = this.autoCommit;
      if (result === null) throw new QuiverError('Internal', 'STREAMING without an auto-commit result');
      if (qid !== -1n) throw new QuiverError('BoltRequestInvalid', `no result with qid ${qid}: auto-commit results have no qid (send -1)`);
      return { kind: 'auto', result };
    }
    const open = this.transaction;
    if (open === null) throw new QuiverError('Internal', 'TX_STREAMING without a transaction');
    const key = qid === -1n ? open.lastQid : qid;
    const result = open.results.get(key);
    if (result === undefined) throw new QuiverError('BoltRequestInvalid', `no open result with qid ${key} in this transaction`);
    return { kind: 'tx', result, qid: key, open };
  }

  private async commit(emit: ResponseSink): Promise<void> {
    const open = this.currentTransaction();
    for (const result of open.results.values()) await result.discard();
    open.results.clear();
    // The transaction stays recorded until commit succeeds, so a failed commit is still rolled back.
    const { bookmark } = await open.tx.commit();
    this.transaction = null;
    this.stateValue = 'READY';
    return emit(success(new Map([['bookmark', bookmark]])));
  }

  private async rollback(emit: ResponseSink): Promise<void> {
    const open = this.currentTransaction();
    // Forget it first: whether or not rollback succeeds, there is nothing left to retry.
    this.transaction = null;
    await open.tx.rollback();
    this.stateValue = 'READY';
    return emit(success());
  }

  /** A request failed: report it, drop open work, and IGNORE everything until RESET. */
  private async fail(e: unknown, emit: ResponseSink): Promise<void> {
    const error = toQuiverError(e);
    await emit({ type: 'FAILURE', error });
    if (this.stateValue === 'NEGOTIATION' || this.stateValue === 'AUTHENTICATION') {
      // HELLO/LOGON failures (bad credentials above all) end the connection.
      return this.close();
    }
    try {
      await this.abandonWork();
    } catch {
      // The transaction is dead either way; the client has the error that matters, and a RESET
      // or close will find nothing left to roll back.
    }
    this.stateValue = 'FAILED';
  }

  /** A message the client may not send now, or cannot be decoded: FAILURE, then the connection ends. */
  private async violation(error: QuiverError, emit: ResponseSink): Promise<void> {
    await emit({ type: 'FAILURE', error });
    return this.close();
  }

  /** Rolls back the open transaction and abandons an open auto-commit result. Throws the first error. */
  private async abandonWork(): Promise<void> {
    const auto = this.autoCommit;
    const open = this.transaction;
    this.autoCommit = null;
    this.transaction = null;
    let firstError: unknown;
    if (auto !== null) {
      try {
        // Without rollback() the backend can only discard, which commits what the query wrote.
        await (auto.rollback ? auto.rollback() : auto.discard());
      } catch (e) {
        firstError = e;
      }
    }
    if (open !== null) {
      try {
        await open.tx.rollback();
      } catch (e) {
        firstError ??= e;
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  private txOptions(extra: TxExtra): TxOptions {
    return {
      ...txOptions(extra),
      signal: this.interruption.signal,
      client: { connectionId: this.options.connectionId, address: this.options.clientAddress ?? '' },
    };
  }

  private currentUser(): AuthenticatedUser {
    if (this.user === null) throw new QuiverError('Internal', `no authenticated user in state ${this.stateValue}`);
    return this.user;
  }

  private currentTransaction(): OpenTransaction {
    if (this.transaction === null) throw new QuiverError('Internal', `no open transaction in state ${this.stateValue}`);
    return this.transaction;
  }

  private elapsedMs(started: number): bigint {
    return BigInt(Math.max(0, Math.round(this.clockMs() - started)));
  }
}

function success(metadata: Map<string, Value> = new Map()): Response {
  return { type: 'SUCCESS', metadata };
}

function refuseImpersonation(user: string | undefined): void {
  if (user !== undefined) {
    throw new QuiverError('Forbidden', `cannot impersonate user "${user}": impersonation is not supported`, {
      hint: 'connect as that user instead',
    });
  }
}

function txOptions(extra: TxExtra): TxOptions {
  refuseImpersonation(extra.impersonatedUser);
  return {
    database: extra.database,
    mode: extra.mode,
    bookmarks: extra.bookmarks,
    txTimeoutMs: extra.txTimeoutMs,
    metadata: extra.txMetadata,
  };
}

/** Non-zero counters only: drivers treat missing ones as zero. */
function statsMap(stats: QueryStats): Map<string, Value> {
  const m = new Map<string, Value>();
  for (const [key, n] of Object.entries(stats)) {
    if (Number.isInteger(n) && n !== 0) m.set(key, BigInt(n));
  }
  return m;
}
