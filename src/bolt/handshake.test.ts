// Version negotiation: what the official drivers propose, ranges, the 5.5 exclusion, and bad magic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { chooseVersion, encodeVersion, parseHandshake } from './handshake.js';

function handshake(...slots: string[]): Uint8Array {
  return Uint8Array.from(Buffer.from('6060b017' + slots.join('').padEnd(32, '0'), 'hex'));
}

describe('Bolt handshake', () => {
  it('chooses 5.8 from what neo4j-driver 6.x proposes (manifest, 5.8..5.0, 4.4..4.2, 3.0)', () => {
    const proposals = parseHandshake(handshake('000001ff', '00080805', '00020404', '00000003'));
    assert.deepEqual(chooseVersion(proposals), { major: 5, minor: 8 });
    assert.deepEqual([...encodeVersion({ major: 5, minor: 8 })], [0, 0, 8, 5]);
  });

  it('takes the first satisfiable slot at its highest supported minor', () => {
    assert.deepEqual(chooseVersion(parseHandshake(handshake('00000404', '00000805'))), { major: 4, minor: 4 });
    assert.deepEqual(chooseVersion(parseHandshake(handshake('00030906', '00020605'))), { major: 5, minor: 6 });
    assert.deepEqual(chooseVersion(parseHandshake(handshake('00000005'))), { major: 5, minor: 0 });
  });

  it('never negotiates 5.5, stepping down within a range instead', () => {
    assert.equal(chooseVersion(parseHandshake(handshake('00000505'))), null);
    assert.deepEqual(chooseVersion(parseHandshake(handshake('00010505'))), { major: 5, minor: 4 });
  });

  it('answers no version for 4.3 and older, 6.x, or the manifest alone', () => {
    assert.equal(chooseVersion(parseHandshake(handshake('00030304', '00000003', '00000006', '000001ff'))), null);
    assert.deepEqual([...encodeVersion(null)], [0, 0, 0, 0]);
  });

  it('does not let a range reach below minor 0', () => {
    assert.equal(chooseVersion(parseHandshake(handshake('00ff0003'))), null);
  });

  it('rejects a wrong magic, noting when it looks like HTTP', () => {
    const http = Uint8Array.from(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'));
    assert.throws(() => parseHandshake(http), (e) => isQuiverError(e, 'BoltMessageMalformed') && /HTTP/.test(e.hint ?? ''));
    assert.throws(() => parseHandshake(new Uint8Array(20)), (e) => isQuiverError(e, 'BoltMessageMalformed'));
  });
});
