/**
 * docs/tls.md's openssl walk-through, run as written: its ```sh blocks (setup, revocation, rotation) are
 * taken from the page in order and run with bash against a real server and the real quiver-admin, so the
 * page cannot drift from what works. Only the two homes, the listen address and the secret's path differ
 * from the page, and the client skips the hostname check (the page's certificate names db1.example and
 * 10.0.0.5; the test dials 127.0.0.1).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import tls from 'node:tls';
import { describeRun, tempFolders } from './support/backup-helpers.js';
import { createServer_, repoRoot, runAdmin, runProcess, tempDir, type TestServer } from './support/harness.js';

const work = tempDir('quiver-tls-docs-');
const folders = tempFolders('quiver-tls-docs-backups-');
let server: TestServer | undefined;
after(async () => {
  await server?.stop();
  server?.cleanup();
  folders.removeAll();
  await runProcess('rm', ['-rf', work]);
});

/** The ```sh blocks of docs/tls.md, in page order. */
function shellBlocks(): string[] {
  const page = readFileSync(join(repoRoot, 'docs', 'tls.md'), 'utf8');
  return [...page.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}

test('the setup, revocation and rotation commands of docs/tls.md work as written', async () => {
  const blocks = shellBlocks();
  assert.equal(blocks.length, 3, 'docs/tls.md: expected the setup, revocation and rotation blocks');
  const serverHome = join(work, 'server');
  const clientHome = join(work, 'backup-host');
  const password = 'doc-test-password';
  const env = { SERVER_HOME: serverHome, QUIVER_HOME: clientHome, BACKUP_KEY_PASSWORD: password, PATH: `${join(repoRoot, 'bin')}:${process.env['PATH']}` };
  // The page exports its example homes; the test's values stand in for them.
  const setup = blocks[0]!.replace(/^export (SERVER_HOME|QUIVER_HOME|BACKUP_KEY_PASSWORD)=.*$/gm, '');
  assert.notEqual(setup, blocks[0], 'the setup block no longer exports SERVER_HOME, QUIVER_HOME and BACKUP_KEY_PASSWORD');
  const bash = (script: string) => runProcess('bash', ['-euo', 'pipefail', '-c', script], { cwd: work, env, timeoutMs: 120_000 });

  const made = await bash(setup);
  assert.equal(made.code, 0, describeRun(made));

  // The page's server and client configuration.
  server = await createServer_({ home: serverHome, conf: { 'dbms.ssl.policy.backup.enabled': 'true', 'dbms.ssl.policy.backup.client_auth': 'REQUIRE' } });
  await server.start();
  const secret = join(work, 'backup-key-password');
  writeFileSync(secret, password + '\n', { mode: 0o600 });
  mkdirSync(join(clientHome, 'conf'), { recursive: true });
  writeFileSync(join(clientHome, 'conf', 'quiver-admin.conf'), `dbms.ssl.policy.backup.enabled=true\ndbms.ssl.policy.backup.private_key_password=$(cat ${secret})\ndbms.ssl.policy.backup.verify_hostname=false\n`, { mode: 0o600 });
  const backup = () => runAdmin(['database', 'backup', '--expand-commands', `--from=${server!.backupAddress}`, `--to-path=${folders.folder()}`, 'neo4j'], { home: clientHome });

  const first = await backup();
  assert.equal(first.code, 0, describeRun(first));

  // Revocation: the block revokes the backup host, installs the CRL and reloads the server.
  const revoked = await bash(blocks[1]!);
  assert.equal(revoked.code, 0, describeRun(revoked));
  assert.match(revoked.stdout, /INFO  TLS policy dbms\.ssl\.policy\.backup: certificates reloaded: .*1 CRL\(s\)/, describeRun(revoked));
  const refused = await backup();
  assert.equal(refused.code, 1, describeRun(refused));
  assert.match(refused.stdout + refused.stderr, /the server holds a CRL revoking this client's certificate/, describeRun(refused));

  // Rotation: a new server certificate, checked against its key, installed and reloaded.
  const serialBefore = await servedSerial(server.backupPort);
  const rotated = await bash(blocks[2]!);
  assert.equal(rotated.code, 0, describeRun(rotated));
  const digests = rotated.stdout.split('\n').filter((l) => / {2}-$/.test(l));
  assert.equal(digests.length, 2, describeRun(rotated));
  assert.equal(digests[0], digests[1], 'the rotation block\'s key check printed two different digests');
  assert.match(rotated.stdout, /INFO  TLS policy dbms\.ssl\.policy\.backup: certificates reloaded: Backup service serves new connections with ".*public\.crt" \(CN=db1\.example, serial /, describeRun(rotated));
  assert.notEqual(await servedSerial(server.backupPort), serialBefore);
});
