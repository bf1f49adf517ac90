import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { type Config, describeSource, listenAddressToString, loadConfig, type LoadConfigOptions } from './config.js';

const root = mkdtempSync(join(tmpdir(), 'quiver-config-'));
after(() => rmSync(root, { recursive: true, force: true }));
let homes = 0;

/** A fresh home with conf/ holding the given files (name → text). */
function home(files: Record<string, string> = {}, mode = 0o600): string {
  const dir = join(root, `home-${++homes}`);
  mkdirSync(join(dir, 'conf'), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, 'conf', name), text);
    chmodSync(join(dir, 'conf', name), mode);
  }
  return dir;
}

function load(options: Partial<LoadConfigOptions> & { home: string }): { config: Config; warnings: string[] } {
  const warnings: string[] = [];
  const config = loadConfig({
    files: ['quiver.conf'],
    expandCommands: false,
    env: {},
    onWarning: (w) => warnings.push(w),
    ...options,
  });
  return { config, warnings };
}

function configError(pattern: RegExp, hint?: RegExp) {
  return (e: unknown) => {
    assert.ok(isQuiverError(e, 'ConfigInvalid'), String(e));
    assert.match(e.message, pattern);
    if (hint !== undefined) assert.match(e.hint ?? '', hint);
    return true;
  };
}

function invalid(key: string, value: string) {
  return load({ home: home(), overrides: { [key]: value } });
}

describe('loadConfig defaults', () => {
  it('gives every default when no file exists, typed and resolved against home', () => {
    const dir = home();
    const { config, warnings } = load({ home: dir });
    assert.deepEqual(warnings, []);
    assert.equal(config.home, dir);
    assert.equal(config.confDir, join(dir, 'conf'));
    assert.deepEqual(config.get('server.bolt.listen_address'), { host: 'localhost', port: 7687 });
    assert.deepEqual(config.get('server.backup.listen_address'), { host: '127.0.0.1', port: 6362 });
    assert.deepEqual(config.get('server.cluster.listen_address'), { host: 'localhost', port: 6000 });
    assert.equal(config.get('server.backup.enabled'), true);
    assert.equal(config.get('server.backup.max_rate'), 0);
    assert.equal(config.get('initial.dbms.default_database'), 'neo4j');
    assert.equal(config.get('db.tx_log.rotation.size'), 256 * 1024 * 1024);
    assert.deepEqual(config.get('db.tx_log.rotation.retention_policy'), { kind: 'age', ms: 2 * 86_400_000, bytesMax: undefined });
    assert.equal(config.get('db.checkpoint.interval.time'), 15 * 60_000);
    assert.equal(config.get('db.checkpoint.interval.tx'), 100_000);
    assert.equal(config.get('db.transaction.timeout'), 0);
    assert.equal(config.get('db.lock.acquisition.timeout'), 30_000);
    assert.equal(config.get('server.directories.data'), join(dir, 'data'));
    assert.equal(config.get('server.directories.transaction.logs.root'), join(dir, 'data', 'transactions'));
    assert.equal(config.get('server.directories.script.root'), join(dir, 'data', 'scripts'));
    assert.equal(config.get('server.directories.logs'), join(dir, 'logs'));
    assert.equal(config.get('server.directories.run'), join(dir, 'run'));
    assert.equal(config.get('server.config.strict_validation.enabled'), false);
    assert.equal(config.get('server.memory.pagecache.size'), undefined);
    assert.equal(config.sources.get('db.tx_log.rotation.size')?.kind, 'default');
  });

  it('types get() by the settings table', () => {
    const { config } = load({ home: home() });
    const bytes: number = config.get('db.tx_log.rotation.size');
    const auth: boolean = config.get('dbms.security.auth_enabled');
    const clientAuth: 'NONE' | 'OPTIONAL' | 'REQUIRE' = config.get('dbms.ssl.policy.backup.client_auth');
    // @ts-expect-error a setting without default may be undefined
    const pageCache: number = config.get('server.memory.pagecache.size');
    // @ts-expect-error not a setting
    config.get('db.tx_log.rotation.sise');
    assert.deepEqual([typeof bytes, typeof auth, clientAuth, pageCache], ['number', 'boolean', 'REQUIRE', undefined]);
  });

  it('derives :port addresses from the default listen and advertised hosts', () => {
    const { config } = load({
      home: home({ 'quiver.conf': 'server.default_listen_address=0.0.0.0\nserver.default_advertised_address=db.example.com\nserver.bolt.listen_address=:7688\n' }),
    });
    assert.deepEqual(config.get('server.bolt.listen_address'), { host: '0.0.0.0', port: 7688 });
    assert.deepEqual(config.get('server.cluster.listen_address'), { host: '0.0.0.0', port: 6000 });
    assert.deepEqual(config.get('server.bolt.advertised_address'), { host: 'db.example.com', port: 7687 });
    assert.deepEqual(config.get('server.backup.listen_address'), { host: '127.0.0.1', port: 6362 });
    assert.equal(listenAddressToString(config.get('server.bolt.listen_address')), '0.0.0.0:7688');
  });

  it('gives a lone host the default port of its setting, and reads bracketed IPv6', () => {
    const { config } = load({ home: home(), overrides: { 'server.backup.listen_address': '10.1.1.1', 'server.bolt.listen_address': '[::]:7000' } });
    assert.deepEqual(config.get('server.backup.listen_address'), { host: '10.1.1.1', port: 6362 });
    assert.deepEqual(config.get('server.bolt.listen_address'), { host: '::', port: 7000 });
  });

  it('lower-cases the default database name', () => {
    assert.equal(invalid('initial.dbms.default_database', 'Movies').config.get('initial.dbms.default_database'), 'movies');
  });

  it('treats an empty value as unset', () => {
    const { config } = load({ home: home({ 'quiver.conf': 'db.tx_log.rotation.size=\n' }) });
    assert.equal(config.get('db.tx_log.rotation.size'), 256 * 1024 * 1024);
  });

  it('resolves transaction logs and scripts under a moved data folder', () => {
    const { config } = load({ home: home(), overrides: { 'server.directories.data': '/srv/quiver' } });
    assert.equal(config.get('server.directories.transaction.logs.root'), '/srv/quiver/transactions');
    assert.equal(config.get('server.directories.script.root'), '/srv/quiver/scripts');
  });
});

describe('loadConfig files and precedence', () => {
  it('looks for files in QUIVER_CONF, and an explicit confDir wins over it', () => {
    const other = home({ 'quiver.conf': 'db.checkpoint.interval.tx=7\n' });
    const { config } = load({ home: home(), env: { QUIVER_CONF: join(other, 'conf') } });
    assert.equal(config.get('db.checkpoint.interval.tx'), 7);
    assert.equal(config.confDir, join(other, 'conf'));
    const mine = home({ 'quiver.conf': 'db.checkpoint.interval.tx=8\n' });
    assert.equal(load({ home: mine, confDir: join(mine, 'conf'), env: { QUIVER_CONF: join(other, 'conf') } }).config.get('db.checkpoint.interval.tx'), 8);
  });

  it('lets a later file win over an earlier one, and records which file set each key', () => {
    const dir = home({
      'quiver-admin.conf': 'db.checkpoint.interval.tx=1\nserver.memory.pagecache.size=1G\n',
      'quiver-admin-database-backup.conf': '# backup client\ndb.checkpoint.interval.tx=2\n',
    });
    const { config } = load({ home: dir, files: ['quiver-admin.conf', 'quiver-admin-database-backup.conf'] });
    assert.equal(config.get('db.checkpoint.interval.tx'), 2);
    assert.equal(config.get('server.memory.pagecache.size'), 1024 ** 3);
    assert.equal(describeSource(config.sources.get('db.checkpoint.interval.tx')!), `${join(dir, 'conf', 'quiver-admin-database-backup.conf')}:2`);
    assert.equal(describeSource(config.sources.get('server.memory.pagecache.size')!), `${join(dir, 'conf', 'quiver-admin.conf')}:2`);
    assert.equal(describeSource(config.sources.get('db.tx_log.rotation.size')!), 'default');
  });

  it('lets --additional-config win over every file, and overrides win over it', () => {
    const dir = home({ 'quiver.conf': 'db.checkpoint.interval.tx=1\ndb.tx_log.rotation.size=1M\ndb.tx_log.preallocate=false\n' });
    const extra = join(dir, 'extra.conf');
    writeFileSync(extra, 'db.checkpoint.interval.tx=2\ndb.tx_log.rotation.size=2M\n');
    const { config } = load({ home: dir, additionalConfig: extra, overrides: { 'db.checkpoint.interval.tx': '3' } });
    assert.equal(config.get('db.checkpoint.interval.tx'), 3);
    assert.equal(config.get('db.tx_log.rotation.size'), 2 * 1024 ** 2);
    assert.equal(config.get('db.tx_log.preallocate'), false);
    assert.equal(config.sources.get('db.checkpoint.interval.tx')?.kind, 'override');
  });

  it('refuses a missing --additional-config file', () => {
    assert.throws(
      () => load({ home: home(), additionalConfig: join(root, 'nope.conf') }),
      configError(/additional config file ".*nope\.conf": it does not exist/, /--additional-config/),
    );
  });

  it('reads a folder as a config source, one file per key', () => {
    const dir = home();
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'db.tx_log.rotation.retention_policy'), '3 files\n');
    writeFileSync(join(secrets, 'dbms.ssl.policy.backup.private_key_password'), 'pw\n');
    const { config } = load({ home: dir, additionalConfig: secrets });
    assert.deepEqual(config.get('db.tx_log.rotation.retention_policy'), { kind: 'files', count: 3 });
    assert.equal(config.getSslPolicy('backup').privateKeyPassword, 'pw');
    assert.equal(describeSource(config.sources.get('db.tx_log.rotation.retention_policy')!), join(secrets, 'db.tx_log.rotation.retention_policy'));
  });

  it('reads a folder standing in for a default file', () => {
    const dir = home();
    mkdirSync(join(dir, 'conf', 'quiver.conf'));
    writeFileSync(join(dir, 'conf', 'quiver.conf', 'server.bolt.enabled'), 'false');
    assert.equal(load({ home: dir }).config.get('server.bolt.enabled'), false);
  });

  it('passes on syntax errors of a file', () => {
    assert.throws(() => load({ home: home({ 'quiver.conf': 'a.b=1\na.b=2\n' }) }), configError(/declared twice, on lines 1 and 2/));
    assert.throws(() => load({ home: home({ 'quiver.conf': 'nonsense\n' }) }), configError(/quiver\.conf": line 1 is not key=value/));
  });
});

describe('loadConfig unknown settings', () => {
  it('warns about an unknown key naming the closest valid one, and ignores it', () => {
    const dir = home({ 'quiver.conf': 'dbms.ssl.policy.bolt.enable=true\nsomething.else.entirely=1\n' });
    const { config, warnings } = load({ home: dir });
    assert.equal(config.getSslPolicy('bolt').enabled, false);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /unknown setting "dbms\.ssl\.policy\.bolt\.enable" \(in ".*quiver\.conf" line 1\) is ignored: did you mean "dbms\.ssl\.policy\.bolt\.enabled"\?/);
    assert.match(warnings[1]!, /unknown setting "something\.else\.entirely" .* is ignored$/);
  });

  it('refuses unknown keys under strict validation, all of them at once', () => {
    const dir = home({ 'quiver.conf': 'server.config.strict_validation.enabled=true\ndb.tx_log.rotation.sise=1M\nserver.bolt.listen_adress=:1\n' });
    assert.throws(
      () => load({ home: dir }),
      configError(/2 problems[\s\S]*"db\.tx_log\.rotation\.sise".*did you mean "db\.tx_log\.rotation\.size"[\s\S]*did you mean "server\.bolt\.listen_address"/),
    );
  });

  it('refuses an unknown key when strict validation comes from the overrides', () => {
    assert.throws(
      () => load({ home: home(), overrides: { 'server.config.strict_validation.enabled': 'TRUE', 'dbms.ssl.policy.backup.trustall': 'true' } }),
      configError(/unknown setting "dbms\.ssl\.policy\.backup\.trustall" \(in the overrides\): did you mean "dbms\.ssl\.policy\.backup\.trust_all"/, /strict_validation/),
    );
  });
});

describe('loadConfig invalid values', () => {
  it('names key, value and expected form for a bad byte size', () => {
    assert.throws(
      () => load({ home: home({ 'quiver.conf': '\ndb.tx_log.rotation.size=12Q\n' }) }),
      configError(/^invalid value "12Q" for setting "db\.tx_log\.rotation\.size": expected a byte size .*such as 256M or 1G$/, /quiver\.conf" line 2/),
    );
  });

  it('enforces the 128k minimum of the rotation size', () => {
    assert.throws(() => invalid('db.tx_log.rotation.size', '64k'), configError(/"64k".*at least 128k/));
    assert.equal(invalid('db.tx_log.rotation.size', '128k').config.get('db.tx_log.rotation.size'), 131072);
  });

  it('rejects bad durations, integers, booleans, addresses, enums, lists, names and retention policies', () => {
    const cases: [string, string, RegExp][] = [
      ['db.checkpoint.interval.time', '15 minutes', /expected a duration such as 500ms/],
      ['db.checkpoint.interval.tx', '0', /expected an integer ≥ 1/],
      ['db.checkpoint.interval.tx', '1e5', /expected an integer/],
      ['server.bolt.enabled', 'yes', /expected true or false/],
      ['server.bolt.listen_address', 'localhost:99999', /expected a listen address such as localhost:7687/],
      ['server.bolt.listen_address', '::1:7687', /expected a listen address/],
      ['server.default_listen_address', 'localhost:1', /expected a host name/],
      ['dbms.ssl.policy.backup.client_auth', 'MAYBE', /expected one of NONE, OPTIONAL, REQUIRE/],
      ['dbms.ssl.policy.backup.tls_versions', 'TLSv1.1', /expected a comma-separated list of TLSv1\.2, TLSv1\.3/],
      ['initial.dbms.default_database', 'ab', /expected a database name.*, but it has 2 characters/],
      ['initial.dbms.default_database', '1db', /expected a database name.*, but it does not start with an ASCII letter/],
      ['initial.dbms.default_database', 'my_db', /expected a database name.*, but it contains "_"/],
      ['initial.dbms.default_database', 'system', /expected a database name.*, but names starting with "system" are reserved/],
      ['db.tx_log.rotation.retention_policy', '3 files 1G', /expected true \| keep_all/],
    ];
    for (const [key, value, expected] of cases) {
      assert.throws(() => invalid(key, value), configError(new RegExp(`invalid value "${value.replace(/[.*|]/g, '\\$&')}" for setting "${key.replaceAll('.', '\\.')}": ${expected.source}`)), `${key}=${value}`);
    }
  });

  it('reports every bad value at once, and still parses settings that depend on a bad one', () => {
    assert.throws(
      () => load({ home: home({ 'quiver.conf': 'server.default_listen_address=bad host\nserver.bolt.enabled=maybe\n' }) }),
      configError(/2 problems[\s\S]*"server\.default_listen_address"[\s\S]*"server\.bolt\.enabled"/),
    );
  });

  it('never prints the value of a secret setting', () => {
    // A string takes any value, so a secret can only leak through expansion errors; those never quote stdout.
    const dir = home({ 'quiver.conf': `dbms.ssl.policy.backup.private_key_password=$(sh -c 'echo hunter2; exit 1')\n` });
    assert.throws(
      () => load({ home: dir, expandCommands: true, env: process.env }),
      (e: unknown) => configError(/exited with status 1/)(e) && !String((e as Error).message).includes('hunter2'),
    );
  });
});

describe('loadConfig command expansion', () => {
  it('expands $(…) values with --expand-commands, from a 0600 file', () => {
    const dir = home({ 'quiver.conf': 'dbms.ssl.policy.backup.private_key_password=$(echo s3cret)\ndb.tx_log.rotation.size=$(echo 1M)\n' }, 0o600);
    const { config } = load({ home: dir, expandCommands: true, env: process.env });
    assert.equal(config.getSslPolicy('backup').privateKeyPassword, 's3cret');
    assert.equal(config.get('db.tx_log.rotation.size'), 1024 ** 2);
  });

  it('refuses $(…) values without --expand-commands, naming the key', () => {
    const dir = home({ 'quiver.conf': 'dbms.ssl.policy.backup.private_key_password=$(echo s3cret)\n' });
    assert.throws(
      () => load({ home: dir }),
      configError(/setting "dbms\.ssl\.policy\.backup\.private_key_password" in ".*quiver\.conf" is a command, but command expansion is off/, /--expand-commands/),
    );
  });

  it('refuses to expand from a 0644 file, naming file, mode and remedy', () => {
    const dir = home({ 'quiver.conf': 'db.tx_log.rotation.size=$(echo 1M)\n' }, 0o644);
    assert.throws(
      () => load({ home: dir, expandCommands: true }),
      configError(/config file ".*quiver\.conf" has mode 0644, wider than the 0640/, /chmod 640/),
    );
  });

  it('does not mind a 0644 file without commands', () => {
    const dir = home({ 'quiver.conf': 'db.tx_log.rotation.size=1M\n' }, 0o644);
    assert.equal(load({ home: dir, expandCommands: true }).config.get('db.tx_log.rotation.size'), 1024 ** 2);
  });

  it('reports a failing command with its exit status', () => {
    const dir = home({ 'quiver.conf': 'db.tx_log.rotation.size=$(false)\n' });
    assert.throws(() => load({ home: dir, expandCommands: true, env: process.env }), configError(/"db\.tx_log\.rotation\.size": "false" exited with status 1/));
  });

  it('validates the value a command printed', () => {
    const dir = home({ 'quiver.conf': 'db.tx_log.rotation.size=$(echo 12Q)\n' });
    assert.throws(() => load({ home: dir, expandCommands: true, env: process.env }), configError(/invalid value "12Q" for setting "db\.tx_log\.rotation\.size"/));
  });

  it('stops a command at the (injected) timeout', () => {
    const dir = home({ 'quiver.conf': 'db.tx_log.rotation.size=$(sleep 10)\n' });
    assert.throws(
      () => load({ home: dir, expandCommands: true, env: process.env, commandTimeoutMs: 300 }),
      configError(/"sleep" did not finish within 300 ms/),
    );
  });

  it('takes overrides literally, without expanding them', () => {
    const { config } = load({ home: home(), expandCommands: true, overrides: { 'dbms.ssl.policy.bolt.private_key_password': '$(echo x)' } });
    assert.equal(config.getSslPolicy('bolt').privateKeyPassword, '$(echo x)');
  });
});

describe('getSslPolicy', () => {
  it('gives the defaults with absolute paths under certificates/<scope>', () => {
    const dir = home();
    const { config } = load({ home: dir });
    const base = join(dir, 'certificates', 'backup');
    assert.deepEqual(config.getSslPolicy('backup'), {
      scope: 'backup',
      enabled: false,
      baseDirectory: base,
      privateKey: join(base, 'private.key'),
      privateKeyPassword: undefined,
      publicCertificate: join(base, 'public.crt'),
      trustedDir: join(base, 'trusted'),
      revokedDir: join(base, 'revoked'),
      clientAuth: 'REQUIRE',
      tlsVersions: ['TLSv1.2', 'TLSv1.3'],
      ciphers: undefined,
      verifyHostname: true,
      trustAll: false,
    });
    assert.equal(config.getSslPolicy('bolt').clientAuth, 'OPTIONAL');
    assert.equal(config.getSslPolicy('cluster').clientAuth, 'REQUIRE');
  });

  it('resolves a relative base directory against home and files under the base directory; absolute paths stay', () => {
    const dir = home({
      'quiver.conf': [
        'dbms.ssl.policy.cluster.enabled=TRUE',
        'dbms.ssl.policy.cluster.base_directory=tls/cluster',
        'dbms.ssl.policy.cluster.private_key=/etc/keys/cluster.key',
        'dbms.ssl.policy.cluster.public_certificate=certs/cluster.crt',
        'dbms.ssl.policy.cluster.client_auth=none',
        'dbms.ssl.policy.cluster.tls_versions=tlsv1.3',
        'dbms.ssl.policy.cluster.ciphers=TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256',
      ].join('\n'),
    });
    const policy = load({ home: dir }).config.getSslPolicy('cluster');
    assert.equal(policy.enabled, true);
    assert.equal(policy.baseDirectory, join(dir, 'tls', 'cluster'));
    assert.equal(policy.privateKey, '/etc/keys/cluster.key');
    assert.equal(policy.publicCertificate, join(dir, 'tls', 'cluster', 'certs', 'cluster.crt'));
    assert.equal(policy.trustedDir, join(dir, 'tls', 'cluster', 'trusted'));
    assert.equal(policy.clientAuth, 'NONE');
    assert.deepEqual(policy.tlsVersions, ['TLSv1.3']);
    assert.deepEqual(policy.ciphers, ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
  });
});
