/**
 * References to objects of a third process. When process B forwards a proxy of A's object to C, and C's
 * `allowOwnerConnections` admits A's address (C told B so in its HELLO), the reference C receives names A
 * (owner id) and A's listening address: when C first uses the proxy, it connects to A directly
 * (`RPCClient.getClient(address)`, one cached connection per address) and talks to A without B in the
 * middle. B sent A a RETAIN for the forwarded reference before passing it on, so A counts it (charged to
 * B until C's connection claims it by using the id); C's {@link ForwardedTarget} gives that count back
 * to A with a RELEASE when it is released or collected. Receiving the reference never opens a connection.
 * @module
 */
import { ConnectionClosedError } from '../errors.js';
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
  /** `ownerId` and object id: the key of the one live target of this object. */
  readonly key: string;
  /** The connection to the owner, opened on first use; undefined until then. */
  connection: Promise<OwnerConnection> | undefined;
  /** The same connection once it is open (to tell, synchronously, which connection it is). */
  connected: OwnerConnection | undefined;
  readonly id: number;
  count: number;
  released: boolean;
}

const registry = new FinalizationRegistry<ForwardToken>((token) => releaseToken(token));

/** The live target of each forwarded object, so a reference received twice is one target counting two. */
const live = new Map<string, WeakRef<ForwardedTarget>>();

function releaseToken(token: ForwardToken): void {
  if (token.released) return;
  token.released = true;
  const entry = live.get(token.key)?.deref();
  if (entry === undefined || entry.token === token) live.delete(token.key);
  // Never used, never connected: the owner gives the count back when the forwarding peer goes.
  token.connection?.then(
    (connection) => connection.sendRelease(token.id, token.count),
    () => {}, // the owner is unreachable: it has forgotten us already, or never will be told
  );
}

/** An object a third process owns, reached over a direct connection to it. */
export class ForwardedTarget extends RemoteTarget {
  readonly reference: RemoteReference;
  readonly #token: ForwardToken;

  /**
   * The target for `reference`: the live one of the same object (its count raised by one), or a new one.
   * Opens no connection.
   */
  static receive(reference: RemoteReference): ForwardedTarget {
    const key = `${reference.ownerId}\0${reference.objectId}`;
    const existing = live.get(key)?.deref();
    if (existing !== undefined && !existing.#token.released) {
      existing.#token.count++;
      return existing;
    }
    const target = new ForwardedTarget(reference, key);
    live.set(key, new WeakRef(target));
    return target;
  }

  private constructor(reference: RemoteReference, key: string) {
    super();
    this.reference = reference;
    this.#token = {
      key,
      connection: undefined,
      connected: undefined,
      id: reference.objectId,
      count: 1,
      released: false,
    };
    registry.register(this, this.#token, this.#token);
  }

  /** True if requests for this object already travel over `connection`. */
  connectedOver(connection: unknown): boolean {
    return this.#token.connected !== undefined && this.#token.connected === connection;
  }

  /** The connection to the owner, opened now if this is the first use. */
  #connection(): Promise<OwnerConnection> {
    const token = this.#token;
    if (token.connection === undefined) {
      const address = this.reference.address as string;
      token.connection =
        connector === undefined
          ? Promise.reject(
              new Error('farcall/rpc is not fully loaded: import it from the package entry point'),
            )
          : connector(address);
      token.connection.then(
        (connection) => {
          token.connected = connection;
        },
        () => {}, // reported by the request that opened it
      );
    }
    return token.connection;
  }

  /** @internal The release bookkeeping (the registry holds it, never the target). */
  get token(): ForwardToken {
    return this.#token;
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
    if (this.#token.released)
      throw new ConnectionClosedError(`${this.describe()} was released: a released proxy cannot be used`);
    const connection = await this.#connection();
    return connection.request(action, this.#token.id, path, args, options);
  }

  release(): void {
    registry.unregister(this.#token);
    releaseToken(this.#token);
  }

  describe(): string {
    return `${this.reference.typeName || 'object'} #${this.reference.objectId} of ${this.reference.address}`;
  }
}
