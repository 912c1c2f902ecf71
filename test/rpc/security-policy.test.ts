// Issue 7 §1, the policy: the attacks of the red-team report, over a real connection. A client must not
// change the owner's private state through built-in methods, must not read memory around a Buffer, and
// must not pollute prototypes or shared functions, whatever the server's options.
import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import type { AccessPolicyOptions } from '../../src/rpc/policy.js';
import { deleteAttr, getValue, isProxy, options, setAttr, type UntypedRemote } from '../../src/rpc/proxy.js';
import { serverAndClient } from './helpers.js';

/** Every option on: what the owner of a trusted deployment might set. */
const EVERYTHING: AccessPolicyOptions = {
  allowAll: true,
  allowPublicAttrs: true,
  allowSetAttr: true,
  allowDelAttr: true,
  allowBuiltinMethods: true,
};

class Account {
  _items = ['a', 'b', 'c'];
  _settings = new Map<string, boolean>([['isAdmin', false]]);
  _created = new Date(0);
  _pattern = /^ok$/;
  get items(): string[] {
    return this._items;
  }
  get settings(): Map<string, boolean> {
    return this._settings;
  }
  get created(): Date {
    return this._created;
  }
  get pattern(): RegExp {
    return this._pattern;
  }
  hello(): string {
    return 'hello';
  }
}

class Scanner extends EventEmitter {
  start(): string {
    return 'started';
  }
}

async function connect(objects: Record<string, unknown>, policy: AccessPolicyOptions = {}) {
  const { client } = await serverAndClient(objects, { policy });
  return (name: string) => client.get(name) as UntypedRemote;
}

describe("the default policy: built-in methods and returnType 'proxy'", () => {
  test("returnType 'proxy' on a getter of an array, a map or a date gives a copy, not a handle on private state", async () => {
    const account = new Account();
    const get = await connect({ account });
    const remote = options(get('account'), { returnType: 'proxy' }) as UntypedRemote;
    const items = await remote.items;
    const settings = await remote.settings;
    const created = await remote.created;
    expect(isProxy(items) || isProxy(settings) || isProxy(created)).toBe(false);
    expect(items).toEqual(['a', 'b', 'c']);
    expect((settings as Map<string, boolean>).get('isAdmin')).toBe(false);
    expect(account._items).toEqual(['a', 'b', 'c']);
    expect(account._settings.get('isAdmin')).toBe(false);
    expect(account._created.getTime()).toBe(0);
  });

  test('the methods of a built-in object that travels by reference (a RegExp) are not reachable', async () => {
    const account = new Account();
    const get = await connect({ account });
    const pattern = (await get('account').pattern) as UntypedRemote;
    expect(isProxy(pattern)).toBe(true);
    await expect(pattern.compile('^hacked$')).rejects.toBeInstanceOf(AccessDeniedError);
    expect(account._pattern.source).toBe('^ok$');
  });

  test("an EventEmitter's methods are not reachable: a client cannot remove the server's listeners", async () => {
    const scanner = new Scanner();
    scanner.on('data', () => {});
    const get = await connect({ scanner });
    expect(await get('scanner').start()).toBe('started');
    const error = await get('scanner')
      .removeAllListeners()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(String(error)).toContain('allowBuiltinMethods');
    await expect(get('scanner').emit('data', 1)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(scanner.listenerCount('data')).toBe(1);
  });

  test('allowBuiltinMethods lets the owner opt in', async () => {
    const scanner = new Scanner();
    scanner.on('data', () => {});
    const get = await connect({ scanner }, { allowBuiltinMethods: true });
    expect(await get('scanner').listenerCount('data')).toBe(1);
  });

  test("transfer(): the peer's own copy keeps its built-in methods", async () => {
    const { client } = await serverAndClient({});
    const samples = await client.transfer([1, 2]);
    await samples.push(3);
    expect(await getValue(samples)).toEqual([1, 2, 3]);
  });
});

describe('memory around a Buffer', () => {
  class Api {
    tiny(): Buffer {
      return Buffer.from('tiny');
    }
    get view(): Buffer {
      return Buffer.from('0123456789abcdef').subarray(4, 8);
    }
  }
  const api = new Api();

  test("returnType 'proxy' on a small Buffer gives its bytes, not a handle", async () => {
    const get = await connect({ api });
    const tiny = await (options(get('api'), { returnType: 'proxy' }) as UntypedRemote).tiny();
    expect(isProxy(tiny)).toBe(false);
    expect(Buffer.from(tiny as Uint8Array).toString()).toBe('tiny');
  });

  for (const [label, policy] of [
    ['the default policy', {}],
    ['every option', EVERYTHING],
  ] as const) {
    test(`buffer, byteOffset, parent and offset of a view are never reachable (${label})`, async () => {
      const get = await connect({ api }, policy);
      for (const name of ['buffer', 'byteOffset', 'parent', 'offset']) {
        const error = await (get('api').view as UntypedRemote)[name].then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, name).toBeInstanceOf(AccessDeniedError);
      }
    });
  }
});

describe('allowAll and allowSetAttr never pollute what the process shares', () => {
  test('the legacy accessors and the members of Object.prototype are out of reach under every option', async () => {
    const account = new Account();
    const get = await connect({ account }, EVERYTHING);
    for (const name of ['__lookupGetter__', '__defineGetter__', '__lookupSetter__', '__defineSetter__']) {
      await expect(get('account')[name]('__proto__'), name).rejects.toBeInstanceOf(AccessDeniedError);
    }
    for (const name of ['toString', 'hasOwnProperty', 'valueOf', 'propertyIsEnumerable']) {
      await expect(get('account')[name](), name).rejects.toBeInstanceOf(AccessDeniedError);
    }
    await expect(setAttr(get('account'), '__proto__', { polluted: 'yes' })).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('the members of Function.prototype are out of reach under every option', async () => {
    const get = await connect({ account: new Account() }, EVERYTHING);
    for (const name of ['call', 'apply', 'bind']) {
      await expect(get('account').hello[name](), name).rejects.toBeInstanceOf(AccessDeniedError);
    }
  });

  test('setAttr and deleteAttr never change a method shared by a prototype, or a built-in function', async () => {
    const account = new Account();
    const get = await connect({ account, list: [1, 2] }, EVERYTHING);
    await expect(setAttr(get('account').hello, 'polluted', 'yes')).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(setAttr(get('list').push, 'polluted', 'yes')).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(deleteAttr(get('list').push, 'name')).rejects.toBeInstanceOf(AccessDeniedError);
    expect((Account.prototype.hello as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect((Array.prototype.push as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Array.prototype.push.name).toBe('push');
    // The object's own state can still be changed, as the options say.
    await setAttr(get('account'), 'label', 'mine');
    expect((account as unknown as Record<string, unknown>).label).toBe('mine');
  });
});
