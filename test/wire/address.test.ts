import { describe, expect, it } from 'vitest';
import { AddressError } from '../../src/errors.js';
import { formatAddress, parseAddress } from '../../src/wire/address.js';

describe('parseAddress', () => {
  it('reads a TCP address with port 0 (any free port)', () => {
    expect(parseAddress('tcp://127.0.0.1:0')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  });

  it('reads a TLS address with a host name', () => {
    expect(parseAddress('tls://example.org:1875')).toEqual({ kind: 'tls', host: 'example.org', port: 1875 });
  });

  it('reads an IPv6 host in brackets', () => {
    expect(parseAddress('tcp://[::1]:9000')).toEqual({ kind: 'tcp', host: '::1', port: 9000 });
  });

  it('defaults an empty host to loopback', () => {
    expect(parseAddress('tcp://:5000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5000 });
  });

  it('reads a Unix socket path', () => {
    expect(parseAddress('unix:///tmp/farcall.sock')).toEqual({ kind: 'unix', path: '/tmp/farcall.sock' });
  });

  it('rejects an unknown transport with the accepted forms', () => {
    expect(() => parseAddress('udp://127.0.0.1:1')).toThrow(AddressError);
    expect(() => parseAddress('udp://127.0.0.1:1')).toThrow(/tcp:\/\/host:port/);
  });

  it('rejects a port out of range', () => {
    expect(() => parseAddress('tcp://127.0.0.1:70000')).toThrow(/Invalid port '70000'/);
  });

  it('rejects text that is not an address', () => {
    expect(() => parseAddress('localhost')).toThrow(AddressError);
  });
});

describe('formatAddress', () => {
  it('round-trips every kind of address', () => {
    for (const text of ['tcp://127.0.0.1:80', 'tls://host:443', 'tcp://[::1]:9000', 'unix:///tmp/x.sock']) {
      expect(formatAddress(parseAddress(text))).toBe(text);
    }
  });
});
