import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectError,
  ConnectionClosedError,
  ConnectionTimeoutError,
  ProtocolError,
} from '../../src/errors.js';
import { resolveBuiltModule } from '../../src/internal/module-path.js';
import { FramedSocket } from '../../src/wire/framed-socket.js';
import { encodeFrameHeader } from '../../src/wire/frames.js';
import { childChannel, connectTransport, type Listener, listenTransport } from '../../src/wire/transports.js';
import { selfSignedCertificate } from '../support/tls.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'farcall-wire-'));
}

/** A server whose every connection echoes each frame back. */
async function echoServer(
  address: string,
  options: Parameters<typeof listenTransport>[2] = {},
): Promise<Listener> {
  const listener = await listenTransport(
    address,
    (stream) => {
      const framed = new FramedSocket(stream);
      framed.onFrame = (body) => framed.send(Buffer.from(body));
    },
    options,
  );
  cleanups.push(() => listener.close());
  return listener;
}

/** Sends `bodies` over a new connection and resolves with the echoed bodies. */
async function echo(stream: Duplex, bodies: Buffer[]): Promise<string[]> {
  const framed = new FramedSocket(stream);
  cleanups.push(() => framed.close());
  const received: string[] = [];
  return new Promise((resolve, reject) => {
    framed.onFrame = (body) => {
      received.push(body.toString());
      if (received.length === bodies.length) resolve(received);
    };
    framed.onClose = (error) => reject(error ?? new Error('closed'));
    for (const body of bodies) framed.send(body);
  });
}

describe('transports', () => {
  it('listens on loopback TCP port 0 and reports the real port', async () => {
    const listener = await echoServer('tcp://127.0.0.1:0');
    expect(listener.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(listener.address).not.toMatch(/:0$/);
    const replies = await echo(await connectTransport(listener.address), [Buffer.from('ping')]);
    expect(replies).toEqual(['ping']);
  });

  it('carries frames over a Unix socket and removes the socket file on close', async () => {
    const path = join(tempDir(), 'echo.sock');
    const listener = await echoServer(`unix://${path}`);
    expect(
      await echo(await connectTransport(`unix://${path}`), [Buffer.from('a'), Buffer.from('b')]),
    ).toEqual(['a', 'b']);
    await listener.close();
    await expect(connectTransport(`unix://${path}`, { timeoutMs: 1000 })).rejects.toThrow(ConnectError);
  });

  it('replaces a stale Unix socket file left by a server that was killed', async () => {
    const path = join(tempDir(), 'stale.sock');
    const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
    await new Promise((resolve) => spawn(process.execPath, ['-e', script]).once('exit', resolve));
    expect(existsSync(path)).toBe(true);
    const listener = await echoServer(`unix://${path}`);
    expect(await echo(await connectTransport(listener.address), [Buffer.from('fresh')])).toEqual(['fresh']);
  });

  it('refuses to take over a Unix socket a live server listens on', async () => {
    const path = join(tempDir(), 'live.sock');
    await echoServer(`unix://${path}`);
    await expect(listenTransport(`unix://${path}`, () => {})).rejects.toThrow(
      /another server is listening there/,
    );
  });

  it('carries frames over TLS with a pinned self-signed certificate', async () => {
    const { key, cert } = selfSignedCertificate();
    const listener = await echoServer('tls://127.0.0.1:0', { tls: { key, cert } });
    const stream = await connectTransport(listener.address, { tls: { ca: cert } });
    expect(await echo(stream, [Buffer.from('secret')])).toEqual(['secret']);
  });

  it('rejects a TLS server whose certificate is not trusted', async () => {
    const { key, cert } = selfSignedCertificate();
    const listener = await echoServer('tls://127.0.0.1:0', { tls: { key, cert } });
    await expect(connectTransport(listener.address)).rejects.toThrow(/self.signed/i);
  });

  it('says that nothing is listening when a connection is refused', async () => {
    const listener = await echoServer('tcp://127.0.0.1:0');
    const address = listener.address;
    await listener.close();
    const error = await connectTransport(address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toMatch(
      /Connection refused by tcp:\/\/127\.0\.0\.1:\d+: nothing is listening there/,
    );
  });

  it('gives up after the timeout when the server never completes the connection', async () => {
    // A plain TCP server that accepts but never answers a TLS handshake.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => silent.close(resolve)));
    const sockets: net.Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
    });
    const port = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    const error = await connectTransport(`tls://127.0.0.1:${port}`, { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stops connecting when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(connectTransport('tcp://127.0.0.1:1', { signal: controller.signal })).rejects.toThrow(
      /aborted/,
    );
  });

  it('talks to a child process over an extra pipe on fd 3', async () => {
    const wire = resolveBuiltModule(import.meta.url, '../../src/wire/index.js');
    const script = `
      import { FramedSocket, parentChannel } from ${JSON.stringify(wire)};
      const framed = new FramedSocket(parentChannel());
      framed.onFrame = (body) => framed.send(Buffer.from('child:' + body));
      framed.onClose = () => process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    });
    cleanups.push(() => child.kill());
    expect(await echo(childChannel(child), [Buffer.from('hi')])).toEqual(['child:hi']);
  });
});

describe('FramedSocket', () => {
  it('coalesces the frames sent in one turn of the event loop into one write', async () => {
    const listener = await echoServer('tcp://127.0.0.1:0');
    const stream = await connectTransport(listener.address);
    let writes = 0;
    const original = stream._writev?.bind(stream);
    const originalWrite = stream._write.bind(stream);
    stream._write = (chunk, encoding, callback) => {
      writes++;
      originalWrite(chunk, encoding, callback);
    };
    if (original) {
      stream._writev = (chunks, callback) => {
        writes++;
        original(chunks, callback);
      };
    }
    const bodies = Array.from({ length: 100 }, (_, i) => Buffer.from(`m${i}`));
    const replies = await echo(stream, bodies);
    expect(replies).toEqual(bodies.map(String));
    expect(writes).toBe(1);
  });

  it('closes only the connection that sent an oversized frame, with a ProtocolError', async () => {
    const errors: (Error | undefined)[] = [];
    const listener = await listenTransport('tcp://127.0.0.1:0', (stream) => {
      const framed = new FramedSocket(stream, { maxFrameBytes: 1024 });
      framed.onFrame = (body) => framed.send(Buffer.from(body));
      framed.onClose = (error) => errors.push(error);
    });
    cleanups.push(() => listener.close());
    const good = await connectTransport(listener.address);
    const bad = await connectTransport(listener.address);
    const badClosed = new Promise((resolve) => bad.once('close', resolve));
    bad.write(encodeFrameHeader(1025));
    await badClosed;
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect((errors[0] as ProtocolError).code).toBe('ERR_FARCALL_FRAME_TOO_LARGE');
    expect(await echo(good, [Buffer.from('still served')])).toEqual(['still served']);
  });

  it('reports a peer that hangs up in the middle of a frame', async () => {
    const closed = new Promise<Error | undefined>((resolve) => {
      listenTransport('tcp://127.0.0.1:0', (stream) => {
        new FramedSocket(stream).onClose = resolve;
      }).then(async (listener) => {
        cleanups.push(() => listener.close());
        const socket = await connectTransport(listener.address);
        socket.end(Buffer.concat([encodeFrameHeader(100), Buffer.from('only part')]));
      });
    });
    const error = await closed;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error?.message).toMatch(/in the middle of a frame/);
  });

  it('closes a connection whose peer stalls in the middle of a frame', async () => {
    const closed = new Promise<Error | undefined>((resolve) => {
      listenTransport('tcp://127.0.0.1:0', (stream) => {
        new FramedSocket(stream, { stalledFrameTimeoutMs: 200 }).onClose = resolve;
      }).then(async (listener) => {
        cleanups.push(() => listener.close());
        const socket = await connectTransport(listener.address);
        cleanups.push(() => socket.destroy());
        socket.write(Buffer.concat([encodeFrameHeader(100), Buffer.from('and then nothing')]));
      });
    });
    const started = Date.now();
    const error = await closed;
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('ERR_FARCALL_STALLED_FRAME');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('throws ConnectionClosedError when sending after close, and close is idempotent', async () => {
    const listener = await echoServer('tcp://127.0.0.1:0');
    const framed = new FramedSocket(await connectTransport(listener.address));
    let closes = 0;
    framed.onClose = () => closes++;
    framed.close();
    framed.close();
    expect(closes).toBe(1);
    expect(() => framed.send(Buffer.from('x'))).toThrow(ConnectionClosedError);
  });

  it('stops reading from a peer that never reads its replies, so memory stays bounded', async () => {
    let serverSide: FramedSocket | undefined;
    const listener = await listenTransport('tcp://127.0.0.1:0', (stream) => {
      serverSide = new FramedSocket(stream, { maxWriteBufferBytes: 1024 * 1024 });
      serverSide.onFrame = () => serverSide?.send(Buffer.alloc(64 * 1024));
    });
    cleanups.push(() => listener.close());
    const client = await connectTransport(listener.address);
    cleanups.push(() => client.destroy());
    client.pause(); // never read the replies
    const request = Buffer.concat([encodeFrameHeader(1), Buffer.from('x')]);
    for (let i = 0; i < 2000; i++) client.write(request);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(serverSide?.stream.isPaused()).toBe(true);
    // Bounded: the server holds about its write limit plus what the kernel buffers, not 2000 × 64 KiB.
    expect(serverSide?.pendingWriteBytes ?? 0).toBeLessThan(8 * 1024 * 1024);
  });
});
