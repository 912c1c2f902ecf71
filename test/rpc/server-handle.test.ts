// client.server: the server itself as an object (pyacq's client['self']): names, ping, time, close.
import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import { connectClient, serverAndClient } from './helpers.js';

describe('client.server', () => {
  test('lists the published names, including names published later and by clients', async () => {
    const { server, client } = await serverAndClient({ scanner: { start: () => 1 } });
    expect(await client.server.names()).toEqual(['scanner']);
    server.set('Point', class Point {});
    await client.set('fromClient', { hello: () => 'hi' });
    expect((await client.server.names()).sort()).toEqual(['Point', 'fromClient', 'scanner']);
    expect(await client.server.get<{ start(): Promise<number> }>('scanner').start()).toBe(1);
  });

  test('pings the server and reads its clock', async () => {
    const { client } = await serverAndClient({});
    expect(await client.server.ping()).toBeGreaterThanOrEqual(0);
    const time = await client.server.time();
    expect(Math.abs(time - Date.now())).toBeLessThan(60_000);
  });

  test('close is refused unless the server allows remote close', async () => {
    const { server, client } = await serverAndClient({});
    await expect(client.server.close()).rejects.toBeInstanceOf(AccessDeniedError);
    expect(server.running).toBe(true);
    expect(await client.server.ping()).toBeGreaterThanOrEqual(0);
  });

  test('close closes a server that allows it, and every client sees it', async () => {
    const { server, client } = await serverAndClient({}, { allowRemoteClose: true });
    const other = await connectClient(server.address as string);
    await client.server.close();
    await other.disconnected;
    await client.disconnected;
    expect(server.running).toBe(false);
  });
});
