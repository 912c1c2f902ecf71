// The Manager's fast path (issue 11 §2) routes requests, replies and notifications by their routing
// members without parsing the rest, and forwards their bytes as they came. What a peer sees must be
// what the full parse gave: JSON.parse's reading of keys (escapes, duplicates: the last one wins,
// whitespace), the same refusals for lines that are not well-formed messages.
import { describe, expect, it } from 'vitest';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, type RawPeer, request, settle } from './raw-peer.js';

async function linkedPair(
  port: number,
  service = 'Echo',
): Promise<{ client: RawPeer; svc: RawPeer; name: string }> {
  const svc = await connectService(port, service);
  const client = await connectClient(port, 'Q');
  const name = Object.keys((await settle(client)).clients as Record<string, unknown>)[0];
  client.sendJson(request('Manager', 'link', [service], {}, 'l1'));
  expect((await client.nextJson()).uid).toBe('l1');
  return { client, svc, name };
}

describe('Manager fast path', () => {
  it('routes by escaped and repeated keys as JSON.parse reads them, forwarding the bytes unchanged', async () => {
    await using f = await managerFixture();
    const { client, svc, name } = await linkedPair(f.manager.port);
    const line =
      ' {"service" : "Nope", "args":[ "}\\"{", {"service": "x"} ], "attribute":"echo",' +
      ' "kw\\u0061rgs": {"uid": 1}, "serv\\u0069ce": "Echo", "uid": "\\u00e9-1"}\t';
    client.send(line);
    expect(await svc.next()).toBe(`${line.trimEnd().slice(0, -1)}, "requester": ${JSON.stringify(name)}}`);
    // The reply names its requester with an escaped key and a repeated uid; it goes back as it came.
    const reply = `{"uid": "other", "requ\\u0065ster": ${JSON.stringify(name)}, "result": ["}"], "error": false, "uid": "é-1"}`;
    svc.send(reply);
    expect(await client.next()).toBe(reply);
  });

  it('takes the last of two service members, as the full parse does', async () => {
    await using f = await managerFixture();
    const { client, svc } = await linkedPair(f.manager.port);
    client.send(
      '{"service": "Echo", "attribute": "echo", "args": [], "kwargs": {}, "uid": "u2", "service": "Nope"}',
    );
    const refusal = await client.nextJson();
    expect(refusal).toMatchObject({ error: true, uid: 'u2' });
    expect(refusal.message).toMatch(/'Nope' Service is not connected/);
    expect(await svc.silentFor(100)).toBe(true);
  });

  it('takes a line with trailing garbage for what it is (not JSON: a terminal line), and forwards nothing', async () => {
    await using f = await managerFixture();
    const { client, svc } = await linkedPair(f.manager.port);
    client.send('{"service": "Echo", "attribute": "echo", "args": [], "kwargs": {}, "uid": "u3"} x');
    const refusal = await client.nextJson();
    // msl-network reads a line that is not JSON as a terminal's `service attribute args` line.
    expect(refusal).toMatchObject({ error: true, uid: '' });
    expect(refusal.message).toMatch(/^KeyError: .*'\{service:' Service is not connected/);
    expect(await svc.silentFor(100)).toBe(true);
  });

  it('still refuses a request whose args are not a list, with the full parse’s text', async () => {
    await using f = await managerFixture();
    const { client, svc } = await linkedPair(f.manager.port);
    client.send('{"service": "Echo", "attribute": "echo", "args": {}, "kwargs": {}, "uid": "u4"}');
    expect(await client.nextJson()).toMatchObject({
      error: true,
      uid: 'u4',
      message: "TypeError: 'args' must be a list, got an object",
    });
    expect(await svc.silentFor(100)).toBe(true);
  });

  it('replaces a requester the client wrote itself with its own name', async () => {
    await using f = await managerFixture();
    const { client, svc, name } = await linkedPair(f.manager.port);
    client.send(
      '{"service": "Echo", "attribute": "echo", "args": [], "kwargs": {}, "uid": "u5", "requester": "Fake"}',
    );
    expect((await svc.nextJson()).requester).toBe(name);
  });

  it('routes a notification to the linked clients and a reply with a requester that is not a string to nobody', async () => {
    await using f = await managerFixture();
    const { client, svc } = await linkedPair(f.manager.port);
    const notification = '{"error": false, "result": [[1], {}], "service": "Echo", "uid": "notification"}';
    svc.send(notification);
    expect(await client.next()).toBe(notification);
    svc.send('{"error": false, "requester": null, "result": 1, "uid": "x"}');
    expect(await client.silentFor(100)).toBe(true);
  });

  it('forwards lines that arrive together in order, in one write per destination, large ones uncopied', async () => {
    await using f = await managerFixture();
    const { client, svc, name } = await linkedPair(f.manager.port);
    // 500 pipelined requests in one write reach the Service in order.
    const requests = Array.from(
      { length: 500 },
      (_, i) =>
        `{"args": [${i}], "attribute": "echo", "error": false, "kwargs": {}, "service": "Echo", "uid": "p${i}"}`,
    );
    client.socket.write(`${requests.join('\r\n')}\r\n`);
    for (let i = 0; i < requests.length; i++) {
      expect(await svc.next()).toBe(`${requests[i].slice(0, -1)}, "requester": ${JSON.stringify(name)}}`);
    }
    // Replies of more than 1 MiB together (written as they are) and small ones keep their order and bytes.
    const big = `{"error": false, "requester": ${JSON.stringify(name)}, "result": "${'x'.repeat(1_500_000)}", "uid": "p0"}`;
    const small = (i: number) =>
      `{"error": false, "requester": ${JSON.stringify(name)}, "result": ${i}, "uid": "p${i}"}`;
    const notification = '{"error": false, "result": [[], {}], "service": "Echo", "uid": "notification"}';
    svc.socket.write(`${small(1)}\r\n${big}\r\n${notification}\r\n${small(2)}\r\n`);
    expect(await client.next()).toBe(small(1));
    expect(await client.next()).toBe(big);
    expect(await client.next()).toBe(notification);
    expect(await client.next()).toBe(small(2));
  });
});
