/**
 * `RPCServer`: publishes objects by name and serves them to every client that connects (pyacq's
 * RPCServer). Each accepted connection is a {@link Connection}; all of them lend from one export table,
 * so an object handed to two clients has one id and is kept alive while either holds it.
 * @module
 */
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { AccessDeniedError } from '../errors.js';
import { type Logger, type PartLog, partLog } from '../log/logger.js';
import { type Listener, listenTransport } from '../wire/transports.js';
import { Connection } from './connection.js';
import type { ServerContext } from './dispatch.js';
import { HandshakeGate } from './handshake-gate.js';
import { AccessPolicy, type AccessPolicyOptions } from './policy.js';
import { ExportTable } from './references.js';

/** Who connected to an RPCServer, as its `onConnect` / `onDisconnect` hooks see it. */
export interface PeerInfo {
  /** Where the peer connects from: `'tcp://127.0.0.1:53422'`, `'unix'`, or the stream's name (a pipe). */
  readonly address: string;
  /** The peer's owner id (its identity for references; random per process), from its HELLO. */
  readonly ownerId: string;
  /** Where the peer itself listens for third parties (from its HELLO), or null. */
  readonly listensAt: string | null;
  /** True if the peer proved it knows the server's `authKey`; false when the server has none. */
  readonly authenticated: boolean;
  /** The connection to the peer (to close it, or call its callbacks). */
  readonly connection: Connection;
}

/** Options of {@link RPCServer.listen}. */
export interface RPCServerOptions {
  /** Where to listen. Default `'tcp://127.0.0.1:0'` (loopback, any free port; see `server.address`). */
  address?: string;
  /** Which members of the published objects clients may reach. Default: safe (see AccessPolicy). */
  policy?: AccessPolicy | AccessPolicyOptions;
  /** A shared secret every client must prove it knows (HMAC challenge-response) before it is served. */
  authKey?: string | Uint8Array;
  /** Module specifiers clients may `import()` (e.g. `['node:os']`). Default: none. */
  importable?: readonly string[];
  /** The largest frame accepted from a client, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
  /**
   * Stop reading a client's requests while more than this many bytes of replies wait to be written to it
   * (it is not reading them), so one client cannot grow the server's memory without bound. Default 64 MiB.
   */
  maxWriteBufferBytes?: number;
  /** Default timeout (ms) of calls the server makes into clients (their callbacks). Default 30 000. */
  timeout?: number;
  /**
   * Let every client close the server with `client.closeServer()`. Default false: only a connection
   * served with `serve(stream, { canCloseServer: true })` may (a ProcessSpawner's own client may close
   * its child).
   */
  allowRemoteClose?: boolean;
  /**
   * Let a client replace or remove (`client.set(name, null)`) a name ANOTHER client published. Default
   * false: a client may publish new names and change its own; names the server published are never
   * replaced by a client.
   */
  allowNameTakeover?: boolean;
  /** Milliseconds a client has for the HELLO exchange and authentication. Default 5000. */
  handshakeTimeout?: number;
  /**
   * Connections that may be in their handshake (not yet authenticated) at once; beyond it the oldest is
   * closed. Their frames are limited to 16 KiB until they are. Default 64.
   */
  maxUnauthenticatedConnections?: number;
  /**
   * Called when a client has connected (after authentication), before any of its requests is served
   * (RPyC's `on_connect`). Throwing refuses that client: its connection closes with the error's message
   * (also when a returned promise rejects); the server keeps serving the others.
   */
  onConnect?: (peer: PeerInfo) => void | Promise<void>;
  /**
   * Called when a client that `onConnect` admitted has gone (it closed, died, or the server closed), with
   * the error that ended the connection if any. A throw is reported as a process warning, never more.
   */
  onDisconnect?: (peer: PeerInfo, reason: Error | undefined) => void | Promise<void>;
  /** Key and certificate for a `tls://` address. */
  tls?: tls.TlsOptions;
  /**
   * Addresses of third processes this side may connect to directly when a peer hands it a proxy of an
   * object such a process owns (`['*']`: any; at most 64). The connection opens when the proxy is first
   * used. Default none: such proxies come as the peer's own objects and calls on them go through the peer.
   */
  allowOwnerConnections?: readonly string[];
  /**
   * Receives debug records: listening, every client connection opened and closed (address, peer
   * identity), handshakes (ok, or failed and why), requests (name, id, duration, error class). Never
   * argument values, keys or tokens. `NODE_DEBUG=farcall:rpc` writes the same lines to stderr. Default
   * none.
   */
  logger?: Logger;
}

/**
 * Serves published objects to rpc clients.
 *
 * @example
 * ```ts
 * class Calculator { add(a: number, b: number) { return a + b; } }
 * await using server = await RPCServer.listen({ address: 'tcp://127.0.0.1:0' });
 * server.set('calc', new Calculator());
 * console.log(`listening on ${server.address}`);
 * ```
 */
export class RPCServer implements AsyncDisposable {
  readonly #objects = new Map<string, unknown>();
  /** Names the server published itself: clients may not replace them. */
  readonly #ownNames = new Set<string>();
  /** Names a client published, and which connection published them. */
  readonly #clientNames = new Map<string, object>();
  readonly #connections = new Set<Connection>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #exports = new ExportTable();
  readonly #policy: AccessPolicy;
  readonly #options: RPCServerOptions;
  readonly #gate: HandshakeGate;
  readonly #importable: readonly string[];
  readonly #log: PartLog;
  #listener: Listener | undefined;
  #closing: Promise<void> | undefined;

  /**
   * A server that is not listening: it serves the streams given to {@link serve} (a child's pipe).
   * Use {@link RPCServer.listen} to accept connections.
   */
  constructor(options: RPCServerOptions = {}) {
    this.#options = options;
    this.#policy = AccessPolicy.from(options.policy);
    this.#gate = new HandshakeGate(options.maxUnauthenticatedConnections);
    this.#importable = Object.freeze([...(options.importable ?? [])]);
    this.#log = partLog('rpc', options.logger);
  }

  /** What one connection may do to this server: `canCloseServer` is that connection's own right. */
  #contextFor(publisher: object, canCloseServer: boolean): ServerContext {
    return {
      lookup: (name) => (this.#objects.has(name) ? (this.#objects.get(name) as object) : undefined),
      names: () => [...this.#objects.keys()],
      publish: (name, value) => this.#publishFromClient(name, value, publisher),
      importable: this.#importable,
      closeServer: () => {
        if (!canCloseServer && this.#options.allowRemoteClose !== true) {
          throw new AccessDeniedError(
            'closeServer',
            'This server does not let its clients close it: start it with allowRemoteClose: true to allow that',
          );
        }
        // After this turn's reply has been flushed.
        setImmediate(() => void this.close());
      },
    };
  }

  /**
   * Starts a server listening at `options.address` (default: loopback TCP, any free port).
   * @throws ConnectError when the address cannot be listened on (in use, no permission).
   */
  static async listen(options: RPCServerOptions = {}): Promise<RPCServer> {
    const server = new RPCServer(options);
    server.#listener = await listenTransport(
      options.address ?? 'tcp://127.0.0.1:0',
      (stream) => server.serve(stream),
      {
        tls: options.tls,
        logger: options.logger,
      },
    );
    server.#exports.address = server.#listener.address;
    if (server.#log.debugEnabled) {
      server.#log.debug(
        `RPCServer listening at ${server.#listener.address} ` +
          `(${options.authKey === undefined ? 'no authKey' : 'authKey required'})`,
      );
    }
    return server;
  }

  /** The address clients connect to (the real port), or null if the server does not listen. */
  get address(): string | null {
    return this.#listener?.address ?? null;
  }

  /** True until {@link close} is called. */
  get running(): boolean {
    return this.#closing === undefined;
  }

  /** The connections being served now. */
  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  /** The number of objects lent to clients now (a diagnostic: it falls as clients release proxies). */
  get lentObjects(): number {
    return this.#exports.size;
  }

  /**
   * Publishes `value` under `name` (pyacq's `server['name'] = value`): clients reach it with
   * `client.get(name)`. Replaces what was published under that name.
   */
  set(name: string, value: unknown): void {
    if (value === undefined)
      throw new TypeError(`Cannot publish undefined under '${name}': use delete(name)`);
    this.#objects.set(name, value);
    this.#ownNames.add(name);
    this.#clientNames.delete(name);
  }

  /** What is published under `name`, or undefined. */
  get(name: string): unknown {
    return this.#objects.get(name);
  }

  /** Stops publishing `name`; returns whether it was published. Proxies already handed out keep working. */
  delete(name: string): boolean {
    this.#ownNames.delete(name);
    this.#clientNames.delete(name);
    return this.#objects.delete(name);
  }

  /** The published names. */
  names(): string[] {
    return [...this.#objects.keys()];
  }

  /**
   * Serves one already-connected stream (a child's pipe, a socket accepted elsewhere) as a client
   * connection of this server. The server owns the stream from now on.
   */
  serve(stream: Duplex, options: { peerName?: string; canCloseServer?: boolean } = {}): Connection {
    const publisher = {};
    const connection = new Connection(stream, {
      side: 'server',
      policy: this.#policy,
      authKey: this.#options.authKey,
      maxFrameBytes: this.#options.maxFrameBytes,
      maxWriteBufferBytes: this.#options.maxWriteBufferBytes,
      timeout: this.#options.timeout,
      handshakeTimeout: this.#options.handshakeTimeout,
      allowOwnerConnections: this.#options.allowOwnerConnections,
      exports: this.#exports,
      server: this.#contextFor(publisher, options.canCloseServer === true),
      peerName: options.peerName ?? describeStream(stream),
      log: this.#log,
      onReady: (ready) => this.#connected(ready, peerAddressOf(stream, options.peerName)),
    });
    if (this.#closing !== undefined) {
      void connection.close('the server is closing');
      return connection;
    }
    this.#gate.admit(connection);
    this.#connections.add(connection);
    void connection.whenClosed.then(() => this.#connections.delete(connection));
    return connection;
  }

  /**
   * Calls `callback` every `intervalMs` milliseconds until the returned function is called or the server
   * closes (pyacq's timers, on this server's event loop). A tick is skipped while an async callback from
   * the previous one is still running; a callback that throws is reported as a process warning.
   *
   * @example
   * ```ts
   * const stop = server.startTimer(() => sensor.poll(), 100);
   * ```
   */
  startTimer(callback: () => unknown, intervalMs: number): () => void {
    let busy = false;
    const report = (error: unknown): void => {
      process.emitWarning(
        `An RPCServer timer callback threw: ${error instanceof Error ? error.stack : String(error)}`,
      );
    };
    const timer = setInterval(() => {
      if (busy) return;
      try {
        const result = callback();
        if (result instanceof Promise) {
          busy = true;
          result.then(
            () => {
              busy = false;
            },
            (error) => {
              busy = false;
              report(error);
            },
          );
        }
      } catch (error) {
        report(error);
      }
    }, intervalMs);
    this.#timers.add(timer);
    return () => {
      clearInterval(timer);
      this.#timers.delete(timer);
    };
  }

  /**
   * Stops the server (idempotent): stops its timers, tells every client (their pending calls reject with
   * ConnectionClosedError and they see `disconnected`), and stops listening.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = (async () => {
        for (const timer of this.#timers) clearInterval(timer);
        this.#timers.clear();
        await Promise.all([...this.#connections].map((connection) => connection.close('the server closed')));
        await this.#listener?.close();
        if (this.#log.debugEnabled) this.#log.debug(`RPCServer at ${this.address ?? '(no address)'} closed`);
      })();
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A client finished its handshake: run onConnect (a throw refuses it), and onDisconnect when it goes. */
  #connected(connection: Connection, address: string): void {
    const { onConnect, onDisconnect } = this.#options;
    if (onConnect === undefined && onDisconnect === undefined) return;
    const peer: PeerInfo = {
      address,
      ownerId: connection.peerOwnerId ?? '',
      listensAt: connection.peerAddress ?? null,
      authenticated: this.#options.authKey !== undefined,
      connection,
    };
    // A synchronous throw propagates: the Connection refuses the peer before serving anything.
    const result = onConnect?.(peer);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        const why = error instanceof Error ? error.message : String(error);
        void connection.close(`the server refused the connection: ${why}`);
      });
    }
    if (onDisconnect !== undefined) {
      void connection.whenClosed.then(async (reason) => {
        try {
          await onDisconnect(peer, reason);
        } catch (error) {
          process.emitWarning(
            `An RPCServer onDisconnect hook threw: ${error instanceof Error ? error.stack : String(error)}`,
          );
        }
      });
    }
  }

  #publishFromClient(name: string, value: unknown, publisher: object): void {
    if (this.#ownNames.has(name)) {
      throw new AccessDeniedError(
        name,
        `'${name}' is published by the server itself: a client cannot replace it`,
      );
    }
    const owner = this.#clientNames.get(name);
    if (owner !== undefined && owner !== publisher && this.#options.allowNameTakeover !== true) {
      throw new AccessDeniedError(
        name,
        `'${name}' was published by another client: a client cannot replace it (the server's allowNameTakeover option allows that)`,
      );
    }
    if (value === undefined || value === null) {
      this.#objects.delete(name);
      this.#clientNames.delete(name);
    } else {
      this.#objects.set(name, value);
      this.#clientNames.set(name, publisher);
    }
  }
}

function peerAddressOf(stream: Duplex, name: string | undefined): string {
  const socket = stream as Duplex & { remoteAddress?: string; remotePort?: number; remoteFamily?: string };
  if (socket.remoteAddress !== undefined) {
    const host = socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress;
    const scheme = (stream as { encrypted?: boolean }).encrypted === true ? 'tls' : 'tcp';
    return `${scheme}://${host}:${socket.remotePort}`;
  }
  if (typeof (stream as { address?: unknown }).address === 'function') return 'unix';
  return name ?? 'a stream';
}

function describeStream(stream: Duplex): string {
  const socket = stream as Duplex & { remoteAddress?: string; remotePort?: number };
  if (socket.remoteAddress !== undefined) return `client ${socket.remoteAddress}:${socket.remotePort}`;
  return 'a client';
}
