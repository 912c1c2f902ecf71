// Which members of a Service clients can reach, and how they are advertised (Python signature style).
import { describe, expect, it } from 'vitest';
import { callOptions, isKwargs, kwargs, splitKwargs } from '../../src/network/peers/call-arguments.js';
import { Service } from '../../src/network/peers/service.js';
import {
  formatSignature,
  resolveAttribute,
  ServiceMethods,
} from '../../src/network/peers/service-attributes.js';

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

describe('ServiceMethods', () => {
  const base = Service.prototype;
  const ignored = new Set<string>();
  const found = (service: object, name: string) => {
    const resolved = resolveAttribute(service, base, name, ignored);
    return resolved.kind === 'method' ? resolved.fn : undefined;
  };

  it('gives back a method of the classes once found, as resolveAttribute finds it', () => {
    const service = new Instrument();
    const methods = new ServiceMethods(service);
    expect(methods.get('read')).toBeUndefined();
    const read = found(service, 'read');
    methods.remember('read', read as (...a: unknown[]) => unknown);
    expect(methods.get('read')).toBe(Instrument.prototype.read);
  });

  it('forgets a method replaced or shadowed later, and never keeps own members or getters', () => {
    class Replaced extends Instrument {}
    const service = new Replaced();
    const methods = new ServiceMethods(service);
    methods.remember('read', found(service, 'read') as (...a: unknown[]) => unknown);
    // Shadowed by an own member: the next request must find the own member, not the class's method.
    const own = () => 'own';
    Object.defineProperty(service, 'read', { value: own, configurable: true, writable: true });
    expect(methods.get('read')).toBeUndefined();
    expect(found(service, 'read')).toBe(own);
    // An own member (an instance field) is never remembered: it may change at any time.
    methods.remember('read', own);
    expect(methods.get('read')).toBeUndefined();
    methods.remember('helper', service.helper);
    expect(methods.get('helper')).toBeUndefined();
    // A method replaced on the class is found again.
    const other = new Replaced();
    const otherMethods = new ServiceMethods(other);
    otherMethods.remember('configure', found(other, 'configure') as (...a: unknown[]) => unknown);
    const replacement = async () => 'new';
    Object.defineProperty(Replaced.prototype, 'configure', { value: replacement, configurable: true });
    expect(otherMethods.get('configure')).toBeUndefined();
    expect(found(other, 'configure')).toBe(replacement);
    // The shutdown hook's Python name reads nothing on the service itself: never remembered.
    otherMethods.remember(
      'shutdown_service',
      found(other, 'shutdown_service') as (...a: unknown[]) => unknown,
    );
    expect(otherMethods.get('shutdown_service')).toBeUndefined();
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
