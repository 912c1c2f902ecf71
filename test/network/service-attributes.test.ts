// Which members of a Service clients can reach, and how they are advertised (Python signature style).
import { describe, expect, it } from 'vitest';
import { callOptions, isKwargs, kwargs, splitKwargs } from '../../src/network/peers/call-arguments.js';
import { Service } from '../../src/network/peers/service.js';
import { formatSignature, resolveAttribute } from '../../src/network/peers/service-attributes.js';

class Instrument extends Service {
  readonly model = 'DMM-7';
  helper = () => 42;
  #secret = 'hidden';
  _private() {
    return this.#secret;
  }
  read(channel: number, range = 10, ...extra: unknown[]) {
    return [channel, range, extra];
  }
  async configure({ mode }: { mode: string }) {
    return mode;
  }
  get temperature() {
    return 21.5;
  }
  shutdownService() {
    return 'bye';
  }
}

describe('formatSignature', () => {
  it('writes parameters the way Python prints a signature', () => {
    expect(formatSignature(Instrument.prototype.read)).toBe('(channel, range=10, *extra)');
    expect(formatSignature(Instrument.prototype.configure)).toBe('({ mode })');
    // (the quotes are whatever the compiled source uses)
    expect(formatSignature((a: number, b = 'x,y') => a + b)).toMatch(/^\(a, b=["']x,y["']\)$/);
    expect(formatSignature(async (x: number) => x)).toBe('(x)');
    expect(formatSignature(Math.max)).toBe('(*args)');
  });
});

describe('resolveAttribute', () => {
  const service = new Instrument();
  const base = Service.prototype;
  const ignored = new Set<string>();
  it('finds methods, getters, public fields, and the shutdown hook by its Python name', () => {
    expect(resolveAttribute(service, base, 'read', ignored).kind).toBe('method');
    expect(resolveAttribute(service, base, 'helper', ignored).kind).toBe('method');
    expect(resolveAttribute(service, base, 'temperature', ignored)).toEqual({ kind: 'value', value: 21.5 });
    expect(resolveAttribute(service, base, 'model', ignored)).toEqual({ kind: 'value', value: 'DMM-7' });
    expect(resolveAttribute(service, base, 'shutdown_service', ignored).kind).toBe('method');
  });
  it('never reaches private, inherited-from-Object or base-class members', () => {
    expect(resolveAttribute(service, base, '_private', ignored).kind).toBe('private');
    expect(resolveAttribute(service, base, '__proto__', ignored).kind).toBe('private');
    for (const name of [
      '#secret',
      'secret',
      'constructor',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'start',
      'emitNotification',
      'disconnect',
      'shutdownService',
      'name',
    ]) {
      expect(resolveAttribute(service, base, name, ignored).kind, name).toBe('missing');
    }
  });
});

describe('kwargs and callOptions', () => {
  it('brand keyword arguments without changing what JSON sees', () => {
    const kw = kwargs({ x: 1 });
    expect(isKwargs(kw)).toBe(true);
    expect(isKwargs({ x: 1 })).toBe(false);
    expect(JSON.stringify(kw)).toBe('{"x":1}');
    expect(splitKwargs([1, kw])).toEqual([[1], { x: 1 }]);
    expect(splitKwargs([1, { x: 1 }])).toEqual([[1, { x: 1 }], {}]);
    expect(callOptions({ timeout: 5 }).timeout).toBe(5);
  });
});
