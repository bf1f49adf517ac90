/**
 * One error table for every audience: each code maps to a Neo4j status code (Bolt FAILURE), a CLI
 * exit code, an HTTP status (the backup service's error responses), and whether a client may retry.
 * Adding a code without mapping it does not compile.
 */

interface ErrorSpec {
  /** Neo4j status code sent in Bolt FAILURE messages. */
  status: string;
  /** Exit code of a CLI command that fails with this error. */
  exitCode: number;
  /** HTTP status of a backup service response failing with this error (docs/backup-protocol.md, "Errors"). */
  httpStatus: number;
  retryable: boolean;
}

export const errorTable = {
  // configuration and usage
  ConfigInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 64, httpStatus: 400, retryable: false },
  UsageInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 64, httpStatus: 400, retryable: false },
  // kernel
  NotFound: { status: 'Neo.ClientError.Statement.EntityNotFound', exitCode: 1, httpStatus: 404, retryable: false },
  NodeHasRelationships: { status: 'Neo.ClientError.Schema.ConstraintValidationFailed', exitCode: 1, httpStatus: 400, retryable: false },
  ConstraintViolation: { status: 'Neo.ClientError.Schema.ConstraintValidationFailed', exitCode: 1, httpStatus: 400, retryable: false },
  SchemaRuleExists: { status: 'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists', exitCode: 1, httpStatus: 400, retryable: false },
  SchemaRuleMissing: { status: 'Neo.ClientError.Schema.IndexNotFound', exitCode: 1, httpStatus: 400, retryable: false },
  LockTimeout: { status: 'Neo.TransientError.Transaction.LockClientStopped', exitCode: 1, httpStatus: 503, retryable: true },
  /** Stopped by db.transaction.timeout. */
  TransactionTimedOut: { status: 'Neo.ClientError.Transaction.TransactionTimedOut', exitCode: 1, httpStatus: 400, retryable: false },
  /** Stopped by the timeout the client set when it began the transaction (Bolt tx_timeout). */
  TransactionTimedOutClientConfiguration: { status: 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration', exitCode: 1, httpStatus: 400, retryable: false },
  /** Stopped by TERMINATE TRANSACTION, a RESET, a closed connection or server shutdown. */
  TransactionTerminated: { status: 'Neo.TransientError.Transaction.Terminated', exitCode: 1, httpStatus: 503, retryable: true },
  TransactionClosed: { status: 'Neo.ClientError.Transaction.TransactionNotFound', exitCode: 1, httpStatus: 400, retryable: false },
  /** Neo4j's code for CALL { ... } IN TRANSACTIONS in an explicit transaction. */
  TransactionStartFailed: { status: 'Neo.DatabaseError.Transaction.TransactionStartFailed', exitCode: 1, httpStatus: 500, retryable: false },
  /** A transaction's changes passed db.memory.transaction.max: the same transaction fails again, so not retryable. */
  TransactionOutOfMemory: { status: 'Neo.ClientError.General.TransactionOutOfMemoryError', exitCode: 1, httpStatus: 400, retryable: false },
  /** The transactions of a database together passed db.memory.transaction.total.max: may succeed once others finish. */
  MemoryPoolOutOfMemory: { status: 'Neo.TransientError.General.MemoryPoolOutOfMemoryError', exitCode: 1, httpStatus: 503, retryable: true },
  DatabaseNotFound: { status: 'Neo.ClientError.Database.DatabaseNotFound', exitCode: 1, httpStatus: 404, retryable: false },
  DatabaseUnavailable: { status: 'Neo.TransientError.General.DatabaseUnavailable', exitCode: 3, httpStatus: 503, retryable: true },
  DatabaseExists: { status: 'Neo.ClientError.Database.ExistingDatabaseFound', exitCode: 1, httpStatus: 409, retryable: false },
  ReadOnly: { status: 'Neo.ClientError.General.WriteOnReadOnlyAccessDatabase', exitCode: 1, httpStatus: 400, retryable: false },
  StoreCorrupt: { status: 'Neo.DatabaseError.General.StorageDamageDetected', exitCode: 1, httpStatus: 500, retryable: false },
  LogCorrupt: { status: 'Neo.DatabaseError.Transaction.TransactionLogError', exitCode: 1, httpStatus: 500, retryable: false },
  // cypher
  SyntaxError: { status: 'Neo.ClientError.Statement.SyntaxError', exitCode: 1, httpStatus: 400, retryable: false },
  SemanticError: { status: 'Neo.ClientError.Statement.SemanticError', exitCode: 1, httpStatus: 400, retryable: false },
  TypeError: { status: 'Neo.ClientError.Statement.TypeError', exitCode: 1, httpStatus: 400, retryable: false },
  ParameterMissing: { status: 'Neo.ClientError.Statement.ParameterMissing', exitCode: 1, httpStatus: 400, retryable: false },
  ArithmeticError: { status: 'Neo.ClientError.Statement.ArithmeticError', exitCode: 1, httpStatus: 400, retryable: false },
  /** A function given an argument outside its domain (`range(0, 1, 0)`, `percentileCont(x, 1.5)`). */
  ArgumentError: { status: 'Neo.ClientError.Statement.ArgumentError', exitCode: 1, httpStatus: 400, retryable: false },
  ProcedureNotFound: { status: 'Neo.ClientError.Procedure.ProcedureNotFound', exitCode: 1, httpStatus: 404, retryable: false },
  // security
  Unauthorized: { status: 'Neo.ClientError.Security.Unauthorized', exitCode: 1, httpStatus: 401, retryable: false },
  Forbidden: { status: 'Neo.ClientError.Security.Forbidden', exitCode: 1, httpStatus: 403, retryable: false },
  CredentialsExpired: { status: 'Neo.ClientError.Security.CredentialsExpired', exitCode: 1, httpStatus: 401, retryable: false },
  // backup and restore
  BackupFailed: { status: 'Neo.DatabaseError.General.UnknownError', exitCode: 1, httpStatus: 500, retryable: false },
  ArtifactCorrupt: { status: 'Neo.DatabaseError.General.StorageDamageDetected', exitCode: 1, httpStatus: 500, retryable: false },
  ChainBroken: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, httpStatus: 400, retryable: false },
  TransactionsPruned: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, httpStatus: 410, retryable: false },
  ServerUnreachable: { status: 'Neo.TransientError.General.DatabaseUnavailable', exitCode: 1, httpStatus: 503, retryable: true },
  TargetInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, httpStatus: 400, retryable: false },
  DestinationExists: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, httpStatus: 409, retryable: false },
  TargetLocked: { status: 'Neo.TransientError.General.DatabaseUnavailable', exitCode: 1, httpStatus: 409, retryable: true },
  BackupBusy: { status: 'Neo.TransientError.General.DatabaseUnavailable', exitCode: 1, httpStatus: 503, retryable: true },
  ServerAnswerInvalid: { status: 'Neo.DatabaseError.General.UnknownError', exitCode: 1, httpStatus: 502, retryable: false },
  ServerNotRunning: { status: 'Neo.TransientError.General.DatabaseUnavailable', exitCode: 3, httpStatus: 503, retryable: true },
  DatabaseRunning: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 3, httpStatus: 409, retryable: false },
  IoError: { status: 'Neo.DatabaseError.General.UnknownError', exitCode: 1, httpStatus: 500, retryable: false },
  // TLS (dbms.ssl.policy.*): a policy whose files or settings cannot be used; a peer refused in the handshake
  TlsPolicyInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 64, httpStatus: 400, retryable: false },
  TlsRefused: { status: 'Neo.ClientError.Security.Unauthorized', exitCode: 1, httpStatus: 403, retryable: false },
  // bolt protocol
  BoltMessageMalformed: { status: 'Neo.ClientError.Request.InvalidFormat', exitCode: 1, httpStatus: 400, retryable: false },
  BoltRequestInvalid: { status: 'Neo.ClientError.Request.Invalid', exitCode: 1, httpStatus: 400, retryable: false },
  // last resort, only at outer boundaries
  Internal: { status: 'Neo.DatabaseError.General.UnknownError', exitCode: 70, httpStatus: 500, retryable: false },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorTable;

/** An error with a code from the table. The message says what failed and why; `hint` says what to do. */
export class QuiverError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'QuiverError';
    this.code = code;
    this.hint = options?.hint;
  }
  get status(): string {
    return errorTable[this.code].status;
  }
  get exitCode(): number {
    return errorTable[this.code].exitCode;
  }
  get httpStatus(): number {
    return errorTable[this.code].httpStatus;
  }
  get retryable(): boolean {
    return errorTable[this.code].retryable;
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorTable, code);
}

export function isQuiverError(e: unknown, code?: ErrorCode): e is QuiverError {
  return e instanceof QuiverError && (code === undefined || e.code === code);
}

/** Turns any thrown value into a QuiverError, wrapping unknown ones as Internal. */
export function toQuiverError(e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new QuiverError('Internal', message, { cause: e });
}

/** The errno name of a system error (`ENOSPC`, `EACCES`, ...), if it has one. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * The message of a failed file operation, with the one failure operators meet most said in words
 * first: `the file system is full: ENOSPC: no space left on device, write`.
 */
export function ioFailureDetail(e: unknown): string {
  const code = errnoCode(e);
  const words = code === 'ENOSPC' ? 'the file system is full: ' : code === 'EDQUOT' ? 'the disk quota is used up: ' : '';
  return words + (e instanceof Error ? e.message : String(e));
}

/** The cause chain as lines, for --verbose output. */
export function causeChain(e: unknown): string[] {
  const lines: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 10; depth++) {
    if (cur instanceof Error) {
      lines.push(`${cur.name}: ${cur.message}`);
      cur = (cur as { cause?: unknown }).cause;
    } else {
      lines.push(String(cur));
      break;
    }
  }
  return lines;
}
