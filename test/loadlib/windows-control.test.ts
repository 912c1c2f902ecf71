// The socket control channel of a server that cannot get a pipe (Windows Node.js, Wine): a listener that
// takes one connection, which must prove the per-server key. Here the "server" is this platform's node on
// farcall's real server32-main, so the attacks run fast and without Wine.
import { once } from 'node:events';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/errors.js';
import { spawnWithSocketControl } from '../../src/loadlib/server32-socket-control.js';
import { Connection } from '../../src/rpc/connection.js';

/** farcall's built server program (npm test builds dist/ first). */
const main = new URL('../../dist/loadlib/server32-main.js', import.meta.url).href;

/** Starts server32-main after `delayMs` (so that a test can connect first). */
function startServer(delayMs: number) {
  const script = `setTimeout(() => import(${JSON.stringify(main)}), ${delayMs});`;
  return spawnWithSocketControl(process.execPath, ['--input-type=module', '-e', script], process.env, {
    kind: 'tcp',
  });
}

describe('the socket control channel', () => {
  it('the real server connects, proves the key, and lives as long as the connection', async () => {
    const spawned = await startServer(0);
    expect(spawned.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const control = new Connection(spawned.channel, { authKey: spawned.controlKey, side: 'client' });
    await control.ready;
    const exited = once(spawned.child, 'exit');
    await control.close('done');
    const [code] = await exited;
    expect(code).toBe(0);
    await spawned.output.finish();
  });

  it('a local process that connects first cannot pass for the server: the start fails, the server is refused', async () => {
    const spawned = await startServer(1500);
    const port = Number(spawned.address.slice(spawned.address.lastIndexOf(':') + 1));
    const intruder = net.connect({ host: '127.0.0.1', port });
    await once(intruder, 'connect');
    // The intruder speaks farcall's protocol, but has no key.
    const fake = new Connection(intruder, { side: 'server', root: { start: () => 'owned' } });
    fake.whenClosed.catch(() => {});
    const control = new Connection(spawned.channel, { authKey: spawned.controlKey, side: 'client' });
    await expect(control.ready).rejects.toBeInstanceOf(AuthenticationError);
    // The real server finds the door shut and exits with an error, not serving anyone.
    const [code] = await once(spawned.child, 'exit');
    expect(code).not.toBe(0);
    await spawned.output.finish();
    expect(spawned.output.stderr).toMatch(/ECONNREFUSED|ECONNRESET|closed/);
  });

  it('a second connection is refused once the server is in', async () => {
    const spawned = await startServer(0);
    const control = new Connection(spawned.channel, { authKey: spawned.controlKey, side: 'client' });
    await control.ready;
    const port = Number(spawned.address.slice(spawned.address.lastIndexOf(':') + 1));
    const late = net.connect({ host: '127.0.0.1', port });
    const [event] = await Promise.race([
      once(late, 'error').then(() => ['error']),
      once(late, 'close').then(() => ['close']),
    ]);
    expect(['error', 'close']).toContain(event);
    const exited = once(spawned.child, 'exit');
    await control.close('done');
    await exited;
    await spawned.output.finish();
  });
});
