// ProcessSpawner: real child processes, each stopped or killed after its test.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import {
  AccessDeniedError,
  AuthenticationError,
  ConnectionClosedError,
  ConnectionTimeoutError,
  ProcessStartError,
  ResponseTimeoutError,
} from '../../src/errors.js';
import { resolveBuiltModule } from '../../src/internal/module-path.js';
import { RPCClient } from '../../src/rpc/client.js';
import { ProcessSpawner, type ProcessSpawnerOptions } from '../../src/rpc/spawner.js';
import { onCleanup } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Calc {
  add(a: number, b: number): number;
  pid(): number;
  env(name: string): string | null;
  args(): string[];
  name(): string;
  never(): Promise<never>;
  print(stdoutText: string, stderrText: string): void;
}

/** Collects what a stream receives. */
function collector(): PassThrough & { text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return Object.assign(stream, { text: () => text });
}

/** Spawns a child (killed after the test), its output collected instead of printed. */
async function spawnChild(options: Partial<ProcessSpawnerOptions> = {}): Promise<ProcessSpawner> {
  const child = await ProcessSpawner.spawn({
    module: fixture('spawner-worker.mjs'),
    stdout: null,
    stderr: null,
    ...options,
  });
  onCleanup(() => child.kill().then(() => undefined));
  return child;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'farcall-spawner-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** True if a process with this id exists and is not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** The error a promise rejects with (or its value), without an unhandled rejection in between. */
function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  );
}

async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

describe('ProcessSpawner.spawn', () => {
  test('starts a child process that serves what its setup() publishes', async () => {
    const child = await spawnChild();
    const calc = child.get<Calc>('calc');
    expect(await calc.add(1, 2)).toBe(3);
    expect(await calc.pid()).toBe(child.pid);
    expect(child.pid).not.toBe(process.pid);
    expect(child.running).toBe(true);
    expect(await calc.name()).toBe('spawner-worker');
    expect(child.name).toBe('spawner-worker');
  });

  test('a module without setup() has its named exports published', async () => {
    const child = await spawnChild({ module: fixture('spawner-exports.mjs') });
    expect(await child.get<{ greet(n: string): string }>('greeter').greet('Ada')).toBe('hello Ada');
    expect(await child.get<(x: number) => number>('twice')(21)).toBe(42);
  });

  test('env, args and name reach the child', async () => {
    const child = await spawnChild({
      name: 'daq',
      env: { FARCALL_TEST_VALUE: 'forty-two' },
      args: ['', '0', 'third'],
    });
    const calc = child.get<Calc>('calc');
    expect(await calc.env('FARCALL_TEST_VALUE')).toBe('forty-two');
    expect(await calc.env('FARCALL_SPAWNER_CONFIG')).toBeNull();
    expect(await calc.args()).toEqual(['', '0', 'third']);
    expect(await calc.name()).toBe('daq');
  });

  test("the child's stdout and stderr reach the parent line by line, prefixed with its name", async () => {
    const stdout = collector();
    const stderr = collector();
    const child = await spawnChild({ name: 'worker', stdout, stderr });
    const calc = child.get<Calc>('calc');
    await calc.print('one\ntwo\nthr', 'warning: hot\r\n');
    await calc.print('ee\n', '');
    await calc.print('unterminated', '');
    await child.stop();
    expect(stdout.text()).toBe('[worker] one\n[worker] two\n[worker] three\n[worker] unterminated\n');
    expect(stderr.text()).toBe('[worker] warning: hot\n');
  });

  test('with an address the child also listens there for other processes, behind the authKey', async () => {
    const child = await spawnChild({ address: 'tcp://127.0.0.1:0', authKey: 'shared secret' });
    expect(child.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const other = await RPCClient.connect(child.address as string, { authKey: 'shared secret' });
    onCleanup(() => other.close());
    expect(await other.get<Calc>('calc').add(2, 2)).toBe(4);
    await expect(RPCClient.connect(child.address as string)).rejects.toBeInstanceOf(AuthenticationError);
  });

  test('the policy, importable and callTimeout options apply to the child', async () => {
    const denied = await spawnChild();
    await expect(denied.get<{ settings: { rate: number } }, true>('calc').settings).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    const child = await spawnChild({
      policy: { allowPublicAttrs: true },
      importable: ['node:path'],
      callTimeout: 200,
    });
    expect(await child.get<{ settings: { rate: number } }, true>('calc').settings).toEqual({ rate: 10 });
    const path = await child.client.import<typeof import('node:path')>('node:path');
    expect(await path.join('a', 'b')).toBe('a/b');
    await expect(child.client.import('node:fs')).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(child.get<Calc>('calc').never()).rejects.toBeInstanceOf(ResponseTimeoutError);
  });

  test('without an address the child listens nowhere', async () => {
    const child = await spawnChild();
    expect(child.address).toBeNull();
  });
});

describe('a child that fails to start', () => {
  test('a missing module rejects at once with a ProcessStartError carrying its stderr', async () => {
    const started = Date.now();
    const error = (await ProcessSpawner.spawn({
      module: fixture('no-such-module.mjs'),
      stdout: null,
      stderr: null,
      timeout: 20_000,
    }).catch((e: unknown) => e)) as ProcessStartError;
    expect(error).toBeInstanceOf(ProcessStartError);
    expect(error.exitCode).toBe(1);
    expect(error.stderr).toMatch(/Cannot find module .*no-such-module\.mjs/);
    expect(error.message).toContain('no-such-module');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a setup() that throws rejects with its error message', async () => {
    const error = (await ProcessSpawner.spawn({
      module: fixture('spawner-setup-throws.mjs'),
      stdout: null,
      stderr: null,
      timeout: 20_000,
    }).catch((e: unknown) => e)) as ProcessStartError;
    expect(error).toBeInstanceOf(ProcessStartError);
    expect(error.message).toContain('Could not run setup()');
    expect(error.message).toContain('the instrument is not connected');
  });

  test('a child that exits while starting rejects with its exit code and stderr', async () => {
    const stderr = collector();
    const started = Date.now();
    const error = (await ProcessSpawner.spawn({
      module: fixture('spawner-exits-early.mjs'),
      name: 'quitter',
      stdout: null,
      stderr,
      timeout: 20_000,
    }).catch((e: unknown) => e)) as ProcessStartError;
    expect(error).toBeInstanceOf(ProcessStartError);
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('exited with code 3');
    expect(error.stderr).toContain('giving up early');
    expect(stderr.text()).toContain('[quitter] giving up early');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a child that never becomes ready is killed and rejects with ConnectionTimeoutError after the timeout', async () => {
    const stdout = collector();
    const started = Date.now();
    const error = (await ProcessSpawner.spawn({
      module: fixture('spawner-never-ready.mjs'),
      stdout,
      stderr: null,
      // Long enough for the child to print its pid on a loaded machine before it is killed.
      timeout: 2000,
    }).catch((e: unknown) => e)) as ConnectionTimeoutError;
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(ConnectionTimeoutError);
    expect(error.timeoutMs).toBe(2000);
    expect(error.message).toContain('was not ready within 2000 ms');
    expect(elapsed).toBeGreaterThanOrEqual(1990);
    expect(elapsed).toBeLessThan(10_000);
    // The child printed its pid before it hung: it did run, and it is gone now.
    const pid = Number(/waiting forever as pid (\d+)/.exec(stdout.text())?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(await waitUntil(() => !isAlive(pid), 1000)).toBe(true);
  });
});

describe('stopping a child', () => {
  test('stop() runs the cleanup setup() returned, and the child exits with code 0', async () => {
    const marker = join(tempDir(), 'cleanup');
    const child = await spawnChild({ args: [marker] });
    const pending = settled(child.get<Calc>('calc').never());
    const exit = await child.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(readFileSync(marker, 'utf8')).toBe('cleaned up');
    expect(child.running).toBe(false);
    expect(child.client.connected).toBe(false);
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    await expect(child.get<Calc>('calc').add(1, 1)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test("stop() tells the child's other clients that its server closed", async () => {
    const child = await spawnChild({ address: 'tcp://127.0.0.1:0' });
    const other = await RPCClient.connect(child.address as string);
    onCleanup(() => other.close());
    const pending = settled(other.get<Calc>('calc').never());
    await other.ping();
    await child.stop();
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    expect(String(await pending)).toContain('the server closed');
    expect(await other.disconnected).toBeInstanceOf(ConnectionClosedError);
  });

  test('stop() kills a child that does not exit within the stop timeout', async () => {
    const marker = join(tempDir(), 'cleanup');
    const child = await spawnChild({ args: [marker, '10000'], stopTimeout: 300 });
    const started = Date.now();
    const exit = await child.stop();
    expect(exit.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(existsSync(marker)).toBe(false);
  });

  test('stop() is idempotent', async () => {
    const child = await spawnChild();
    const [first, second] = await Promise.all([child.stop(), child.stop()]);
    expect(first).toEqual(second);
    expect(await child.stop()).toEqual(first);
  });

  test('kill() ends the child at once and its pending calls reject with ConnectionClosedError', async () => {
    const child = await spawnChild();
    const calc = child.get<Calc>('calc');
    const pending = [calc.never(), calc.never(), calc.never()].map(settled);
    await calc.add(0, 0);
    const started = Date.now();
    const exit = await child.kill();
    expect(exit.signal).toBe('SIGKILL');
    for (const call of pending) expect(await call).toBeInstanceOf(ConnectionClosedError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(isAlive(child.pid)).toBe(false);
  });

  test('Symbol.asyncDispose stops the child', async () => {
    let pid = 0;
    {
      await using child = await ProcessSpawner.spawn({
        module: fixture('spawner-worker.mjs'),
        stdout: null,
        stderr: null,
      });
      pid = child.pid;
      expect(await child.get<Calc>('calc').add(1, 1)).toBe(2);
    }
    expect(await waitUntil(() => !isAlive(pid), 1000)).toBe(true);
  });

  test("the child exits when its spawner's own client closes its server; another client may not close it", async () => {
    const child = await spawnChild({ address: 'tcp://127.0.0.1:0' });
    const other = await RPCClient.connect(child.address as string);
    onCleanup(() => other.close());
    // Issue 7: any client used to be able to close the child's server.
    await expect(other.closeServer()).rejects.toBeInstanceOf(AccessDeniedError);
    expect(child.running).toBe(true);
    await child.client.closeServer();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await other.disconnected).toBeInstanceOf(ConnectionClosedError);
  });

  test('a child never outlives its parent: SIGKILL the parent and the child is gone within a second', async () => {
    const parent = spawn(
      process.execPath,
      [
        fixture('spawner-parent.mjs'),
        resolveBuiltModule(new URL('../../src/rpc/index.ts', import.meta.url).href, './index.js'),
        fixture('spawner-worker.mjs'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onCleanup(() => {
      parent.kill('SIGKILL');
    });
    const childPid = await new Promise<number>((resolve, reject) => {
      let text = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('\n')) resolve(Number(text.trim()));
      });
      parent.once('exit', (code) => reject(new Error(`the parent exited with ${code}`)));
    });
    onCleanup(() => {
      if (isAlive(childPid)) process.kill(childPid, 'SIGKILL');
    });
    expect(isAlive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    const started = Date.now();
    expect(await waitUntil(() => !isAlive(childPid), 1000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
