import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { parseConfText, readConfSource } from './conf-file.js';

const dir = mkdtempSync(join(tmpdir(), 'quiver-conf-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configError(pattern: RegExp, hint?: RegExp) {
  return (e: unknown) => {
    assert.ok(isQuiverError(e, 'ConfigInvalid'), String(e));
    assert.match(e.message, pattern);
    if (hint !== undefined) assert.match(e.hint ?? '', hint);
    return true;
  };
}

describe('parseConfText', () => {
  it('reads key=value lines, trimming around key and value, skipping comments and blank lines', () => {
    const text = '# a comment\n\n  server.bolt.enabled = false  \r\nkey.two=a=b # not a comment\n   # indented comment\nempty=\n';
    assert.deepEqual(parseConfText(text, '/c/quiver.conf'), [
      { key: 'server.bolt.enabled', value: 'false', path: '/c/quiver.conf', line: 3 },
      { key: 'key.two', value: 'a=b # not a comment', path: '/c/quiver.conf', line: 4 },
      { key: 'empty', value: '', path: '/c/quiver.conf', line: 6 },
    ]);
  });

  it('ignores a byte-order mark', () => {
    assert.equal(parseConfText('\uFEFFa.b=1', 'f')[0]?.key, 'a.b');
  });

  it('refuses a key declared twice in one file, naming both lines', () => {
    assert.throws(
      () => parseConfText('a.b=1\nc.d=2\na.b=3\n', '/c/quiver.conf'),
      configError(/"\/c\/quiver\.conf": setting "a\.b" is declared twice, on lines 1 and 3/),
    );
  });

  it('lets server.jvm.additional repeat, as Neo4j does', () => {
    assert.equal(parseConfText('server.jvm.additional=-Xa\nserver.jvm.additional=-Xb', 'f').length, 2);
  });

  it('refuses a line without "=", naming file and line but not quoting the line', () => {
    assert.throws(
      () => parseConfText('a.b=1\nsecret.password hunter2\n', '/c/quiver.conf'),
      (e: unknown) => configError(/"\/c\/quiver\.conf": line 2 is not key=value/, /key=value/)(e) && !String((e as Error).message).includes('hunter2'),
    );
    assert.throws(() => parseConfText('a.b: 1', 'f'), configError(/line 1/, /":" as a separator/));
  });

  it('refuses an empty key', () => {
    assert.throws(() => parseConfText(' = 1', 'f'), configError(/line 1 has no key/));
  });

  it('reports every problem of a file at once', () => {
    assert.throws(() => parseConfText('x\na=1\na=2\ny\n', 'f'), configError(/3 problems[\s\S]*line 1[\s\S]*lines 2 and 3[\s\S]*line 4/));
  });
});

describe('readConfSource', () => {
  it('returns undefined for a missing path', () => {
    assert.equal(readConfSource(join(dir, 'missing.conf'), () => {}), undefined);
  });

  it('reads a file', () => {
    const path = join(dir, 'file.conf');
    writeFileSync(path, 'a.b=1\n');
    assert.deepEqual(readConfSource(path, () => {}), [{ key: 'a.b', value: '1', path, line: 1 }]);
  });

  it('reads a folder as one file per key with trimmed contents, skipping hidden files and warning about subfolders', () => {
    const folder = join(dir, 'folder');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    mkdirSync(join(folder, '..data'), { recursive: true });
    writeFileSync(join(folder, '..data', 'db.tx_log.rotation.size'), '1M\n');
    symlinkSync(join('..data', 'db.tx_log.rotation.size'), join(folder, 'db.tx_log.rotation.size'));
    writeFileSync(join(folder, 'server.bolt.enabled'), '  false\n');
    writeFileSync(join(folder, '.hidden'), 'x');
    const warnings: string[] = [];
    const entries = readConfSource(folder, (w) => warnings.push(w));
    assert.deepEqual(entries, [
      { key: 'db.tx_log.rotation.size', value: '1M', path: join(folder, 'db.tx_log.rotation.size'), line: undefined },
      { key: 'server.bolt.enabled', value: 'false', path: join(folder, 'server.bolt.enabled'), line: undefined },
    ]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /ignoring ".*sub" in config folder/);
  });
});
