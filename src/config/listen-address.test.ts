import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listenAddressToString, parseHost, parseListenAddress, parseServerAddress } from './listen-address.js';

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

describe('parseServerAddress', () => {
  it('takes host:port and [ipv6]:port', () => {
    assert.deepEqual(parseServerAddress('localhost:6362'), { address: { host: 'localhost', port: 6362 } });
    assert.deepEqual(parseServerAddress(' 10.0.0.1:1 '), { address: { host: '10.0.0.1', port: 1 } });
    assert.deepEqual(parseServerAddress('[::1]:65535'), { address: { host: '::1', port: 65535 } });
  });

  it('names what is wrong with an address that has no host, no port or a bad port', () => {
    const problems: Array<[string, string]> = [
      ['', 'it is empty'],
      ['  ', 'it is empty'],
      [':37002', 'it has no host'],
      ['host:', 'it has no port'],
      ['host', 'it has no port'],
      ['[::1]', 'it has no port'],
      ['[::1]:', 'it has no port'],
      ['host:99999', 'port 99999 is not between 1 and 65535'],
      ['host:0', 'port 0 is not between 1 and 65535'],
      ['host:12x', 'port "12x" is not a number'],
      ['::1:6362', 'an IPv6 host needs brackets, for example [::1]:6362'],
      ['[nothost]:1', '"nothost" in brackets is not an IPv6 address'],
      ['a b:1', '"a b" is not a host name or IP address'],
    ];
    for (const [raw, problem] of problems) assert.deepEqual(parseServerAddress(raw), { problem }, JSON.stringify(raw));
  });
});
