/**
 * What a TLS Manager tells a peer that connected without TLS. A plain peer waits for the Manager to
 * speak first, and a TLS server says nothing until it hears a TLS hello, so without help the peer only
 * learns at its own timeout. Two kinds of plain peer want different things:
 * - msl-network's Client and Service wait for their timeout and then raise the `ConnectionError` its
 *   users and tests expect ("…You have TLS disabled. Perhaps the Manager is using TLS…"); a line from
 *   the Manager would turn that into a `ValueError`. So a silent plain peer is left alone.
 * - farcall's Client, hearing nothing for a moment, tries TLS on a second connection. When such a TLS
 *   connection arrives from the address of a silent peer, the Manager answers the silent peer in plain
 *   text at once ("this Network Manager uses TLS…") and closes it.
 *
 * Internal to the Manager.
 * @module
 */
import type { Server, Socket } from 'node:net';

/** Options of {@link answerPlainPeers}. */
export interface PlainPeerAnswerOptions {
  /**
   * How long a connection must have been silent to count as a waiting plain peer, in ms (a TLS client
   * sends its hello within milliseconds of connecting).
   */
  silentMs: number;
  /** The line (without the line ending) to send a plain peer. */
  answer: () => string;
}

/** Installs the plain-peer answers on a TLS server. */
export function answerPlainPeers(server: Server, options: PlainPeerAnswerOptions): void {
  // Every accepted TCP connection (before TLS), by remote address, with the time it arrived.
  const open = new Map<string, Map<Socket, number>>();
  server.on('connection', (raw: Socket) => {
    const address = raw.remoteAddress ?? '';
    let sockets = open.get(address);
    if (sockets === undefined) {
      sockets = new Map();
      open.set(address, sockets);
    }
    sockets.set(raw, Date.now());
    raw.once('close', () => {
      const set = open.get(address);
      set?.delete(raw);
      if (set?.size === 0) open.delete(address);
    });
  });
  // A TLS connection from the address of a silent peer: farcall's Client probing (see the module doc).
  server.on('secureConnection', (socket: Socket) => {
    const sockets = open.get(socket.remoteAddress ?? '');
    if (sockets === undefined) return;
    const now = Date.now();
    for (const [raw, since] of sockets) {
      if (raw.bytesRead > 0 || raw.destroyed || now - since < options.silentMs) continue;
      raw.end(`${options.answer()}\r\n`);
      setTimeout(() => raw.destroy(), 1000).unref();
    }
  });
}
