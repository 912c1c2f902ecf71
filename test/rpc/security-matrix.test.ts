// The access matrix, in the manner of RPyC's tests/test_attr_access.py: one row per (option set, member
// kind, operation), each asserting that the operation is allowed or denied, over a real connection. The
// rows are generated from the table below; `rule` states the policy each kind is held to.
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RPCClient } from '../../src/rpc/client.js';
import { RPCClient as Client } from '../../src/rpc/index.js';
import type { AccessPolicyOptions } from '../../src/rpc/policy.js';
import { deleteAttr, setAttr, type UntypedRemote } from '../../src/rpc/proxy.js';
import { RPCServer } from '../../src/rpc/server.js';

class Target extends EventEmitter {
  count = 1;
  _secret = 'hunter2';
  arrow = (): string => 'arrow';
  evil = Function;
  method(): string {
    return 'method';
  }
  get status(): string {
    return 'ok';
  }
  _privy(): string {
    return 'privy';
  }
  exposed_foobar(): string {
    return 'foobar';
  }
  get bytes(): Buffer {
    return Buffer.from('0123456789').subarray(2, 6);
  }
}

type Operation = 'get' | 'call' | 'set' | 'delete';

const OPTION_SETS: Record<string, AccessPolicyOptions> = {
  default: {},
  allowPublicAttrs: { allowPublicAttrs: true },
  allowSetAttr: { allowSetAttr: true },
  allowDelAttr: { allowDelAttr: true },
  allowBuiltinMethods: { allowBuiltinMethods: true },
  allowAll: { allowAll: true },
  everything: {
    allowAll: true,
    allowPublicAttrs: true,
    allowSetAttr: true,
    allowDelAttr: true,
    allowBuiltinMethods: true,
  },
};

type Rule = (o: AccessPolicyOptions) => boolean;
const always: Rule = () => true;
const never: Rule = () => false;
const canSet: Rule = (o) => o.allowSetAttr === true || o.allowAll === true;
const canDelete: Rule = (o) => o.allowDelAttr === true || o.allowAll === true;
const canReadFields: Rule = (o) => o.allowPublicAttrs === true || o.allowAll === true;
const allowAll: Rule = (o) => o.allowAll === true;
const builtins: Rule = (o) => o.allowBuiltinMethods === true;

/** Member kind → its path on a Target and the rule of each operation that applies to it. */
const KINDS: Record<string, { path: string[]; rules: Partial<Record<Operation, Rule>> }> = {
  'prototype method': { path: ['method'], rules: { get: always, call: always, set: canSet, delete: never } },
  'prototype getter': { path: ['status'], rules: { get: always, call: never, set: never, delete: never } },
  'public data field': {
    path: ['count'],
    rules: { get: canReadFields, call: never, set: canSet, delete: canDelete },
  },
  'own function field': {
    path: ['arrow'],
    rules: { get: always, call: always, set: canSet, delete: canDelete },
  },
  'private data field': { path: ['_secret'], rules: { get: allowAll, set: allowAll, delete: allowAll } },
  'private method': { path: ['_privy'], rules: { get: allowAll, call: allowAll } },
  'EventEmitter method (built-in prototype)': { path: ['listenerCount'], rules: { call: builtins } },
  'EventEmitter method that changes state': { path: ['removeAllListeners'], rules: { call: builtins } },
  'Object.prototype method': {
    path: ['toString'],
    rules: { get: never, call: never, set: never, delete: never },
  },
  'Object.prototype hasOwnProperty': { path: ['hasOwnProperty'], rules: { call: never, set: never } },
  'legacy accessor __lookupGetter__': {
    path: ['__lookupGetter__'],
    rules: { get: never, call: never, set: never },
  },
  'legacy accessor __defineGetter__': { path: ['__defineGetter__'], rules: { call: never, set: never } },
  constructor: { path: ['constructor'], rules: { get: never, call: never, set: never } },
  __proto__: { path: ['__proto__'], rules: { get: never, set: never, delete: never } },
  'Function.prototype call of a method': { path: ['method', 'call'], rules: { get: never, call: never } },
  'Function.prototype bind of a method': { path: ['method', 'bind'], rules: { call: never } },
  "a method's own member (shared function)": {
    path: ['method', 'name'],
    rules: { set: never, delete: never },
  },
  "a built-in method's member": { path: ['listenerCount', 'name'], rules: { set: never, delete: never } },
  'code evaluator (Function) in a field': { path: ['evil'], rules: { get: never, call: never } },
  "a view's buffer": { path: ['bytes', 'buffer'], rules: { get: never } },
  "a view's byteOffset": { path: ['bytes', 'byteOffset'], rules: { get: never } },
  "a Buffer's parent": { path: ['bytes', 'parent'], rules: { get: never } },
  "a Buffer's offset": { path: ['bytes', 'offset'], rules: { get: never } },
};

function member(proxy: UntypedRemote, path: readonly string[]): UntypedRemote {
  let current = proxy;
  for (const name of path) current = current[name] as unknown as UntypedRemote;
  return current;
}

async function perform(
  proxy: UntypedRemote,
  path: readonly string[],
  operation: Operation,
): Promise<unknown> {
  const parent = member(proxy, path.slice(0, -1));
  const last = path[path.length - 1];
  switch (operation) {
    case 'get':
      return await member(proxy, path);
    case 'call':
      return await (member(proxy, path) as unknown as () => Promise<unknown>)();
    case 'set':
      return await setAttr(parent, last, 42);
    case 'delete':
      return await deleteAttr(parent, last);
  }
}

interface Row {
  options: string;
  kind: string;
  operation: Operation;
  allowed: boolean;
}

const rows: Row[] = [];
for (const [options, policy] of Object.entries(OPTION_SETS)) {
  for (const [kind, { rules }] of Object.entries(KINDS)) {
    for (const [operation, rule] of Object.entries(rules) as [Operation, Rule][]) {
      rows.push({ options, kind, operation, allowed: rule(policy) });
    }
  }
}

const servers = new Map<string, { server: RPCServer; client: RPCClient; made: Target[] }>();

beforeAll(async () => {
  for (const [name, policy] of Object.entries(OPTION_SETS)) {
    const server = await RPCServer.listen({ policy });
    const made: Target[] = [];
    server.set('factory', {
      make: () => {
        const target = new Target();
        target.on('data', () => {});
        made.push(target);
        return target;
      },
    });
    servers.set(name, { server, client: await Client.connect(server.address as string), made });
  }
});

afterAll(async () => {
  for (const { server, client } of servers.values()) {
    await client.close();
    await server.close();
  }
});

describe('the access matrix', () => {
  test.each(rows)('$options | $kind | $operation → allowed: $allowed', async (row) => {
    const { client, made } = servers.get(row.options) as { client: RPCClient; made: Target[] };
    const factory = client.get('factory') as UntypedRemote;
    const target = (await factory.make()) as UntypedRemote;
    const local = made[made.length - 1];
    const outcome = await perform(target, KINDS[row.kind].path, row.operation).then(
      () => 'allowed',
      (error: unknown) => `denied (${(error as Error).name}: ${(error as Error).message})`,
    );
    expect(outcome.startsWith('allowed'), outcome).toBe(row.allowed);
    if (!row.allowed) {
      // A denied operation changed nothing on the server.
      expect(local.count).toBe(1);
      expect(local._secret).toBe('hunter2');
      expect(local.listenerCount('data')).toBe(1);
      expect(Target.prototype.method.name).toBe('method');
    }
  });

  test('after every row, nothing the process shares was changed', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(
      Object.getOwnPropertyNames(Object.getPrototypeOf({})).sort(),
    );
    expect((Object.prototype as Record<string, unknown>)[42]).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Target.prototype.method, 'name') && Target.prototype.method.name).toBe('method');
    expect(EventEmitter.prototype.listenerCount.name).toBe('listenerCount');
  });
});

describe('exposedPrefix (RPyC exposed_)', () => {
  test.each([
    { name: 'foobar', allowed: true },
    { name: 'exposed_foobar', allowed: true },
    { name: 'method', allowed: false },
    { name: '_privy', allowed: false },
  ])("exposedPrefix 'exposed_' | call $name → allowed: $allowed", async ({ name, allowed }) => {
    const server = await RPCServer.listen({ policy: { exposedPrefix: 'exposed_' } });
    server.set('factory', { exposed_make: () => new Target() });
    const client = await Client.connect(server.address as string);
    try {
      const target = (await (client.get('factory') as UntypedRemote).make()) as UntypedRemote;
      const outcome = await target[name]().then(
        () => true,
        () => false,
      );
      expect(outcome).toBe(allowed);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
