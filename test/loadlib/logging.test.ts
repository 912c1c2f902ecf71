// Debug logging of farcall/loadlib: the client's and the 32-bit server's sides of starting, calling and
// stopping, through a `logger` option or NODE_DEBUG=farcall:loadlib, never a serverOptions value or an
// argument. Real 32-bit server processes.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Client64 } from '../../src/loadlib/client64.js';
import type { Logger } from '../../src/log/logger.js';
import { recorder } from '../support/log-recorder.js';
import { fixture } from './helpers.js';

describe('a logger option', () => {
  it('receives the start, each request32 by name, and the exit; never a serverOptions value or argument', async () => {
    const { logger, records } = recorder();
    const client = new Client64(fixture('example-server.mjs'), {
      logger,
      serverOptions: { password: 'pw-SECRET-1' },
    });
    expect(await client.request32('echo', 'arg-SECRET-2')).toEqual(['arg-SECRET-2']);
    await client.shutdownServer32();
    const text = records.join('\n');
    expect(text).toMatch(
      /^debug farcall:loadlib starting .*example-server\.mjs \(transport pipe, timeout 10000 ms, 1 serverOptions\)$/m,
    );
    expect(text).toMatch(/^debug farcall:loadlib spawned the 32-bit server \(pid \d+\)/m);
    expect(text).toMatch(/^debug farcall:loadlib handshake with the 32-bit server ok/m);
    expect(text).toMatch(/^debug farcall:loadlib call #\d+ start sent to the 32-bit server/m);
    expect(text).toMatch(
      /^debug farcall:loadlib .*example-server\.mjs ready in \d+\.\d\d ms: server pid \d+, Node\.js [\d.]+ ia32/m,
    );
    expect(text).toMatch(
      /^debug farcall:loadlib call #\d+ request32\('echo'\) sent to the 32-bit server \(2 args, \d+ B\)$/m,
    );
    expect(text).toMatch(
      /^debug farcall:loadlib call #\d+ request32\('echo'\) to the 32-bit server returned in/m,
    );
    expect(text).toMatch(/^debug farcall:loadlib the 32-bit server \(pid \d+\) of .* exited with code 0$/m);
    expect(text).not.toContain('SECRET');
  });

  it('a failed start is logged with its error class and code', async () => {
    const { logger, records } = recorder();
    const failing = new Client64(fixture('empty-module.mjs'), { logger });
    await failing.ready.catch(() => {});
    await failing.shutdownServer32();
    expect(records.join('\n')).toMatch(
      /empty-module\.mjs failed to start after \d+\.\d\d ms: ProcessStartError ERR_FARCALL_PROCESS_START/,
    );
  });

  it('a logger of the wrong shape is a TypeError at once', () => {
    expect(() => new Client64(fixture('example-server.mjs'), { logger: {} as Logger })).toThrow(TypeError);
  });
});

describe('NODE_DEBUG=farcall:loadlib', () => {
  it('the client logs to its stderr and the 32-bit server to its own, with no secret', () => {
    const loadlibUrl = new URL('../../dist/loadlib/index.js', import.meta.url).href;
    const result = spawnSync(
      process.execPath,
      [fixture('logging-client.mjs'), loadlibUrl, fixture('example-server.mjs')],
      { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'farcall:loadlib' } },
    );
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(
      /^FARCALL:LOADLIB \d+: call #\d+ request32\('add'\) sent to the 32-bit server/m,
    );
    expect(result.stderr).toMatch(/^FARCALL:LOADLIB \d+: .*ready in/m);
    const serverStderr = JSON.parse(result.stdout) as string;
    expect(serverStderr).toMatch(/^FARCALL:LOADLIB \d+: connection with the Client64 opened \(server side/m);
    expect(serverStderr).toMatch(
      /^FARCALL:LOADLIB \d+: request #\d+ request32\('add'\) from the Client64 \(2 args\)$/m,
    );
    expect(serverStderr).toMatch(/^FARCALL:LOADLIB \d+: request #\d+ from the Client64 served in/m);
    expect(result.stderr + serverStderr).not.toContain('SECRET');
    expect(result.stderr).not.toMatch(/FARCALL:RPC/);
  });
});
