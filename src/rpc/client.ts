/**
 * `RPCClient`: a connection to an {@link RPCServer} and the proxies of its published objects
 * (pyacq's RPCClient).
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { AddressError } from '../errors.js';
import { type Logger, partLog } from '../log/logger.js';
import { formatAddress, parseAddress } from '../wire/address.js';
import { connectTransport } from '../wire/transports.js';
import { Connection } from './connection.js';
import { setOwnerConnector } from './forwarding.js';
import { Action } from './messages.js';
import type { AccessPolicy, AccessPolicyOptions } from './policy.js';
import { createProxy, type Remote } from './proxy.js';
import { ChannelTarget } from './remote-target.js';
import { RemoteServer } from './server-handle.js';

/** Options of {@link RPCClient.connect}. */
export interface RPCClientOptions {
  /** Milliseconds allowed to connect and complete the handshake. Default 10 000. */
  connectTimeout?: number;
  /** Default timeout (ms) of every call made through this client's proxies. Default 30 000. */
  timeout?: number;
  /** The server's shared secret, if it requires one. */
  authKey?: string | Uint8Array;
  /** Which members of the objects this client lends the server (callbacks) it may reach. Default: safe. */
  policy?: AccessPolicy | AccessPolicyOptions;
  /** The largest frame accepted from the server, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
  /** TLS options for a `tls://` address. */
  tls?: tls.ConnectionOptions;
  /** Cancels connecting. */
  signal?: AbortSignal;
  /**
   * Addresses of third processes this side may connect to directly when a peer hands it a proxy of an
   * object such a process owns (`['*']`: any; at most 64). The connection opens when the proxy is first
   * used. Default none: such proxies come as the peer's own objects and calls on them go through the peer.
   */
  allowOwnerConnections?: readonly string[];
  /**
   * Receives debug records: connections opened and closed (address, peer identity), handshakes (ok, or
   * failed and why), calls (name, id, size, duration, error class). Never argument values, keys or
   * tokens. `NODE_DEBUG=farcall:rpc` writes the same lines to stderr. Default none.
   */
  logger?: Logger;
}

/** Events of an {@link RPCClient}. */
export interface RPCClientEvents {
  /** The connection ended: the server closed, died, or `client.close()` was called. */
  disconnected: [error: Error | undefined];
}

/**
 * A client of an {@link RPCServer}.
 *
 * - `client.get<T>(name)` returns a proxy at once (no round trip): `await client.get<Calc>('calc').add(1, 2)`.
 * - `client.disconnected` is a promise that resolves (never rejects) when the connection ends, with the
 *   error that ended it if any; `client.connected` is the flag; the `'disconnected'` event fires at the
 *   same moment.
 *
 * @example
 * ```ts
 * await using client = await RPCClient.connect('tcp://127.0.0.1:5000');
 * const calc = client.get<Calculator>('calc');
 * console.log(await calc.add(1, 2)); // 3
 * ```
 */
export class RPCClient extends EventEmitter<RPCClientEvents> implements AsyncDisposable {
  static readonly #cache = new Map<string, Promise<RPCClient>>();

  /** The server's address, as given (or the name given to {@link RPCClient.fromStream}). */
  readonly address: string;
  /** The underlying connection (for `connection.call`, stats, `root`). */
  readonly connection: Connection;
  /** Resolves when the connection ends, with the error that ended it (undefined for a clean close). */
  readonly disconnected: Promise<Error | undefined>;
  readonly #named = new Map<string, unknown>();
  #server: RemoteServer | undefined;

  private constructor(address: string, connection: Connection) {
    super();
    this.address = address;
    this.connection = connection;
    this.disconnected = connection.whenClosed;
    void connection.whenClosed.then((error) => this.emit('disconnected', error));
  }

  /**
   * Connects to the server at `address`.
   * @throws ConnectError / ConnectionTimeoutError (nothing listening, too slow), AuthenticationError
   *   (wrong or missing `authKey`), ProtocolError (not a farcall rpc server).
   * @example
   * ```ts
   * const client = await RPCClient.connect('unix:///tmp/daq.sock', { authKey: process.env.DAQ_KEY });
   * ```
   */
  static async connect(address: string, options: RPCClientOptions = {}): Promise<RPCClient> {
    const connectTimeout = options.connectTimeout ?? 10_000;
    const log = partLog('rpc', options.logger);
    if (log.debugEnabled) log.debug(`connecting to ${address} (timeout ${connectTimeout} ms)`);
    let stream: Duplex;
    try {
      stream = await connectTransport(address, {
        timeoutMs: connectTimeout,
        signal: options.signal,
        tls: options.tls,
        logger: options.logger,
      });
    } catch (error) {
      if (log.debugEnabled) log.debug(`connecting to ${address} failed: ${(error as Error).message}`);
      throw error;
    }
    return RPCClient.fromStream(stream, address, options);
  }

  /**
   * A client over an already-connected stream whose other end an RPCServer serves (`server.serve(stream)`),
   * e.g. the pipe to a child process. Resolves after the handshake; the client owns the stream.
   *
   * @param name - names the server in messages and is the client's `address`, e.g. `'worker (pid 4711)'`
   * @example
   * ```ts
   * // parent:
   * const client = await RPCClient.fromStream(childChannel(child), 'worker');
   * // child:
   * const server = new RPCServer();
   * server.set('worker', new Worker());
   * server.serve(parentChannel());
   * ```
   */
  static async fromStream(stream: Duplex, name: string, options: RPCClientOptions = {}): Promise<RPCClient> {
    const connection = new Connection(stream, {
      side: 'client',
      authKey: options.authKey,
      policy: options.policy,
      timeout: options.timeout,
      maxFrameBytes: options.maxFrameBytes,
      handshakeTimeout: options.connectTimeout ?? 10_000,
      allowOwnerConnections: options.allowOwnerConnections,
      peerName: name,
      logger: options.logger,
    });
    try {
      await connection.ready;
    } catch (error) {
      await connection.close();
      throw error;
    }
    return new RPCClient(name, connection);
  }

  /**
   * The one cached client of `address` (pyacq's `RPCClient.get_client`): connects on first use, and again
   * after the cached one disconnected. `options` are used only when a new connection is made.
   */
  static getClient(address: string, options: RPCClientOptions = {}): Promise<RPCClient> {
    const key = cacheKey(address);
    let client = RPCClient.#cache.get(key);
    if (client === undefined) {
      client = RPCClient.connect(address, options);
      RPCClient.#cache.set(key, client);
      const forget = (): void => {
        if (RPCClient.#cache.get(key) === client) RPCClient.#cache.delete(key);
      };
      client.then((connected) => connected.disconnected.then(forget), forget);
    }
    return client;
  }

  /**
   * The server itself, as an object (pyacq's `client['self']`): `names()`, `get(name)`, `ping()`, `time()`,
   * `close()` (only where the server allows remote close).
   */
  get server(): RemoteServer {
    this.#server ??= new RemoteServer(this);
    return this.#server;
  }

  /** True until the connection ends. */
  get connected(): boolean {
    return !this.connection.closed;
  }

  /**
   * A proxy of the object the server published under `name`. Makes no request: the name is looked up
   * on each call, so an object the server publishes later is reached too.
   *
   * @example
   * ```ts
   * const scanner = client.get<Scanner>('scanner');
   * await scanner.start(10);
   * // A server with allowPublicAttrs: its data fields are typed too.
   * const rate: number = await client.get<Scanner, true>('scanner').rate;
   * ```
   * @typeParam F - `true` when the server's policy has `allowPublicAttrs`: see {@link Remote}
   */
  get<T = unknown, F extends boolean = false>(name: string): Remote<T, F> {
    // One proxy per name, so `client.get('calc').add(…)` in a loop reuses its cached member proxies.
    let proxy = this.#named.get(name);
    if (proxy === undefined) {
      proxy = createProxy(new ChannelTarget(this.connection, name));
      this.#named.set(name, proxy);
    }
    return proxy as Remote<T, F>;
  }

  /**
   * Publishes `value` on the server under `name` (a copy, or a reference for functions and class
   * instances: a callback the server's other clients can reach). A name the server published itself
   * cannot be replaced (AccessDeniedError).
   */
  async set(name: string, value: unknown): Promise<void> {
    await this.connection.request(Action.SET, name, [], [value], {});
  }

  /**
   * Imports `module` on the server and returns a proxy of its namespace. Only modules on the server's
   * `importable` allow-list are imported; anything else rejects with AccessDeniedError.
   *
   * @example
   * ```ts
   * const os = await client.import<typeof import('node:os')>('node:os');
   * const load = await os.loadavg();
   * ```
   */
  async import<T = unknown>(module: string): Promise<Remote<T>> {
    return (await this.connection.request(Action.IMPORT, 0, [], [module], {})) as Remote<T>;
  }

  /**
   * Sends `value` to the server, which keeps the copy, and returns a proxy of that copy (pyacq's
   * `transfer`): later calls use the data where it is, without sending it again.
   *
   * @example
   * ```ts
   * using samples = await client.transfer<number[]>([1, 2, 3]);
   * await samples.push(4);
   * ```
   */
  async transfer<T = unknown>(value: T): Promise<Remote<T>> {
    return (await this.connection.request(Action.TRANSFER, 0, [], [value], {
      returnType: 'proxy',
    })) as Remote<T>;
  }

  /** Round trip to the server; resolves with the time it took in milliseconds. */
  ping(timeout?: number): Promise<number> {
    return this.connection.ping(Math.random(), timeout);
  }

  /**
   * Estimates the server's clock minus this process's clock, in milliseconds: the median of `samples`
   * exchanges, each corrected by half its round-trip time.
   */
  async measureClockDiff(samples = 5): Promise<number> {
    const diffs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const before = performance.timeOrigin + performance.now();
      const remote = (await this.connection.request(Action.TIME, 0, [], [], {})) as number;
      const after = performance.timeOrigin + performance.now();
      diffs.push(remote - (before + after) / 2);
    }
    diffs.sort((a, b) => a - b);
    return diffs[diffs.length >> 1];
  }

  /** Asks the server to close; resolves once it accepted. Every client then sees `disconnected`. */
  async closeServer(): Promise<void> {
    await this.connection.request(Action.CLOSE_SERVER, 0, [], [], {});
  }

  /** Closes this client's connection (idempotent); pending calls reject with ConnectionClosedError. */
  close(): Promise<void> {
    return this.connection.close('the client closed the connection');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function cacheKey(address: string): string {
  try {
    return formatAddress(parseAddress(address));
  } catch (error) {
    if (error instanceof AddressError) return address;
    throw error;
  }
}

// A reference to an object of a third process reaches it over the cached client of its address.
setOwnerConnector(async (address) => (await RPCClient.getClient(address)).connection);
