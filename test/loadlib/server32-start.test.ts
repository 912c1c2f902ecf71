// The 32-bit server's start: what it loads (less is quicker: Debian's i386 Node.js 18 compiles every
// module it loads, without a code cache), and that it dies with its owner while it starts, before the
// owner watcher thread runs. The figures are in bench/loadlib-lifecycle.bench.mjs.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client64 } from '../../src/loadlib/client64.js';
import { fixture, isAlive, waitUntilGone } from './helpers.js';

async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe("the 32-bit server's start", () => {
  it("the server module's farcall/loadlib is the server program's own module (the bundle), not a second copy", async () => {
    await using client = new Client64(fixture('start-server.mjs'));
    expect(await client.request32('sharesTheServerProgram')).toBe(true);
  });

  it('a server on the private pipe does not load node:crypto (no key, no HMAC)', async () => {
    await using client = new Client64(fixture('start-server.mjs'));
    const builtins = (await client.request32('builtins')) as string[];
    expect(builtins).toContain('NativeModule net');
    expect(builtins).not.toContain('NativeModule crypto');
  });

  it('on Linux the start loads no node:worker_threads (the owner watcher and its module come after the reply)', async () => {
    await using client = new Client64(fixture('start-server.mjs'));
    const atStart = (await client.request32('builtinsAtStart')) as string[];
    expect(atStart).toContain('NativeModule net');
    expect(atStart).not.toContain('NativeModule worker_threads');
    // The watcher runs all the same, once the start is answered.
    await expect
      .poll(async () => client.request32('builtins'), { timeout: 10_000 })
      .toContain('NativeModule worker_threads');
  });

  it.each(['tcp', 'unix'] as const)(
    'a server on a %s socket authenticates its client (node:crypto loaded then) and serves it',
    async (transport) => {
      await using client = new Client64(fixture('start-server.mjs'), { transport });
      expect(client.transport).toBe(transport);
      expect(await client.request32('builtins')).toContain('NativeModule crypto');
    },
  );

  it('a client killed with SIGKILL while the server constructor blocks in a native call leaves no server behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'farcall-start-block-'));
    const marker = join(dir, 'pid');
    try {
      const parent = spawn(process.execPath, [fixture('parent-of-blocked-start.mjs'), marker], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      // The constructor writes the marker just before it blocks in sleep_ms(30 000).
      expect(await waitFor(() => existsSync(marker) && readFileSync(marker, 'utf8') !== '', 20_000)).toBe(
        true,
      );
      const serverPid = Number(readFileSync(marker, 'utf8'));
      expect(isAlive(serverPid)).toBe(true);
      parent.kill('SIGKILL');
      expect(await waitUntilGone(serverPid, 5000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
