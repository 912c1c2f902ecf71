// RPCServer's onConnect / onDisconnect (RPyC's on_connect / on_disconnect) over real sockets.
import { describe, expect, test } from 'vitest';
import { ConnectionClosedError } from '../../src/errors.js';
import { RPCClient } from '../../src/rpc/client.js';
import type { PeerInfo } from '../../src/rpc/server.js';
import { connectClient, onCleanup, startServer, unixAddress, until } from './helpers.js';

const counter = {
  n: 0,
  next(): number {
    return ++this.n;
  },
};

describe('server connection hooks', () => {
  test('onConnect runs before the first request, with the peer address and identity; onDisconnect after it leaves', async () => {
    const events: string[] = [];
    const seen: PeerInfo[] = [];
    const reasons: unknown[] = [];
    const server = await startServer({
      authKey: 'k',
      onConnect: (peer) => {
        events.push('connect');
        seen.push(peer);
      },
      onDisconnect: (peer, reason) => {
        events.push('disconnect');
        reasons.push(reason);
        expect(peer).toBe(seen[0]);
      },
    });
    server.set('counter', {
      next: () => {
        events.push('request');
        return 1;
      },
    });
    const client = await RPCClient.connect(server.address as string, { authKey: 'k' });
    await client.get<typeof counter>('counter').next();
    const [peer] = seen;
    expect(peer.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(peer.ownerId).toBe(client.connection.exports.ownerId);
    expect(peer.authenticated).toBe(true);
    expect(server.connections.has(peer.connection)).toBe(true);
    await client.close();
    await until(() => events.includes('disconnect'));
    expect(events).toEqual(['connect', 'request', 'disconnect']);
    expect(reasons[0] === undefined || reasons[0] instanceof Error).toBe(true);
  });

  test('a Unix-socket peer is named unix', async () => {
    const addresses: string[] = [];
    const server = await startServer({
      address: unixAddress(),
      onConnect: (peer) => void addresses.push(peer.address),
    });
    server.set('counter', counter);
    const client = await connectClient(server.address as string);
    await client.ping();
    expect(addresses).toEqual(['unix']);
  });

  test('a throwing onConnect refuses that client and the server keeps serving the others', async () => {
    let calls = 0;
    const server = await startServer({
      onConnect: () => {
        calls++;
        if (calls === 1) throw new Error('not on the guest list');
      },
      onDisconnect: () => {
        throw new Error('a broken onDisconnect');
      },
    });
    server.set('counter', counter);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    onCleanup(() => {
      process.off('warning', onWarning);
    });
    const refused = await RPCClient.connect(server.address as string).catch((e: unknown) => e);
    // The refusal reaches the client as the reason its connection closed, at connect or at its first call.
    const failure =
      refused instanceof RPCClient
        ? await refused
            .get<typeof counter>('counter')
            .next()
            .catch((e: unknown) => e)
        : refused;
    expect(failure).toBeInstanceOf(ConnectionClosedError);
    expect(String((failure as Error).message)).toMatch(/not on the guest list/);
    const admitted = await connectClient(server.address as string);
    expect(await admitted.get<typeof counter>('counter').next()).toBeGreaterThan(0);
    await admitted.close();
    await until(() => warnings.some((w) => w.includes('a broken onDisconnect')));
    expect(warnings.some((w) => w.includes('a broken onDisconnect'))).toBe(true);
    expect(server.running).toBe(true);
  });

  test('a rejecting async onConnect closes that client only', async () => {
    const server = await startServer({
      onConnect: async () => {
        await Promise.resolve();
        throw new Error('async no');
      },
    });
    server.set('counter', counter);
    const client = await connectClient(server.address as string);
    const error = await client.disconnected;
    expect(String(error?.message)).toMatch(/async no/);
    expect(server.running).toBe(true);
  });
});
