import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { AccessDeniedError, ConnectionClosedError } from '../../src/errors.js';
import { Connection } from '../../src/rpc/connection.js';
import { getValue } from '../../src/rpc/proxy.js';
import { RPCServer } from '../../src/rpc/server.js';
import { selfSignedCertificate } from '../support/tls.js';
import {
  connectClient,
  onCleanup,
  serverAndClient,
  socketPair,
  startServer,
  unixAddress,
} from './helpers.js';

class Counter {
  count = 0;
  increment(): number {
    return ++this.count;
  }
  never(): Promise<never> {
    return new Promise(() => {});
  }
}

describe('RPCServer', () => {
  test('listens on loopback TCP with a real port by default', async () => {
    const server = await startServer();
    expect(server.address).toMatch(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(server.running).toBe(true);
  });

  test('serves a published object over a Unix socket', async () => {
    const server = await startServer({ address: unixAddress() });
    server.set('counter', new Counter());
    const client = await connectClient(server.address as string);
    expect(await client.get<Counter>('counter').increment()).toBe(1);
  });

  test('set, get and delete manage the published objects', async () => {
    const server = await startServer();
    const counter = new Counter();
    server.set('counter', counter);
    expect(server.get('counter')).toBe(counter);
    expect(server.names()).toEqual(['counter']);
    expect(server.delete('counter')).toBe(true);
    expect(server.get('counter')).toBeUndefined();
  });

  test('an object published after the client made its proxy is reached', async () => {
    const { server, client } = await serverAndClient({});
    const counter = client.get<Counter>('counter');
    await expect(counter.increment()).rejects.toThrow(
      /No object is published under 'counter'.*nothing is published/,
    );
    server.set('counter', new Counter());
    expect(await counter.increment()).toBe(1);
  });

  test('a published primitive is read with getValue', async () => {
    const { client } = await serverAndClient({ rate: 44.1 });
    expect(await getValue(client.get('rate'))).toBe(44.1);
  });

  test('two clients share one published object', async () => {
    const { server, client } = await serverAndClient({ counter: new Counter() });
    const other = await connectClient(server.address as string);
    await client.get<Counter>('counter').increment();
    expect(await other.get<Counter>('counter').increment()).toBe(2);
  });

  test('startTimer calls back until stopped', async () => {
    const server = await startServer();
    let ticks = 0;
    const stop = server.startTimer(() => ticks++, 10);
    await new Promise((resolve) => setTimeout(resolve, 80));
    stop();
    const seen = ticks;
    expect(seen).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(ticks).toBe(seen);
  });

  test('close() stops the timers', async () => {
    const server = await RPCServer.listen();
    let ticks = 0;
    server.startTimer(() => ticks++, 5);
    await server.close();
    const seen = ticks;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ticks).toBe(seen);
  });

  test('close() is idempotent and tells every client: pending calls reject and disconnected resolves', async () => {
    const { server, client } = await serverAndClient({ counter: new Counter() });
    const pending = client.get<Counter>('counter').never();
    await client.ping();
    const events: unknown[] = [];
    client.on('disconnected', (error) => events.push(error));
    await Promise.all([server.close(), server.close()]);
    expect(server.running).toBe(false);
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(pending).rejects.toThrow(/the server closed/);
    expect(await client.disconnected).toBeInstanceOf(ConnectionClosedError);
    expect(client.connected).toBe(false);
    expect(events).toHaveLength(1);
  });

  test('stops listening when closed', async () => {
    const server = await RPCServer.listen();
    const address = server.address as string;
    await server.close();
    const port = Number(address.split(':').pop());
    await expect(
      new Promise((resolve, reject) =>
        net.connect(port, '127.0.0.1').on('connect', resolve).on('error', reject),
      ),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  test('Symbol.asyncDispose closes the server', async () => {
    let server: RPCServer;
    {
      await using s = await RPCServer.listen();
      server = s;
    }
    expect(server.running).toBe(false);
  });

  test('serve() serves an already-connected stream', async () => {
    const server = new RPCServer();
    onCleanup(() => server.close());
    server.set('counter', new Counter());
    const [mine, theirs] = await socketPair('unix');
    server.serve(theirs);
    const connection = new Connection(mine);
    onCleanup(() => connection.close());
    expect(await connection.request(0, 'counter', ['increment'], [], {})).toBe(1);
  });

  test('serve() works over an in-memory duplex pair as well as a socket', async () => {
    const server = new RPCServer();
    onCleanup(() => server.close());
    server.set('counter', new Counter());
    const [left, right] = duplexPair();
    server.serve(right);
    const connection = new Connection(left);
    onCleanup(() => connection.close());
    expect(await connection.request(0, 'counter', ['increment'], [], {})).toBe(1);
  });

  test('a client may import an allow-listed module', async () => {
    const { client } = await serverAndClient({}, { importable: ['node:path'] });
    const path = await client.import<typeof import('node:path')>('node:path');
    expect(await path.join('a', 'b')).toBe('a/b');
  });

  test('importing a module that is not allow-listed is denied', async () => {
    const { client } = await serverAndClient({}, { importable: ['node:path'] });
    const error = await client.import('node:child_process').catch((e: unknown) => e as AccessDeniedError);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.member).toBe('node:child_process');
    expect(error.message).toContain("'node:path'");
  });

  test('a client can publish a value the other clients reach', async () => {
    const { server, client } = await serverAndClient({});
    await client.set('greeting', { text: 'hi' });
    const other = await connectClient(server.address as string);
    expect(await getValue(other.get('greeting'))).toEqual({ text: 'hi' });
  });

  test('a client cannot replace an object the server published', async () => {
    const { client, server } = await serverAndClient({ counter: new Counter() });
    await expect(client.set('counter', { evil: true })).rejects.toBeInstanceOf(AccessDeniedError);
    expect(server.get('counter')).toBeInstanceOf(Counter);
  });

  test('closeServer() from a client closes the server and every client sees it (with allowRemoteClose)', async () => {
    const { server, client } = await serverAndClient({}, { allowRemoteClose: true });
    const other = await connectClient(server.address as string);
    await client.closeServer();
    await other.disconnected;
    expect(server.running).toBe(false);
    expect(other.connected).toBe(false);
  });

  test('closeServer() is refused by default and when allowRemoteClose is false', async () => {
    // Issue 7: remote close used to be on by default (any client could stop the server).
    for (const allowRemoteClose of [undefined, false]) {
      const { server, client } = await serverAndClient({}, { allowRemoteClose });
      const error = await client.closeServer().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AccessDeniedError);
      expect(String(error)).toContain('allowRemoteClose');
      expect(server.running).toBe(true);
      expect(await client.ping()).toBeGreaterThanOrEqual(0);
    }
  });

  test('a client cannot replace or remove a name another client published, unless allowNameTakeover', async () => {
    const { server, client } = await serverAndClient({});
    const other = await connectClient(server.address as string);
    await client.set('mine', { owner: 'first' });
    await expect(other.set('mine', { owner: 'attacker' })).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(other.set('mine', null)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(server.get('mine')).toEqual({ owner: 'first' });
    // Its own name, a client may change and remove.
    await client.set('mine', { owner: 'first, again' });
    expect(server.get('mine')).toEqual({ owner: 'first, again' });
    await client.set('mine', null);
    expect(server.get('mine')).toBeUndefined();

    const open = await serverAndClient({}, { allowNameTakeover: true });
    const third = await connectClient(open.server.address as string);
    await open.client.set('shared', 1);
    await third.set('shared', 2);
    expect(open.server.get('shared')).toBe(2);
  });

  test('a client that dies releases every object it borrowed', async () => {
    const { server, client } = await serverAndClient({ factory: { make: () => new Counter() } });
    const factory = client.get<{ make(): Counter }>('factory');
    await factory.make();
    await factory.make();
    expect(server.lentObjects).toBe(2);
    (client.connection as unknown as { close(): Promise<void> }).close();
    await client.disconnected;
    for (let i = 0; i < 50 && server.lentObjects > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.lentObjects).toBe(0);
  });
});

/** Two in-memory Duplex streams wired to each other. */
function duplexPair(): [Duplex, Duplex] {
  let left: Duplex;
  let right: Duplex;
  const make = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        other().push(chunk);
        callback();
      },
      final(callback) {
        other().push(null);
        callback();
      },
    });
  left = make(() => right);
  right = make(() => left);
  return [left, right];
}

describe('RPCServer over TLS', () => {
  test('serves a client over tls:// with the server certificate trusted', async () => {
    const { key, cert } = selfSignedCertificate();
    const server = await startServer({ address: 'tls://127.0.0.1:0', tls: { key, cert } });
    server.set('counter', new Counter());
    expect(server.address).toMatch(/^tls:\/\//);
    const client = await connectClient(server.address as string, { tls: { ca: cert } });
    expect(await client.get<Counter>('counter').increment()).toBe(1);
  });
});
