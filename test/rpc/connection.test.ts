import { describe, expect, test } from 'vitest';
import {
  AbortError,
  AuthenticationError,
  ConnectionClosedError,
  ConnectionTimeoutError,
  PingError,
  ProtocolError,
  RemoteError,
  ResponseTimeoutError,
} from '../../src/errors.js';
import { Connection, type ConnectionOptions } from '../../src/rpc/connection.js';
import { Action, MessageKind } from '../../src/rpc/messages.js';
import { onCleanup, RawPeer, socketPair } from './helpers.js';

class Calculator {
  add(a: number, b: number): number {
    return a + b;
  }
  async slow(ms: number, value: string): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return value;
  }
  never(): Promise<never> {
    return new Promise(() => {});
  }
}

async function pair(
  kind: 'tcp' | 'unix',
  left: ConnectionOptions = {},
  right: ConnectionOptions = {},
): Promise<[Connection, Connection]> {
  const [a, b] = await socketPair(kind);
  const first = new Connection(a, { side: 'client', ...left });
  const second = new Connection(b, { side: 'server', ...right });
  onCleanup(async () => {
    await first.close();
    await second.close();
  });
  return [first, second];
}

describe.each(['tcp', 'unix'] as const)('a connection over %s', (kind) => {
  test('each side calls the root object the other serves', async () => {
    const [a, b] = await pair(kind, { root: { whoami: () => 'a' } }, { root: { whoami: () => 'b' } });
    expect(await a.root.whoami()).toBe('b');
    expect(await b.root.whoami()).toBe('a');
  });

  test('call() calls a member of the peer root with a timeout', async () => {
    const [a] = await pair(kind, {}, { root: new Calculator() });
    expect(await a.call('add', [2, 3], { timeout: 1000 })).toBe(5);
  });

  test('ping resolves with the round-trip time', async () => {
    const [a] = await pair(kind);
    const rtt = await a.ping(Buffer.from('hello'), 1000);
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(1000);
  });
});

describe('requests', () => {
  test('requests complete in any order', async () => {
    const [a] = await pair('tcp', {}, { root: new Calculator() });
    const order: string[] = [];
    await Promise.all([
      a.call('slow', [80, 'slow']).then((v) => order.push(v as string)),
      a.call('slow', [1, 'fast']).then((v) => order.push(v as string)),
    ]);
    expect(order).toEqual(['fast', 'slow']);
  });

  test('a request that gets no reply in time rejects with ResponseTimeoutError and the connection stays usable', async () => {
    const [a] = await pair('tcp', {}, { root: new Calculator() });
    const error = (await a
      .call('never', [], { timeout: 50 })
      .catch((e: unknown) => e)) as ResponseTimeoutError;
    expect(error).toBeInstanceOf(ResponseTimeoutError);
    expect(error.timeoutMs).toBe(50);
    expect(error.message).toContain('root.never()');
    expect(await a.call('add', [1, 1])).toBe(2);
    expect(a.pendingCount).toBe(0);
  });

  test('a late reply after a timeout is dropped and counted', async () => {
    const [a] = await pair('tcp', {}, { root: new Calculator() });
    await expect(a.call('slow', [100, 'late'], { timeout: 20 })).rejects.toBeInstanceOf(ResponseTimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(a.stats.unknownReplies).toBe(1);
    expect(await a.call('add', [2, 2])).toBe(4);
  });

  test("sync 'off' resolves at once and the peer still performs the call", async () => {
    const calls: number[] = [];
    const [a] = await pair('tcp', {}, { root: { log: (n: number) => calls.push(n) } });
    expect(await a.call('log', [7], { sync: 'off' })).toBeUndefined();
    await a.ping();
    expect(calls).toEqual([7]);
    expect(a.pendingCount).toBe(0);
  });

  test('a remote throw rejects with RemoteError', async () => {
    const [a] = await pair(
      'tcp',
      {},
      {
        root: {
          fail: () => {
            throw new RangeError('out of range');
          },
        },
      },
    );
    const error = (await a.call('fail').catch((e: unknown) => e)) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName).toBe('RangeError');
  });

  test('a peer without a root object answers with a clear error', async () => {
    const [a] = await pair('tcp');
    await expect(a.call('anything')).rejects.toThrow(/serves no root object/);
  });
});

describe('closing', () => {
  test('a peer that dies fails every pending call at once with ConnectionClosedError', async () => {
    const [a, b] = await pair('tcp', {}, { root: new Calculator() });
    const calls = [a.call('never', [], { timeout: 10_000 }), a.call('never', [], { timeout: 10_000 })];
    await a.ping();
    const started = Date.now();
    (b as unknown as { close(): Promise<void> }).close();
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('a socket destroyed mid-call fails the call with ConnectionClosedError', async () => {
    const [streamA, streamB] = await socketPair('unix');
    const a = new Connection(streamA);
    new RawPeer(streamB);
    onCleanup(() => a.close());
    const call = a.call('anything', [], { timeout: 10_000 });
    await a.ready;
    streamB.destroy();
    await expect(call).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(a.closed).toBe(true);
  });

  test('close() is idempotent, rejects later calls and resolves whenClosed', async () => {
    const [a, b] = await pair('tcp');
    await a.close();
    await a.close();
    expect(a.closed).toBe(true);
    expect(await a.whenClosed).toBeUndefined();
    await expect(a.call('x')).rejects.toBeInstanceOf(ConnectionClosedError);
    const peerSaw = await b.whenClosed;
    expect(peerSaw).toBeInstanceOf(ConnectionClosedError);
    expect(peerSaw?.message).toContain('closed the connection');
  });

  test('Symbol.asyncDispose closes the connection', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const b = new Connection(streamB, { side: 'server' });
    onCleanup(() => b.close());
    {
      await using a = new Connection(streamA);
      await a.ready;
    }
    expect(await b.whenClosed).toBeInstanceOf(ConnectionClosedError);
  });
});

describe('bad input from the peer', () => {
  test('an oversized frame closes the connection with a ProtocolError', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { maxFrameBytes: 1024, root: new Calculator() });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB);
    peer.sendBytes(Buffer.alloc(4096));
    const error = await a.whenClosed;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(a.closed).toBe(true);
  });

  test('an unknown action gets an error reply and the connection keeps working', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { side: 'server', root: new Calculator() });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB);
    peer.send([MessageKind.REQUEST, 1, 99, 0, [], []]);
    const error = await peer.next(MessageKind.ERROR);
    expect(error[1]).toBe(1);
    expect(error[3]).toContain('unknown action 99');
    peer.send([MessageKind.REQUEST, 2, Action.CALL, 0, ['add'], [1, 2]]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 2, 3]);
  });

  test('a malformed request gets an error reply', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { side: 'server', root: new Calculator() });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB);
    peer.send([MessageKind.REQUEST, 5, Action.CALL, 0, 'add', [1, 2]]);
    const error = await peer.next(MessageKind.ERROR);
    expect(error.slice(1, 3)).toEqual([5, 'ProtocolError']);
    expect(a.closed).toBe(false);
  });

  test('a request nested too deep to decode gets an error reply naming the depth', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { side: 'server', root: new Calculator(), maxDepth: 50 });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB);
    let nested: unknown = 1;
    for (let i = 0; i < 100; i++) nested = [nested];
    peer.send([MessageKind.REQUEST, 300, Action.CALL, 0, ['add'], [nested, 1]]);
    const error = await peer.next(MessageKind.ERROR);
    expect(error[1]).toBe(300);
    expect(error[2]).toBe('ProtocolError');
    peer.send([MessageKind.REQUEST, 301, Action.CALL, 0, ['add'], [1, 1]]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 301, 2]);
  });

  test('a reply for an unknown id is ignored and counted', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { side: 'server', root: new Calculator() });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB);
    peer.send([MessageKind.REPLY, 12345, 'bogus']);
    peer.send([MessageKind.REQUEST, 1, Action.PING, 0, [], ['still here']]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 1, 'still here']);
    expect(a.stats.unknownReplies).toBe(1);
  });

  test('a ping answered with other data rejects with PingError', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA);
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB);
    const ping = a.ping('marco', 1000);
    const request = await peer.next(MessageKind.REQUEST);
    peer.send([MessageKind.REPLY, request[1], 'not polo']);
    await expect(ping).rejects.toBeInstanceOf(PingError);
  });

  test('a peer that does not start with HELLO is refused with a ProtocolError', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { root: new Calculator() });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB, { hello: false });
    peer.send([MessageKind.REQUEST, 1, Action.CALL, 0, ['add'], [1, 2]]);
    expect(await a.whenClosed).toBeInstanceOf(ProtocolError);
    await expect(a.ready).rejects.toBeInstanceOf(ProtocolError);
  });
});

describe('authentication', () => {
  test('two sides with the same authKey talk', async () => {
    const [a] = await pair('tcp', { authKey: 'secret' }, { authKey: 'secret', root: new Calculator() });
    await a.ready;
    expect(await a.call('add', [1, 2])).toBe(3);
  });

  test('different authKeys fail on both sides with AuthenticationError', async () => {
    const [a, b] = await pair('tcp', { authKey: 'secret' }, { authKey: 'guess', root: new Calculator() });
    const call = a.call('add', [1, 2]);
    await expect(call).rejects.toBeInstanceOf(AuthenticationError);
    await expect(a.ready).rejects.toBeInstanceOf(AuthenticationError);
    await expect(b.ready).rejects.toBeInstanceOf(AuthenticationError);
  });

  test('a client without the key is refused with a message that says to pass it', async () => {
    const [a] = await pair('tcp', {}, { authKey: 'secret', root: new Calculator() });
    await expect(a.ready).rejects.toThrow(/requires an authKey/);
  });

  test('a server without a key refuses a client that sends one', async () => {
    const [a] = await pair('tcp', { authKey: 'secret' }, { root: new Calculator() });
    await expect(a.ready).rejects.toBeInstanceOf(AuthenticationError);
  });

  test('two ends both on the client side cannot authenticate each other', async () => {
    const [a, b] = await pair('tcp', { authKey: 'k' }, { authKey: 'k', side: 'client' });
    await expect(a.ready).rejects.toBeInstanceOf(AuthenticationError);
    await expect(b.ready).rejects.toBeInstanceOf(AuthenticationError);
  });

  test('a request sent before authenticating is never served', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const served: number[] = [];
    const a = new Connection(streamA, { side: 'server', authKey: 'k', root: { hit: () => served.push(1) } });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB, { hello: false });
    peer.send([MessageKind.HELLO, 1, 'intruder', null, Buffer.alloc(32, 7)]);
    peer.send([MessageKind.REQUEST, 1, Action.CALL, 0, ['hit'], []]);
    expect(await a.whenClosed).toBeInstanceOf(ProtocolError);
    expect(served).toEqual([]);
  });

  test('a peer that never says HELLO is dropped at the handshake deadline with a ConnectionTimeoutError', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { side: 'server', handshakeTimeout: 100 });
    onCleanup(() => a.close());
    new RawPeer(streamB, { hello: false });
    expect(await a.whenClosed).toBeInstanceOf(ConnectionTimeoutError);
  });

  test('a peer that never authenticates is dropped at the handshake deadline', async () => {
    const [streamA, streamB] = await socketPair('tcp');
    const a = new Connection(streamA, { side: 'server', authKey: 'k', handshakeTimeout: 100 });
    onCleanup(() => a.close());
    const peer = new RawPeer(streamB, { hello: false });
    peer.send([MessageKind.HELLO, 1, 'slowpoke', null, Buffer.alloc(32, 7)]);
    const error = await a.whenClosed;
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error?.message).toContain('did not authenticate within 100 ms');
  });
});

describe('cancelling', () => {
  test('an aborted call rejects with AbortError and the connection stays usable', async () => {
    const [a] = await pair('tcp', {}, { root: new Calculator() });
    const controller = new AbortController();
    const call = a.call('never', [], { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(AbortError);
    expect(a.pendingCount).toBe(0);
    expect(await a.call('add', [1, 2])).toBe(3);
  });

  test('a call with an already aborted signal is not sent', async () => {
    const [a, b] = await pair('tcp', {}, { root: new Calculator() });
    await expect(a.call('add', [1, 2], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    await a.ping();
    expect(b.stats.requestsServed).toBe(1);
  });
});
