/**
 * Mocked mode (`host: null`): the Server32 subclass runs in the client's own process, with a library of
 * this process's bitness. The host is served over an in-memory stream pair through the same rpc
 * Connection as the real server, so every value is copied by the same codec and every error takes the
 * same form: tests written against mocked mode hold against the real 32-bit server.
 * @module
 */
import { Duplex } from 'node:stream';
import { partLog } from '../log/logger.js';
import { Connection } from '../rpc/connection.js';
import { SERVER32_MAX_MESSAGE_BYTES, Server32Host } from './server32-host.js';
import { server32LogName } from './server32-log-name.js';

/** Two connected in-memory streams: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  let left: Duplex | undefined;
  let right: Duplex | undefined;
  const make = (other: () => Duplex | undefined): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        other()?.push(chunk);
        callback();
      },
      writev(chunks, callback) {
        const peer = other();
        for (const { chunk } of chunks) peer?.push(chunk as Buffer);
        callback();
      },
      final(callback) {
        other()?.push(null);
        callback();
      },
      destroy(error, callback) {
        const peer = other();
        if (peer !== undefined && !peer.destroyed) peer.push(null);
        callback(error);
      },
    });
  left = make(() => right);
  right = make(() => left);
  return [left, right];
}

/** The server end of a mocked Client64: a host served in this process. */
export interface MockedServer {
  /** The client's end of the stream pair. */
  stream: Duplex;
  /** The host (its `server` is the constructed Server32). */
  host: Server32Host;
  /** Resolves when the server side has closed and run the shutdownHandler. */
  closed: Promise<void>;
}

/** Serves a new {@link Server32Host} on one end of a stream pair and returns the other end. */
export function startMockedServer(): MockedServer {
  const [clientEnd, serverEnd] = duplexPair();
  const host = new Server32Host();
  const connection = new Connection(serverEnd, {
    root: host,
    side: 'server',
    peerName: 'the Client64',
    maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
    log: partLog('loadlib'),
    logName: server32LogName,
  });
  const closed = connection.whenClosed.then(() => host.shutdown());
  return { stream: clientEnd, host, closed };
}
