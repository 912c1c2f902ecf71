// Issue 7 §1, memory before authentication: until a peer has finished its handshake it may send only
// frames of the handshake's size (16 KiB), and only so many such peers are held at once. Attacks over
// real loopback sockets, bounded in count and bytes; a legitimate client is served throughout.
import * as net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { RPCClient } from '../../src/rpc/client.js';
import { Connection, MAX_HANDSHAKE_FRAME_BYTES } from '../../src/rpc/connection.js';
import { HandshakeGate } from '../../src/rpc/handshake-gate.js';
import { MessageKind, PROTOCOL_VERSION } from '../../src/rpc/messages.js';
import { Codec } from '../../src/wire/codec.js';
import { listenTransport } from '../../src/wire/transports.js';
import { connectClient, onCleanup, startServer, until } from './helpers.js';

class Calculator {
  add(a: number, b: number): number {
    return a + b;
  }
}

// The garbage collector, so that what an earlier test left behind is not counted.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const ATTACKERS = 24;
const BYTES_EACH = 4 * MiB;
/** One buffer written over and over: the attackers' side holds almost nothing itself. */
const ZEROS = Buffer.alloc(64 * 1024);

function header(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length, 0);
  return bytes;
}

/**
 * One attacker: connects, optionally says a valid HELLO, then announces a 60 MiB frame and sends
 * `BYTES_EACH` of it, never authenticating. Resolves when its bytes are written or the server hung up.
 */
function attack(port: number, hello: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    onCleanup(() => {
      socket.destroy();
    });
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => {
      if (hello) {
        const body = new Codec().encode([MessageKind.HELLO, PROTOCOL_VERSION, 'attacker', null, null]);
        socket.write(Buffer.concat([header(body.length), body]));
      }
      socket.write(header(60 * MiB));
      const write = (left: number): void => {
        if (left <= 0 || socket.destroyed) {
          finish();
          return;
        }
        if (socket.write(ZEROS)) setImmediate(() => write(left - ZEROS.length));
        else socket.once('drain', () => write(left - ZEROS.length));
      };
      write(BYTES_EACH);
    });
    setTimeout(finish, 4000).unref();
  });
}

async function attackAndMeasure(port: number): Promise<number> {
  // Wait until what earlier tests left behind has gone (closed sockets are destroyed up to 2 s later).
  let before = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 40; i++) {
    collectGarbage();
    const now = process.memoryUsage().arrayBuffers;
    if (now > before - MiB && now < 16 * MiB) break;
    before = now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  before = process.memoryUsage().arrayBuffers;
  await Promise.all(Array.from({ length: ATTACKERS }, (_, i) => attack(port, i % 2 === 0)));
  // Let the server read whatever reached it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  collectGarbage(); // what the server still holds is reachable, the rest goes
  return process.memoryUsage().arrayBuffers - before;
}

describe('memory before authentication', () => {
  test(`${ATTACKERS} unauthenticated peers sending 4 MiB frames each: the server buffers none of it and serves a client meanwhile`, async () => {
    const server = await startServer({ authKey: 'secret' });
    server.set('calc', new Calculator());
    const port = Number(new URL((server.address as string).replace('tcp:', 'http:')).port);
    const grown = await attackAndMeasure(port);
    expect(grown).toBeLessThan(24 * MiB); // the old code buffered ATTACKERS × 4 MiB = 96 MiB
    const client = await connectClient(server.address as string, { authKey: 'secret' });
    expect(await client.get<Calculator>('calc').add(2, 3)).toBe(5);
  });

  test('the same bound holds for a Connection served directly, as a TCP-mode Server32 serves its sockets', async () => {
    // server32-main.ts: listenTransport + new Connection({ root, authKey, side: 'server', 512 MiB frames }) + a HandshakeGate.
    const gate = new HandshakeGate();
    const served: Connection[] = [];
    const listener = await listenTransport('tcp://127.0.0.1:0', (stream) => {
      const connection = new Connection(stream, {
        root: new Calculator(),
        authKey: 'k32',
        side: 'server',
        maxFrameBytes: 512 * MiB,
      });
      gate.admit(connection);
      served.push(connection);
    });
    onCleanup(async () => {
      await Promise.all(served.map((connection) => connection.close()));
      await listener.close();
    });
    const port = Number(new URL(listener.address.replace('tcp:', 'http:')).port);
    const grown = await attackAndMeasure(port);
    expect(grown).toBeLessThan(24 * MiB);
    const client = await RPCClient.connect(listener.address, { authKey: 'k32' });
    onCleanup(() => client.close());
    expect(await (client.connection.root as unknown as Calculator).add(4, 5)).toBe(9);
  });

  test('a handshake frame over 16 KiB is refused from its header, with a message saying why', async () => {
    const server = await startServer({ authKey: 'secret' });
    const port = Number(new URL((server.address as string).replace('tcp:', 'http:')).port);
    const socket = net.connect(port, '127.0.0.1');
    onCleanup(() => {
      socket.destroy();
    });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(header(MAX_HANDSHAKE_FRAME_BYTES + 1));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Buffer.concat(received).toString('latin1')).toContain('for a handshake frame');
  });
});

describe('unauthenticated connections are bounded', () => {
  test('100 silent connections with a bound of 16: at most 16 are held, the oldest go first, a client is served', async () => {
    const server = await startServer({ authKey: 'secret', maxUnauthenticatedConnections: 16 });
    server.set('calc', new Calculator());
    const port = Number(new URL((server.address as string).replace('tcp:', 'http:')).port);
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.resume(); // read, so that the server's end of the connection is seen
      onCleanup(() => {
        socket.destroy();
      });
      sockets.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    await until(() => server.connections.size <= 16);
    expect(server.connections.size).toBeLessThanOrEqual(16);
    // The first ones were closed by the server (the oldest go first).
    await until(() => sockets[0].destroyed || sockets[0].readableEnded);
    expect(sockets[0].destroyed || sockets[0].readableEnded).toBe(true);
    const client = await connectClient(server.address as string, { authKey: 'secret' });
    expect(await client.get<Calculator>('calc').add(20, 22)).toBe(42);
  });
});
