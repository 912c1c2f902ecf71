import * as net from 'node:net';
import { describe, expect, test } from 'vitest';
import {
  AuthenticationError,
  ConnectError,
  ConnectionClosedError,
  ConnectionTimeoutError,
  ProtocolError,
} from '../../src/errors.js';
import { RPCClient } from '../../src/rpc/client.js';
import { getValue, isProxy, release } from '../../src/rpc/proxy.js';
import { RPCServer } from '../../src/rpc/server.js';
import { connectClient, onCleanup, serverAndClient, socketPair, startServer } from './helpers.js';

class Calculator {
  add(a: number, b: number): number {
    return a + b;
  }
}

describe('RPCClient', () => {
  test('connects and calls a published object', async () => {
    const { client } = await serverAndClient({ calc: new Calculator() });
    expect(await client.get<Calculator>('calc').add(2, 40)).toBe(42);
    expect(client.connected).toBe(true);
  });

  test('connecting where nothing listens rejects with ConnectError', async () => {
    const server = await startServer();
    const address = server.address as string;
    await server.close();
    await expect(RPCClient.connect(address)).rejects.toBeInstanceOf(ConnectError);
  });

  test('a server that never says HELLO fails the connect within connectTimeout', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const sockets: net.Socket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));
    onCleanup(() => {
      for (const socket of sockets) socket.destroy();
    });
    const port = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    const error = await RPCClient.connect(`tcp://127.0.0.1:${port}`, { connectTimeout: 150 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionTimeoutError);
    expect((error as Error).message).toContain('did not send its HELLO within 150 ms');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('a server that speaks something else is refused with a ProtocolError', async () => {
    const sockets: net.Socket[] = [];
    const http = net.createServer((socket) => {
      sockets.push(socket);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => http.close(() => resolve())));
    onCleanup(() => {
      for (const socket of sockets) socket.destroy();
    });
    const port = (http.address() as net.AddressInfo).port;
    const error = await RPCClient.connect(`tcp://127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
  });

  test('with the right authKey the client is served', async () => {
    const { client } = await serverAndClient(
      { calc: new Calculator() },
      { authKey: 'k3y' },
      { authKey: 'k3y' },
    );
    expect(await client.get<Calculator>('calc').add(1, 1)).toBe(2);
  });

  test('with a wrong authKey connect rejects with AuthenticationError', async () => {
    const server = await startServer({ authKey: 'right' });
    await expect(RPCClient.connect(server.address as string, { authKey: 'wrong' })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    await expect(RPCClient.connect(server.address as string)).rejects.toThrow(/requires an authKey/);
  });

  test('getClient returns one cached client per address', async () => {
    const server = await startServer();
    const first = await RPCClient.getClient(server.address as string);
    onCleanup(() => first.close());
    expect(await RPCClient.getClient(server.address as string)).toBe(first);
  });

  test('getClient connects again after the cached client disconnected', async () => {
    const server = await startServer();
    const first = await RPCClient.getClient(server.address as string);
    await first.close();
    const second = await RPCClient.getClient(server.address as string);
    onCleanup(() => second.close());
    expect(second).not.toBe(first);
    expect(second.connected).toBe(true);
  });

  test('transfer() returns a proxy of a copy the server keeps', async () => {
    const { client, server } = await serverAndClient({});
    const samples = await client.transfer([1, 2, 3]);
    expect(isProxy(samples)).toBe(true);
    expect(server.lentObjects).toBe(1);
    await samples.push(4);
    expect(await getValue(samples)).toEqual([1, 2, 3, 4]);
    release(samples);
    await client.ping();
    expect(server.lentObjects).toBe(0);
  });

  test('transfer() of a primitive is refused', async () => {
    const { client } = await serverAndClient({});
    await expect(client.transfer(5)).rejects.toThrow(/Only objects can be transferred/);
  });

  test('ping() resolves with a round-trip time', async () => {
    const { client } = await serverAndClient({});
    const rtt = await client.ping(1000);
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(1000);
  });

  test('measureClockDiff() is close to zero for a server on the same machine', async () => {
    const { client } = await serverAndClient({});
    expect(Math.abs(await client.measureClockDiff())).toBeLessThan(25);
  });

  test('close() disconnects and later calls reject with ConnectionClosedError', async () => {
    const { client } = await serverAndClient({ calc: new Calculator() });
    await client.close();
    await client.close();
    expect(await client.disconnected).toBeUndefined();
    await expect(client.get<Calculator>('calc').add(1, 2)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test('Symbol.asyncDispose closes the client', async () => {
    const server = await startServer();
    let client: RPCClient;
    {
      await using c = await RPCClient.connect(server.address as string);
      client = c;
    }
    expect(client.connected).toBe(false);
  });

  test('connecting to first reply takes a few milliseconds', async () => {
    const server = await startServer();
    server.set('calc', new Calculator());
    await connectClient(server.address as string); // warm up
    const started = performance.now();
    const client = await connectClient(server.address as string);
    await client.get<Calculator>('calc').add(1, 2);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('RPCClient.fromStream', () => {
  test('a client over a stream that a server serves', async () => {
    const server = new RPCServer();
    onCleanup(() => server.close());
    server.set('calc', new Calculator());
    const [mine, theirs] = await socketPair('unix');
    server.serve(theirs);
    const client = await RPCClient.fromStream(mine, 'the test pipe');
    onCleanup(() => client.close());
    expect(client.address).toBe('the test pipe');
    expect(await client.get<Calculator>('calc').add(3, 4)).toBe(7);
  });
});
