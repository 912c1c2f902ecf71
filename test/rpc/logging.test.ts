// Debug logging of farcall/rpc: what a person debugging a connection sees (opened, handshake, calls,
// closed), through a `logger` option or NODE_DEBUG=farcall:rpc, and never a key or an argument's value.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { AuthenticationError } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { RPCClient } from '../../src/rpc/client.js';
import { ProcessSpawner } from '../../src/rpc/spawner.js';
import { recorder } from '../support/log-recorder.js';
import { connectClient, onCleanup, startServer } from './helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const SECRET_KEY = 'key-SECRET-1234';
const SECRET_ARG = 'hunter2-SECRET';

const vault = {
  open: (password: string) => password.length,
  fail: (): never => {
    throw new RangeError(`bad ${SECRET_ARG}`);
  },
};

describe('a logger option', () => {
  test('receives connections, handshakes, calls and closes from the server and the client', async () => {
    const serverLog = recorder();
    const clientLog = recorder();
    const server = await startServer({ authKey: SECRET_KEY, logger: serverLog.logger });
    server.set('vault', vault);
    const client = await connectClient(server.address as string, {
      authKey: SECRET_KEY,
      logger: clientLog.logger,
    });
    const proxy = client.get<typeof vault>('vault');
    expect(await proxy.open(SECRET_ARG)).toBe(SECRET_ARG.length);
    await expect(proxy.fail()).rejects.toThrow(/RangeError: bad/);
    await client.close();
    await server.close();

    const c = clientLog.records.join('\n');
    expect(c).toMatch(/^debug farcall:wire connected to tcp:\/\/127\.0\.0\.1:\d+ from local port \d+$/m);
    expect(c).toMatch(
      /^debug farcall:rpc connection with tcp:\/\/127\.0\.0\.1:\d+ opened \(client side, authKey required\)$/m,
    );
    expect(c).toMatch(
      /^debug farcall:rpc handshake with tcp:\/\/127\.0\.0\.1:\d+ ok \(peer [\w-]+, listening at tcp:\/\/127\.0\.0\.1:\d+, authenticated\)$/m,
    );
    expect(c).toMatch(
      /^debug farcall:rpc call #1 call vault\.open sent to tcp:\/\/127\.0\.0\.1:\d+ \(1 args, \d+ B\)$/m,
    );
    expect(c).toMatch(/^debug farcall:rpc call #1 call vault\.open to .* returned in \d+\.\d\d ms$/m);
    expect(c).toMatch(
      /^debug farcall:rpc call #2 call vault\.fail to .* failed in \d+\.\d\d ms: RemoteError \(RangeError\) ERR_FARCALL_REMOTE$/m,
    );
    expect(c).toMatch(/^debug farcall:rpc connection with tcp:\/\/127\.0\.0\.1:\d+ closed/m);

    const s = serverLog.records.join('\n');
    expect(s).toMatch(
      /^debug farcall:rpc RPCServer listening at tcp:\/\/127\.0\.0\.1:\d+ \(authKey required\)$/m,
    );
    expect(s).toMatch(/^debug farcall:wire accepted a connection from 127\.0\.0\.1:\d+/m);
    expect(s).toMatch(/^debug farcall:rpc handshake with client 127\.0\.0\.1:\d+ ok/m);
    expect(s).toMatch(
      /^debug farcall:rpc request #1 call vault\.open from client 127\.0\.0\.1:\d+ \(1 args\)$/m,
    );
    expect(s).toMatch(/^debug farcall:rpc request #1 from client .* served in \d+\.\d\d ms$/m);
    expect(s).toMatch(/^debug farcall:rpc request #2 from client .* failed in \d+\.\d\d ms: RangeError$/m);
    expect(s).toMatch(/^debug farcall:rpc RPCServer at tcp:\/\/127\.0\.0\.1:\d+ closed$/m);

    for (const text of [c, s]) {
      expect(text).not.toContain(SECRET_KEY);
      expect(text).not.toContain('SECRET');
    }
  });

  test('a failed handshake says why, on both sides', async () => {
    const serverLog = recorder();
    const clientLog = recorder();
    const server = await startServer({ authKey: SECRET_KEY, logger: serverLog.logger });
    const error = await RPCClient.connect(server.address as string, {
      authKey: 'another-SECRET',
      logger: clientLog.logger,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    await server.close();
    expect(clientLog.records.join('\n')).toMatch(
      /handshake with tcp:\/\/127\.0\.0\.1:\d+ failed: AuthenticationError ERR_FARCALL_AUTHENTICATION: .*authKeys differ/,
    );
    expect(serverLog.records.join('\n')).toMatch(
      /handshake with client 127\.0\.0\.1:\d+ failed: AuthenticationError/,
    );
    expect([...clientLog.records, ...serverLog.records].join('\n')).not.toContain('SECRET');
  });

  test('a refused connect is logged with the reason', async () => {
    const server = await startServer();
    const address = server.address as string;
    await server.close();
    const { logger, records } = recorder();
    await expect(RPCClient.connect(address, { logger })).rejects.toThrow(/refused/);
    expect(records.join('\n')).toMatch(/connecting to tcp:\/\/127\.0\.0\.1:\d+ failed: .*refused/);
  });

  test('ProcessSpawner logs the child it spawned, its calls and its exit', async () => {
    const { logger, records } = recorder();
    const child = await ProcessSpawner.spawn({
      module: fixture('spawner-worker.mjs'),
      stdout: null,
      stderr: null,
      logger,
    });
    onCleanup(() => child.kill().then(() => undefined));
    await child.get<{ add(a: number, b: number): number }>('calc').add(1, 2);
    await child.stop();
    const text = records.join('\n');
    expect(text).toContain(`spawned child 'spawner-worker' (pid ${child.pid}`);
    expect(text).toMatch(/call #\d+ call calc\.add sent to spawner-worker \(pid \d+\)/);
    expect(text).toMatch(/child 'spawner-worker' \(pid \d+\) exited/);
  });

  test('a logger without the four methods is refused at once', async () => {
    const server = await startServer();
    await expect(
      RPCClient.connect(server.address as string, { logger: { debug() {} } as unknown as Logger }),
    ).rejects.toThrow(/lacks info, warn, error/);
  });
});

describe('NODE_DEBUG', () => {
  const run = (nodeDebug: string | undefined) => {
    const env = { ...process.env };
    if (nodeDebug === undefined) delete env.NODE_DEBUG;
    else env.NODE_DEBUG = nodeDebug;
    const rpcUrl = new URL('../../dist/rpc/index.js', import.meta.url).href;
    return spawnSync(process.execPath, [fixture('logging-roundtrip.mjs'), rpcUrl], { encoding: 'utf8', env });
  };

  test('NODE_DEBUG=farcall:rpc prints the rpc lines to stderr, with no key or argument', () => {
    const result = run('farcall:rpc');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${'hunter2-SECRET'.length}\n`);
    const pid = '\\d+';
    expect(result.stderr).toMatch(
      new RegExp(`^FARCALL:RPC ${pid}: RPCServer listening at tcp://127\\.0\\.0\\.1:\\d+`, 'm'),
    );
    expect(result.stderr).toMatch(new RegExp(`^FARCALL:RPC ${pid}: handshake with .* ok`, 'm'));
    expect(result.stderr).toMatch(new RegExp(`^FARCALL:RPC ${pid}: call #1 call vault\\.open sent to`, 'm'));
    expect(result.stderr).toMatch(
      new RegExp(`^FARCALL:RPC ${pid}: request #2 from .* failed in .*: Error$`, 'm'),
    );
    expect(result.stderr).not.toMatch(/FARCALL:WIRE/);
    expect(result.stderr).not.toContain('SECRET');
  });

  test('NODE_DEBUG=farcall adds the wire lines; without NODE_DEBUG stderr stays empty', () => {
    const all = run('farcall');
    expect(all.status).toBe(0);
    expect(all.stderr).toMatch(/^FARCALL:WIRE \d+: listening at tcp:/m);
    expect(all.stderr).toMatch(/^FARCALL:RPC \d+: /m);
    expect(all.stderr).not.toContain('SECRET');
    const none = run(undefined);
    expect(none.status).toBe(0);
    expect(none.stderr).toBe('');
  });
});
