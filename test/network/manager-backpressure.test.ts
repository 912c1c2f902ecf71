import { describe, expect, it } from 'vitest';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, request, settle } from './raw-peer.js';

describe('slow peers', () => {
  it('stops reading a client whose requests a slow service cannot take, and delivers them all later', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Slow');
    const client = await connectClient(f.manager.port, 'Flood');
    client.sendJson(request('Manager', 'link', ['Slow'], {}, 'l'));
    expect((await client.nextJson()).error).toBe(false);
    service.socket.pause();
    const big = 'b'.repeat(100_000);
    const count = 400;
    for (let i = 0; i < count; i++) client.sendJson(request('Slow', 'take', [big], {}, `q${i}`));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The Manager stopped reading the client: its 40 MB wait in the client's own buffers, not the Manager's.
    expect(client.socket.writableLength).toBeGreaterThan(1024 * 1024);
    service.socket.resume();
    for (let i = 0; i < count; i++) expect((await service.nextJson(10_000)).uid).toBe(`q${i}`);
  }, 30_000);

  it('reads a held-back client again when its slow service leaves, and fails each of its requests once, in order', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Slow');
    const client = await connectClient(f.manager.port, 'Flood');
    client.sendJson(request('Manager', 'link', ['Slow'], {}, 'l'));
    expect((await client.nextJson()).error).toBe(false);
    service.socket.pause();
    const big = 'b'.repeat(100_000);
    const count = 400;
    for (let i = 0; i < count; i++) client.sendJson(request('Slow', 'take', [big], {}, `q${i}`));
    // Wait (bounded) until the Manager holds the client back: the client's unsent requests stop going
    // down (a Manager that reads takes 40 MB of loopback in milliseconds).
    let unsent = -1;
    for (let i = 0; i < 50 && client.socket.writableLength !== unsent; i++) {
      unsent = client.socket.writableLength;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(client.socket.writableLength).toBeGreaterThan(1024 * 1024);
    service.close();
    // Forwarded requests fail because the service left, the rest because it is gone; none twice or lost.
    const kinds = new Set<string>();
    for (let i = 0; i < count; i++) {
      const reply = await client.nextJson(10_000);
      expect([reply.uid, reply.error]).toEqual([`q${i}`, true]);
      kinds.add(String(reply.message).split(':')[0]);
    }
    expect([...kinds].sort()).toEqual(['ConnectionAbortedError', 'KeyError']);
    expect(Object.keys((await settle(client)).services as object)).toEqual([]);
  }, 30_000);

  it('disconnects a client that stops reading while its service floods it, and keeps serving the others', async () => {
    await using f = await managerFixture({ readLimit: 1024 * 1024 });
    const service = await connectService(f.manager.port, 'Firehose');
    const stuck = await connectClient(f.manager.port, 'Stuck');
    const fine = await connectClient(f.manager.port, 'Fine');
    for (const c of [stuck, fine]) {
      c.sendJson(request('Manager', 'link', ['Firehose'], {}, 'l'));
      expect((await c.nextJson()).error).toBe(false);
    }
    stuck.socket.pause();
    let received = 0;
    fine.socket.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) received++;
    });
    const payload = 'n'.repeat(512 * 1024);
    const notifications = 200; // 100 MB in all, over the 64 MB backlog a client may leave unread
    for (let i = 0; i < notifications; i++) {
      service.sendJson({ error: false, result: [[payload], {}], service: 'Firehose', uid: 'notification' });
    }
    for (let i = 0; i < 400 && received < notifications; i++) await new Promise((r) => setTimeout(r, 50));
    expect(received).toBe(notifications);
    // The Manager let go of the client that did not read (a paused socket never sees its 'end').
    const clients = Object.values((await settle(fine)).clients as Record<string, { name: string }>);
    expect(clients.map((c) => c.name)).toEqual(['Fine']);
  }, 30_000);
});
