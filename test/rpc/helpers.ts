// Shared set-up of the rpc tests: real servers and clients over real sockets, closed after each test.
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach } from 'vitest';
import { RPCClient, type RPCClientOptions } from '../../src/rpc/client.js';
import type { Connection } from '../../src/rpc/connection.js';
import { MessageKind, PROTOCOL_VERSION } from '../../src/rpc/messages.js';
import { RPCServer, type RPCServerOptions } from '../../src/rpc/server.js';
import { Codec } from '../../src/wire/codec.js';
import { FramedSocket } from '../../src/wire/framed-socket.js';
import { connectTransport } from '../../src/wire/transports.js';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Registers `fn` to run after the current test. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** A unix:// address in a fresh temporary directory (removed after the test). */
export function unixAddress(): string {
  const dir = mkdtempSync(join(tmpdir(), 'farcall-rpc-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return `unix://${join(dir, 'rpc.sock')}`;
}

/** Starts a server (closed after the test). */
export async function startServer(options: RPCServerOptions = {}): Promise<RPCServer> {
  const server = await RPCServer.listen(options);
  onCleanup(() => server.close());
  return server;
}

/** Connects a client (closed after the test). */
export async function connectClient(address: string, options: RPCClientOptions = {}): Promise<RPCClient> {
  const client = await RPCClient.connect(address, options);
  onCleanup(() => client.close());
  return client;
}

/** A server publishing `objects`, and a client connected to it. */
export async function serverAndClient(
  objects: Record<string, unknown>,
  serverOptions: RPCServerOptions = {},
  clientOptions: RPCClientOptions = {},
): Promise<{ server: RPCServer; client: RPCClient }> {
  const server = await startServer(serverOptions);
  for (const [name, value] of Object.entries(objects)) server.set(name, value);
  const client = await connectClient(server.address as string, clientOptions);
  return { server, client };
}

/** Two connected sockets over a real TCP or Unix listener (both destroyed after the test). */
export async function socketPair(kind: 'tcp' | 'unix' = 'tcp'): Promise<[Duplex, Duplex]> {
  const server = net.createServer();
  const path = kind === 'unix' ? unixAddress().slice('unix://'.length) : undefined;
  await new Promise<void>((resolve) =>
    path ? server.listen(path, resolve) : server.listen(0, '127.0.0.1', resolve),
  );
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = path ? net.connect(path) : net.connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  const other = await accepted;
  server.close();
  onCleanup(() => {
    client.destroy();
    other.destroy();
  });
  return [client, other];
}

/**
 * A hand-driven peer over a real socket: sends the frames a test writes and records what it receives.
 * It says HELLO like a farcall peer unless told not to.
 */
export class RawPeer {
  readonly framed: FramedSocket;
  readonly codec = new Codec();
  readonly received: unknown[][] = [];
  readonly ownerId = 'raw-peer';
  #waiters: (() => void)[] = [];

  constructor(stream: Duplex, options: { hello?: boolean } = {}) {
    this.framed = new FramedSocket(stream);
    this.framed.onFrame = (body) => {
      this.received.push(this.codec.decode(body) as unknown[]);
      for (const wake of this.#waiters.splice(0)) wake();
    };
    if (options.hello !== false) this.send([MessageKind.HELLO, PROTOCOL_VERSION, this.ownerId, null, null]);
  }

  send(message: unknown[]): void {
    this.framed.send(this.codec.encode(message));
  }

  sendBytes(body: Uint8Array): void {
    this.framed.send(body);
  }

  /** Waits for the first received message of `kind` (matching `filter`), within 2 s. */
  async next(kind: number, filter: (message: unknown[]) => boolean = () => true): Promise<unknown[]> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const found = this.received.find((message) => message[0] === kind && filter(message));
      if (found) {
        this.received.splice(this.received.indexOf(found), 1);
        return found;
      }
      if (Date.now() > deadline)
        throw new Error(`no message of kind ${kind} within 2 s: got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

/** A raw socket to `server` and the server's Connection for it (the socket is destroyed after the test). */
export async function rawConnection(server: RPCServer): Promise<{ stream: Duplex; served: Connection }> {
  const before = new Set(server.connections);
  const stream = await connectTransport(server.address as string);
  onCleanup(() => {
    stream.destroy();
  });
  for (let i = 0; i < 400; i++) {
    const served = [...server.connections].find((connection) => !before.has(connection));
    if (served !== undefined) return { stream, served };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the server did not accept the connection');
}

/** A {@link RawPeer} connected to `server`, after the server's HELLO arrived. */
export async function rawPeer(
  server: RPCServer,
): Promise<{ peer: RawPeer; served: Connection; serverOwnerId: string }> {
  const { stream, served } = await rawConnection(server);
  const peer = new RawPeer(stream);
  const hello = await peer.next(MessageKind.HELLO);
  return { peer, served, serverOwnerId: hello[2] as string };
}

/** Polls `condition` every 10 ms, at most 2 s. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}
