// One error class per situation, in every part (issue 12 §2): the table in the README's "Errors" section,
// row by row, with real sockets and real processes. Each row asserts the documented class with
// `instanceof`, and that the classes of the other rows do not match.
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError, ConnectionTimeoutError, ProcessStartError } from '../src/errors.js';
import { Client64 } from '../src/loadlib/client64.js';
import { connect as connectManager } from '../src/network/index.js';
import { RPCClient } from '../src/rpc/client.js';
import { ProcessSpawner } from '../src/rpc/spawner.js';
import { connectTransport } from '../src/wire/transports.js';

const rpcFixture = (name: string): string =>
  fileURLToPath(new URL(`./rpc/fixtures/${name}`, import.meta.url));
const loadlibFixture = (name: string): string =>
  fileURLToPath(new URL(`./loadlib/fixtures/${name}`, import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A port on which nothing listens (it was just freed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that accepts connections and never sends a byte. */
async function silentPort(): Promise<number> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

function expectOnly(
  error: unknown,
  expected: typeof ConnectError | typeof ConnectionTimeoutError | typeof ProcessStartError,
): void {
  expect(error).toBeInstanceOf(expected);
  for (const other of [ConnectError, ConnectionTimeoutError, ProcessStartError]) {
    if (other !== expected) expect(error).not.toBeInstanceOf(other);
  }
}

describe('nothing listens at the address: ConnectError', () => {
  it('farcall/wire connectTransport', async () => {
    const port = await closedPort();
    expectOnly(await connectTransport(`tcp://127.0.0.1:${port}`).catch((e: unknown) => e), ConnectError);
  });

  it('farcall/rpc RPCClient.connect', async () => {
    const port = await closedPort();
    expectOnly(await RPCClient.connect(`tcp://127.0.0.1:${port}`).catch((e: unknown) => e), ConnectError);
  });

  it('farcall/network connect(): no Manager, plain TCP and TLS', async () => {
    const port = await closedPort();
    for (const disableTls of [true, false]) {
      const error = await connectManager({ host: '127.0.0.1', port, disableTls }).catch((e: unknown) => e);
      expectOnly(error, ConnectError);
      expect((error as Error).message).toContain('Make sure a Manager is running on this computer');
    }
  });
});

describe('the peer accepts but does not answer in time: ConnectionTimeoutError', () => {
  it('farcall/rpc RPCClient.connect', async () => {
    const port = await silentPort();
    const error = await RPCClient.connect(`tcp://127.0.0.1:${port}`, { connectTimeout: 300 }).catch(
      (e: unknown) => e,
    );
    expectOnly(error, ConnectionTimeoutError);
    expect((error as ConnectionTimeoutError).timeoutMs).toBe(300);
  });

  it('farcall/network connect()', async () => {
    const port = await silentPort();
    const error = await connectManager({ host: '127.0.0.1', port, disableTls: true, timeout: 300 }).catch(
      (e: unknown) => e,
    );
    expectOnly(error, ConnectionTimeoutError);
    expect((error as ConnectionTimeoutError).timeoutMs).toBe(300);
  });
});

describe('a child/server process fails before it is ready: ProcessStartError', () => {
  it('farcall/rpc ProcessSpawner: the child exits', async () => {
    const error = await ProcessSpawner.spawn({
      module: rpcFixture('spawner-exits-early.mjs'),
      stdout: null,
      stderr: null,
      timeout: 15_000,
    }).catch((e: unknown) => e);
    expectOnly(error, ProcessStartError);
  });

  it('farcall/rpc ProcessSpawner: the child garbles its pipe and stays alive (killed)', async () => {
    const error = await ProcessSpawner.spawn({
      module: rpcFixture('spawner-garbles-pipe.mjs'),
      stdout: null,
      stderr: null,
      timeout: 15_000,
    }).catch((e: unknown) => e);
    expectOnly(error, ProcessStartError);
    expect((error as Error).message).toMatch(/failed before it was ready: .*It was killed/s);
    expect((error as ProcessStartError).stderr).toContain('wrote garbage on fd 3');
  });

  it('farcall/loadlib Client64: the 32-bit server exits', async () => {
    const client = new Client64(loadlibFixture('exits-while-loading.mjs'), { timeout: 15_000 });
    cleanups.push(async () => void (await client.shutdownServer32()));
    const error = await client.ready.catch((e: unknown) => e);
    expectOnly(error, ProcessStartError);
    expect((error as ProcessStartError).exitCode).toBe(3);
  });

  it('farcall/loadlib Client64: the server module has no Server32 subclass', async () => {
    const client = new Client64(loadlibFixture('empty-module.mjs'), { timeout: 15_000 });
    cleanups.push(async () => void (await client.shutdownServer32()));
    expectOnly(await client.ready.catch((e: unknown) => e), ProcessStartError);
  });

  it('farcall/loadlib Client64 in mocked mode: the constructor throws', async () => {
    const client = new Client64(loadlibFixture('constructor-throws.mjs'), { host: null, timeout: 15_000 });
    cleanups.push(async () => void (await client.shutdownServer32()));
    expectOnly(await client.ready.catch((e: unknown) => e), ProcessStartError);
  });
});

describe('a child/server is not ready within its start timeout: ConnectionTimeoutError', () => {
  it('farcall/rpc ProcessSpawner', async () => {
    const error = await ProcessSpawner.spawn({
      module: rpcFixture('spawner-never-ready.mjs'),
      stdout: null,
      stderr: null,
      timeout: 700,
    }).catch((e: unknown) => e);
    expectOnly(error, ConnectionTimeoutError);
    expect((error as ConnectionTimeoutError).timeoutMs).toBe(700);
  });

  it('farcall/loadlib Client64 with a 0.7 s timeout', async () => {
    const client = new Client64(loadlibFixture('hangs-while-loading.mjs'), { timeout: 700 });
    cleanups.push(async () => void (await client.shutdownServer32()));
    const error = await client.ready.catch((e: unknown) => e);
    expectOnly(error, ConnectionTimeoutError);
    expect((error as ConnectionTimeoutError).timeoutMs).toBe(700);
  });
});
