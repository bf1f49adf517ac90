import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listenAddressToString, parseHost, parseListenAddress } from './listen-address.js';

describe('parseListenAddress', () => {
  it('takes host and port, :port with the default host, and a lone host with the default port', () => {
    assert.deepEqual(parseListenAddress('example.com:1234', 'localhost', 7687), { host: 'example.com', port: 1234 });
    assert.deepEqual(parseListenAddress(':7688', '0.0.0.0', 7687), { host: '0.0.0.0', port: 7688 });
    assert.deepEqual(parseListenAddress('10.0.0.1', 'localhost', 6362), { host: '10.0.0.1', port: 6362 });
    assert.deepEqual(parseListenAddress('localhost:0', 'localhost', 1), { host: 'localhost', port: 0 });
  });

  it('reads IPv6 hosts in brackets, with or without a port', () => {
    assert.deepEqual(parseListenAddress('[::1]:7687', 'localhost', 1), { host: '::1', port: 7687 });
    assert.deepEqual(parseListenAddress('[fe80::1]', 'localhost', 6000), { host: 'fe80::1', port: 6000 });
  });

  it('rejects bad ports, empty addresses, unbracketed IPv6 and junk hosts', () => {
    for (const raw of ['', ':', 'host:', 'host:65536', 'host:-1', 'host:7687x', '::1:7687', '[::1', '[nothost]:1', 'a b:1', 'host:1:2', '[::1]:', 'ho/st:1']) {
      assert.equal(parseListenAddress(raw, 'localhost', 7687), undefined, raw);
    }
  });
});

describe('parseHost', () => {
  it('accepts names, IPv4 and IPv6 with or without brackets, and rejects ports', () => {
    assert.equal(parseHost('localhost'), 'localhost');
    assert.equal(parseHost('0.0.0.0'), '0.0.0.0');
    assert.equal(parseHost('::'), '::');
    assert.equal(parseHost('[::]'), '::');
    assert.equal(parseHost('localhost:7687'), undefined);
    assert.equal(parseHost(''), undefined);
  });
});

describe('listenAddressToString', () => {
  it('brackets IPv6 hosts so the text parses back to the same address', () => {
    for (const address of [{ host: 'localhost', port: 7687 }, { host: '::1', port: 6362 }, { host: '127.0.0.1', port: 0 }]) {
      const text = listenAddressToString(address);
      assert.deepEqual(parseListenAddress(text, 'x', 1), address, text);
    }
    assert.equal(listenAddressToString({ host: '::1', port: 6362 }), '[::1]:6362');
  });
});
