// What happens when a peer goes away: a Service process killed mid-request, the Manager closing with
// requests pending, a reply over the client's readLimit. Nothing may wait for its timeout.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionClosedError, MSLNetworkError, ResponseTimeoutError } from '../../src/errors.js';
import { callOptions } from '../../src/network/peers/call-arguments.js';
import { connect } from '../../src/network/peers/client.js';
import { Service } from '../../src/network/peers/service.js';
import { startCliManager } from './cli-process.js';
import { type Stage, stage } from './e2e-setup.js';

const SLOW_SERVICE = fileURLToPath(new URL('./fixtures/slow-service.mjs', import.meta.url));

class Big extends Service {
  blob(size: number) {
    return 'x'.repeat(size);
  }
  async wait(ms: number) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  }
}

let current: Stage | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await current?.close();
  current = undefined;
});

function startServiceProcess(port: number, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SLOW_SERVICE, String(port), name], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => (line === 'ready' ? resolve(child) : reject(new Error(line))));
    child.once('exit', (code) => reject(new Error(`the service process exited with ${code}`)));
  });
}

describe('a Service that dies mid-request', () => {
  it('fails the pending requests at once, not at their timeout', async () => {
    current = await stage();
    const child = await startServiceProcess(current.manager.port, 'Slow');
    const client = await current.connect({ requestTimeout: 20_000 });
    const slow = await client.link('Slow');
    expect(await slow.echo(1)).toEqual([1]);
    const pending = [slow.wait(10_000), slow.wait(10_000)].map((p) => p.catch((e: unknown) => e));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const killedAt = Date.now();
    child.kill('SIGKILL');
    const errors = await Promise.all(pending);
    expect(Date.now() - killedAt).toBeLessThan(2000);
    for (const error of errors) {
      expect(error).toBeInstanceOf(MSLNetworkError);
      expect((error as Error).message).toMatch(/Slow/);
    }
    // the client is still connected and served
    expect(client.isConnected()).toBe(true);
    expect((await client.identities()).services).toEqual({});
  });
});

describe('a Manager that goes away', () => {
  it('fails every pending request at once with ConnectionClosedError when the Manager process dies', async () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-dying-'));
    const manager = await startCliManager(['--port', '0', '--disable-tls', '--log-level', 'silent'], {
      FARCALL_HOME: home,
    });
    try {
      const reach = { host: '127.0.0.1', port: manager.port, disableTls: true };
      const service = new Big();
      await service.start(reach);
      const client = await connect({ ...reach, requestTimeout: 20_000 });
      const big = await client.link<Big>('Big');
      const pending = Array.from({ length: 10 }, () => big.wait(10_000).catch((e: unknown) => e));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const killedAt = Date.now();
      await manager.stop('SIGKILL');
      const errors = await Promise.all(pending);
      expect(Date.now() - killedAt).toBeLessThan(2000);
      for (const error of errors) expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(client.isConnected()).toBe(false);
      await expect(big.wait(1)).rejects.toThrow(ConnectionClosedError);
      await service.closed;
    } finally {
      await manager.stop('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('ends a running Service (its closed promise resolves)', async () => {
    current = await stage();
    const service = await current.start(new Big());
    expect(service.isRunning).toBe(true);
    await current.manager.close();
    await service.closed;
    expect(service.isRunning).toBe(false);
  });
});

describe('a reply over the client’s readLimit', () => {
  it('is dropped, the timeout says why, and the client keeps working', async () => {
    current = await stage();
    await current.start(new Big());
    const client = await current.connect({ readLimit: 10_000 });
    const big = await client.link<Big>('Big');
    const error = await big.blob(50_000, callOptions({ timeout: 500 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseTimeoutError);
    expect((error as Error).message).toMatch(/dropped because it is over readLimit \(10000 bytes\)/);
    expect(await big.blob(10)).toBe('x'.repeat(10));
  });
});

describe('disconnect()', () => {
  it('fails requests still pending with ConnectionClosedError and is idempotent', async () => {
    current = await stage();
    await current.start(new Big());
    const client = await current.connect();
    const big = await client.link<Big>('Big');
    const pending = big.wait(5_000).catch((e: unknown) => e);
    await client.disconnect();
    await client.disconnect();
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    expect(client.isConnected()).toBe(false);
  });
});
