/**
 * `--from` of `quiver-admin database backup`: every malformed entry is a usage error (exit 64) that
 * names the entry and what is wrong with it, before anything is contacted (docs/backup.md, "Exit
 * codes"). No server runs here: the address is checked before any connection is tried.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { describeRun } from './support/backup-helpers.js';
import { runAdmin, tempDir } from './support/harness.js';

describe('backup --from addresses', () => {
  const home = tempDir('quiver-from-home-');
  const to = tempDir('quiver-from-backups-');
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(to, { recursive: true, force: true });
  });

  const cases: Array<[string, string]> = [
    ['--from=', 'invalid server address "" in --from: it is empty'],
    ['--from=:37002', 'invalid server address ":37002" in --from: it has no host'],
    ['--from=a:1,,b:2', 'invalid server address "" in --from (entry 2 of "a:1,,b:2"): it is empty'],
    ['--from=host:', 'invalid server address "host:" in --from: it has no port'],
    ['--from=host:99999', 'invalid server address "host:99999" in --from: port 99999 is not between 1 and 65535'],
    ['--from=nohost', 'invalid server address "nohost" in --from: it has no port'],
    ['--from=::1:6362', 'invalid server address "::1:6362" in --from: an IPv6 host needs brackets, for example [::1]:6362'],
  ];
  for (const [option, message] of cases) {
    it(`refuses ${option} with exit 64, naming the entry`, async () => {
      const r = await runAdmin(['database', 'backup', option, `--to-path=${to}`, 'neo4j'], { home, timeoutMs: 20_000 });
      assert.equal(r.code, 64, describeRun(r));
      assert.equal(r.stderr, `error: ${message}\nhint: use host:port, for example localhost:6362 or [::1]:6362\n`);
      assert.equal(r.stdout, '');
    });
  }

  it('still refuses a malformed entry when another --from is fine', async () => {
    const r = await runAdmin(['database', 'backup', '--from=localhost:6362', '--from=', `--to-path=${to}`, 'neo4j'], { home, timeoutMs: 20_000 });
    assert.equal(r.code, 64, describeRun(r));
    assert.match(r.stderr, /^error: invalid server address "" in --from: it is empty$/m);
  });
});
