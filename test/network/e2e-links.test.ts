// Links, max_clients, locks and notifications, end to end.
import { afterEach, describe, expect, it } from 'vitest';
import { MSLNetworkError } from '../../src/errors.js';
import { kwargs, splitKwargs } from '../../src/network/peers/call-arguments.js';
import { LinkedClient } from '../../src/network/peers/linked-client.js';
import { Service } from '../../src/network/peers/service.js';
import { type Stage, stage } from './e2e-setup.js';

class Heartbeat extends Service {
  beat(count: number) {
    for (let i = 0; i < count; i++) this.emitNotification(i, kwargs({ last: i === count - 1 }));
    return 'done';
  }
  echo(...all: unknown[]) {
    return splitKwargs(all);
  }
}

let current: Stage | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('notifications', () => {
  it('reach only the linked clients, in order, before the reply that followed them', async () => {
    current = await stage();
    await current.start(new Heartbeat());
    const linked = await current.connect({ name: 'Linked' });
    const other = await current.connect({ name: 'Other' });
    const link = await linked.link('Heartbeat');
    const seen: unknown[] = [];
    link.notificationHandler = (args, kw) => seen.push([args[0], kw.last]);
    const otherSeen: unknown[] = [];
    const otherLink = await other.link('Heartbeat');
    otherLink.notificationHandler = () => otherSeen.push(1);
    await otherLink.unlink();
    const reply = await link.beat(50);
    expect(reply).toBe('done');
    expect(seen).toHaveLength(50);
    expect(seen[0]).toEqual([0, false]);
    expect(seen[49]).toEqual([49, true]);
    expect(seen.map((s) => (s as unknown[])[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(otherSeen).toEqual([]);
  });
});

describe('locks and max_clients', () => {
  it('an exclusive lock keeps other clients from linking until it is released', async () => {
    current = await stage();
    await current.start(new Heartbeat());
    const a = await current.connect({ name: 'A' });
    const b = await current.connect({ name: 'B' });
    const linkA = await a.link('Heartbeat');
    const names = await linkA.acquireLock();
    expect(names).toEqual([a.networkName]);
    await expect(b.link('Heartbeat')).rejects.toThrow("PermissionError: 'Heartbeat' service is locked");
    expect(await linkA.releaseLock()).toEqual([]);
    const linkB = await b.link('Heartbeat');
    expect(await linkB.echo('b')).toEqual([['b'], {}]);
    // exclusive needs to be the only link; shared works alongside
    await expect(linkA.acquireLock()).rejects.toThrow(MSLNetworkError);
    expect(await linkA.acquireLock({ shared: true })).toEqual(expect.arrayContaining([a.networkName]));
  });

  it('disconnecting releases the lock', async () => {
    current = await stage();
    await current.start(new Heartbeat());
    const a = await current.connect({ name: 'A' });
    await (await a.link('Heartbeat')).acquireLock();
    await a.disconnect();
    const b = await current.connect({ name: 'B' });
    expect(await (await b.link('Heartbeat')).echo(1)).toEqual([[1], {}]);
  });

  it('refuses a link beyond maxClients', async () => {
    current = await stage();
    await current.start(new Heartbeat({ maxClients: 1 }));
    const a = await current.connect({ name: 'A' });
    const b = await current.connect({ name: 'B' });
    await a.link('Heartbeat');
    await expect(b.link('Heartbeat')).rejects.toThrow(
      /PermissionError: The maximum number of Clients are already linked with 'Heartbeat'/,
    );
  });
});

describe('LinkedClient', () => {
  it('waits for the Service to appear, links, forwards calls and notifications', async () => {
    current = await stage();
    const linked = new LinkedClient('Heartbeat', { ...current.reach, timeout: 5000, pollInterval: 20 });
    const seen: unknown[] = [];
    linked.notificationHandler = (args) => seen.push(args[0]);
    // the Service starts after the LinkedClient began waiting for it
    setTimeout(() => void current?.start(new Heartbeat()), 100);
    await linked.ready;
    expect(await (linked as unknown as Heartbeat).beat(3)).toBe('done');
    expect(seen).toEqual([0, 1, 2]);
    expect(linked.serviceAttributes).toHaveProperty('beat', '(count)');
    const twin = await linked.spawn('Twin');
    expect(await twin.echo(2)).toEqual([[2], {}]);
    await twin.disconnect();
    await linked.disconnect();
    expect(linked.isConnected()).toBe(false);
  });

  it('gives up with a clear error when the Service does not appear within timeout', async () => {
    current = await stage();
    await expect(
      LinkedClient.create('Nobody', { ...current.reach, timeout: 300, pollInterval: 50 }),
    ).rejects.toThrow(/The 'Nobody' Service did not appear .* within 300 ms/);
  });

  it('calls serviceErrorHandler when the Service answers with an error', async () => {
    current = await stage();
    await current.start(new Heartbeat());
    const errors: string[] = [];
    class Watching extends LinkedClient {
      override serviceErrorHandler(error: MSLNetworkError) {
        errors.push(error.message);
      }
    }
    const linked = new Watching('Heartbeat', current.reach);
    await expect(linked.request('missing')).rejects.toThrow(MSLNetworkError);
    expect(errors).toEqual(["AttributeError: 'Heartbeat' object has no attribute 'missing'"]);
    await linked.disconnect();
  });
});
