/**
 * The socket a 32-bit server listens on when its client asks for `transport: 'tcp'` or `'unix'`, and
 * what a peer may do there before it has proven it knows the client's per-server token.
 *
 * Runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import type { Duplex } from 'node:stream';
import { partLog } from '../log/logger.js';
import { Connection } from '../rpc/connection.js';
import { type Listener, listenTransport } from '../wire/transports.js';
import { SERVER32_MAX_MESSAGE_BYTES } from './server32-host.js';
import { server32LogName } from './server32-log-name.js';

/**
 * The most bytes a socket peer may send before it has authenticated (64 KiB): the handshake takes well
 * under 1 KiB, so a peer without the token cannot make the 32-bit process buffer a large frame.
 */
export const PRE_AUTH_MAX_BYTES = 64 * 1024;
/** The most socket connections that may wait for authentication at a time (4); more are closed at once. */
export const MAX_UNAUTHENTICATED_CONNECTIONS = 4;
/** Milliseconds a socket peer has to authenticate (5 s), then it is disconnected. */
export const SOCKET_HANDSHAKE_MS = 5000;

/**
 * Listens on `address` (`tcp://…` or `unix://…`) and serves `root` to every peer that authenticates
 * with `authKey`, under the limits above.
 */
export function listenForClient(address: string, authKey: string, root: object): Promise<Listener> {
  const waiting = new Set<Duplex>();
  return listenTransport(address, (stream) => {
    if (waiting.size >= MAX_UNAUTHENTICATED_CONNECTIONS) {
      stream.destroy();
      return;
    }
    waiting.add(stream);
    let received = 0;
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > PRE_AUTH_MAX_BYTES) stream.destroy();
    };
    stream.on('data', count);
    const connection = new Connection(stream, {
      root,
      authKey,
      side: 'server',
      peerName: 'a Client64 socket connection',
      maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
      log: partLog('loadlib'),
      logName: server32LogName,
      handshakeTimeout: SOCKET_HANDSHAKE_MS,
    });
    const authenticatedOrGone = (): void => {
      waiting.delete(stream);
      stream.off('data', count);
    };
    connection.ready.then(authenticatedOrGone, authenticatedOrGone);
    connection.whenClosed.then(authenticatedOrGone, authenticatedOrGone);
  });
}
