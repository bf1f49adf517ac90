/**
 * The settings table: every setting Quiver reads, declared once with its type, default, description and
 * validation. The loader, `Config.get` typing and docs/configuration.md all come from this table.
 * Names and defaults follow Neo4j 5 wherever a counterpart exists.
 */
import {
  clientConnectTimeoutMsDefault,
  clientIdleTimeoutMsDefault,
  serviceConcurrentStreamsMaxDefault,
  serviceHandshakeTimeoutMsDefault,
  serviceIdleTimeoutMsDefault,
  serviceStallTimeoutMsDefault,
} from '../backup/limits.js';
import { parseListenAddress } from './listen-address.js';
import {
  booleanType,
  byteSizeType,
  databaseNameType,
  durationType,
  enumType,
  hostType,
  integerType,
  listenAddressType,
  listType,
  pathType,
  retentionPolicyType,
  stringType,
  type ValueType,
} from './value-types.js';

export interface SettingSpec<T> {
  readonly type: ValueType<T>;
  /** Raw default text, parsed like a configured value; `undefined` = no default (the value is `undefined`). */
  readonly default: string | undefined;
  readonly description: string;
  /** Never print the value (passwords). */
  readonly secret: boolean;
  /** Key shown in the docs when one row stands for several settings, e.g. `dbms.ssl.policy.<scope>.enabled`. */
  readonly docKey: string | undefined;
  /** Default shown in the docs (Markdown) when it differs per row the docKey stands for. */
  readonly docDefault: string | undefined;
}

interface SpecExtras {
  secret?: boolean;
  docKey?: string;
  docDefault?: string;
}

function setting<T>(
  type: ValueType<T>,
  defaultRaw: string,
  description: string,
  extras: SpecExtras = {},
): SettingSpec<T> & { readonly default: string } {
  return {
    type,
    default: defaultRaw,
    description,
    secret: extras.secret ?? false,
    docKey: extras.docKey,
    docDefault: extras.docDefault,
  };
}

function optionalSetting<T>(
  type: ValueType<T>,
  description: string,
  extras: SpecExtras = {},
): SettingSpec<T> & { readonly default: undefined } {
  return { ...setting(type, '', description, extras), default: undefined };
}

/** A socket address whose lone-host form takes the port of its default, and whose `:port` form takes `hostKey`'s host. */
function addressSetting(hostKey: string, defaultRaw: string, description: string) {
  const port = parseListenAddress(defaultRaw, 'localhost', -1)?.port;
  if (port === undefined || port < 0) throw new Error(`assertion failed: default "${defaultRaw}" has no port`);
  return setting(listenAddressType(hostKey, port), defaultRaw, description);
}

export const sslScopes = ['backup', 'bolt', 'cluster'] as const;
export type SslScope = (typeof sslScopes)[number];

export const clientAuthValues = ['NONE', 'OPTIONAL', 'REQUIRE'] as const;
export const tlsVersionValues = ['TLSv1.2', 'TLSv1.3'] as const;

function sslSuffixSpecs(scope: SslScope) {
  const baseKey = `dbms.ssl.policy.${scope}.base_directory`;
  const doc = (suffix: string, docDefault?: string): SpecExtras =>
    docDefault === undefined
      ? { docKey: `dbms.ssl.policy.<scope>.${suffix}` }
      : { docKey: `dbms.ssl.policy.<scope>.${suffix}`, docDefault };
  return {
    enabled: setting(
      booleanType,
      'false',
      'Use this TLS policy. Each policy must be switched on explicitly.',
      doc('enabled'),
    ),
    base_directory: setting(
      pathType(),
      `certificates/${scope}`,
      'Folder holding the key, the certificate and the trusted and revoked folders of this policy. ' +
        'Quiver does not create it.',
      doc('base_directory', '`certificates/<scope>`'),
    ),
    private_key: setting(
      pathType(baseKey, 'base_directory'),
      'private.key',
      'Private key file (PEM). Keep it at mode 0400.',
      doc('private_key'),
    ),
    private_key_password: optionalSetting(
      stringType,
      'Password of the private key, in plain text; with --expand-commands it can be a `$(command)`.',
      { ...doc('private_key_password'), secret: true },
    ),
    public_certificate: setting(
      pathType(baseKey, 'base_directory'),
      'public.crt',
      'Certificate chain file (PEM).',
      doc('public_certificate'),
    ),
    trusted_dir: setting(
      pathType(baseKey, 'base_directory'),
      'trusted',
      'Folder of trusted certificates or CA certificates.',
      doc('trusted_dir'),
    ),
    revoked_dir: setting(
      pathType(baseKey, 'base_directory'),
      'revoked',
      'Folder of certificate revocation lists.',
      doc('revoked_dir'),
    ),
    client_auth: setting(
      enumType(clientAuthValues),
      scope === 'bolt' ? 'OPTIONAL' : 'REQUIRE',
      'Whether the peer must present a certificate; REQUIRE is mutual TLS.',
      doc('client_auth', '`OPTIONAL` for bolt, `REQUIRE` for backup and cluster'),
    ),
    tls_versions: setting(
      listType({ allowed: tlsVersionValues, minItems: 1 }),
      'TLSv1.2,TLSv1.3',
      'TLS versions to allow.',
      doc('tls_versions'),
    ),
    ciphers: optionalSetting(
      listType(),
      'Cipher suites to allow, by IANA name as in Neo4j (`TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`, `TLS_AES_256_GCM_SHA384`) ' +
        'or OpenSSL name (`ECDHE-RSA-AES256-GCM-SHA384`); unset leaves the Node.js defaults. Listing any TLSv1.3 suite limits TLSv1.3 to the listed ones.',
      doc('ciphers'),
    ),
    verify_hostname: setting(
      booleanType,
      'true',
      'The client checks that the server certificate names the host it dialled.',
      doc('verify_hostname'),
    ),
    trust_all: setting(booleanType, 'false', 'Trust every peer certificate (no CA, expiry, revocation or hostname check); logs a warning. For debugging only.', doc('trust_all')),
  };
}

type SslSuffixSpecs = ReturnType<typeof sslSuffixSpecs>;
export type SslSuffix = keyof SslSuffixSpecs;
export const sslSuffixes = Object.keys(sslSuffixSpecs('backup')) as SslSuffix[];
type SslPolicySettings<S extends SslScope> = {
  [K in SslSuffix as `dbms.ssl.policy.${S}.${K}`]: SslSuffixSpecs[K];
};

export function sslKey<S extends SslScope, X extends SslSuffix>(scope: S, suffix: X): `dbms.ssl.policy.${S}.${X}` {
  return `dbms.ssl.policy.${scope}.${suffix}`;
}

function sslPolicySettings<S extends SslScope>(scope: S): SslPolicySettings<S> {
  const specs: Record<string, SettingSpec<unknown>> = {};
  for (const [suffix, spec] of Object.entries(sslSuffixSpecs(scope))) {
    specs[`dbms.ssl.policy.${scope}.${suffix}`] = spec;
  }
  return specs as SslPolicySettings<S>;
}

/**
 * Declaration order matters: a setting whose type reads another (`dependsOn`) comes after it.
 * The check at the end of this module enforces that.
 */
export const settings = {
  'server.default_listen_address': setting(
    hostType,
    'localhost',
    'Host every listen address without a host of its own binds to; `0.0.0.0` for all interfaces.',
  ),
  'server.default_advertised_address': setting(
    hostType,
    'localhost',
    'Host every advertised address without a host of its own announces.',
  ),

  'server.bolt.enabled': setting(booleanType, 'true', 'Serve the Bolt protocol.'),
  'server.bolt.listen_address': addressSetting(
    'server.default_listen_address',
    ':7687',
    'Address the Bolt server binds to.',
  ),
  'server.bolt.advertised_address': addressSetting(
    'server.default_advertised_address',
    ':7687',
    'Bolt address announced to clients and cluster members.',
  ),

  'server.bolt.tls_level': setting(
    enumType(['REQUIRED', 'OPTIONAL', 'DISABLED'] as const),
    'DISABLED',
    'Encryption of Bolt connections: `REQUIRED` serves only TLS (`bolt+s://`, `neo4j+s://`), `OPTIONAL` serves TLS and ' +
      'plaintext on the one port (told apart by the first byte), `DISABLED` only plaintext. TLS needs ' +
      '`dbms.ssl.policy.bolt.enabled=true`, and that policy needs a level other than `DISABLED`.',
  ),

  'server.backup.enabled': setting(booleanType, 'true', 'Serve online backups.'),
  'server.backup.listen_address': addressSetting(
    'server.default_listen_address',
    '127.0.0.1:6362',
    'Address the backup service binds to. It has no authentication of its own: keep it local, ' +
      'or use the backup TLS policy with `client_auth=REQUIRE`.',
  ),
  'server.backup.max_rate': setting(
    byteSizeType(),
    '0',
    'Most bytes per second a backup request may take (store bytes read from the disk for a full backup, free pages not counted; transaction bytes for a differential); 0 is unlimited.',
  ),
  'server.backup.max_rate_under_load': setting(
    byteSizeType(),
    '20M',
    'Most store bytes per second a full backup may read from the disk (free pages not counted) while its database is committing transactions ' +
      '(a commit within the last second); at other times only `server.backup.max_rate` applies. Lets a backup yield to a busy ' +
      'database without slowing backups of a quiet one. 0 turns it off.',
  ),
  'server.backup.cpu_priority': setting(
    enumType(['idle', 'low', 'normal'] as const),
    'idle',
    'How backup work competes with queries for the CPU: the server threads that read and compress full ' +
      'backups, and the `quiver-admin database backup` process (set it in its configuration too). `idle` runs ' +
      'them only on CPU time nothing else wants (Linux SCHED_IDLE, else nice 19), `low` at nice 10, `normal` like queries.',
  ),

  'server.backup.max_concurrent': setting(
    integerType({ min: 1 }),
    String(serviceConcurrentStreamsMaxDefault),
    'Most backup streams (full backup snapshots and differential transaction streams) the backup service serves at once; ' +
      'a further request is refused (the client says the server is serving that many backups already).',
  ),
  'server.backup.stall_timeout': setting(
    durationType,
    `${serviceStallTimeoutMsDefault / 1000}s`,
    'A backup stream whose client reads nothing for this long is dropped, releasing the store snapshot it holds; logged. 0 is no limit.',
  ),
  'server.backup.handshake_timeout': setting(
    durationType,
    `${serviceHandshakeTimeoutMsDefault / 1000}s`,
    'A connection to the backup service that has not completed the HTTP/2 handshake and sent a valid request within this time is closed. 0 is no limit.',
  ),
  'server.backup.idle_timeout': setting(
    durationType,
    `${serviceIdleTimeoutMsDefault / 60_000}m`,
    'A connection to the backup service with no open request for this long is closed (backup clients reconnect). 0 is no limit.',
  ),
  'backup.client.connect_timeout': setting(
    durationType,
    `${clientConnectTimeoutMsDefault / 1000}s`,
    '`quiver-admin database backup`: longest wait from dialling a `--from` server until it answers in HTTP/2; ' +
      'the server then counts as unreachable. 0 is no limit.',
  ),
  'backup.client.idle_timeout': setting(
    durationType,
    `${clientIdleTimeoutMsDefault / 1000}s`,
    '`quiver-admin database backup`: longest silence of a `--from` server on a request (no answer, or no data ' +
      'of a snapshot or transaction stream, for this long) before the backup of that database fails. 0 is no limit.',
  ),
  // Read by quiver-admin for s3:// targets (src/targets/s3/s3-settings.ts); docs/s3.md explains each.
  'backup.s3.part_size': setting(
    byteSizeType({ min: 5 * 1024 * 1024 }),
    '16M',
    'Size of each part of the multipart upload an artifact is streamed into (S3 needs at least 5M; an artifact has at most 10,000 parts, so 16M allows 156 GiB). The upload holds about `part_size` × (`upload_concurrency` + 1) in memory.',
  ),
  'backup.s3.upload_concurrency': setting(
    integerType({ min: 1, max: 16 }),
    '4',
    'Parts of one artifact uploaded at the same time.',
  ),
  'backup.s3.storage_class': optionalSetting(
    stringType,
    'Storage class of new artifact objects (`STANDARD`, `STANDARD_IA`, `INTELLIGENT_TIERING`, `GLACIER_IR`, …); unset takes the bucket\'s default. Classes that need a restore request before a read (`GLACIER`, `DEEP_ARCHIVE`) cannot be restored from directly.',
  ),
  'backup.s3.server_side_encryption': setting(
    enumType(['none', 'SSE-S3', 'SSE-KMS'] as const),
    'none',
    'Server-side encryption requested for new artifact objects: `SSE-S3` (AES256, keys managed by the store) or `SSE-KMS` (with `backup.s3.sse_kms_key_id`, or the account\'s default KMS key when that is unset). `none` leaves the bucket\'s default encryption in force.',
  ),
  'backup.s3.sse_kms_key_id': optionalSetting(
    stringType,
    'KMS key id or ARN for `backup.s3.server_side_encryption=SSE-KMS`.',
  ),
  'backup.s3.request_timeout': setting(
    durationType,
    '2m',
    'Longest wait for an answer to one S3 request (a part upload or a ranged read) before it is retried.',
  ),
  'backup.s3.max_attempts': setting(
    integerType({ min: 1, max: 20 }),
    '8',
    'Attempts per S3 request: throttling (503 SlowDown), transient 5xx answers, timeouts and dropped connections are retried with exponential back-off and jitter.',
  ),
  'backup.s3.force_path_style': setting(
    booleanType,
    'false',
    'Address buckets as `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; most S3-compatible stores (MinIO, Ceph RGW, a `localhost` endpoint) need `true`.',
  ),
  'backup.s3.conditional_writes': setting(
    booleanType,
    'true',
    'Complete each artifact upload with `If-None-Match: *`, so the store itself refuses to overwrite an existing artifact. Set `false` only for a store that rejects the header; Quiver then checks that the name is free just before completing, which leaves a short window in which two writers of one name could race.',
  ),

  'server.cluster.listen_address': addressSetting(
    'server.default_listen_address',
    ':6000',
    'Address for catch-up traffic between cluster members.',
  ),

  'initial.dbms.default_database': setting(
    databaseNameType,
    'neo4j',
    'Name of the default database, created at first start only.',
  ),
  'dbms.security.auth_enabled': setting(booleanType, 'true', 'Require clients to authenticate.'),

  'db.tx_log.rotation.size': setting(
    byteSizeType({ min: 128 * 1024 }),
    '256M',
    'A transaction log file rotates once it reaches this size.',
  ),
  'db.tx_log.rotation.retention_policy': setting(
    retentionPolicyType,
    '2 days',
    'Which transaction log files to keep after a checkpoint; a differential backup needs the logs since the last backup.',
  ),
  'db.tx_log.preallocate': setting(
    booleanType,
    'true',
    'Preallocate transaction log files (overwriting preallocated blocks makes each fsync much cheaper).',
  ),

  'db.checkpoint.interval.time': setting(durationType, '15m', 'Longest time between checkpoints.'),
  'db.checkpoint.interval.tx': setting(integerType({ min: 1 }), '100000', 'Most transactions between checkpoints.'),

  'db.transaction.timeout': setting(
    durationType,
    '0',
    'Transactions running longer are stopped (at their running statement\'s next 5 ms slice) and rolled back with Neo.ClientError.Transaction.TransactionTimedOut; a timeout the driver sets for a transaction wins. 0 is no limit.',
  ),
  'db.lock.acquisition.timeout': setting(
    durationType,
    '30s',
    'Longest wait for a lock before the transaction fails; 0 is no limit.',
  ),
  // Neo4j 5's names, defaults (0 = no limit) and lower bounds (1 MiB, 10 MiB); see src/kernel/transaction-memory.ts.
  'db.memory.transaction.max': setting(
    byteSizeType({ min: 1024 * 1024, zeroAllowed: true }),
    '0',
    'Most memory one transaction\'s changes may hold (an estimate: records created or changed, their labels and properties); a transaction that needs more fails with `Neo.ClientError.General.TransactionOutOfMemoryError`. 0 is no limit.',
  ),
  'db.memory.transaction.total.max': setting(
    byteSizeType({ min: 10 * 1024 * 1024, zeroAllowed: true }),
    '0',
    'Most memory the open transactions of one database may hold together (estimated as for `db.memory.transaction.max`); the transaction that needs more fails with `Neo.TransientError.General.MemoryPoolOutOfMemoryError`. 0 is no limit.',
  ),

  'server.directories.data': setting(pathType(), 'data', 'Folder of the database stores (`databases/<db>`).'),
  // Neo4j resolves these two under the data folder (default `transactions`, `scripts`), so moving the data
  // folder moves them too; with the default data folder they are data/transactions and data/scripts.
  'server.directories.transaction.logs.root': setting(
    pathType('server.directories.data'),
    'transactions',
    'Folder of the transaction logs, one subfolder per database.',
  ),
  'server.directories.logs': setting(pathType(), 'logs', 'Folder of `quiver.log` and `debug.log`.'),
  'server.directories.run': setting(pathType(), 'run', 'Folder of the process id file.'),
  'server.directories.script.root': setting(
    pathType('server.directories.data'),
    'scripts',
    'Folder of the scripts restore writes (`<db>/restore_metadata.cypher`).',
  ),

  'server.config.strict_validation.enabled': setting(
    booleanType,
    'false',
    'Refuse to start on an unknown setting instead of warning.',
  ),
  'server.memory.pagecache.size': optionalSetting(
    byteSizeType(),
    'Memory for caching store pages; unset lets Quiver choose.',
  ),

  ...sslPolicySettings('backup'),
  ...sslPolicySettings('bolt'),
  ...sslPolicySettings('cluster'),
} satisfies Record<string, SettingSpec<unknown>>;

export type Settings = typeof settings;
export type SettingKey = keyof Settings & string;

/** The type `Config.get(key)` returns: the value type, or it `| undefined` for a setting without default. */
export type SettingValue<K extends SettingKey> = Settings[K] extends {
  readonly type: ValueType<infer T>;
  readonly default: string;
}
  ? T
  : Settings[K] extends { readonly type: ValueType<infer T> }
    ? T | undefined
    : never;

export const settingKeys = Object.keys(settings) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settings, key);
}

export function settingSpec(key: SettingKey): SettingSpec<unknown> {
  return settings[key];
}

// Our own bug if this fails: a type reads a setting that is parsed after it (or not at all).
for (const [index, key] of settingKeys.entries()) {
  const dependsOn = settingSpec(key).type.dependsOn;
  if (dependsOn !== undefined && !settingKeys.slice(0, index).includes(dependsOn as SettingKey)) {
    throw new Error(`assertion failed: setting "${key}" depends on "${dependsOn}", which is not declared before it`);
  }
}
