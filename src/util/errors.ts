/**
 * One error table for three audiences: each code maps to a Neo4j status code (Bolt FAILURE),
 * a CLI exit code, and whether a client may retry. Adding a code without mapping it does not compile.
 */

interface ErrorSpec {
  /** Neo4j status code sent in Bolt FAILURE messages. */
  status: string;
  /** Exit code of a CLI command that fails with this error. */
  exitCode: number;
  retryable: boolean;
}

export const errorTable = {
  // configuration and usage
  ConfigInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 64, retryable: false },
  UsageInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 64, retryable: false },
  // kernel
  NotFound: { status: 'Neo.ClientError.Statement.EntityNotFound', exitCode: 1, retryable: false },
  NodeHasRelationships: { status: 'Neo.ClientError.Schema.ConstraintValidationFailed', exitCode: 1, retryable: false },
  ConstraintViolation: { status: 'Neo.ClientError.Schema.ConstraintValidationFailed', exitCode: 1, retryable: false },
  SchemaRuleExists: { status: 'Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists', exitCode: 1, retryable: false },
  SchemaRuleMissing: { status: 'Neo.ClientError.Schema.IndexNotFound', exitCode: 1, retryable: false },
  LockTimeout: { status: 'Neo.TransientError.Transaction.LockClientStopped', exitCode: 1, retryable: true },
  TransactionTimedOut: { status: 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration', exitCode: 1, retryable: false },
  TransactionClosed: { status: 'Neo.ClientError.Transaction.TransactionNotFound', exitCode: 1, retryable: false },
  /** Neo4j's code for CALL { ... } IN TRANSACTIONS in an explicit transaction. */
  TransactionStartFailed: { status: 'Neo.DatabaseError.Transaction.TransactionStartFailed', exitCode: 1, retryable: false },
  DatabaseNotFound: { status: 'Neo.ClientError.Database.DatabaseNotFound', exitCode: 1, retryable: false },
  DatabaseUnavailable: { status: 'Neo.TransientError.General.DatabaseUnavailable', exitCode: 3, retryable: true },
  DatabaseExists: { status: 'Neo.ClientError.Database.ExistingDatabaseFound', exitCode: 1, retryable: false },
  ReadOnly: { status: 'Neo.ClientError.General.WriteOnReadOnlyAccessDatabase', exitCode: 1, retryable: false },
  StoreCorrupt: { status: 'Neo.DatabaseError.General.StorageDamageDetected', exitCode: 1, retryable: false },
  LogCorrupt: { status: 'Neo.DatabaseError.Transaction.TransactionLogError', exitCode: 1, retryable: false },
  // cypher
  SyntaxError: { status: 'Neo.ClientError.Statement.SyntaxError', exitCode: 1, retryable: false },
  SemanticError: { status: 'Neo.ClientError.Statement.SemanticError', exitCode: 1, retryable: false },
  TypeError: { status: 'Neo.ClientError.Statement.TypeError', exitCode: 1, retryable: false },
  ParameterMissing: { status: 'Neo.ClientError.Statement.ParameterMissing', exitCode: 1, retryable: false },
  ArithmeticError: { status: 'Neo.ClientError.Statement.ArithmeticError', exitCode: 1, retryable: false },
  // security
  Unauthorized: { status: 'Neo.ClientError.Security.Unauthorized', exitCode: 1, retryable: false },
  Forbidden: { status: 'Neo.ClientError.Security.Forbidden', exitCode: 1, retryable: false },
  CredentialsExpired: { status: 'Neo.ClientError.Security.CredentialsExpired', exitCode: 1, retryable: false },
  // backup and restore
  BackupFailed: { status: 'Neo.DatabaseError.General.UnknownError', exitCode: 1, retryable: false },
  ArtifactCorrupt: { status: 'Neo.DatabaseError.General.StorageDamageDetected', exitCode: 1, retryable: false },
  ChainBroken: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, retryable: false },
  TransactionsPruned: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, retryable: false },
  ServerUnreachable: { status: 'Neo.TransientError.General.DatabaseUnavailable', exitCode: 1, retryable: true },
  TargetInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, retryable: false },
  DestinationExists: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 1, retryable: false },
  DatabaseRunning: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 3, retryable: false },
  IoError: { status: 'Neo.DatabaseError.General.UnknownError', exitCode: 1, retryable: false },
  // TLS (dbms.ssl.policy.*): a policy whose files or settings cannot be used; a peer refused in the handshake
  TlsPolicyInvalid: { status: 'Neo.ClientError.General.InvalidArguments', exitCode: 64, retryable: false },
  TlsRefused: { status: 'Neo.ClientError.Security.Unauthorized', exitCode: 1, retryable: false },
  // bolt protocol
  BoltMessageMalformed: { status: 'Neo.ClientError.Request.InvalidFormat', exitCode: 1, retryable: false },
  BoltRequestInvalid: { status: 'Neo.ClientError.Request.Invalid', exitCode: 1, retryable: false },
  // last resort, only at outer boundaries
  Internal: { status: 'Neo.DatabaseError.General.UnknownError', exitCode: 70, retryable: false },
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
  get retryable(): boolean {
    return errorTable[this.code].retryable;
  }
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
