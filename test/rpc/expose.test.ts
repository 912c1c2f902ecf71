// Per-object restriction (RPyC's `restricted`, tests/test_attr_access.py TestRestricted) over a real socket:
// a view made with expose(obj, names) lets a peer reach only those names, whatever the server's policy.
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import { constructible, expose } from '../../src/rpc/exposure.js';
import { Action, MessageKind } from '../../src/rpc/messages.js';
import type { AccessPolicyOptions } from '../../src/rpc/policy.js';
import { deleteAttr, getValue, isProxy, setAttr, type UntypedRemote } from '../../src/rpc/proxy.js';
import { ProcessSpawner } from '../../src/rpc/spawner.js';
import { onCleanup, rawPeer, serverAndClient } from './helpers.js';

/** Every option on: the view must hold whatever the server allows. */
const EVERYTHING: AccessPolicyOptions = {
  allowAll: true,
  allowPublicAttrs: true,
  allowSetAttr: true,
  allowDelAttr: true,
  allowBuiltinMethods: true,
};

class Report {
  summary(): string {
    return 'all good';
  }
  _internal(): string {
    return 'internal';
  }
}

class Scanner {
  rate = 10;
  label = 'scanner';
  _secret = 'hunter2';
  #count = 0;
  get count(): number {
    return this.#count;
  }
  get hidden(): string {
    return 'hidden getter';
  }
  foo(): string {
    return 'foo';
  }
  bar(): string {
    return 'bar';
  }
  _privy(): string {
    return 'privy';
  }
  spam(): string {
    return 'spam';
  }
  scan(n: number): number {
    this.#count += n;
    return this.#count;
  }
  report(): Report {
    return new Report();
  }
  self(): this {
    return this;
  }
  async later(): Promise<this> {
    return this;
  }
  isSame(other: unknown): boolean {
    return other === this;
  }
  *[Symbol.iterator](): Generator<number> {
    yield 1;
  }
  [Symbol.dispose](): void {
    this.rate = -1;
  }
}

const LISTED = ['foo', 'bar', '_privy', 'rate', 'count', 'scan', 'report', 'self', 'later'] as const;

async function connect(objects: Record<string, unknown>, policy: AccessPolicyOptions = {}) {
  const { server, client } = await serverAndClient(objects, { policy });
  return { server, client, get: (name: string) => client.get(name) as UntypedRemote };
}

async function denial(promise: PromiseLike<unknown>): Promise<Error> {
  const error = await Promise.resolve(promise).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AccessDeniedError);
  return error as Error;
}

describe('expose(obj, names): what a peer reaches', () => {
  test('listed methods are callable, listed fields and getters readable, under the default policy', async () => {
    const scanner = new Scanner();
    const { get } = await connect({ scanner: expose(scanner, [...LISTED]) });
    const remote = get('scanner');
    expect(await remote.foo()).toBe('foo');
    expect(await remote.bar()).toBe('bar');
    expect(await remote._privy()).toBe('privy'); // listed: the '_' rule of the policy does not apply
    expect(await remote.rate).toBe(10); // a data field, without allowPublicAttrs
    expect(await remote.scan(3)).toBe(3); // runs on the object: its #private state works
    expect(await remote.count).toBe(3);
    expect(scanner.count).toBe(3);
  });

  test('unlisted members are refused with the usual access error, even under allowAll', async () => {
    const { get } = await connect({ scanner: expose(new Scanner(), [...LISTED]) }, EVERYTHING);
    const remote = get('scanner');
    for (const name of ['spam', 'label', '_secret', 'hidden', 'isSame']) {
      const error = await denial(remote[name] as PromiseLike<unknown>);
      expect(error.message).toContain(`'${name}'`);
      expect(error.message).toMatch(/exposed with only these members: 'foo', 'bar'/);
    }
    await denial(remote.spam());
    await denial(remote.hidden);
  });

  test('prototype members, builtins and the names no policy opens are refused', async () => {
    const { get } = await connect(
      { scanner: expose(new Scanner(), ['foo', 'toString' as never, 'valueOf' as never]) },
      EVERYTHING,
    );
    const remote = get('scanner');
    for (const name of [
      '__proto__',
      'constructor',
      'prototype',
      'hasOwnProperty',
      '__defineGetter__',
      '__lookupGetter__',
      'Symbol(Symbol.iterator)',
      'Symbol.iterator',
    ]) {
      await denial(remote[name] as PromiseLike<unknown>);
      await denial((remote[name] as () => PromiseLike<unknown>)());
    }
    await denial(remote.constructor.constructor('return process'));
    // Listed, but inherited from Object.prototype: never reachable (valueOf would return the object itself).
    const error = await denial((remote.valueOf as unknown as () => PromiseLike<unknown>)());
    expect(error.message).toMatch(/never exposed, even when listed/);
    await denial((remote.toString as unknown as () => PromiseLike<unknown>)());
  });

  test('symbols: the view is neither iterable nor disposable by a peer', async () => {
    const scanner = new Scanner();
    const { get } = await connect({ scanner: expose(scanner, ['foo']) }, EVERYTHING);
    const remote = get('scanner') as unknown as AsyncIterable<unknown>;
    const error = await (async () => {
      for await (const _ of remote) return undefined;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toMatch(/expose\(\)/);
    const { client } = await serverAndClient({ holder: { give: () => expose(scanner, ['foo']) } });
    {
      await using lent = (await (client.get('holder') as UntypedRemote).give()) as UntypedRemote;
      expect(await lent.foo()).toBe('foo');
    }
    expect(scanner.rate).toBe(10); // the object's Symbol.dispose is not among the view's members
  });

  test('a peer sending a raw request for an unlisted member gets an access error, and is served on', async () => {
    const { server } = await serverAndClient(
      { scanner: expose(new Scanner(), ['foo']) },
      { policy: EVERYTHING },
    );
    const { peer } = await rawPeer(server);
    peer.send([MessageKind.REQUEST, 1, Action.CALL, 'scanner', ['__proto__', 'constructor'], ['x']]);
    const refused = await peer.next(MessageKind.ERROR, (m) => m[1] === 1);
    expect(JSON.stringify(refused)).toMatch(/ERR_FARCALL_ACCESS_DENIED|AccessDenied/);
    peer.send([MessageKind.REQUEST, 2, Action.CALL, 'scanner', ['foo'], []]);
    const reply = await peer.next(MessageKind.REPLY, (m) => m[1] === 2);
    expect(reply[2]).toBe('foo');
  });

  test('listing a name that leads to prototypes throws at once', () => {
    for (const name of ['constructor', '__proto__', 'prototype', '__defineSetter__']) {
      expect(() => expose(new Scanner(), [name as never])).toThrow(TypeError);
    }
    expect(() => expose(null as never, [])).toThrow(TypeError);
    expect(() => expose(new Scanner(), [Symbol.iterator as never])).toThrow(TypeError);
  });
});

describe('expose(obj, names): writes follow the policy', () => {
  test('a listed field is writable only if the policy allows setting', async () => {
    const scanner = new Scanner();
    const { get } = await connect({ scanner: expose(scanner, ['rate']) });
    const error = await denial(setAttr(get('scanner'), 'rate', 99));
    expect(error.message).toMatch(/allowSetAttr/);
    await denial(deleteAttr(get('scanner'), 'rate'));
    expect(scanner.rate).toBe(10);
  });

  test('with allowSetAttr and allowDelAttr a listed field is set and deleted, an unlisted one never', async () => {
    const scanner = new Scanner();
    const { get } = await connect({ scanner: expose(scanner, ['rate']) }, EVERYTHING);
    await setAttr(get('scanner'), 'rate', 99);
    expect(scanner.rate).toBe(99);
    await denial(setAttr(get('scanner'), 'label', 'pwned'));
    await denial(setAttr(get('scanner'), '__proto__', {}));
    await denial(deleteAttr(get('scanner'), 'label'));
    expect(scanner.label).toBe('scanner');
    await deleteAttr(get('scanner'), 'rate');
    expect(Object.hasOwn(scanner, 'rate')).toBe(false);
  });
});

describe('expose(obj, names): proxies to it and its results', () => {
  test('a result is an ordinary reference under the policy', async () => {
    const { get } = await connect({ scanner: expose(new Scanner(), ['report']) });
    const report = (await get('scanner').report()) as UntypedRemote;
    expect(isProxy(report)).toBe(true);
    expect(await report.summary()).toBe('all good');
    await denial(report._internal()); // the policy's '_' rule applies to the result again
  });

  test('a method returning the object itself returns the view, sync or async', async () => {
    const { get } = await connect({ scanner: expose(new Scanner(), ['foo', 'self', 'later']) }, EVERYTHING);
    for (const same of [
      (await get('scanner').self()) as UntypedRemote,
      (await get('scanner').later()) as UntypedRemote,
    ]) {
      expect(await same.foo()).toBe('foo');
      await denial(same.spam());
    }
  });

  test('the view sent back to its owner arrives as the view, never as the object', async () => {
    const scanner = new Scanner();
    const view = expose(scanner, ['foo', 'self']);
    const checks = { isView: (x: unknown) => x === view, isObject: (x: unknown) => x === scanner };
    const { get } = await connect({ scanner: view, checks });
    const lent = await get('scanner').self();
    expect(await get('checks').isView(lent)).toBe(true);
    expect(await get('checks').isObject(lent)).toBe(false);
    expect(await get('checks').isView(get('scanner'))).toBe(true);
  });

  test('getValue copies only the listed data fields', async () => {
    const { get } = await connect({ scanner: expose(new Scanner(), ['rate', 'count', 'foo']) });
    expect(await getValue(get('scanner'))).toEqual({ rate: 10, count: 0 });
  });

  test("the policy's exposedPrefix does not rename a view's members", async () => {
    const { get } = await connect({ scanner: expose(new Scanner(), ['foo']) }, { exposedPrefix: 'exposed_' });
    expect(await get('scanner').foo()).toBe('foo');
  });

  test('a listed class marked constructible can be constructed', async () => {
    class Point {
      constructor(readonly x: number) {}
      double(): number {
        return this.x * 2;
      }
    }
    const lab = { Point: constructible(Point), Other: Point };
    const { get } = await connect({ lab: expose(lab, ['Point']) });
    const RemotePoint = get('lab').Point as unknown as new (x: number) => Promise<UntypedRemote>;
    expect(await (await new RemotePoint(4)).double()).toBe(8);
    await denial(get('lab').Other);
  });

  test('a view of a view reaches the names both list', async () => {
    const narrow = expose(expose(new Scanner(), ['foo', 'bar']), ['bar', 'spam' as never]);
    const { get } = await connect({ scanner: narrow }, EVERYTHING);
    expect(await get('scanner').bar()).toBe('bar');
    await denial(get('scanner').foo());
    await denial(get('scanner').spam());
  });

  test('locally, the view has the listed members and shows what it is', async () => {
    const scanner = new Scanner();
    const view = expose(scanner, ['scan', 'count', 'rate', 'self']);
    expect(view.scan(2)).toBe(2);
    expect(view.count).toBe(2);
    view.rate = 5;
    expect(scanner.rate).toBe(5);
    expect(view.self()).toBe(scanner); // local code is the owner's own: no narrowing
    expect(Object.keys(view)).toEqual(['scan', 'count', 'rate', 'self']);
    const { client } = await serverAndClient({ holder: { give: () => view } });
    const lent = await (client.get('holder') as UntypedRemote).give();
    expect(inspect(lent)).toMatch(/exposed Scanner #\d+/);
  });
});

describe('expose(obj, names) in another process', () => {
  test('a view published by a child process holds under allowAll', async () => {
    const child = await ProcessSpawner.spawn({
      module: fileURLToPath(new URL('./fixtures/spawner-exposed.mjs', import.meta.url)),
      policy: EVERYTHING,
      stdout: null,
      stderr: null,
    });
    onCleanup(() => child.kill().then(() => undefined));
    const device = child.get('device') as UntypedRemote;
    expect(await device.read()).toBe(42);
    expect(await device.rate).toBe(10);
    for (const name of ['secret', 'reset', 'constructor', '__proto__', 'toString']) {
      await denial(device[name] as PromiseLike<unknown>);
    }
    await denial(device.reset());
    await setAttr(device, 'rate', 5);
    expect(await device.rate).toBe(5);
    await denial(setAttr(device, 'secret', 'x'));
  });
});
