import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { normalizeDatabaseName } from './database-name.js';
import { settingsMarkdownTable } from './settings-doc.js';
import { isSettingKey, settingKeys, settingSpec, sslKey, sslScopes, sslSuffixes } from './settings.js';
import { closestMatch, editDistance } from './suggest.js';

describe('settings table', () => {
  it('declares all twelve suffixes of every SSL policy scope', () => {
    assert.equal(sslSuffixes.length, 12);
    for (const scope of sslScopes) for (const suffix of sslSuffixes) assert.ok(isSettingKey(sslKey(scope, suffix)), `${scope}.${suffix}`);
    assert.equal(isSettingKey('dbms.ssl.policy.https.enabled'), false);
  });

  it('parses every default with its own type', () => {
    for (const key of settingKeys) {
      const spec = settingSpec(key);
      if (spec.default === undefined) continue;
      const parsed = spec.type.parse(spec.default, { home: '/home', valueOf: () => '/base' });
      assert.ok(parsed.ok, key);
    }
  });

  it('suggests the setting a typo meant, and nothing for a stranger', () => {
    assert.equal(closestMatch('dbms.ssl.policy.bolt.enable', settingKeys), 'dbms.ssl.policy.bolt.enabled');
    assert.equal(closestMatch('dbms.tx_log.rotation.size', settingKeys), 'db.tx_log.rotation.size');
    assert.equal(closestMatch('server.backup.listen.address', settingKeys), 'server.backup.listen_address');
    assert.equal(closestMatch('apoc.export.file.enabled', settingKeys), undefined);
    assert.equal(closestMatch('x'.repeat(500), settingKeys), undefined);
  });

  it('measures edit distance', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('enable', 'enabled'), 1);
  });
});

describe('normalizeDatabaseName', () => {
  it('lower-cases valid names and allows "system" only when asked', () => {
    assert.deepEqual(normalizeDatabaseName('Neo4j'), { ok: true, name: 'neo4j' });
    assert.deepEqual(normalizeDatabaseName('my-db.v2'), { ok: true, name: 'my-db.v2' });
    assert.deepEqual(normalizeDatabaseName('a'.repeat(63)), { ok: true, name: 'a'.repeat(63) });
    assert.equal(normalizeDatabaseName('a'.repeat(64)).ok, false);
    assert.equal(normalizeDatabaseName('system').ok, false);
    assert.deepEqual(normalizeDatabaseName('system', { allowSystem: true }), { ok: true, name: 'system' });
    assert.equal(normalizeDatabaseName('system-x', { allowSystem: true }).ok, false);
    assert.equal(normalizeDatabaseName('_db').ok, false);
    assert.equal(normalizeDatabaseName('dé-db').ok, false);
  });
});

describe('docs/configuration.md', () => {
  it('contains the settings table exactly as settingsMarkdownTable() renders it', () => {
    const doc = readFileSync(join(repositoryRoot(), 'docs', 'configuration.md'), 'utf8');
    assert.ok(
      doc.includes(`${settingsMarkdownTable()}\n`),
      'docs/configuration.md is out of date: replace its settings table with the output of\n' +
        `  node --import tsx -e "import('./src/config/settings-doc.ts').then((m) => console.log(m.settingsMarkdownTable()))"`,
    );
  });
});

/** The folder holding package.json, found upwards from this file (it runs from src/ and from dist/src/). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the test file');
    dir = parent;
  }
  return dir;
}
