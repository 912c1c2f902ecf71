/**
 * `Connection`: the symmetric core of farcall/rpc (RPyC's Connection). One byte stream, two peers; each
 * may serve a root object and call the other's. Requests are multiplexed by id and complete in any order;
 * one request and one reply per call.
 * @module
 */
import type { Duplex } from 'node:stream';
import {
  AccessDeniedError,
  AuthenticationError,
  ConnectionClosedError,
  ConnectionTimeoutError,
  FarcallError,
  PingError,
  ProtocolError,
  RemoteError,
  ResponseTimeoutError,
} from '../errors.js';
import { Codec, RemoteReference } from '../wire/codec.js';
import { FramedSocket } from '../wire/framed-socket.js';
import { authMac, type ConnectionSide, keyBytes, newNonce, verifyMac } from './auth.js';
import { ByReference, RequestDispatcher, type ServerContext } from './dispatch.js';
import { ForwardedTarget, type OwnerConnection } from './forwarding.js';
import {
  ACTION_NAMES,
  Action,
  type ActionCode,
  MessageKind,
  PROTOCOL_VERSION,
  peekMessageHead,
  ReturnTypeCode,
  type Target,
} from './messages.js';
import { AccessPolicy, type AccessPolicyOptions, describeObject } from './policy.js';
import { createProxy, proxyParts, type Remote } from './proxy.js';
import { ExportHolder, ExportTable, ImportedTarget, ImportTable } from './references.js';
import { type CallOptions, ChannelTarget, type RequestChannel } from './remote-target.js';

/** Options of a {@link Connection}. */
export interface ConnectionOptions {
  /** The object the peer reaches as `connection.root` on its side. Default: none. */
  root?: object;
  /** Which members of our objects the peer may reach. Default: `new AccessPolicy()` (safe). */
  policy?: AccessPolicy | AccessPolicyOptions;
  /**
   * A shared secret: before any request is served, each side proves it knows the key (HMAC-SHA256
   * challenge-response). Both sides must pass the same key, and must be on opposite `side`s.
   */
  authKey?: string | Uint8Array;
  /**
   * This end's role for authentication: the end that accepted the connection is 'server'. Default
   * 'client'. Only matters with `authKey`.
   */
  side?: ConnectionSide;
  /** Milliseconds allowed for the HELLO exchange and authentication. Default 5000. */
  handshakeTimeout?: number;
  /** Default timeout of each request, in milliseconds (`Infinity`: none). Default 30 000. */
  timeout?: number;
  /** The largest frame accepted from the peer. Default 64 MiB. */
  maxFrameBytes?: number;
  /** The deepest nesting accepted in a message from the peer. Default 1000. */
  maxDepth?: number;
  /** The owner table our objects are lent from; an RPCServer shares one among its connections. */
  exports?: ExportTable;
  /** Names the peer in messages (e.g. its address). */
  peerName?: string;
  /** @internal What an RPCServer adds: published names, importable modules, remote close. */
  server?: ServerContext;
}

/** Counters of a connection, for diagnostics. */
export interface ConnectionStats {
  /** Replies that matched no pending request (timed out, or bogus): dropped. */
  unknownReplies: number;
  /** Messages that could not be decoded or had a bad shape. */
  malformedMessages: number;
  /** Requests served. */
  requestsServed: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_HANDSHAKE_MS = 5_000;
/** Request ids wrap here; an id is free again long before (a request times out or completes). */
const MAX_REQUEST_ID = 0xffffffff;
const MAX_PATH_LENGTH = 256;

/** One request waiting for its reply. */
class PendingCall {
  constructor(
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
    readonly action: ActionCode,
    readonly target: Target,
    readonly path: readonly string[],
    readonly timeoutMs: number,
    public timer: NodeJS.Timeout | undefined,
  ) {}
}

/**
 * One end of an rpc connection over any byte stream (TCP, TLS, Unix socket, a child's pipe).
 *
 * - `connection.root` is a proxy of the peer's root object; `connection.call(name, args, options)` calls a
 *   member of it without a proxy (for layers built on top).
 * - Each side serves the `root` it was given, to the peer, under its access policy.
 * - A request that gets no reply within its timeout rejects with `ResponseTimeoutError`; the connection
 *   stays usable and the late reply is dropped.
 * - When the connection ends, every pending call rejects at once with `ConnectionClosedError`.
 * - A frame over the size limit, or bytes that are not frames, close the connection with a
 *   `ProtocolError`; a malformed message or unknown action gets an error reply and nothing else.
 *
 * Ownership: the Connection owns `stream` and destroys it when closed.
 *
 * @example
 * ```ts
 * // parent: serve nothing, call the child's root
 * const connection = new Connection<Calculator>(childChannel(child));
 * const sum = await connection.root.add(1, 2);
 * const same = await connection.call('add', [1, 2], { timeout: 1000 });
 * await connection.close();
 *
 * // child: serve a root object over its pipe
 * new Connection(parentChannel(), { root: new Calculator(), side: 'server' });
 * ```
 */
export class Connection<PeerRoot = unknown> implements RequestChannel, OwnerConnection {
  /** A proxy of the peer's root object (not thenable: `await connection.root` gives the proxy). */
  readonly root: Remote<PeerRoot>;
  /**
   * Resolves when the peer's HELLO arrived and, with an `authKey`, both sides are authenticated; rejects
   * (AuthenticationError, ProtocolError, ConnectionClosedError, ConnectionTimeoutError-like) if that fails.
   * Requests made before then are queued, not lost.
   */
  readonly ready: Promise<void>;
  /** Resolves (never rejects) when the connection has closed: with the error that closed it, if any. */
  readonly whenClosed: Promise<Error | undefined>;

  readonly #framed: FramedSocket;
  readonly #codec: Codec;
  readonly #dispatcher: RequestDispatcher;
  readonly #exports: ExportTable;
  readonly #holder = new ExportHolder();
  readonly #imports: ImportTable;
  readonly #pending = new Map<number, PendingCall>();
  readonly #defaultTimeout: number;
  readonly #side: ConnectionSide;
  readonly #key: Buffer | undefined;
  readonly #nonce: Buffer | undefined;
  readonly #peerName: string;
  #nextId = 1;
  #closed = false;
  #closeError: Error | undefined;
  #peerHello = false;
  #peerNonce: Buffer | undefined;
  /** The peer's HELLO carried a nonce: it requires authentication. */
  #peerWantsAuth = false;
  #peerOwnerId: string | undefined;
  #peerAddress: string | null = null;
  /** True once the peer proved it knows the key (or no key is used): its requests are served. */
  #peerVerified = false;
  /** Frames held back until the handshake is done (so nothing reaches an unauthenticated peer). */
  #queue: (Buffer | Buffer[])[] | undefined = [];
  /** Ids exported while encoding one message: given back if the encoding fails. */
  readonly #encodingExports: number[] = [];
  #handshakeTimer: NodeJS.Timeout | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #resolveClosed!: (error: Error | undefined) => void;
  readonly #stats: ConnectionStats = { unknownReplies: 0, malformedMessages: 0, requestsServed: 0 };

  constructor(stream: Duplex, options: ConnectionOptions = {}) {
    this.#exports = options.exports ?? new ExportTable();
    this.#defaultTimeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.#side = options.side ?? 'client';
    this.#peerName = options.peerName ?? 'the peer';
    this.#key = options.authKey === undefined ? undefined : keyBytes(options.authKey);
    this.#nonce = this.#key === undefined ? undefined : newNonce();
    const policy = AccessPolicy.from(options.policy);
    this.#dispatcher = new RequestDispatcher(options.root, options.server, policy, (id) =>
      this.#exports.lookup(id),
    );
    this.#imports = new ImportTable(this);
    this.#codec = new Codec({
      maxDepth: options.maxDepth,
      includeErrorStacks: policy.includeRemoteStack,
      hooks: {
        encodeObject: (value) => this.#encodeObject(value),
        decodeReference: (reference) => this.#decodeReference(reference),
      },
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // the same error reaches every pending call and whenClosed
    this.whenClosed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.root = createProxy<PeerRoot>(new ChannelTarget(this, 0));

    this.#framed = new FramedSocket(stream, { maxFrameBytes: options.maxFrameBytes });
    this.#framed.onFrame = (body) => this.#receive(body);
    this.#framed.onClose = (error) => this.#finish(error);
    const handshakeMs = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_MS;
    this.#handshakeTimer = setTimeout(() => this.#handshakeExpired(handshakeMs), handshakeMs);
    this.#handshakeTimer.unref();
    this.#sendNow(
      this.#encodeControl([
        MessageKind.HELLO,
        PROTOCOL_VERSION,
        this.#exports.ownerId,
        this.#exports.address,
        this.#nonce ?? null,
      ]),
    );
  }

  /** True once the connection has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The error that closed the connection, if it did not close cleanly. */
  get closeError(): Error | undefined {
    return this.#closeError;
  }

  /** Requests sent and waiting for their reply. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Counters for diagnostics (dropped replies, malformed messages, requests served). */
  get stats(): Readonly<ConnectionStats> {
    return this.#stats;
  }

  /** Where the peer listens for third parties (from its HELLO), or null. */
  get peerAddress(): string | null {
    return this.#peerAddress;
  }

  /** The peer's owner id (from its HELLO), once known. */
  get peerOwnerId(): string | undefined {
    return this.#peerOwnerId;
  }

  /** The table our objects are lent from. */
  get exports(): ExportTable {
    return this.#exports;
  }

  /** The number of the peer's objects we hold proxies of. */
  get importCount(): number {
    return this.#imports.size;
  }

  describePeer(): string {
    return this.#peerName;
  }

  /**
   * Calls member `path` of the peer's root object with `args`: one request, one reply. The low-level
   * form of `connection.root.a.b(…args)`, for layers that build their own API on a Connection.
   *
   * @param path - a member name, or a path of names (`['scan', 'start']`)
   * @param options - `timeout` (ms; default the connection's), `sync: 'off'` (resolve at once, no reply),
   *   `returnType`
   * @throws RemoteError (the peer's method threw), AccessDeniedError, ResponseTimeoutError,
   *   ConnectionClosedError
   * @example
   * ```ts
   * const sum = await connection.call('add', [1, 2], { timeout: 5000 });
   * ```
   */
  call(
    path: string | readonly string[],
    args: readonly unknown[] = [],
    options: CallOptions = {},
  ): Promise<unknown> {
    return this.request(Action.CALL, 0, typeof path === 'string' ? [path] : path, args, options);
  }

  /**
   * Sends `data` to the peer, which sends it back: resolves with the round-trip time in milliseconds.
   * @throws PingError if the data came back different; ResponseTimeoutError after `timeout` ms.
   */
  async ping(data: unknown = Date.now(), timeout?: number): Promise<number> {
    const start = performance.now();
    const echoed = await this.request(Action.PING, 0, [], [data], timeout === undefined ? {} : { timeout });
    if (!sameValue(echoed, data))
      throw new PingError(`The ping reply from ${this.#peerName} did not match the data sent`);
    return performance.now() - start;
  }

  /**
   * Sends one REQUEST (see docs/protocol.md) and resolves with the decoded reply.
   * Ownership: `path` and `args` are encoded before this returns, except binaries and typed arrays of
   * 64 KiB or more, which are written from their own memory: do not modify those until the call settles.
   */
  request(
    action: ActionCode,
    target: Target,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closedError(action, target, path));
    const wantsReply = options.sync !== 'off';
    const id = wantsReply ? this.#takeId() : null;
    const returnType = options.returnType === undefined ? 0 : ReturnTypeCode[options.returnType];
    const message =
      returnType === 0
        ? [MessageKind.REQUEST, id, action, target, path, args]
        : [MessageKind.REQUEST, id, action, target, path, args, returnType];
    let body: Buffer[];
    try {
      body = this.#encode(message);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#send(body);
    if (id === null) return Promise.resolve(undefined);
    const timeoutMs = options.timeout ?? this.#defaultTimeout;
    return new Promise((resolve, reject) => {
      const pending = new PendingCall(resolve, reject, action, target, path, timeoutMs, undefined);
      if (timeoutMs !== Number.POSITIVE_INFINITY && timeoutMs > 0) {
        pending.timer = setTimeout(timeoutExpired, timeoutMs, this as Connection, id);
      }
      this.#pending.set(id, pending);
    });
  }

  /** @internal Rejects the pending request `id` with a ResponseTimeoutError (its late reply is dropped). */
  expire(id: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    pending.reject(
      new ResponseTimeoutError(
        `${describeCall(pending.action, pending.target, pending.path)} on ${this.#peerName} got no reply within ` +
          `${pending.timeoutMs} ms. The connection stays open and a late reply is dropped; raise the 'timeout' ` +
          'call option if the remote work takes longer.',
        pending.timeoutMs,
      ),
    );
  }

  /** @internal Sends RELEASE: we hold `count` fewer references of the peer's object `id`. */
  sendRelease(id: number, count: number): void {
    if (this.#closed) return;
    this.#send(this.#encodeControl([MessageKind.RELEASE, id, count]));
  }

  /** @internal Sends RETAIN: we forwarded `count` references of the peer's object `id` to a third process. */
  sendRetain(id: number, count: number): void {
    if (this.#closed) return;
    this.#send(this.#encodeControl([MessageKind.RETAIN, id, count]));
  }

  /**
   * Closes the connection (idempotent): tells the peer why, rejects every pending call with
   * ConnectionClosedError, and resolves when the stream is closed.
   */
  async close(reason = 'closed by the peer'): Promise<void> {
    if (!this.#closed) {
      if (!this.#framed.closed) {
        try {
          this.#framed.send(this.#encodeControl([MessageKind.CLOSE, String(reason)]));
        } catch {
          // the stream is going away anyway
        }
      }
      this.#framed.close();
    }
    await this.whenClosed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- sending ---------------------------------------------------------------------------------------------

  #takeId(): number {
    let id = this.#nextId;
    // Skip ids still pending after a wrap-around (a call with a very long timeout).
    while (this.#pending.has(id)) id = id >= MAX_REQUEST_ID ? 1 : id + 1;
    this.#nextId = id >= MAX_REQUEST_ID ? 1 : id + 1;
    return id;
  }

  /**
   * Encodes a message that may carry our objects. If encoding fails, the references it exported are
   * given back (the peer never saw them).
   */
  #encode(message: unknown[]): Buffer[] {
    const exported = this.#encodingExports;
    exported.length = 0;
    try {
      return this.#codec.encodeParts(message);
    } catch (error) {
      for (const id of exported) this.#exports.release(id, 1, this.#holder);
      throw error;
    } finally {
      exported.length = 0;
    }
  }

  /** Encodes a message that carries no objects (control messages). */
  #encodeControl(message: unknown[]): Buffer {
    return this.#codec.encode(message);
  }

  #send(body: Buffer | Buffer[]): void {
    if (this.#queue !== undefined) this.#queue.push(body);
    else this.#sendNow(body);
  }

  #sendNow(body: Buffer | Buffer[]): void {
    if (this.#framed.closed) return;
    this.#framed.send(body);
  }

  #encodeObject(value: object): RemoteReference {
    const forced = value instanceof ByReference ? value.value : value;
    if (forced !== value || proxyParts(forced) === undefined) return this.#exportReference(forced);
    return this.#proxyReference(forced);
  }

  #exportReference(value: object): RemoteReference {
    const id = this.#exports.export(value, this.#holder);
    this.#encodingExports.push(id);
    return new RemoteReference(
      this.#exports.ownerId,
      id,
      this.#exports.address,
      typeof value === 'function',
      referenceTypeName(value),
    );
  }

  /**
   * A proxy we send on. Back to its owner (or to another connection of the same owner): the owner's own
   * reference, which it resolves to its object. To a third process, when the owner listens: the owner's
   * reference and address, after a RETAIN to the owner so it counts the new holder. Otherwise (an owner
   * that does not listen, or the peer's root or published name): lent as our own object, so requests for
   * it pass through us.
   */
  #proxyReference(proxy: object): RemoteReference {
    const parts = proxyParts(proxy) as { target: unknown; path: readonly string[] };
    if (parts.path.length > 0) {
      throw new TypeError(
        `A deferred attribute path (proxy.${parts.path.join('.')}) cannot be sent: await it first to send its value`,
      );
    }
    const target = parts.target;
    if (target instanceof ImportedTarget && !target.released) {
      const owner = target.channel as Connection;
      const ownerId = owner.peerOwnerId as string;
      const typeName = target.typeName;
      if (ownerId === this.#peerOwnerId)
        return new RemoteReference(ownerId, target.id, owner.peerAddress, true, typeName);
      if (owner.peerAddress !== null) {
        owner.sendRetain(target.id, 1);
        return new RemoteReference(ownerId, target.id, owner.peerAddress, true, typeName);
      }
    }
    if (target instanceof ForwardedTarget) {
      const reference = target.reference;
      if (reference.ownerId !== this.#peerOwnerId) target.retainForForwarding();
      return reference;
    }
    return this.#exportReference(proxy);
  }

  #decodeReference(reference: RemoteReference): unknown {
    if (reference.ownerId === this.#exports.ownerId) {
      const object = this.#exports.lookup(reference.objectId);
      if (object === undefined) {
        throw new ProtocolError(
          `${this.#peerName} sent back our object #${reference.objectId}, which is no longer lent`,
          'ERR_FARCALL_UNKNOWN_OBJECT',
        );
      }
      return object;
    }
    if (reference.ownerId === this.#peerOwnerId) {
      const target = this.#imports.receive(
        reference.objectId,
        (token) => new ImportedTarget(this, this.#imports, token, reference.typeName),
      );
      return proxyOfImport(target);
    }
    if (reference.address !== null && reference.address !== '')
      return createProxy(new ForwardedTarget(reference));
    throw new ProtocolError(
      `${this.#peerName} sent a reference to an object of another process that does not listen for connections`,
      'ERR_FARCALL_UNREACHABLE_OWNER',
    );
  }

  // --- receiving -------------------------------------------------------------------------------------------

  #receive(body: Buffer): void {
    let message: unknown;
    try {
      message = this.#codec.decode(body);
    } catch (error) {
      this.#undecodable(body, error as Error);
      return;
    }
    if (!Array.isArray(message) || typeof message[0] !== 'number') {
      this.#malformed(
        undefined,
        `a message must be an array starting with its kind, got ${typeName(message)}`,
      );
      return;
    }
    const kind = message[0];
    if (!this.#peerHello && kind !== MessageKind.HELLO && kind !== MessageKind.CLOSE) {
      this.#fail(
        new ProtocolError(
          `${this.#peerName} did not start with HELLO (message kind ${kind}): is it a farcall rpc peer of the same version?`,
        ),
      );
      return;
    }
    switch (kind) {
      case MessageKind.REQUEST:
        this.#onRequest(message);
        return;
      case MessageKind.REPLY:
        this.#onReply(message[1], message[2]);
        return;
      case MessageKind.ERROR:
        this.#onError(message);
        return;
      case MessageKind.RELEASE:
        if (this.#peerVerified && Number.isInteger(message[1]) && Number.isInteger(message[2])) {
          this.#exports.release(message[1], message[2], this.#holder);
        } else this.#stats.malformedMessages++;
        return;
      case MessageKind.RETAIN:
        if (this.#peerVerified && Number.isInteger(message[1]) && Number.isInteger(message[2])) {
          this.#exports.retain(message[1], message[2]);
        } else this.#stats.malformedMessages++;
        return;
      case MessageKind.HELLO:
        this.#onHello(message);
        return;
      case MessageKind.AUTH:
        this.#onAuth(message[1]);
        return;
      case MessageKind.CLOSE:
        this.#fail(
          !this.#peerVerified && (this.#key !== undefined || this.#peerWantsAuth)
            ? new AuthenticationError(`${this.#peerName} refused the connection: ${String(message[1])}`)
            : new ConnectionClosedError(`${this.#peerName} closed the connection: ${String(message[1])}`),
        );
        return;
      default:
        this.#malformed(undefined, `unknown message kind ${kind}`);
    }
  }

  /** A body that does not decode: answer the request (or fail the call) it belongs to, if we can tell. */
  #undecodable(body: Buffer, error: Error): void {
    this.#stats.malformedMessages++;
    const head = peekMessageHead(body);
    const protocolError =
      error instanceof ProtocolError
        ? error
        : new ProtocolError(`Malformed message: ${error.message}`, 'ERR_FARCALL_MALFORMED');
    if (head === undefined || !this.#peerHello) {
      if (!this.#peerHello) this.#fail(protocolError);
      return;
    }
    if (head.kind === MessageKind.REQUEST) this.#replyError(head.id, protocolError);
    else {
      const pending = this.#pending.get(head.id);
      if (pending !== undefined) {
        this.#settle(head.id, pending);
        pending.reject(
          new ProtocolError(
            `The reply from ${this.#peerName} could not be decoded: ${protocolError.message}`,
          ),
        );
      }
    }
  }

  #malformed(id: unknown, why: string): void {
    this.#stats.malformedMessages++;
    if (typeof id === 'number')
      this.#replyError(id, new ProtocolError(`Malformed request: ${why}`, 'ERR_FARCALL_MALFORMED'));
  }

  #onHello(message: unknown[]): void {
    if (this.#peerHello) {
      this.#malformed(undefined, 'a second HELLO');
      return;
    }
    const [, version, ownerId, address, nonce] = message;
    if (version !== PROTOCOL_VERSION) {
      this.#fail(
        new ProtocolError(
          `${this.#peerName} speaks rpc protocol version ${String(version)}, this side ${PROTOCOL_VERSION}: use the same farcall version on both sides`,
          'ERR_FARCALL_VERSION',
        ),
      );
      return;
    }
    if (typeof ownerId !== 'string' || !(address === null || typeof address === 'string')) {
      this.#fail(new ProtocolError(`${this.#peerName} sent a malformed HELLO`));
      return;
    }
    this.#peerHello = true;
    this.#peerOwnerId = ownerId;
    this.#peerAddress = address;
    const peerWantsAuth = nonce instanceof Uint8Array;
    this.#peerWantsAuth = peerWantsAuth;
    if (this.#key === undefined) {
      if (peerWantsAuth) {
        this.#refuse(`${this.#peerName} requires an authKey: pass the same 'authKey' option on this side`);
        return;
      }
      this.#handshakeDone();
      return;
    }
    if (!peerWantsAuth) {
      this.#refuse(
        `${this.#peerName} has no authKey, but this side requires one: pass the same 'authKey' on both sides`,
      );
      return;
    }
    this.#peerNonce = Buffer.from(nonce);
    if (this.#peerNonce.equals(this.#nonce as Buffer)) {
      this.#refuse('Authentication failed: the peer echoed our challenge');
      return;
    }
    this.#sendNow(
      this.#encodeControl([
        MessageKind.AUTH,
        authMac(this.#key, this.#side, this.#peerNonce, this.#nonce as Buffer),
      ]),
    );
  }

  #onAuth(mac: unknown): void {
    if (this.#key === undefined || this.#peerNonce === undefined || this.#peerVerified) {
      this.#refuse(`${this.#peerName} sent an unexpected AUTH message`);
      return;
    }
    if (!verifyMac(this.#key, this.#side, this.#nonce as Buffer, this.#peerNonce, mac)) {
      const hint =
        this.#side === 'client'
          ? ' (or both ends are side "client": the accepting end must be side "server")'
          : '';
      this.#refuse(`Authentication with ${this.#peerName} failed: the authKeys differ${hint}`);
      return;
    }
    this.#handshakeDone();
  }

  #handshakeDone(): void {
    this.#peerVerified = true;
    clearTimeout(this.#handshakeTimer);
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue !== undefined) for (const body of queue) this.#sendNow(body);
    this.#resolveReady();
  }

  #handshakeExpired(ms: number): void {
    if (this.#peerVerified || this.#closed) return;
    if (!this.#peerHello) {
      this.#fail(
        new ConnectionTimeoutError(
          `${this.#peerName} did not send its HELLO within ${ms} ms: is it a farcall rpc peer? (raise the handshake timeout if it is very busy)`,
          ms,
        ),
      );
      return;
    }
    this.#refuse(`${this.#peerName} did not authenticate within ${ms} ms: does it have the same authKey?`);
  }

  /** Authentication failed: tell the peer, then close with an AuthenticationError. */
  #refuse(message: string): void {
    const error = new AuthenticationError(message);
    if (!this.#framed.closed) {
      try {
        this.#framed.send(this.#encodeControl([MessageKind.CLOSE, message]));
      } catch {
        // closing anyway
      }
    }
    this.#fail(error);
  }

  #onRequest(message: unknown[]): void {
    const id = message[1];
    if (id !== null && !(Number.isInteger(id) && (id as number) >= 0 && (id as number) <= MAX_REQUEST_ID)) {
      this.#malformed(undefined, 'bad request id');
      return;
    }
    if (!this.#peerVerified) {
      this.#fail(new ProtocolError(`${this.#peerName} sent a request before authenticating`));
      return;
    }
    const requestId = id as number | null;
    const action = message[2] as ActionCode;
    const target = message[3] as Target;
    const path = message[4] as string[];
    const args = message[5] as unknown[];
    const returnType = message[6] ?? 0;
    const problem = checkRequest(action, target, path, args, returnType);
    if (problem !== undefined) {
      this.#malformed(requestId, problem);
      return;
    }
    this.#stats.requestsServed++;
    let result: unknown;
    try {
      result = this.#dispatcher.perform(action, target, path, args);
    } catch (error) {
      this.#replyError(requestId, error);
      return;
    }
    if (requestId === null) {
      if (isThenable(result)) result.then(undefined, () => {});
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#reply(requestId, value, returnType as number),
        (error) => this.#replyError(requestId, error),
      );
    } else this.#reply(requestId, result, returnType as number);
  }

  #reply(id: number, value: unknown, returnType: number): void {
    if (this.#closed) return;
    let body: Buffer[];
    try {
      let result = value;
      if (
        returnType === ReturnTypeCode.proxy &&
        ((typeof value === 'object' && value !== null) || typeof value === 'function')
      ) {
        result = value instanceof ByReference ? value : new ByReference(value);
      } else if (returnType === ReturnTypeCode.value && !(value instanceof ByReference)) {
        result = this.#dispatcher.policy.toPlainValue(value);
      }
      body = this.#encode([MessageKind.REPLY, id, result]);
    } catch (error) {
      this.#replyError(id, error);
      return;
    }
    this.#send(body);
  }

  #replyError(id: number | null, error: unknown): void {
    if (this.#closed || id === null) return;
    const includeStack = this.#dispatcher.policy.includeRemoteStack;
    let name = 'Error';
    let message: string;
    let code: string | null = null;
    let stack: string | null = null;
    let member: string | null = null;
    if (error instanceof Error) {
      const remote = error instanceof RemoteError;
      name = remote ? error.remoteName : error.name;
      message = remote ? error.message.slice(error.remoteName.length + 2) : error.message;
      const rawCode = remote ? error.remoteCode : (error as { code?: unknown }).code;
      if (typeof rawCode === 'string' || typeof rawCode === 'number') code = String(rawCode);
      if (includeStack) stack = (remote ? error.remoteStack : error.stack) ?? null;
      if (error instanceof AccessDeniedError) member = error.member;
    } else {
      message = `A non-Error value was thrown: ${String(error)}`;
    }
    this.#send(this.#encodeControl([MessageKind.ERROR, id, name, message, code, stack, member]));
  }

  #onReply(id: unknown, value: unknown): void {
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (pending === undefined) {
      this.#stats.unknownReplies++;
      return;
    }
    this.#settle(id as number, pending);
    pending.resolve(value);
  }

  #onError(message: unknown[]): void {
    const id = message[1];
    const pending = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (pending === undefined) {
      this.#stats.unknownReplies++;
      return;
    }
    this.#settle(id as number, pending);
    pending.reject(errorFromMessage(message));
  }

  #settle(id: number, pending: PendingCall): void {
    this.#pending.delete(id);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
  }

  // --- closing ---------------------------------------------------------------------------------------------

  /** Closes the connection because of `error` (a protocol or authentication failure, the peer's CLOSE). */
  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closeError = error;
    // A clean close flushes what was queued (a CLOSE telling the peer why) before the stream ends.
    this.#framed.close();
  }

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const cause = this.#closeError ?? error;
    this.#closeError = cause;
    clearTimeout(this.#handshakeTimer);
    this.#queue = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const call of pending) {
      if (call.timer !== undefined) clearTimeout(call.timer);
      call.reject(this.#closedError(call.action, call.target, call.path));
    }
    this.#imports.clear();
    this.#exports.releaseHolder(this.#holder);
    if (!this.#peerVerified) {
      this.#rejectReady(
        cause instanceof FarcallError
          ? cause
          : new ConnectionClosedError(`The connection to ${this.#peerName} closed during the handshake`, {
              cause,
            }),
      );
    }
    this.#resolveClosed(cause);
  }

  #closedError(action: ActionCode, target: Target, path: readonly string[]): Error {
    const cause = this.#closeError;
    if (cause instanceof AuthenticationError) return cause;
    const why =
      cause === undefined
        ? 'the connection was closed'
        : cause instanceof ConnectionClosedError
          ? cause.message
          : `the connection failed: ${cause.message}`;
    return new ConnectionClosedError(
      `${describeCall(action, target, path)} on ${this.#peerName} failed: ${why}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

function timeoutExpired(connection: Connection, id: number): void {
  connection.expire(id);
}

const importProxies = new WeakMap<ImportedTarget, object>();

/** The one proxy of an imported object, so the same remote object is always the same proxy (===). */
function proxyOfImport(target: ImportedTarget): object {
  let proxy = importProxies.get(target);
  if (proxy === undefined) {
    proxy = createProxy(target) as object;
    importProxies.set(target, proxy);
  }
  return proxy;
}

/** The type name a reference carries, for messages; never touches a proxy's members (that would build paths). */
function referenceTypeName(value: object): string {
  const parts = proxyParts(value);
  if (parts !== undefined) return parts.target instanceof ImportedTarget ? parts.target.typeName : 'proxy';
  if (typeof value === 'function')
    return typeof value.name === 'string' && value.name ? value.name : 'function';
  return describeObject(value).replace(/ instance$/, '');
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function checkRequest(
  action: unknown,
  target: unknown,
  path: unknown,
  args: unknown,
  returnType: unknown,
): string | undefined {
  if (typeof action !== 'number' || ACTION_NAMES[action] === undefined)
    return `unknown action ${String(action)}`;
  if (!(typeof target === 'string' || (Number.isInteger(target) && (target as number) >= 0))) {
    return 'the target must be an object id or a published name';
  }
  if (
    !Array.isArray(path) ||
    path.length > MAX_PATH_LENGTH ||
    !path.every((name) => typeof name === 'string')
  ) {
    return 'the path must be an array of member names';
  }
  if (!Array.isArray(args)) return 'the arguments must be an array';
  if (returnType !== 0 && returnType !== 1 && returnType !== 2)
    return `unknown return type ${String(returnType)}`;
  return undefined;
}

function errorFromMessage(message: unknown[]): Error {
  const [, , name, text, code, stack, member] = message;
  const remoteName = typeof name === 'string' ? name : 'Error';
  const remoteMessage = typeof text === 'string' ? text : String(text);
  if (code === 'ERR_FARCALL_ACCESS_DENIED' && typeof member === 'string') {
    return new AccessDeniedError(member, remoteMessage);
  }
  if (remoteName === 'ProtocolError' && typeof code === 'string' && code.startsWith('ERR_FARCALL_')) {
    return new ProtocolError(`The peer rejected the request: ${remoteMessage}`, code);
  }
  return new RemoteError({
    name: remoteName,
    message: remoteMessage,
    remoteStack: typeof stack === 'string' ? stack : undefined,
    remoteCode: typeof code === 'string' ? code : undefined,
  });
}

function describeCall(action: ActionCode, target: Target, path: readonly string[]): string {
  const base = target === 0 ? 'root' : typeof target === 'string' ? target : `#${target}`;
  const member = path.length > 0 ? `${base}.${path.join('.')}` : base;
  const name = ACTION_NAMES[action] ?? `action ${action}`;
  if (action === Action.CALL) return `The call ${member}()`;
  if (action === Action.GET) return `Reading ${member}`;
  return `The ${name} request${action <= Action.DELETE ? ` for ${member}` : ''}`;
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    );
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
    );
  }
  return false;
}
