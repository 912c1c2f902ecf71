// Peers that die or close while calls are pending (§4 of the rpc issue), with real processes: pending
// calls fail at once with ConnectionClosedError (not at their timeout) and every other client is served.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ConnectionClosedError } from '../../src/errors.js';
import { resolveBuiltModule } from '../../src/internal/module-path.js';
import { ProcessSpawner } from '../../src/rpc/spawner.js';
import { connectClient, onCleanup, unixAddress } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const builtRpc = (): string =>
  resolveBuiltModule(new URL('../../src/rpc/index.ts', import.meta.url).href, './index.js');

interface Calc {
  add(a: number, b: number): number;
  never(): Promise<never>;
  slow(ms: number): Promise<string>;
}
interface Probe {
  stats(): { connections: number };
  events(): string[];
}

/** The fault server in its own process, listening on a Unix socket too (killed after the test). */
async function startServerProcess(): Promise<ProcessSpawner> {
  const server = await ProcessSpawner.spawn({
    module: fixture('fault-server.mjs'),
    name: 'fault-server',
    address: unixAddress(),
    stdout: null,
    stderr: null,
  });
  onCleanup(() => server.kill().then(() => undefined));
  return server;
}

/** The error a promise rejects with, without an unhandled rejection in between. */
function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  );
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a peer killed mid-call', () => {
  test('a server process killed while calls are pending fails every one of them at once with ConnectionClosedError', async () => {
    const server = await startServerProcess();
    const other = await connectClient(server.address as string);
    const mine = server.get<Calc>('calc');
    const theirs = other.get<Calc>('calc');
    const pending = [mine.never(), mine.slow(20_000), theirs.never(), theirs.slow(20_000)].map(settled);
    expect(await mine.add(1, 1)).toBe(2);
    expect(await theirs.add(1, 1)).toBe(2);
    const started = Date.now();
    process.kill(server.pid, 'SIGKILL');
    for (const call of pending) {
      const error = await call;
      expect(error).toBeInstanceOf(ConnectionClosedError);
    }
    // Each call had a 30 s timeout: they failed because the peer died, not because time ran out.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await expect(mine.add(1, 1)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test('a client process killed mid-call: the server fails its call into that client, drops the late reply and serves the others', async () => {
    const server = await startServerProcess();
    const probe = server.get<Probe>('probe');
    const calc = server.get<Calc>('calc');
    const client = spawn(
      process.execPath,
      [fixture('fault-client.mjs'), builtRpc(), server.address as string],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    onCleanup(() => {
      client.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      client.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('calling')) resolve();
      });
      client.once('exit', (code) => reject(new Error(`the client exited early with ${code}`)));
    });
    expect((await probe.stats()).connections).toBe(2);
    const started = Date.now();
    client.kill('SIGKILL');
    // The server was waiting on the client's callback (30 s timeout): that call fails now.
    const events = await waitFor(
      () => probe.events(),
      (list) => list.length > 0,
      2000,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^ConnectionClosedError: /);
    const stats = await waitFor(
      () => probe.stats(),
      (s) => s.connections === 1,
      2000,
    );
    expect(stats.connections).toBe(1);
    // The dead client's slow call finishes after 300 ms; its reply has nowhere to go and is dropped.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await calc.add(2, 3)).toBe(5);
    expect(server.running).toBe(true);
  });
});

describe('a server closed while calls are pending', () => {
  test('closeServer() from one client rejects the pending calls of every client and tells them all', async () => {
    const server = await startServerProcess();
    const first = await connectClient(server.address as string);
    const second = await connectClient(server.address as string);
    const pending = [
      server.get<Calc>('calc').never(),
      first.get<Calc>('calc').never(),
      first.get<Calc>('calc').slow(20_000),
    ].map(settled);
    await first.ping();
    const started = Date.now();
    // The spawner's own client may close its child (other clients need the server's allowRemoteClose).
    await server.client.closeServer();
    for (const call of pending) {
      const error = await call;
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(String(error)).toContain('the server closed');
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await first.disconnected).toBeInstanceOf(ConnectionClosedError);
    expect(await second.disconnected).toBeInstanceOf(ConnectionClosedError);
    // The server's process exits once its server is closed.
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  test("the owner stopping the server process rejects its clients' pending calls with the reason", async () => {
    const server = await startServerProcess();
    const client = await connectClient(server.address as string);
    const pending = settled(client.get<Calc>('calc').never());
    await client.ping();
    await server.stop();
    const error = await pending;
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(String(error)).toContain('the server closed');
    expect(client.connected).toBe(false);
  });
});
