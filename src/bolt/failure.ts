/**
 * The metadata of a FAILURE message, shaped per Bolt version: `{code, message}` up to 5.6, and from
 * 5.7 `{neo4j_code, message, gql_status, description, diagnostic_record}` (drivers read the code from
 * `neo4j_code` there and ignore `code`). The Neo4j status code comes from the error table.
 */
import type { QuiverError } from '../util/errors.js';
import type { Value } from '../values/value.js';
import { type BoltVersion, versionAtLeast } from './handshake.js';

interface GqlStatus {
  gqlStatus: string;
  description: string;
}

/**
 * GQL status per Neo4j status code, for the codes our error table uses. Drivers only show these
 * (and use `_classification`); codes not listed get 50N42, the "unexpected error" status drivers
 * substitute themselves when a server sends none.
 */
const gqlByNeo4jCode: Record<string, GqlStatus> = {
  'Neo.ClientError.Statement.SyntaxError': { gqlStatus: '42001', description: 'error: syntax error or access rule violation - invalid syntax' },
  'Neo.ClientError.Statement.SemanticError': { gqlStatus: '42000', description: 'error: syntax error or access rule violation' },
  'Neo.ClientError.Statement.TypeError': { gqlStatus: '22000', description: 'error: data exception' },
  'Neo.ClientError.Statement.ArithmeticError': { gqlStatus: '22000', description: 'error: data exception' },
  'Neo.ClientError.Statement.ParameterMissing': { gqlStatus: '42000', description: 'error: syntax error or access rule violation' },
  'Neo.ClientError.Security.Unauthorized': { gqlStatus: '42NFF', description: 'error: syntax error or access rule violation - permission/access denied' },
  'Neo.ClientError.Security.Forbidden': { gqlStatus: '42NFF', description: 'error: syntax error or access rule violation - permission/access denied' },
  'Neo.ClientError.Security.CredentialsExpired': { gqlStatus: '42NFF', description: 'error: syntax error or access rule violation - permission/access denied' },
  'Neo.ClientError.Database.DatabaseNotFound': { gqlStatus: '22N51', description: 'error: data exception - graph reference not found' },
  'Neo.ClientError.Request.Invalid': { gqlStatus: '08N06', description: 'error: connection exception - protocol error' },
  'Neo.ClientError.Request.InvalidFormat': { gqlStatus: '08N06', description: 'error: connection exception - protocol error' },
};

const unexpected: GqlStatus = { gqlStatus: '50N42', description: 'error: general processing exception - unexpected error' };

/** CLIENT_ERROR / TRANSIENT_ERROR / DATABASE_ERROR, from the second part of the Neo4j code. */
function classification(neo4jCode: string): string {
  const kind = neo4jCode.split('.')[1];
  if (kind === 'ClientError') return 'CLIENT_ERROR';
  if (kind === 'TransientError') return 'TRANSIENT_ERROR';
  return 'DATABASE_ERROR';
}

/** The text sent to the client: the message, plus the hint when there is one. */
function messageText(error: QuiverError): string {
  return error.hint ? `${error.message} (hint: ${error.hint})` : error.message;
}

export function failureMetadata(error: QuiverError, version: BoltVersion): Map<string, Value> {
  const code = error.status;
  if (!versionAtLeast(version, 5, 7)) {
    return new Map<string, Value>([
      ['code', code],
      ['message', messageText(error)],
    ]);
  }
  const gql = gqlByNeo4jCode[code] ?? unexpected;
  return new Map<string, Value>([
    ['neo4j_code', code],
    ['message', messageText(error)],
    ['gql_status', gql.gqlStatus],
    ['description', gql.description],
    [
      'diagnostic_record',
      new Map<string, Value>([
        ['OPERATION', ''],
        ['OPERATION_CODE', '0'],
        ['CURRENT_SCHEMA', '/'],
        ['_classification', classification(code)],
      ]),
    ],
  ]);
}
