/**
 * References to objects of a third process. When process B forwards a proxy of A's object to C, the
 * reference C receives names A (owner id) and A's listening address: C connects to A directly
 * (`RPCClient.getClient(address)`, one cached connection per address) and talks to A without B in the
 * middle. B sent A a RETAIN for the forwarded reference before passing it on, so A counts it; C's
 * {@link ForwardedTarget} gives that count back to A with a RELEASE when it is released or collected.
 * @module
 */
import type { RemoteReference } from '../wire/codec.js';
import type { ActionCode } from './messages.js';
import { type CallOptions, RemoteTarget } from './remote-target.js';

/** What a forwarded target needs of the connection to the owner. */
export interface OwnerConnection {
  request(
    action: ActionCode,
    target: number,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown>;
  sendRelease(id: number, count: number): void;
  sendRetain(id: number, count: number): void;
}

/** Opens (or reuses) a connection to the owner listening at `address`. Set by client.ts. */
export type OwnerConnector = (address: string) => Promise<OwnerConnection>;

let connector: OwnerConnector | undefined;

/** Registers how third-party owners are reached (RPCClient.getClient); called once by client.ts. */
export function setOwnerConnector(connect: OwnerConnector): void {
  connector = connect;
}

interface ForwardToken {
  readonly connection: Promise<OwnerConnection>;
  readonly id: number;
  count: number;
  released: boolean;
}

const registry = new FinalizationRegistry<ForwardToken>((token) => releaseToken(token));

function releaseToken(token: ForwardToken): void {
  if (token.released) return;
  token.released = true;
  token.connection.then(
    (connection) => connection.sendRelease(token.id, token.count),
    () => {}, // the owner is unreachable: it has forgotten us already, or never will be told
  );
}

/** An object a third process owns, reached over a direct connection to it. */
export class ForwardedTarget extends RemoteTarget {
  readonly reference: RemoteReference;
  readonly #token: ForwardToken;

  constructor(reference: RemoteReference) {
    super();
    this.reference = reference;
    const address = reference.address as string;
    const connection =
      connector === undefined
        ? Promise.reject(new Error('farcall/rpc is not fully loaded: import it from the package entry point'))
        : connector(address);
    connection.catch(() => {}); // reported by the first request instead
    this.#token = { connection, id: reference.objectId, count: 1, released: false };
    registry.register(this, this.#token, this.#token);
  }

  /** The owner's id of the object. */
  get id(): number {
    return this.reference.objectId;
  }

  async request(
    action: ActionCode,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown> {
    const connection = await this.#token.connection;
    return connection.request(action, this.#token.id, path, args, options);
  }

  /**
   * This reference is being forwarded once more (to a process that is not the owner): the owner must
   * count it before the receiver can release it. Ordered before our own release on the same connection.
   */
  retainForForwarding(): void {
    this.#token.connection.then(
      (connection) => connection.sendRetain(this.#token.id, 1),
      () => {},
    );
  }

  release(): void {
    registry.unregister(this.#token);
    releaseToken(this.#token);
  }

  describe(): string {
    return `${this.reference.typeName || 'object'} #${this.reference.objectId} of ${this.reference.address}`;
  }
}
