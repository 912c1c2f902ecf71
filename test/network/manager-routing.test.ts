import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/network/protocol/json.js';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, request, settle } from './raw-peer.js';

describe('Manager routing', () => {
  it('forwards the original request bytes with requester appended, NaN and all', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const client = await connectClient(f.manager.port, 'Q');
    const me = (await settle(client)).clients as Record<string, unknown>;
    const name = Object.keys(me)[0];
    client.sendJson(request('Manager', 'link', ['Echo'], {}, 'l1'));
    expect((await client.nextJson()).uid).toBe('l1');
    const line =
      '{"args": [NaN, Infinity, 1.0], "attribute": "echo", "error": false, "kwargs": {}, "service": "Echo", "uid": "x1"}';
    client.send(line);
    expect(await service.next()).toBe(`${line.slice(0, -1)}, "requester": ${JSON.stringify(name)}}`);
    const reply = `{"error": false, "requester": ${JSON.stringify(name)}, "result": [[NaN, Infinity, 1.0], {}], "uid": "x1"}`;
    service.send(reply);
    expect(await client.next()).toBe(reply);
  });

  it('routes each reply only to its requester', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const a = await connectClient(f.manager.port, 'A');
    const b = await connectClient(f.manager.port, 'B');
    for (const c of [a, b]) {
      c.sendJson(request('Manager', 'link', ['Echo'], {}, 'l'));
      await c.next();
    }
    a.sendJson(request('Echo', 'echo', [1], {}, 'same-uid'));
    b.sendJson(request('Echo', 'echo', [2], {}, 'same-uid'));
    for (let i = 0; i < 2; i++) {
      const forwarded = await service.nextJson();
      service.sendJson({
        error: false,
        requester: forwarded.requester,
        result: forwarded.args,
        uid: forwarded.uid,
      });
    }
    expect((await a.nextJson()).result).toEqual([1]);
    expect((await b.nextJson()).result).toEqual([2]);
    expect(await a.silentFor(100)).toBe(true);
  });

  it('refuses a reply the service was never asked for, and a second reply to one request', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const client = await connectClient(f.manager.port, 'A');
    client.sendJson(request('Manager', 'link', ['Echo'], {}, 'l'));
    await client.next();
    client.sendJson(request('Echo', 'echo', [], {}, 'r1'));
    const forwarded = await service.nextJson();
    const pushed = { error: false, requester: forwarded.requester, result: 'pushed', uid: 'never-sent' };
    service.sendJson(pushed);
    const refusal = await service.nextJson();
    expect(refusal).toMatchObject({ error: true, uid: 'never-sent' });
    expect(refusal.message).toMatch(/^PermissionError: .*answers no request/);
    const reply = { error: false, requester: forwarded.requester, result: 'ok', uid: 'r1' };
    service.sendJson(reply);
    service.sendJson(reply);
    expect(await client.nextJson()).toMatchObject({ result: 'ok', uid: 'r1' });
    expect((await service.nextJson()).message).toMatch(/answers no request/);
    expect(await client.silentFor(100)).toBe(true);
  });

  it('sends notifications only to linked clients, in order with the service replies', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Notifier');
    const linked = await connectClient(f.manager.port, 'Linked');
    const other = await connectClient(f.manager.port, 'Other');
    await settle(other);
    linked.sendJson(request('Manager', 'link', ['Notifier'], {}, 'l'));
    await linked.next();
    linked.sendJson(request('Notifier', 'ping', [], {}, 'p1'));
    const forwarded = await service.nextJson();
    for (let i = 0; i < 5; i++)
      service.sendJson({ error: false, result: [[i], {}], service: 'Notifier', uid: 'notification' });
    service.sendJson({ error: false, requester: forwarded.requester, result: true, uid: 'p1' });
    service.sendJson({ error: false, result: [[5], {}], service: 'Notifier', uid: 'notification' });
    const got = [];
    for (let i = 0; i < 7; i++) got.push(await linked.nextJson());
    expect(got.map((m) => (m.uid === 'p1' ? 'reply' : (m.result as unknown[][])[0][0]))).toEqual([
      0,
      1,
      2,
      3,
      4,
      'reply',
      5,
    ]);
    expect(await other.silentFor(100)).toBe(true);
  });

  it('fails every request pending on a service that leaves at once, each with its uid', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Slow');
    const client = await connectClient(f.manager.port, 'A');
    client.sendJson(request('Manager', 'link', ['Slow'], {}, 'l'));
    await client.next();
    for (const uid of ['a', 'b', 'c']) client.sendJson(request('Slow', 'wait', [], {}, uid));
    for (let i = 0; i < 3; i++) await service.next();
    const start = Date.now();
    service.close();
    const errors = [await client.nextJson(), await client.nextJson(), await client.nextJson()];
    expect(Date.now() - start).toBeLessThan(1000);
    expect(errors.map((e) => e.uid).sort()).toEqual(['a', 'b', 'c']);
    for (const e of errors)
      expect(e.message).toMatch(/^ConnectionAbortedError: the 'Slow' service disconnected/);
    // and a request after that names the vanished service, with its uid
    client.sendJson(request('Slow', 'wait', [], {}, 'd'));
    expect(await client.nextJson()).toMatchObject({
      error: true,
      uid: 'd',
      message: expect.stringMatching(/^KeyError: .*'Slow' Service is not connected/),
    });
  });

  it('keeps two pending requests with the same uid apart (a terminal sends uid "" for all)', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const client = await connectClient(f.manager.port, 'T');
    client.send('link Echo');
    await client.next();
    client.send('Echo echo 1');
    client.send('Echo echo 2');
    const first = await service.nextJson();
    const second = await service.nextJson();
    for (const m of [first, second])
      service.sendJson({ error: false, requester: m.requester, result: m.args, uid: '' });
    expect((await client.nextJson()).result).toEqual([1]);
    expect((await client.nextJson()).result).toEqual([2]);
  });

  it('fills in a request without uid, args or kwargs before forwarding it', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const client = await connectClient(f.manager.port, 'A');
    client.sendJson(request('Manager', 'link', ['Echo'], {}, 'l'));
    await client.next();
    client.send('{"service": "Echo", "attribute": "echo"}');
    const forwarded = parseJson(await service.next()) as Record<string, unknown>;
    expect(forwarded).toMatchObject({ service: 'Echo', attribute: 'echo', args: [], kwargs: {}, uid: '' });
    expect(typeof forwarded.requester).toBe('string');
  });

  it('forgets a client that disconnects: links, locks and its pending requests', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'One', {}, 1);
    const a = await connectClient(f.manager.port, 'A');
    a.sendJson(request('Manager', 'link', ['One'], {}, 'l'));
    await a.next();
    a.sendJson(request('Manager', 'acquire_lock', ['One'], { shared: false }, 'k'));
    expect((await a.nextJson()).error).toBe(false);
    a.sendJson(request('One', 'slow', [], {}, 's'));
    const pending = await service.nextJson();
    a.close();
    await a.closedPromise;
    const b = await connectClient(f.manager.port, 'B');
    // Wait until the Manager has seen A leave.
    for (let i = 0; i < 50; i++) {
      const clients = (await settle(b)).clients as Record<string, unknown>;
      if (Object.keys(clients).length === 1) break;
    }
    b.sendJson(request('Manager', 'link', ['One'], {}, 'l2'));
    expect(await b.nextJson()).toMatchObject({ error: false, uid: 'l2' });
    // The late reply to A is dropped quietly (A is gone), nothing reaches B.
    service.sendJson({ error: false, requester: pending.requester, result: 1, uid: 's' });
    expect(await b.silentFor(100)).toBe(true);
  });

  it('answers the identity request with the Manager, its clients and its services', async () => {
    await using f = await managerFixture();
    await connectService(f.manager.port, 'Echo', { echo: '(*args)' }, 3);
    const client = await connectClient(f.manager.port, 'Me');
    const identity = await settle(client);
    expect(identity).toMatchObject({
      port: f.manager.port,
      attributes: { identity: '() -> dict', link: '(service: str) -> bool' },
      services: { Echo: { attributes: { echo: '(*args)' }, max_clients: 3, language: 'test', os: 'test' } },
    });
    expect(Object.values(identity.clients as object)[0]).toMatchObject({ name: 'Me', language: 'test' });
  });
});
