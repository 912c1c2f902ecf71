import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, RawPeer, type RawPeerOptions, request } from './raw-peer.js';

async function linkedPair(port: number, options: Partial<RawPeerOptions> = {}) {
  const service = await connectService(port, 'Echo', { echo: '(*args)' }, -1, options);
  const client = await connectClient(port, 'A', options);
  client.sendJson(request('Manager', 'link', ['Echo'], {}, 'link'));
  expect((await client.nextJson()).error).toBe(false);
  return { service, client };
}

// One round trip that proves the peer is still being read and served.
async function stillServed(client: RawPeer, service: RawPeer, uid = 'alive') {
  client.sendJson(request('Echo', 'echo', [uid], {}, uid));
  const forwarded = await service.nextJson();
  expect(forwarded.uid).toBe(uid);
  service.sendJson({ error: false, requester: forwarded.requester, result: forwarded.args, uid });
  expect(await client.nextJson()).toMatchObject({ error: false, result: [uid], uid });
}

describe('bad input from a client is answered, and the client keeps being read', () => {
  it('a line that is not JSON', async () => {
    await using f = await managerFixture();
    const { client, service } = await linkedPair(f.manager.port);
    client.send('garbage');
    expect(await client.nextJson()).toMatchObject({
      error: true,
      uid: '',
      message: 'JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
    });
    client.send('{"broken": ');
    expect((await client.nextJson()).message).toMatch(/^JSONDecodeError: /);
    await stillServed(client, service);
  });

  it('a request without service, with the uid it had', async () => {
    await using f = await managerFixture();
    const { client, service } = await linkedPair(f.manager.port);
    client.send('{"attribute": "echo", "args": [], "kwargs": {}, "uid": "no-service"}');
    expect(await client.nextJson()).toMatchObject({
      error: true,
      uid: 'no-service',
      message: "KeyError: 'service'",
    });
    await stillServed(client, service);
  });

  it('a request for a service that does not exist, with its uid', async () => {
    await using f = await managerFixture();
    const { client, service } = await linkedPair(f.manager.port);
    client.sendJson(request('Ghost', 'x', [], {}, 'g1'));
    const reply = await client.nextJson();
    expect(reply).toMatchObject({ error: true, uid: 'g1' });
    expect(reply.message).toMatch(/^KeyError: "the 'Ghost' Service is not connected to Manager\[/);
    await stillServed(client, service);
  });

  it('messages of the wrong shape', async () => {
    await using f = await managerFixture();
    const { client, service } = await linkedPair(f.manager.port);
    for (const line of ['[1, 2]', '42', '"text"', 'null']) {
      client.send(line);
      expect((await client.nextJson()).message).toMatch(/^TypeError: a message must be a JSON object/);
    }
    client.send('{"service": "Echo", "attribute": "echo", "args": {"no": 1}, "uid": "bad-args"}');
    expect(await client.nextJson()).toMatchObject({
      uid: 'bad-args',
      message: expect.stringMatching(/'args' must be a list/),
    });
    client.send('{"service": "Echo", "attribute": 5, "uid": "bad-attr"}');
    expect(await client.nextJson()).toMatchObject({
      uid: 'bad-attr',
      message: expect.stringMatching(/'attribute' must be a string/),
    });
    client.send('{"result": 1, "requester": "X", "uid": "fake-reply"}');
    expect(await client.nextJson()).toMatchObject({
      uid: 'fake-reply',
      message: expect.stringMatching(/^PermissionError: a Client cannot send replies/),
    });
    await stillServed(client, service);
  });

  it('a line over readLimit is dropped, answered with the uid found in it, and reading goes on', async () => {
    await using f = await managerFixture({ readLimit: 64 * 1024 });
    const { client, service } = await linkedPair(f.manager.port);
    client.sendJson(request('Echo', 'echo', ['x'.repeat(1024 * 1024)], {}, 'too-big'));
    const reply = await client.nextJson();
    expect(reply).toMatchObject({ error: true, uid: 'too-big' });
    expect(reply.message).toMatch(
      /^OverflowError: a message of \d+ bytes is over the Manager's read limit of 65536 bytes/,
    );
    expect(await service.silentFor(50)).toBe(true);
    await stillServed(client, service);
  });

  it('a 110 MB message over readLimit is dropped without being buffered', async () => {
    await using f = await managerFixture({ readLimit: 1024 * 1024 });
    const { client, service } = await linkedPair(f.manager.port);
    const big = `{"args": ["${'y'.repeat(110 * 1024 * 1024)}"], "attribute": "echo", "error": false, "kwargs": {}, "service": "Echo", "uid": "huge"}\r\n`;
    client.send(Buffer.from(big));
    const reply = await client.nextJson(20_000);
    expect(reply).toMatchObject({ error: true, uid: 'huge' });
    await stillServed(client, service);
  }, 30_000);

  it('a 110 MB message within the default readLimit travels through intact', async () => {
    await using f = await managerFixture();
    const { client, service } = await linkedPair(f.manager.port, { maxLineBytes: 200 * 1024 * 1024 });
    const payload = 'z'.repeat(110 * 1024 * 1024);
    const original = `{"args": ["${payload}"], "attribute": "echo", "error": false, "kwargs": {}, "service": "Echo", "uid": "big"}`;
    client.send(Buffer.from(`${original}\r\n`));
    const forwarded = await service.next(20_000);
    const head = `{"args": ["${payload.slice(0, 10)}`;
    expect(forwarded.startsWith(head)).toBe(true);
    const tail = forwarded.slice(forwarded.lastIndexOf('"uid"'));
    expect(tail).toMatch(/^"uid": "big", "requester": "A\[[^\]]+\]"}$/);
    const requester = tail.slice(tail.indexOf('"requester": ') + 14, -2);
    expect(forwarded === `${original.slice(0, -1)}, "requester": "${requester}"}`).toBe(true);
    const replyText = `{"error": false, "requester": "${requester}", "result": "${payload}", "uid": "big"}`;
    service.send(Buffer.from(`${replyText}\r\n`));
    const reply = await client.next(20_000);
    expect(reply.length).toBe(replyText.length);
    expect(reply === replyText).toBe(true);
    await stillServed(client, service);
  }, 60_000);
});

describe('bad input from a service is answered, and the service keeps being read', () => {
  it('a notification for another (or unknown) service', async () => {
    await using f = await managerFixture();
    const { client, service } = await linkedPair(f.manager.port);
    service.sendJson({ error: false, result: [[1], {}], service: 'Ghost', uid: 'notification' });
    const reply = await service.nextJson();
    expect(reply).toMatchObject({ error: true, uid: 'notification', requester: 'Echo' });
    expect(reply.message).toMatch(/^KeyError: "cannot forward a notification of the 'Ghost' service/);
    expect(await client.silentFor(50)).toBe(true);
    service.sendJson({ error: false, result: [[2], {}], service: 'Echo', uid: 'notification' });
    expect((await client.nextJson()).result).toEqual([[2], {}]);
    await stillServed(client, service);
  });

  it('a line that is not JSON, and a reply without requester', async () => {
    await using f = await managerFixture();
    const { client, service } = await linkedPair(f.manager.port);
    service.send('not json at all');
    expect((await service.nextJson()).message).toMatch(/^JSONDecodeError/);
    service.sendJson({
      error: true,
      message: 'JSONDecodeError: x',
      requester: null,
      result: null,
      traceback: [],
      uid: '',
    });
    await stillServed(client, service);
  });

  it('a reply over readLimit fails the request it answers instead of leaving the client waiting', async () => {
    await using f = await managerFixture({ readLimit: 64 * 1024 });
    const { client, service } = await linkedPair(f.manager.port);
    client.sendJson(request('Echo', 'echo', [], {}, 'r-big'));
    const forwarded = await service.nextJson();
    service.sendJson({
      error: false,
      requester: forwarded.requester,
      result: 'r'.repeat(200_000),
      uid: 'r-big',
    });
    expect(await client.nextJson()).toMatchObject({
      error: true,
      uid: 'r-big',
      message: expect.stringMatching(/^OverflowError/),
    });
    expect(await service.nextJson()).toMatchObject({ error: true, uid: 'r-big' });
    await stillServed(client, service);
  });
});

describe('bad handshakes', () => {
  it('drops a peer that never finishes the handshake at the deadline, with a message', async () => {
    await using f = await managerFixture({ handshakeTimeout: 300 });
    const peer = await RawPeer.connect({ port: f.manager.port });
    expect((await peer.nextJson()).attribute).toBe('identity');
    const start = Date.now();
    expect(await peer.nextJson()).toMatchObject({
      error: true,
      message: expect.stringMatching(/^TimeoutError: the handshake/),
    });
    await peer.waitClosed();
    expect(Date.now() - start).toBeLessThan(2000);
    expect(f.manager.connectionCount).toBe(0);
  });

  it('refuses an invalid identity with the Python texts and closes', async () => {
    await using f = await managerFixture();
    for (const [identity, message] of [
      [
        '{"result": {"type": "robot", "name": "R"}}',
        `TypeError: Unknown connection type 'robot'. Must be "client" or "service"`,
      ],
      ['{"result": {"type": "client"}}', "KeyError: 'name'"],
      ['{"result": {"type": "service", "name": "S"}}', "KeyError: 'attributes'"],
    ]) {
      const peer = await RawPeer.connect({ port: f.manager.port });
      await peer.next();
      peer.send(identity);
      expect((await peer.nextJson()).message).toBe(message);
      await peer.waitClosed();
    }
  });

  it('refuses a second service with a name already in use', async () => {
    await using f = await managerFixture();
    await connectService(f.manager.port, 'Echo');
    const twin = await RawPeer.connect({ port: f.manager.port });
    await twin.next();
    twin.sendJson({ result: { type: 'service', name: 'Echo', attributes: {} } });
    expect((await twin.nextJson()).message).toBe(
      "NameError: A 'Echo' service is already running on the Manager",
    );
    await twin.waitClosed();
  });

  it('drops a TLS client at once when TLS is disabled', async () => {
    await using f = await managerFixture();
    const start = Date.now();
    const error = await new Promise<Error>((resolve) => {
      const socket = tlsConnect({ port: f.manager.port, host: '127.0.0.1', rejectUnauthorized: false });
      socket.on('error', resolve);
      socket.on('close', () => resolve(new Error('closed')));
    });
    expect(error).toBeInstanceOf(Error);
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it('survives a peer that connects and leaves at once, many times', async () => {
    await using f = await managerFixture();
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const socket = netConnect({ port: f.manager.port, host: '127.0.0.1' }, () => socket.destroy());
            socket.on('close', () => resolve());
            socket.on('error', () => resolve());
          }),
      ),
    );
    const { client, service } = await linkedPair(f.manager.port);
    await stillServed(client, service);
  });
});
