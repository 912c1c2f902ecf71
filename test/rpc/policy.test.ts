import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import { AccessPolicy } from '../../src/rpc/policy.js';

class Device {
  serial = 'A123';
  _secret = 'hunter2';
  onData = (x: number) => x * 2;
  #hidden = 1;
  read(): number {
    return 42 + this.#hidden;
  }
  get status(): string {
    return 'idle';
  }
  _calibrate(): void {}
  exposed_scan(): string {
    return 'scanning';
  }
  get evil(): unknown {
    return Function;
  }
  static create(): Device {
    return new Device();
  }
}

function denial(fn: () => unknown): AccessDeniedError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AccessDeniedError);
    return error as AccessDeniedError;
  }
  throw new Error('expected an AccessDeniedError');
}

describe('the default policy', () => {
  const policy = new AccessPolicy();
  const device = new Device();

  test('a public method of a class is callable', () => {
    expect(policy.getMember(device, 'read', 'call')).toBe(Device.prototype.read);
  });

  test('a getter of a class is readable', () => {
    expect(policy.getMember(device, 'status', 'get')).toBe('idle');
  });

  test('an arrow-function field is reachable as a method', () => {
    expect(typeof policy.getMember(device, 'onData', 'call')).toBe('function');
  });

  test('a static method of a published class is callable', () => {
    expect(policy.getMember(Device, 'create', 'call')).toBe(Device.create);
  });

  test('a member starting with an underscore is denied, naming the member', () => {
    expect(denial(() => policy.getMember(device, '_calibrate', 'call')).member).toBe('_calibrate');
    expect(denial(() => policy.getMember(device, '_secret', 'get')).member).toBe('_secret');
  });

  test('constructor, __proto__ and prototype are denied', () => {
    for (const name of ['constructor', '__proto__', 'prototype']) {
      expect(denial(() => policy.getMember(device, name, 'get')).member).toBe(name);
    }
  });

  test('members every object inherits from Object.prototype are denied', () => {
    for (const name of ['toString', 'hasOwnProperty', '__defineGetter__', 'valueOf']) {
      expect(denial(() => policy.getMember(device, name, 'call')).member).toBe(name);
    }
  });

  test('members of Function.prototype are denied on functions', () => {
    for (const name of ['call', 'apply', 'bind']) {
      expect(denial(() => policy.getMember(device.read, name, 'call')).member).toBe(name);
    }
  });

  test('an instance data field is denied by default', () => {
    expect(denial(() => policy.getMember(device, 'serial', 'get')).message).toContain('allowPublicAttrs');
  });

  test('the function members of a plain object are reachable, its data fields are not', () => {
    const plain = { rate: 10, start: () => 'started' };
    expect(typeof policy.getMember(plain, 'start', 'call')).toBe('function');
    denial(() => policy.getMember(plain, 'rate', 'get'));
  });

  test('a missing member is a TypeError that names it', () => {
    expect(() => policy.getMember(device, 'strat', 'call')).toThrow(/has no member 'strat'/);
  });

  test('calling a getter that is not a function is a TypeError', () => {
    expect(() => policy.getMember(device, 'status', 'call')).toThrow(TypeError);
  });

  test('setting a member is denied by default', () => {
    expect(denial(() => policy.setMember(device, 'serial', 'B')).message).toContain('allowSetAttr');
    expect(device.serial).toBe('A123');
  });

  test('deleting a member is denied by default', () => {
    expect(denial(() => policy.deleteMember(device, 'serial')).message).toContain('allowDelAttr');
    expect(device.serial).toBe('A123');
  });

  test('a class instance cannot be copied by value without allowPublicAttrs', () => {
    denial(() => policy.toPlainValue(device));
  });

  test('plain values copy by value', () => {
    expect(policy.toPlainValue({ a: [1, { b: 2 }] })).toEqual({ a: [1, { b: 2 }] });
  });
});

describe('policy options', () => {
  test('allowPublicAttrs lets a peer read data fields but not private ones', () => {
    const policy = new AccessPolicy({ allowPublicAttrs: true });
    expect(policy.getMember(new Device(), 'serial', 'get')).toBe('A123');
    denial(() => policy.getMember(new Device(), '_secret', 'get'));
  });

  test('allowPublicAttrs copies the public fields of a class instance by value', () => {
    const policy = new AccessPolicy({ allowPublicAttrs: true });
    expect(policy.toPlainValue(new Device())).toEqual({ serial: 'A123' });
  });

  test('allowSetAttr lets a peer set a public member', () => {
    const device = new Device();
    new AccessPolicy({ allowSetAttr: true }).setMember(device, 'serial', 'B7');
    expect(device.serial).toBe('B7');
  });

  test('allowSetAttr still refuses private names and __proto__', () => {
    const policy = new AccessPolicy({ allowSetAttr: true });
    denial(() => policy.setMember(new Device(), '_secret', 'x'));
    denial(() => policy.setMember({}, '__proto__', { polluted: true }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('allowSetAttr refuses to shadow an Object.prototype member', () => {
    denial(() => new AccessPolicy({ allowSetAttr: true }).setMember(new Device(), 'toString', () => 'x'));
  });

  test('allowDelAttr lets a peer delete an own public member', () => {
    const device = new Device();
    new AccessPolicy({ allowDelAttr: true }).deleteMember(device, 'serial');
    expect(Object.hasOwn(device, 'serial')).toBe(false);
  });

  test('exposedPrefix maps foo to exposed_foo', () => {
    const policy = new AccessPolicy({ exposedPrefix: 'exposed_' });
    const scan = policy.getMember(new Device(), 'scan', 'call') as () => string;
    expect(scan.call(new Device())).toBe('scanning');
    expect(policy.getMember(new Device(), 'exposed_scan', 'call')).toBe(scan);
  });

  test('exposedPrefix hides every member without the prefix', () => {
    const policy = new AccessPolicy({ exposedPrefix: 'exposed_' });
    expect(() => policy.getMember(new Device(), 'read', 'call')).toThrow(
      /has no member 'read' \(looked up as 'exposed_read'\)/,
    );
  });

  test('allowAll reaches private members, but never a member every object inherits', () => {
    const policy = new AccessPolicy({ allowAll: true });
    expect(policy.getMember(new Device(), '_secret', 'get')).toBe('hunter2');
    // Issue 7: the old behaviour (toString of Object.prototype reachable under allowAll) was the defect.
    denial(() => policy.getMember(new Device(), 'toString', 'call'));
  });

  test('allowAll never reaches constructor or the code-evaluating Function', () => {
    const policy = new AccessPolicy({ allowAll: true });
    denial(() => policy.getMember(new Device(), 'constructor', 'get'));
    expect(denial(() => policy.getMember(new Device(), 'evil', 'get')).message).toContain('evaluates code');
  });

  test('includeRemoteStack is on by default and can be turned off', () => {
    expect(new AccessPolicy().includeRemoteStack).toBe(true);
    expect(new AccessPolicy({ includeRemoteStack: false }).includeRemoteStack).toBe(false);
  });
});
