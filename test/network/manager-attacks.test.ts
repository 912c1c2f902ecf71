// Attacks on the Manager by one peer: each is bounded in count and time, over loopback, and each
// test checks that the attacker is bounded and that another peer keeps being served.
import { describe, expect, it } from 'vitest';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, RawPeer, request, settle } from './raw-peer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Until everything written to `peer` has left its process (into the kernel, towards the Manager).
async function flushed(peer: RawPeer): Promise<void> {
  for (let i = 0; i < 200 && peer.socket.writableLength > 0; i++) await sleep(10);
  await sleep(200);
}

async function clientNames(bystander: RawPeer): Promise<string[]> {
  const clients = (await settle(bystander)).clients as Record<string, { name: string }>;
  return Object.values(clients).map((c) => c.name);
}

describe('the Manager bounds what one peer costs it', () => {
  it('disconnects a client that floods identity requests and never reads the replies', async () => {
    await using f = await managerFixture({ backlogLimit: 256 * 1024 });
    const bystander = await connectClient(f.manager.port, 'Bystander');
    const flooder = await connectClient(f.manager.port, 'Flooder');
    await settle(flooder);
    flooder.socket.pause();
    // 30 000 requests (2.7 MB) ask for 18 MB of replies: far more than the kernel buffers hold.
    for (let i = 0; i < 30_000; i++) flooder.sendJson(request('Manager', 'identity', [], {}, `f${i}`));
    let names = await clientNames(bystander);
    for (let i = 0; i < 100 && names.includes('Flooder'); i++) {
      await sleep(100);
      names = await clientNames(bystander);
    }
    expect(names).toEqual(['Bystander']);
    flooder.close();
    bystander.close();
  }, 30_000);

  it('stops reading a client whose admin login waits, and reads it again once the login is over', async () => {
    await using f = await managerFixture({ handshakeTimeout: 2000 });
    const client = await connectClient(f.manager.port, 'Waiting');
    await settle(client);
    client.sendJson(request('Manager', 'users_table.usernames', [], {}, 'admin'));
    expect((await client.nextJson()).attribute).toBe('username');
    // 20 MB of requests while the Manager waits for the username.
    const big = 'x'.repeat(100_000);
    const count = 200;
    for (let i = 0; i < count; i++) client.sendJson(request('Manager', 'identity', [big], {}, `q${i}`));
    await sleep(500);
    // The Manager stopped reading: most of the 20 MB wait in the client's own buffers.
    expect(client.socket.writableLength).toBeGreaterThan(4 * 1024 * 1024);
    // The login times out; then every request is answered, in order.
    expect((await client.nextJson(10_000)).message).toMatch(/^TimeoutError/);
    for (let i = 0; i < count; i++) expect((await client.nextJson(10_000)).uid).toBe(`q${i}`);
    client.close();
  }, 30_000);

  it('bounds the unfinished lines of all peers together, and disconnects the one that goes past', async () => {
    await using f = await managerFixture({
      readLimit: 4 * 1024 * 1024,
      unfinishedLinesLimit: 8 * 1024 * 1024,
    });
    const bystander = await connectClient(f.manager.port, 'Bystander');
    const holders = [];
    for (const name of ['A', 'B', 'C']) {
      const holder = await connectClient(f.manager.port, name);
      await settle(holder);
      holders.push(holder);
    }
    const unfinished = (uid: string) =>
      `{"service": "Manager", "attribute": "identity", "args": ["${'u'.repeat(3 * 1024 * 1024)}"], "kwargs": {}, "uid": "${uid}"}`;
    for (const [i, holder] of holders.entries()) {
      holder.socket.write(unfinished(`line${i}`));
      await flushed(holder);
    }
    // 9 MiB in all: the third line went past the 8 MiB limit.
    const refusal = await holders[2].nextJson(10_000);
    expect(refusal.message).toMatch(
      /^OverflowError: the Manager holds \d+ bytes of unfinished lines .* over its limit of 8388608 bytes \(unfinishedLinesLimit\)/,
    );
    await holders[2].waitClosed(10_000);
    // The first two finish their lines and are answered.
    for (const [i, holder] of holders.slice(0, 2).entries()) {
      holder.send('');
      expect((await holder.nextJson(10_000)).uid).toBe(`line${i}`);
    }
    expect(await clientNames(bystander)).toEqual(['Bystander', 'A', 'B']);
    for (const peer of [bystander, ...holders]) peer.close();
  }, 30_000);

  it('answers a 10^5-deep request with its uid (with a requester member, or with NaN) and serves the rest', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Svc');
    const client = await connectClient(f.manager.port, 'Deep');
    client.sendJson(request('Manager', 'link', ['Svc'], {}, 'l'));
    expect((await client.nextJson()).error).toBe(false);
    const deep = (inner: string) => `${'['.repeat(100_000)}${inner}${']'.repeat(100_000)}`;
    client.send(
      `{"service": "Svc", "attribute": "x", "args": [${deep('1')}], "kwargs": {}, "requester": "me", "uid": "deep1"}`,
    );
    client.send(
      `{"service": "Svc", "attribute": "x", "args": [${deep('NaN')}], "kwargs": {}, "uid": "deep2"}`,
    );
    for (const uid of ['deep1', 'deep2']) {
      const answer = await client.nextJson();
      expect(answer).toMatchObject({ error: true, uid });
      expect(answer.message).toMatch(/^ValueError: JSON nested more than 1000 levels deep is refused/);
    }
    // Neither reached the Service; the next request does.
    client.sendJson(request('Svc', 'x', [[[[1]]]], {}, 'ok'));
    expect((await service.nextJson()).uid).toBe('ok');
  });

  it('refuses a Service whose identity is 10^5 levels deep, and identity and link keep working', async () => {
    await using f = await managerFixture();
    const other = await connectService(f.manager.port, 'Other');
    const deep = await RawPeer.connect({ port: f.manager.port });
    expect((await deep.nextJson()).attribute).toBe('identity');
    deep.send(
      `{"error": false, "requester": null, "result": {"type": "service", "name": "Deep", "attributes": {"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}, "uid": ""}`,
    );
    expect((await deep.nextJson()).message).toMatch(
      /^ValueError: the identity was refused: JSON nested more than 1000/,
    );
    await deep.waitClosed();
    const client = await connectClient(f.manager.port, 'Reader');
    expect(Object.keys((await settle(client)).services as object)).toEqual(['Other']);
    client.sendJson(request('Manager', 'link', ['Other'], {}, 'l'));
    expect(await client.nextJson()).toMatchObject({ error: false, uid: 'l' });
    other.close();
  });

  it("never lets a second client with the same name (even the same port, from 127.0.0.2) take a registered one's replies", async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Svc');
    const victim = await connectClient(f.manager.port, 'Victim');
    victim.sendJson(request('Manager', 'link', ['Svc'], {}, 'l'));
    expect((await victim.nextJson()).error).toBe(false);
    const attacker = await connectClient(f.manager.port, 'Victim', {
      localAddress: '127.0.0.2',
      localPort: victim.socket.localPort,
    });
    const clients = Object.keys((await settle(attacker)).clients as object);
    expect(clients).toHaveLength(2);
    expect(new Set(clients).size).toBe(2);
    attacker.sendJson(request('Manager', 'link', ['Svc'], {}, 'l'));
    expect((await attacker.nextJson()).error).toBe(false);

    const roundTrip = async (uid: string) => {
      victim.sendJson(request('Svc', 'echo', [uid], {}, uid));
      const forwarded = await service.nextJson();
      expect(forwarded.uid).toBe(uid);
      service.sendJson({ error: false, requester: forwarded.requester, result: uid, uid });
      expect(await victim.nextJson()).toMatchObject({ error: false, result: uid, uid });
    };
    await roundTrip('while-attacker-connected');
    expect(await attacker.silentFor(200)).toBe(true);
    attacker.close();
    await attacker.closedPromise;
    await settle(victim);
    await roundTrip('after-attacker-left');
    victim.close();
    service.close();
  });
});
