// Remote disposal (RPyC's remote context managers): `await using r = await proxy.open()`.
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { AccessDeniedError, RemoteError } from '../../src/errors.js';
import { serverAndClient, until } from './helpers.js';

const events: string[] = [];

class Session {
  constructor(readonly rate: number) {}
  read(): number {
    events.push('read');
    return this.rate;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    events.push('async disposed');
  }
}
class SyncResource {
  [Symbol.dispose](): void {
    events.push('disposed');
  }
}
class Failing {
  [Symbol.asyncDispose](): never {
    throw new RangeError('could not close the valve');
  }
}

class Device {
  open(rate: number): Session {
    return new Session(rate);
  }
  resource(): SyncResource {
    return new SyncResource();
  }
  failing(): Failing {
    return new Failing();
  }
  stream(): Readable {
    return Readable.from(['x']);
  }
}

describe('remote disposal', () => {
  test("await using runs the remote object's Symbol.asyncDispose, then releases it", async () => {
    events.length = 0;
    const { client, server } = await serverAndClient({ device: new Device() });
    const device = client.get<Device>('device');
    {
      await using session = await device.open(10);
      expect(await session.read()).toBe(10);
      expect(server.lentObjects).toBe(1);
    }
    expect(events).toEqual(['read', 'async disposed']);
    await until(() => server.lentObjects === 0);
    expect(server.lentObjects).toBe(0);
  });

  test('Symbol.dispose runs when there is no asyncDispose', async () => {
    events.length = 0;
    const { client } = await serverAndClient({ device: new Device() });
    {
      await using _resource = await client.get<Device>('device').resource();
    }
    expect(events).toEqual(['disposed']);
  });

  test('a throwing remote dispose surfaces at the end of the block, and the proxy is still released', async () => {
    const { client, server } = await serverAndClient({ device: new Device() });
    const error = await (async () => {
      await using _failing = await client.get<Device>('device').failing();
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remoteName).toBe('RangeError');
    await until(() => server.lentObjects === 0);
    expect(server.lentObjects).toBe(0);
  });

  test("a built-in's dispose (a stream's) needs allowBuiltinMethods; a published object is never disposed", async () => {
    const { client } = await serverAndClient({ device: new Device() });
    const stream = await client.get<Device>('device').stream();
    await expect((stream as unknown as AsyncDisposable)[Symbol.asyncDispose]()).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    await expect(client.get('device')[Symbol.asyncDispose]()).rejects.toThrow(/Only an object lent to you/);
  });

  test('disposing after the connection closed does nothing and does not throw', async () => {
    const { client } = await serverAndClient({ device: new Device() });
    const session = await client.get<Device>('device').open(1);
    await client.close();
    await expect(session[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });
});
