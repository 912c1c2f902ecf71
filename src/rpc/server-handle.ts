/**
 * `RemoteServer`: the server a client is connected to, as an object (pyacq's `client['self']`): its
 * published names, a round trip, its clock, and closing it where the server allows that.
 * @module
 */
import type { Connection } from './connection.js';
import { Action } from './messages.js';

/** What {@link RemoteServer} needs of its client: the connection, and proxies by name. */
export interface ServerHandleOwner {
  readonly connection: Connection;
  get(name: string): unknown;
}

/**
 * The server behind an RPCClient (`client.server`).
 *
 * @example
 * ```ts
 * const server = client.server;
 * console.log(await server.names());     // ['scanner', 'Point']
 * console.log(await server.ping());      // round-trip ms
 * await server.close();                  // AccessDeniedError unless the server has allowRemoteClose
 * ```
 */
export class RemoteServer {
  readonly #owner: ServerHandleOwner;

  constructor(owner: ServerHandleOwner) {
    this.#owner = owner;
  }

  /** The names the server publishes now (its own and those clients published). */
  async names(): Promise<string[]> {
    const names = await this.#owner.connection.request(Action.NAMES, 0, [], [], {});
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string'))
      throw new TypeError('The server answered the names request with something else than a list of names');
    return names;
  }

  /** A proxy of what the server publishes under `name` (the same as `client.get(name)`). */
  get<T = unknown>(name: string): T {
    return this.#owner.get(name) as T;
  }

  /** Round trip to the server; resolves with the time it took in milliseconds. */
  ping(timeout?: number): Promise<number> {
    return this.#owner.connection.ping(Math.random(), timeout);
  }

  /** The server's clock: milliseconds since the Unix epoch. */
  async time(): Promise<number> {
    return (await this.#owner.connection.request(Action.TIME, 0, [], [], {})) as number;
  }

  /**
   * Asks the server to close; resolves once it accepted (every client then sees `disconnected`).
   * @throws AccessDeniedError unless the server allows it (`allowRemoteClose`, or the spawner's own client).
   */
  async close(): Promise<void> {
    await this.#owner.connection.request(Action.CLOSE_SERVER, 0, [], [], {});
  }
}
