// The 32-bit server as a process: crashes, orphans, transports and who may reach them, the runtime's
// environment, and how long it lives. Real 32-bit processes only (Debian's i386 node on the BUILT farcall).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectionClosedError,
  ConnectionTimeoutError,
  ProcessStartError,
  Server32RuntimeNotFoundError,
} from '../../src/errors.js';
import { Client64 } from '../../src/loadlib/client64.js';
import { Server32 } from '../../src/loadlib/server32.js';
import { Connection } from '../../src/rpc/connection.js';
import { connectTransport } from '../../src/wire/transports.js';
import { childPids, fixture, isAlive, listeningSockets, server32TempDirs, waitUntilGone } from './helpers.js';

const example = fixture('example-server.mjs');

describe('a native crash (SIGSEGV) in the middle of calls', () => {
  it.each(['pipe', 'unix'] as const)(
    'rejects every pending call at once naming the signal, returns the output, leaves nothing behind (%s)',
    async (transport) => {
      const client = new Client64(example, { transport });
      await client.ready;
      const pid = client.serverPid as number;
      // The private folder of the Unix socket (none for the pipe).
      const socketFolder =
        transport === 'unix' ? join(client.address.slice('unix://'.length), '..') : undefined;
      if (socketFolder !== undefined) expect(server32TempDirs()).toContain(basename(socketFolder));
      const pending = [client.request32('sleep', 10_000), client.request32('sleep', 10_000)];
      const t0 = performance.now();
      const crash = client.request32('crash');
      const results = await Promise.allSettled([...pending, crash]);
      expect(performance.now() - t0).toBeLessThan(3000);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason as Error;
        expect(error).toBeInstanceOf(ConnectionClosedError);
        expect(error.message).toMatch(/killed by signal SIGSEGV \(a segmentation fault/);
      }
      const output = await client.shutdownServer32();
      expect(output).toHaveProperty('stdout');
      expect(output).toHaveProperty('stderr');
      expect(isAlive(pid)).toBe(false);
      expect(childPids()).not.toContain(pid);
      if (socketFolder !== undefined) expect(existsSync(socketFolder)).toBe(false);
      await expect(client.request32('add', 1, 2)).rejects.toBeInstanceOf(ConnectionClosedError);
    },
  );
});

describe('a pending call keeps its program alive until it settles', () => {
  it.each([
    ['request32', 'direct', /^caught ERR_FARCALL_CONNECTION_CLOSED request32\('crash'\) failed: .*SIGSEGV/],
    ['a proxy request32 returned', 'proxy', /^caught ERR_FARCALL_CONNECTION_CLOSED .*crash\(\).*SIGSEGV/],
  ])(
    "a crash in a call through %s, with nothing else keeping the program alive, reaches the caller's catch",
    async (_how, mode, expected) => {
      const { code, stdout } = await runToEnd(fixture('crash-alone.mjs'), [mode]);
      expect(stdout).toMatch(expected);
      expect(code).toBe(0);
    },
  );

  it('a slow call through a proxy request32 returned keeps the program alive until its reply', async () => {
    const { code, stdout } = await runToEnd(fixture('crash-alone.mjs'), ['slow']);
    expect(stdout).toBe('slept 300\n');
    expect(code).toBe(0);
  });
});

describe('processes', () => {
  it('a module that hangs while loading fails after the timeout, with its output so far, and is killed', async () => {
    const t0 = performance.now();
    const hanging = new Client64(fixture('hangs-while-loading.mjs'), { timeout: 1000 });
    const error = (await hanging.ready.catch((e: unknown) => e)) as ConnectionTimeoutError;
    const elapsed = performance.now() - t0;
    expect(error).toBeInstanceOf(ConnectionTimeoutError);
    expect(error.timeoutMs).toBe(1000);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(4000);
    expect(error.message).toMatch(/did not finish starting .* within 1000 ms/);
    expect(error.message).toContain('waiting for something that never comes');
    const pid = Number(/pid (\d+)/.exec(error.message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
    const output = await hanging.shutdownServer32();
    expect(output.stdout).toContain('waiting for something that never comes');
  });

  it('a server that exits while loading fails the start as soon as it exits, with its exit code and output', async () => {
    const t0 = performance.now();
    const client = new Client64(fixture('exits-while-loading.mjs'), { timeout: 15_000 });
    const error = (await client.ready.catch((e: unknown) => e)) as ProcessStartError;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(error).toBeInstanceOf(ProcessStartError);
    expect(error.exitCode).toBe(3);
    expect(error.signal).toBeNull();
    expect(error.stderr).toContain('giving up with exit code 3');
    expect(error.message).toMatch(/The 32-bit server exited with code 3 while starting/);
    expect(error.message).toContain('giving up with exit code 3');
    const output = await client.shutdownServer32();
    expect(output.stderr).toContain('giving up with exit code 3');
  });

  it('two clients get two servers', async () => {
    await using first = new Client64(example);
    await using second = new Client64(example);
    await Promise.all([first.ready, second.ready]);
    expect(first.serverPid).not.toBe(second.serverPid);
    expect(await Promise.all([first.request32('add', 1, 2), second.request32('add', 3, 4)])).toEqual([3, 7]);
  });

  it('a client killed with SIGKILL leaves no 32-bit server behind', async () => {
    const parent = spawn(process.execPath, [fixture('parent-of-server.mjs'), 'wait'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      parent.stdout.setEncoding('utf8').once('data', resolve);
      parent.once('exit', () => reject(new Error('the parent exited before it reported')));
    });
    const { serverPid, sum } = JSON.parse(line) as { serverPid: number; sum: number };
    expect(sum).toBe(3);
    expect(isAlive(serverPid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await waitUntilGone(serverPid, 5000)).toBe(true);
  });

  it("a client killed with SIGKILL during a 30 s native call on the server's main thread leaves no server behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'farcall-block-'));
    const marker = join(dir, 'blocking');
    try {
      const parent = spawn(process.execPath, [fixture('parent-of-server.mjs'), 'block', 'pipe', marker], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const line = await firstLine(parent);
      const { serverPid } = JSON.parse(line) as { serverPid: number };
      // The server writes the marker just before it blocks in sleep_ms(30 000).
      expect(await waitFor(() => existsSync(marker), 10_000)).toBe(true);
      parent.kill('SIGKILL');
      expect(await waitUntilGone(serverPid, 5000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a client killed with SIGKILL while its server is idle still lets the server's shutdownHandler run", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'farcall-orphan-'));
    const marker = join(dir, 'shutdown');
    try {
      const parent = spawn(process.execPath, [fixture('parent-of-server.mjs'), 'wait'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, FARCALL_TEST_SHUTDOWN_MARKER: marker },
      });
      const { serverPid } = JSON.parse(await firstLine(parent)) as { serverPid: number };
      parent.kill('SIGKILL');
      expect(await waitUntilGone(serverPid, 5000)).toBe(true);
      expect(readFileSync(marker, 'utf8')).toBe('ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['pipe', 'unix', 'tcp'])(
    'an idle client does not keep its program alive, and the server ends with the program (%s)',
    async (transport) => {
      const parent = spawn(process.execPath, [fixture('parent-of-server.mjs'), 'forget', transport], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      parent.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      const code = await new Promise<number | null>((resolve) => parent.once('exit', resolve));
      expect(code).toBe(0);
      const { serverPid, address } = JSON.parse(out) as { serverPid: number; address: string };
      expect(address.startsWith(transport === 'pipe' ? 'pipe:' : `${transport}://`)).toBe(true);
      expect(await waitUntilGone(serverPid, 5000)).toBe(true);
      // The server removes the private folder of its Unix socket when it goes.
      if (transport === 'unix') expect(existsSync(join(address.slice('unix://'.length), '..'))).toBe(false);
    },
  );

  it('kills a server whose shutdownHandler does not return within killTimeout, with a warning', async () => {
    const client = new Client64(fixture('lifecycle-server.mjs'), { serverOptions: { stuckShutdown: true } });
    await client.ready;
    const pid = client.serverPid as number;
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const t0 = performance.now();
      const output = await client.shutdownServer32({ killTimeout: 300 });
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(output.stdout).toContain('shutdownHandler ran');
      expect(isAlive(pid)).toBe(false);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => (w as Error & { code?: string }).code)).toContain('FARCALL_SERVER32_KILLED');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('who can reach the library', () => {
  it('by default the server listens on no socket at all: only the private pipe', async () => {
    await using client = new Client64(example);
    await client.ready;
    expect(client.address).toBe('pipe:fd3');
    expect(client.port).toBeUndefined();
    expect(listeningSockets(client.serverPid as number)).toEqual([]);
  });

  describe('a TCP port, when asked for', () => {
    let client: Client64;
    beforeAll(async () => {
      client = new Client64(example, { port: 0 });
      await client.ready;
    });
    afterAll(async () => {
      await client.shutdownServer32();
    });

    it('listens on loopback, on the port the client reports', async () => {
      expect(client.transport).toBe('tcp');
      expect(client.port).toBeGreaterThan(0);
      expect(client.address).toBe(`tcp://127.0.0.1:${client.port}`);
      expect(listeningSockets(client.serverPid as number).length).toBe(1);
      expect(await client.request32('add', 2, 2)).toBe(4);
    });

    it('refuses a connection without the per-server token', async () => {
      const stream = await connectTransport(client.address);
      const intruder = new Connection(stream, { side: 'client' });
      await expect(intruder.ready).rejects.toBeInstanceOf(AuthenticationError);
      await expect(intruder.call('request32', ['add', [1, 2]])).rejects.toThrow();
      await intruder.close();
    });

    it('disconnects a peer that sends more than 64 KiB before authenticating, and keeps serving the client', async () => {
      const socket = netConnect(client.port as number, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.on('error', () => {});
      // A frame header announcing 32 MiB, then its body, 1 MiB at a time: without the limit the server
      // would buffer all of it.
      const header = Buffer.alloc(4);
      header.writeUInt32BE(32 * 1024 * 1024);
      let sent = 0;
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      let writable = socket.write(header);
      while (sent < 32 * 1024 * 1024 && !socket.destroyed) {
        if (!writable) {
          await new Promise((resolve) => {
            socket.once('drain', resolve);
            socket.once('close', resolve);
          });
          if (socket.destroyed) break;
        }
        writable = socket.write(chunk);
        sent += chunk.length;
      }
      if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
      expect(sent).toBeLessThan(32 * 1024 * 1024);
      expect(await client.request32('add', 2, 3)).toBe(5);
    });

    it('lets at most 4 connections wait for authentication at a time, and keeps serving the client', async () => {
      const peers = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const socket = netConnect(client.port as number, '127.0.0.1');
          socket.on('error', () => {});
          // An admitted peer gets the server's HELLO at once; a refused one is closed without a byte.
          const outcome = await new Promise<'admitted' | 'refused'>((resolve) => {
            socket.once('data', () => resolve('admitted'));
            socket.once('close', () => resolve('refused'));
          });
          return { socket, outcome };
        }),
      );
      const admitted = peers.filter((peer) => peer.outcome === 'admitted').length;
      expect(admitted).toBeLessThanOrEqual(4);
      expect(admitted).toBeGreaterThan(0);
      expect(await client.request32('add', 4, 4)).toBe(8);
      for (const { socket } of peers) socket.destroy();
    });

    it('refuses a connection with a wrong token', async () => {
      const stream = await connectTransport(client.address);
      const intruder = new Connection(stream, { side: 'client', authKey: 'guessed' });
      await expect(intruder.ready).rejects.toBeInstanceOf(AuthenticationError);
      await intruder.close();
      expect(await client.request32('add', 5, 5)).toBe(10);
    });
  });

  it('a Unix socket lives in a private (0700) folder and is gone after shutdown', async () => {
    const client = new Client64(example, { transport: 'unix' });
    await client.ready;
    const path = client.address.slice('unix://'.length);
    const folder = join(path, '..');
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(path).isSocket()).toBe(true);
    expect(await client.request32('add', 1, 1)).toBe(2);
    await client.shutdownServer32();
    expect(() => statSync(folder)).toThrow();
  });
});

describe('the environment of the server', () => {
  it('finds the server module by name on appendSysPath', async () => {
    await using client = new Client64('example-server', { appendSysPath: [fixture('')] });
    expect(await client.request32('add', 1, 2)).toBe(3);
  });

  it("finds the library's dependencies on appendEnvironPath, and explains when it cannot", async () => {
    const without = new Client64(fixture('uses-dependency.mjs'));
    const error = (await without.ready.catch((e: unknown) => e)) as ProcessStartError;
    expect(error).toBeInstanceOf(ProcessStartError);
    expect(error.message).toMatch(/depends on libfarcall_dep-32\.so, which was not found/);
    await without.shutdownServer32();

    await using client = new Client64(fixture('uses-dependency.mjs'), {
      appendEnvironPath: join(Server32.examplesDir(), 'deps'),
    });
    expect(await client.request32('answer')).toBe(42);
  });

  it('says how to set up the 32-bit runtime when it is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'farcall-no-runtime-'));
    try {
      const client = new Client64(example, { server32Dir: empty });
      await expect(client.ready).rejects.toBeInstanceOf(Server32RuntimeNotFoundError);
      await expect(client.ready).rejects.toThrow(/setup-server32\.sh/);
      await client.shutdownServer32();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("runs on the 32-bit runtime's Node.js, where Server32 knows it is the server", async () => {
    await using client = new Client64(example);
    const info = (await client.request32('processInfo')) as { version: string; interpreter: boolean };
    expect(info.version).toBe(client.serverRuntime?.node);
    expect(info.version).toMatch(/^18\./);
    expect(info.interpreter).toBe(true);
    expect(Server32.isInterpreter()).toBe(false);
  });
});

/** The first line a child writes on stdout. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').once('data', resolve);
    child.once('exit', () => reject(new Error('the parent exited before it reported')));
  });
}

/** Polls `condition` until it holds, up to `ms`; returns whether it does. */
async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}

/** Runs a 64-bit node script to its end: its exit code and stdout. */
function runToEnd(script: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout })));
}
