/**
 * A TLS policy that is switched on is enforced or the server refuses to start (#16): never again a
 * setting that claims protection while the port serves plaintext. Real `bin/quiver console` processes.
 * That an enforced policy really refuses plaintext is in test/backup-tls.test.ts and test/bolt-tls.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createServer_, quiverBin, runProcess } from './support/harness.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

async function startFails(conf: Record<string, string>): Promise<string> {
  const server = await createServer_({ conf });
  cleanups.push(() => server.cleanup());
  const r = await runProcess(quiverBin, ['console'], { env: { QUIVER_HOME: server.home }, timeoutMs: 30_000 });
  assert.notEqual(r.code, 0, `the server must not start:\n${r.stdout}`);
  assert.doesNotMatch(r.stdout, / Started\./);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, r.stderr);
  return errors[0]!;
}

test('dbms.ssl.policy.cluster.enabled=true refuses the start in one line: there is no cluster port to protect yet', async () => {
  assert.match(await startFails({ 'dbms.ssl.policy.cluster.enabled': 'true' }), /^error: dbms\.ssl\.policy\.cluster\.enabled=true, but this Quiver does not serve TLS for the cluster scope yet: it would serve plaintext while claiming protection/);
});

test('dbms.ssl.policy.backup.enabled=true without its files refuses the start in one line naming the folder and the fix, instead of serving plaintext', async () => {
  assert.match(await startFails({ 'dbms.ssl.policy.backup.enabled': 'true' }), /^error: TLS policy dbms\.ssl\.policy\.backup: the base directory ".*certificates\/backup" does not exist; create it \(Quiver does not\)/);
});
