/**
 * quiver-admin's command line: usage errors exit 64 with a message, help works, HEAP_SIZE is
 * validated, and set-initial-password refuses a DBMS that has already started.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { runAdmin, startTestServer, tempDir } from './support/harness.js';
import { rmSync } from 'node:fs';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('usage errors exit 64 and name the problem', async () => {
  const none = await runAdmin([]);
  assert.equal(none.code, 64);
  assert.match(none.stderr, /Usage: quiver-admin/);
  const unknown = await runAdmin(['database', 'backup', '--bogus']);
  assert.equal(unknown.code, 64);
  assert.match(unknown.stderr, /unknown option '--bogus'/);
  const badBool = await runAdmin(['database', 'backup', '--compress=maybe', '--to-path=/tmp']);
  assert.equal(badBool.code, 64);
  assert.match(badBool.stderr, /expected true or false, got "maybe"/);
  const badMeta = await runAdmin(['database', 'backup', '--include-metadata=everything', '--to-path=/tmp']);
  assert.equal(badMeta.code, 64);
  const missing = await runAdmin(['database', 'backup', 'neo4j']);
  assert.equal(missing.code, 64);
  assert.match(missing.stderr, /missing required option --to-path/);
});

test('help lists the options with their defaults', async () => {
  const r = await runAdmin(['database', 'backup', '--help']);
  assert.equal(r.code, 0);
  for (const opt of ['--from', '--to-path', '--type', '--compress', '--keep-failed', '--parallel-recovery', '--pagecache', '--include-metadata', '--inspect-path', '--additional-config', '--expand-commands', '--verbose', '--temp-path', '--format']) {
    assert.ok(r.stdout.includes(opt), `help mentions ${opt}`);
  }
  assert.match(r.stdout, /default: "AUTO"/);
});

test('HEAP_SIZE is applied or refused with a clear message', async () => {
  const bad = await runAdmin(['database', 'backup', '--help'], { env: { HEAP_SIZE: 'lots' } });
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /invalid HEAP_SIZE "lots"/);
  const good = await runAdmin(['database', 'backup', '--help'], { env: { HEAP_SIZE: '512m' } });
  assert.equal(good.code, 0);
});

test('set-initial-password works before the first start and is refused after it', async () => {
  const home = tempDir('quiver-home-');
  dirs.push(home);
  const short = await runAdmin(['dbms', 'set-initial-password', 'short'], { home });
  assert.equal(short.code, 64);
  const ok = await runAdmin(['dbms', 'set-initial-password', 'a-long-password'], { home });
  assert.equal(ok.code, 0, ok.stderr);
  const server = await startTestServer({ home, auth: true });
  try {
    const d = server.driver({ user: 'neo4j', password: 'a-long-password' });
    const r = await d.executeQuery('RETURN 1 AS one');
    assert.equal(r.records[0]!.get('one').toNumber(), 1);
    await d.close();
    const late = await runAdmin(['dbms', 'set-initial-password', 'another-password'], { home });
    assert.notEqual(late.code, 0);
    assert.match(late.stderr, /already been started/);
  } finally {
    await server.stop();
  }
});
