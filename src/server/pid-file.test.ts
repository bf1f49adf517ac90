import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgePidProcess, type ProcessFacts } from './pid-file.js';

const home = '/srv/quiver';
const server = (extra: Partial<ProcessFacts> = {}): ProcessFacts => ({
  exists: true,
  state: 'S',
  argv: ['/usr/bin/node', '/opt/quiver/bin/../dist/src/cli/quiver.js', 'console'],
  cwd: '/',
  quiverHome: home,
  ...extra,
});

test('a live Quiver server of this home is running', () => {
  assert.deepEqual(judgePidProcess(7, server(), home), { running: true });
  assert.deepEqual(judgePidProcess(7, server({ argv: ['node', '--enable-source-maps', 'dist/src/cli/quiver.js', 'console', '--verbose'], cwd: '/opt/quiver' }), home), { running: true });
});

test('a missing process, a zombie and a dead process are stale', () => {
  assert.deepEqual(judgePidProcess(7, { exists: false }, home), { running: false, reason: 'pid 7 is not running' });
  assert.match((judgePidProcess(7, server({ state: 'Z', argv: [] }), home) as { reason: string }).reason, /pid 7 is a zombie \(state Z\)/);
  assert.equal(judgePidProcess(7, server({ state: 'X' }), home).running, false);
});

test('another program that reused the pid is stale, and so is a Quiver tool that is not the server', () => {
  assert.match((judgePidProcess(7, server({ argv: ['sleep', '60'] }), home) as { reason: string }).reason, /pid 7 is not a Quiver server \(command line: "sleep 60"\)/);
  assert.equal(judgePidProcess(7, server({ argv: ['node', '/opt/quiver/dist/src/cli/quiver.js', 'status'] }), home).running, false);
});

test('a Quiver server of another home is stale; one without QUIVER_HOME runs from its installation root', () => {
  assert.match((judgePidProcess(7, server({ quiverHome: '/srv/other' }), home) as { reason: string }).reason, /another home \("\/srv\/other"\)/);
  assert.deepEqual(judgePidProcess(7, server({ quiverHome: 'quiver', cwd: '/srv' }), home), { running: true });
  assert.deepEqual(judgePidProcess(7, server({ quiverHome: null }), '/opt/quiver'), { running: true });
  assert.equal(judgePidProcess(7, server({ quiverHome: null }), home).running, false);
});

test('what cannot be read counts as running: two servers on one store are worse than a refused start', () => {
  assert.deepEqual(judgePidProcess(7, { exists: true }, home), { running: true });
  assert.deepEqual(judgePidProcess(7, server({ quiverHome: undefined }), '/elsewhere'), { running: true });
});
