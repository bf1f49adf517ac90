/**
 * A TLS policy that is switched on is enforced or the server refuses to start (#16): never again a
 * setting that claims protection while the port serves plaintext. Real `bin/quiver console` processes.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createServer_, quiverBin, runProcess } from './support/harness.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

// bolt: enforced since Bolt TLS landed; test/bolt-tls.test.ts covers its settings.
for (const scope of ['backup', 'cluster']) {
  test(`dbms.ssl.policy.${scope}.enabled=true without TLS for that scope refuses the start with one line naming the setting`, async () => {
    const server = await createServer_({ conf: { [`dbms.ssl.policy.${scope}.enabled`]: 'true' } });
    cleanups.push(() => server.cleanup());
    const r = await runProcess(quiverBin, ['console'], { env: { QUIVER_HOME: server.home }, timeoutMs: 30_000 });
    assert.notEqual(r.code, 0, `the server must not start:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, / Started\./);
    const error = r.stderr.split('\n').find((l) => l.startsWith('error: '));
    assert.match(error ?? '', new RegExp(`^error: dbms\\.ssl\\.policy\\.${scope}\\.enabled=true, but .*plaintext`), r.stderr);
  });
}
