import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import { Connection } from '../../src/rpc/connection.js';
import { isProxy, type Remote } from '../../src/rpc/proxy.js';
import { onCleanup, serverAndClient, socketPair } from './helpers.js';

class Hub {
  #listeners: ((value: number) => unknown)[] = [];
  subscribe(listener: (value: number) => unknown): number {
    this.#listeners.push(listener);
    return this.#listeners.length;
  }
  async publish(value: number): Promise<unknown[]> {
    return Promise.all(this.#listeners.map((listener) => listener(value)));
  }
  async apply(fn: (x: number) => Promise<number>, x: number): Promise<number> {
    return (await fn(x)) + 1;
  }
  async useObject(object: Remote<Thermometer>): Promise<number> {
    return (await object.read()) * 2;
  }
}

class Thermometer {
  read(): number {
    return 21.5;
  }
  _secret(): string {
    return 'no';
  }
}

describe('callbacks', () => {
  test('a client passes a callback the server calls back', async () => {
    const { client } = await serverAndClient({ hub: new Hub() });
    const hub = client.get<Hub>('hub');
    const seen: number[] = [];
    await hub.subscribe((value) => seen.push(value));
    await hub.publish(7);
    expect(seen).toEqual([7]);
  });

  test("a callback's result goes back to the server", async () => {
    const { client } = await serverAndClient({ hub: new Hub() });
    expect(await client.get<Hub>('hub').apply(async (x) => x * 10, 4)).toBe(41);
  });

  test('the same callback passed twice is one object on the server', async () => {
    const { client, server } = await serverAndClient({ hub: new Hub() });
    const hub = client.get<Hub>('hub');
    const listener = () => 1;
    await hub.subscribe(listener);
    await hub.subscribe(listener);
    expect(client.connection.exports.size).toBe(1);
    expect(server.lentObjects).toBe(0);
  });

  test('a client object passed to the server is reached through the client policy', async () => {
    const { client } = await serverAndClient({ hub: new Hub() });
    expect(await client.get<Hub>('hub').useObject(new Thermometer() as unknown as Remote<Thermometer>)).toBe(
      43,
    );
  });

  test('the client policy protects the objects it lends the server', async () => {
    const { client } = await serverAndClient({
      probe: {
        poke: (object: Remote<Thermometer>) =>
          (object as unknown as { _secret(): Promise<string> })._secret(),
      },
    });
    const probe = client.get<{ poke(o: Thermometer): string }>('probe');
    const error = await probe.poke(new Thermometer()).catch((e: unknown) => e);
    // The server's call was denied by the client, and that failure reached the client as the server's error.
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).member).toBe('_secret');
  });

  test('a server-side callback proxy stays usable after the call that delivered it', async () => {
    const { client } = await serverAndClient({ hub: new Hub() });
    const hub = client.get<Hub>('hub');
    const seen: number[] = [];
    await hub.subscribe((value) => seen.push(value));
    for (let i = 0; i < 5; i++) await hub.publish(i);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('nested calls', () => {
  test('A calls B which calls A, 50 levels deep, without deadlock', async () => {
    const [streamA, streamB] = await socketPair('unix');
    // Each root calls the other side's root (a.root is B's root, b.root is A's root).
    const rootA = { bounce: (n: number): Promise<number> | number => (n === 0 ? 0 : a.root.bounce(n - 1)) };
    const rootB = {
      bounce: async (n: number): Promise<number> =>
        n === 0 ? 0 : 1 + ((await b.root.bounce(n - 1)) as number),
    };
    const a: Connection<{ bounce(n: number): number }> = new Connection(streamA, { root: rootA });
    const b: Connection<{ bounce(n: number): number }> = new Connection(streamB, {
      root: rootB,
      side: 'server',
    });
    onCleanup(async () => {
      await a.close();
      await b.close();
    });
    expect(await a.root.bounce(100)).toBe(50);
  });

  test('a callback that calls the server again while the server waits for it completes', async () => {
    const { client } = await serverAndClient({ hub: new Hub() });
    const hub = client.get<Hub>('hub');
    const result = await hub.apply(async (x) => {
      const inner = await hub.apply(async (y) => y * 2, x);
      return inner * 100;
    }, 3);
    expect(result).toBe(701);
  });

  test('many concurrent calls with callbacks all complete', async () => {
    const { client } = await serverAndClient({ hub: new Hub() });
    const hub = client.get<Hub>('hub');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => hub.apply(async (x) => x, i)));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  test('a function returned by the server is a callable proxy', async () => {
    const { client } = await serverAndClient({ maker: { adder: (n: number) => (x: number) => x + n } });
    const add5 = await client.get<{ adder(n: number): (x: number) => number }>('maker').adder(5);
    expect(isProxy(add5)).toBe(true);
    expect(await add5(10)).toBe(15);
  });
});
