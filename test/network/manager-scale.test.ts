import { describe, expect, it } from 'vitest';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, type RawPeer, request, settle } from './raw-peer.js';

async function inBatches<T>(count: number, size: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += size) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(size, count - start) }, (_, j) => make(start + j)),
      )),
    );
  }
  return out;
}

describe('scale', () => {
  it('serves 1000 concurrent clients and 100 services on one Manager, every reply to its requester', async () => {
    await using f = await managerFixture();
    const services = await inBatches(100, 50, (i) => connectService(f.manager.port, `S${i}`));
    // Each service echoes every request it gets.
    for (const service of services) {
      void (async () => {
        for (;;) {
          const forwarded = await service.nextJson(60_000).catch(() => undefined);
          if (forwarded === undefined) return;
          service.sendJson({
            error: false,
            requester: forwarded.requester,
            result: forwarded.args,
            uid: forwarded.uid,
          });
        }
      })();
    }
    const clients: RawPeer[] = await inBatches(1000, 200, (i) => connectClient(f.manager.port, `C${i}`));
    await Promise.all(
      clients.map(async (client, i) => {
        client.sendJson(request('Manager', 'link', [`S${i % 100}`], {}, `link${i}`));
        expect(await client.nextJson(20_000)).toMatchObject({ error: false, uid: `link${i}` });
      }),
    );
    const identity = await settle(clients[0]);
    expect(Object.keys(identity.clients as object)).toHaveLength(1000);
    expect(Object.keys(identity.services as object)).toHaveLength(100);
    await Promise.all(
      clients.map(async (client, i) => {
        client.sendJson(request(`S${i % 100}`, 'echo', [i], {}, `r${i}`));
        expect(await client.nextJson(20_000)).toMatchObject({ error: false, result: [i], uid: `r${i}` });
      }),
    );
    for (const peer of [...clients, ...services]) peer.close();
  }, 60_000);
});
