// Bad input (§4 of the rpc issue), over real sockets: each fault gets a clear error to the right party,
// and the server keeps serving its other clients (a bystander client is checked after every fault).
import type { Duplex } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { ConnectionClosedError, ProtocolError } from '../../src/errors.js';
import type { Connection } from '../../src/rpc/connection.js';
import { Action, MessageKind } from '../../src/rpc/messages.js';
import type { RPCServer, RPCServerOptions } from '../../src/rpc/server.js';
import { connectClient, onCleanup, RawPeer, rawConnection, startServer, unixAddress } from './helpers.js';

class Calculator {
  add(a: number, b: number): number {
    return a + b;
  }
  echo(value: unknown): unknown {
    return value;
  }
}

interface Setup {
  server: RPCServer;
  /** A well-behaved client of the same server: it must keep being served. */
  bystander: () => Promise<void>;
}

async function setUp(kind: 'tcp' | 'unix', options: RPCServerOptions = {}): Promise<Setup> {
  const server = await startServer({
    address: kind === 'unix' ? unixAddress() : 'tcp://127.0.0.1:0',
    ...options,
  });
  server.set('calc', new Calculator());
  const client = await connectClient(server.address as string);
  const calc = client.get<Calculator>('calc');
  return {
    server,
    bystander: async () => {
      expect(await calc.add(20, 22)).toBe(42);
      expect(client.connected).toBe(true);
    },
  };
}

/** Resolves when the stream has closed; with everything it received. */
function drain(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => stream.once('close', () => resolve(Buffer.concat(chunks))));
}

/** A REQUEST whose args are `depth` nested one-element arrays, hand-built (no encoder recurses that deep). */
function deeplyNestedRequest(id: number, depth: number): Buffer {
  // [2, id, 0, 'calc', ['echo'], [ [[[…1…]]] ]]
  const head = Buffer.from([0x96, MessageKind.REQUEST, 0xcd, id >> 8, id & 0xff, Action.CALL]);
  const target = Buffer.from([0xa4, ...Buffer.from('calc')]);
  const path = Buffer.from([0x91, 0xa4, ...Buffer.from('echo')]);
  const args = Buffer.concat([Buffer.from([0x91]), Buffer.alloc(depth, 0x91), Buffer.from([0x01])]);
  return Buffer.concat([head, target, path, args]);
}

describe.each(['tcp', 'unix'] as const)('bad bytes over %s', (kind) => {
  test('garbage bytes that are not frames close that connection with a ProtocolError', async () => {
    const { server, bystander } = await setUp(kind);
    const { stream, served } = await rawConnection(server);
    const received = drain(stream);
    stream.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const error = await served.whenClosed;
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('ERR_FARCALL_FRAME_TOO_LARGE');
    // The sender is told why before the server hangs up: a CLOSE frame naming the problem.
    expect((await received).toString('latin1')).toContain('exceeds the limit');
    await bystander();
  });

  test('a truncated frame (the peer ends mid-frame) closes that connection with a ProtocolError', async () => {
    const { server, bystander } = await setUp(kind);
    const { stream, served } = await rawConnection(server);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1000, 0);
    stream.write(Buffer.concat([header, Buffer.alloc(10, 0x90)]));
    stream.end();
    const error = await served.whenClosed;
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('ERR_FARCALL_TRUNCATED_FRAME');
    expect(error?.message).toContain('10 bytes of it received');
    await bystander();
  });
});

describe('bad frames', () => {
  test('a frame over the limit is refused from its header: the sender learns the limit, the server buffers nothing', async () => {
    const { server, bystander } = await setUp('tcp', { maxFrameBytes: 64 * 1024 });
    const client = await connectClient(server.address as string);
    const served = [...server.connections].at(-1) as Connection;
    const error = await client
      .get<Calculator>('calc')
      .echo(new Uint8Array(1024 * 1024))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(String(error)).toMatch(/Frame of \d+ bytes exceeds the limit of 65536 bytes/);
    expect(String(error)).toContain('maxFrameBytes');
    expect(await served.whenClosed).toBeInstanceOf(ProtocolError);
    await bystander();
  });

  test('a frame whose body is not MessagePack is counted as malformed and the connection keeps working', async () => {
    const { server, bystander } = await setUp('tcp');
    const { stream, served } = await rawConnection(server);
    const peer = new RawPeer(stream);
    peer.sendBytes(Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37]));
    peer.sendBytes(Buffer.from('not messagepack at all'));
    peer.send([MessageKind.REQUEST, 1, Action.PING, 0, [], ['still here']]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 1, 'still here']);
    expect(served.stats.malformedMessages).toBe(2);
    expect(served.closed).toBe(false);
    await bystander();
  });
});

describe('bad messages', () => {
  test('an unknown action gets an ERROR reply naming it; both connections keep working', async () => {
    const { server, bystander } = await setUp('unix');
    const { stream } = await rawConnection(server);
    const peer = new RawPeer(stream);
    peer.send([MessageKind.REQUEST, 7, 250, 'calc', ['add'], [1, 2]]);
    const error = await peer.next(MessageKind.ERROR);
    expect(error.slice(1, 3)).toEqual([7, 'ProtocolError']);
    expect(error[3]).toContain('unknown action 250');
    await bystander();
    peer.send([MessageKind.REQUEST, 8, Action.CALL, 'calc', ['add'], [1, 2]]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 8, 3]);
  });

  test.each([
    ['a path that is not an array', [MessageKind.REQUEST, 3, Action.CALL, 'calc', 'add', [1, 2]], /path/],
    [
      'arguments that are not an array',
      [MessageKind.REQUEST, 3, Action.CALL, 'calc', ['add'], 5],
      /arguments/,
    ],
    ['a target of the wrong type', [MessageKind.REQUEST, 3, Action.CALL, true, ['add'], []], /target/],
    ['an unknown return type', [MessageKind.REQUEST, 3, Action.CALL, 'calc', ['add'], [], 9], /return type/],
  ])('a malformed request (%s) gets an ERROR reply that says what is wrong', async (_what, message, why) => {
    const { server, bystander } = await setUp('tcp');
    const { stream, served } = await rawConnection(server);
    const peer = new RawPeer(stream);
    peer.send(message);
    const error = await peer.next(MessageKind.ERROR);
    expect(error.slice(1, 3)).toEqual([3, 'ProtocolError']);
    expect(error[3]).toMatch(why);
    expect(served.closed).toBe(false);
    await bystander();
  });

  test('malformed messages without an id are dropped and counted, and nothing hangs', async () => {
    const { server, bystander } = await setUp('tcp');
    const { stream, served } = await rawConnection(server);
    const peer = new RawPeer(stream);
    peer.send([MessageKind.REQUEST, 'one', Action.CALL, 'calc', ['add'], [1, 2]]); // a string id
    peer.send([MessageKind.REQUEST, -1, Action.CALL, 'calc', ['add'], [1, 2]]); // a negative id
    peer.send([99, 1, 2, 3]); // an unknown kind
    peer.sendBytes(peer.codec.encode({ kind: 'request' })); // not an array
    peer.send([MessageKind.RELEASE, 'x', null]); // a release of nothing
    peer.send([MessageKind.REQUEST, 4, Action.PING, 0, [], ['alive']]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 4, 'alive']);
    expect(served.stats.malformedMessages).toBe(5);
    expect(served.closed).toBe(false);
    await bystander();
  });

  test('a request nested 10 000 deep gets an ERROR reply naming the depth limit, and the server stays up', async () => {
    const { server, bystander } = await setUp('unix');
    const { stream, served } = await rawConnection(server);
    const peer = new RawPeer(stream);
    peer.sendBytes(deeplyNestedRequest(300, 10_000));
    const error = await peer.next(MessageKind.ERROR);
    expect(error.slice(1, 3)).toEqual([300, 'ProtocolError']);
    expect(error[3]).toMatch(/deeper than|too deep|nest/i);
    expect(error[4]).toBe('ERR_FARCALL_TOO_DEEP');
    expect(served.closed).toBe(false);
    await bystander();
  });

  test('a reply nested 10 000 deep rejects the call it answers with a ProtocolError', async () => {
    // A fake server answers a real client's call with a reply nested 10 000 deep.
    const { createServer } = await import('node:net');
    const address = unixAddress();
    const peers: RawPeer[] = [];
    const listener = createServer((socket) => peers.push(new RawPeer(socket)));
    await new Promise<void>((resolve) => listener.listen(address.slice('unix://'.length), resolve));
    onCleanup(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const client = await connectClient(address);
    const call = client.get<Calculator>('calc').add(1, 2);
    const request = await peers[0].next(MessageKind.REQUEST);
    const id = request[1] as number;
    const reply = Buffer.concat([
      Buffer.from([0x93, MessageKind.REPLY, 0xce, id >>> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff]),
      Buffer.alloc(10_000, 0x91),
      Buffer.from([0x01]),
    ]);
    peers[0].sendBytes(reply);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(String(error)).toContain('could not be decoded');
    expect(client.connected).toBe(true);
    const ping = client.ping(1000);
    const pingRequest = await peers[0].next(MessageKind.REQUEST);
    peers[0].send([MessageKind.REPLY, pingRequest[1], (pingRequest[5] as unknown[])[0]]);
    expect(await ping).toBeGreaterThan(0);
  });

  test('a reply and an error for unknown ids are dropped and counted; the server keeps serving', async () => {
    const { server, bystander } = await setUp('tcp');
    const { stream, served } = await rawConnection(server);
    const peer = new RawPeer(stream);
    peer.send([MessageKind.REPLY, 12345, 'nobody asked']);
    peer.send([MessageKind.ERROR, 777, 'Error', 'nobody asked either', null, null, null]);
    peer.send([MessageKind.REQUEST, 1, Action.CALL, 'calc', ['add'], [2, 3]]);
    expect(await peer.next(MessageKind.REPLY)).toEqual([MessageKind.REPLY, 1, 5]);
    expect(served.stats.unknownReplies).toBe(2);
    await bystander();
  });

  test('a peer that speaks before HELLO is refused with a ProtocolError, and told so', async () => {
    const { server, bystander } = await setUp('tcp');
    const { stream, served } = await rawConnection(server);
    const peer = new RawPeer(stream, { hello: false });
    peer.send([MessageKind.REQUEST, 1, Action.CALL, 'calc', ['add'], [1, 2]]);
    const error = await served.whenClosed;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error?.message).toContain('did not start with HELLO');
    expect(peer.received.some((message) => message[0] === MessageKind.REPLY)).toBe(false);
    await bystander();
  });
});
