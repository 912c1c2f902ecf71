/**
 * A bound on the connections a server holds before they have finished their handshake (HELLO and, with
 * an `authKey`, authentication). Each costs a socket and a little memory for up to the handshake timeout;
 * without a bound, a peer that opens connections and never finishes them holds the server's resources.
 * When the bound is reached, the OLDEST unfinished connection is closed (not the new one), so a flood of
 * silent connections cannot lock out a legitimate client, whose handshake takes a round trip or two.
 * @module
 */

/** The default number of connections that may be in their handshake at once. */
export const DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS = 64;

/** What the gate needs of a connection. */
export interface GatedConnection {
  readonly ready: Promise<void>;
  readonly whenClosed: Promise<unknown>;
  close(reason?: string): Promise<void>;
}

/**
 * Admits connections into their handshake, at most `limit` at once.
 *
 * @example
 * ```ts
 * const gate = new HandshakeGate(64);
 * listenTransport(address, (stream) => gate.admit(new Connection(stream, { side: 'server', authKey })));
 * ```
 */
export class HandshakeGate {
  readonly limit: number;
  /** Connections in their handshake, oldest first (a Set keeps insertion order). */
  readonly #waiting = new Set<GatedConnection>();
  #evicted = 0;

  constructor(limit: number = DEFAULT_MAX_UNAUTHENTICATED_CONNECTIONS) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`maxUnauthenticatedConnections must be a positive integer, not ${limit}`);
    this.limit = limit;
  }

  /** Connections in their handshake now. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Connections closed so far because the gate was full. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Tracks `connection` until its handshake ends; closes the oldest waiting one if over the limit. */
  admit(connection: GatedConnection): void {
    this.#waiting.add(connection);
    const leave = (): void => {
      this.#waiting.delete(connection);
    };
    connection.ready.then(leave, leave);
    void connection.whenClosed.then(leave);
    while (this.#waiting.size > this.limit) {
      const oldest = this.#waiting.values().next().value as GatedConnection;
      this.#waiting.delete(oldest);
      this.#evicted++;
      void oldest.close(
        `too many connections are in their handshake (more than ${this.limit}): the oldest is closed`,
      );
    }
  }
}
