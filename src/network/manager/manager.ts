/**
 * The Network Manager: accepts Services and Clients (TCP, TLS by default), authenticates them, routes
 * each Client's requests to the Service it names and the Service's replies back, forwards a Service's
 * notifications to the Clients linked with it, and enforces links, `max_clients` and locks.
 *
 * It speaks msl-network's protocol, so Python Services and Clients work with it, and it fixes the
 * Python Manager's defects: every error for a request carries that request's uid; a malformed line is
 * answered and the peer keeps being read; links and locks are enforced on every forwarded request; a
 * Service may only answer requests it was sent; requests pending on a Service that leaves fail at once;
 * admin requests go through an allow-list; trusted hostnames are re-read for each connection.
 *
 * This file is the routing core. Beside it: `start-manager.ts` (options, credentials, listening),
 * `links.ts` (links and locks), `pending-requests.ts`, `flow-control.ts`, `peer-state.ts`,
 * `handshake.ts`, `admin.ts`, `peer.ts` (one connection's lines and limits) and the fast path:
 * `common-lines.ts` (the two commonest lines, matched whole), `routing-fields.ts` (any line's routing
 * members without parsing it), `fast-route.ts` (which lines
 * take it) and `outgoing-lines.ts` (one write per destination per chunk of input).
 *
 * @example
 * ```ts
 * import { startManager } from 'farcall/network';
 *
 * await using manager = await startManager({ port: 0, disableTls: true, home: '/tmp/farcall' });
 * console.log(`Network Manager running on ${manager.host}:${manager.port}`);
 * await manager.closed; // until an admin sends shutdown_manager (or manager.close())
 * ```
 * @module
 */
import type { Server, Socket } from 'node:net';
import { machine, type as osType, release } from 'node:os';
import { ConnectionClosedError, FarcallTimeoutError, JsonDepthError } from '../../errors.js';
import { parseJson, stringifyJson, topLevelString } from '../protocol/json.js';
import {
  type ClientIdentity,
  type ClientSummary,
  classifyMessage,
  errorMessage,
  isPlainObject,
  MANAGER_SERVICE,
  type ManagerIdentity,
  type NotificationMessage,
  pythonRepr,
  type RequestMessage,
  replyMessage,
  type ServiceIdentity,
  type ServiceSummary,
} from '../protocol/messages.js';
import { jsonDecodeErrorMessage, parseTerminalLine } from '../protocol/terminal.js';
import { localHostname } from '../shared/certificates.js';
import { type AdminContext, runAdminRequest } from './admin.js';
import { matchCommonLine } from './common-lines.js';
import type { ManagerDatabase } from './database.js';
import { isForwardableRequest, isNotification, isServiceAnswer, notificationOf } from './fast-route.js';
import { dropBlocked, isBlocked, throttle, unblock } from './flow-control.js';
import { logRepr, notificationLogLine, replyLogLine, requestLogLine } from './forwarding-log-lines.js';
import {
  type AuthenticationMode,
  askIdentity,
  authenticate,
  type HandshakeContext,
  login,
} from './handshake.js';
import { AUTHENTICATION_LINE_LIMIT, DEFERRED_LINES_LIMIT, IDENTITY_LINE_LIMIT } from './limits.js';
import { closingBrace, findMember, isHandshakeAnswer } from './line-scan.js';
import {
  accessRefusal,
  acquireLock,
  dropClientLinks,
  dropServiceLinks,
  type LinkOutcome,
  link,
  releaseLock,
  unlink,
} from './links.js';
import type { ManagerLog } from './log.js';
import { type LoginLimits, LoginThrottle } from './login-throttle.js';
import { afterWrites, type OversizeSample, PeerConnection, UnfinishedLines } from './peer.js';
import {
  type ClientState,
  newClientState,
  newServiceState,
  type PeerState,
  requesterOf,
  type ServiceState,
} from './peer-state.js';
import { addPending, dropClientPending, takeAllPending, takePending } from './pending-requests.js';
import { type RoutingFields, scanRoutingFields } from './routing-fields.js';

const MANAGER_ATTRIBUTES = { identity: '() -> dict', link: '(service: str) -> bool' };

/**
 * A running Network Manager. Stop it with {@link Manager.close} (or `await using`); {@link Manager.closed}
 * settles when it has stopped for any reason (including an admin's `shutdown_manager`).
 */
export class Manager {
  /** The address it listens on. */
  readonly host: string;
  /** The host its ready line names: the `host` it was given, else this computer's host name (as msl-network). */
  readonly announcedHost: string;
  /** The port it listens on (the real one when started with port 0). */
  readonly port: number;
  /** Whether peers must speak TLS. */
  readonly tlsEnabled: boolean;
  /** The certificate file peers are served (when TLS is on). */
  readonly certFile: string | undefined;
  /** `Manager[<hostname>:<port>]`, the name it uses on the wire. */
  readonly name: string;
  /** The database file. */
  readonly databasePath: string;
  /** Settles once the Manager has stopped and released its port and files. */
  readonly closed: Promise<void>;

  readonly #server: Server;
  readonly #database: ManagerDatabase;
  readonly #log: ManagerLog;
  /** Debug lines go somewhere: only then are they built (the routing path stays as fast as without). */
  readonly #debug: boolean;
  readonly #auth: AuthenticationMode;
  readonly #readLimit: number;
  readonly #handshakeTimeout: number;
  readonly #failureDelay: number;
  readonly #backlogLimit: number;
  readonly #unfinished: UnfinishedLines;
  readonly #logins: LoginThrottle;
  readonly #peers = new Set<PeerConnection>();
  // Every TCP socket the server accepted (before TLS too), until it closes.
  readonly #sockets = new Set<Socket>();
  readonly #states = new Map<PeerConnection, PeerState>();
  readonly #clients = new Map<string, ClientState>();
  readonly #services = new Map<string, ServiceState>();
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;

  /** @internal Use {@link startManager}. */
  constructor(init: {
    server: Server;
    host: string;
    announcedHost?: string;
    port: number;
    tlsEnabled: boolean;
    certFile: string | undefined;
    database: ManagerDatabase;
    log: ManagerLog;
    auth: AuthenticationMode;
    readLimit: number;
    handshakeTimeout: number;
    failureDelay: number;
    backlogLimit: number;
    unfinishedLinesLimit: number;
    loginLimits: Partial<LoginLimits> | undefined;
  }) {
    this.#server = init.server;
    this.host = init.host;
    this.announcedHost = init.announcedHost ?? localHostname();
    this.port = init.port;
    this.tlsEnabled = init.tlsEnabled;
    this.certFile = init.certFile;
    this.#database = init.database;
    this.databasePath = init.database.path;
    this.#log = init.log;
    this.#debug = init.log.enabled('debug');
    // Log lines are built and written once the chunk's messages are forwarded (off the reply's path).
    init.log.deferWith(afterWrites);
    this.#auth = init.auth;
    this.#readLimit = init.readLimit;
    this.#handshakeTimeout = init.handshakeTimeout;
    this.#failureDelay = init.failureDelay;
    this.#backlogLimit = init.backlogLimit;
    this.#unfinished = new UnfinishedLines(init.unfinishedLinesLimit);
    this.#logins = new LoginThrottle(init.loginLimits);
    this.name = `Manager[${localHostname()}:${this.port}]`;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** @internal Called by {@link startManager} for each TCP connection, before TLS. */
  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** @internal Called by {@link startManager} for each accepted (and, with TLS, secured) socket. */
  accept(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    const peer = new PeerConnection(
      socket,
      {
        onLine: (p, line) => this.#onLine(p, line),
        onOversize: (p, sample) => this.#onOversize(p, sample),
        onClose: (p) => this.#onClose(p),
        onUnfinishedOverLimit: (p, unfinished, held) => this.#onUnfinishedOverLimit(p, unfinished, held),
      },
      Math.min(
        this.#auth.kind === 'password' || this.#auth.kind === 'login'
          ? AUTHENTICATION_LINE_LIMIT
          : IDENTITY_LINE_LIMIT,
        this.#readLimit,
      ),
      this.#unfinished,
    );
    this.#peers.add(peer);
    this.#database.logConnection(peer, peer.networkName, 'new connection request');
    this.#log.info(`new connection request from ${peer.address}`);
    if (this.#debug) {
      this.#log.debug(
        `connection from ${peer.ip}:${peer.port} (${this.tlsEnabled ? 'TLS' : 'plain TCP'}, ` +
          `authentication: ${this.#auth.kind})`,
      );
    }
    void this.#handshake(peer);
  }

  /** How many peers are connected (in the handshake or registered). */
  get connectionCount(): number {
    return this.#peers.size;
  }

  /** The Manager's identity, as the `identity` request returns it. */
  identity(): ManagerIdentity {
    const clients: Record<string, ClientSummary> = {};
    for (const [name, client] of this.#clients) clients[name] = client.summary;
    const services: Record<string, ServiceSummary> = {};
    for (const [name, service] of this.#services) services[name] = service.summary;
    return {
      hostname: localHostname(),
      port: this.port,
      attributes: { ...MANAGER_ATTRIBUTES },
      language: `Node.js ${process.versions.node}`,
      os: `${osType()} ${release()} ${machine()}`,
      clients,
      services,
    };
  }

  // -----------------------------------------------------------------------------------------------
  // handshake
  // -----------------------------------------------------------------------------------------------

  #handshakeContext(peer: PeerConnection, deadline: number): HandshakeContext {
    return {
      managerName: this.name,
      deadline,
      failureDelayMs: this.#failureDelay,
      log: (event) => {
        this.#database.logConnection(peer, peer.networkName, event);
        this.#log.info(`${peer.networkName}: ${event}`);
      },
      warn: (event) => {
        this.#database.logConnection(peer.address, peer.networkName, event);
        this.#log.warning(`${peer.networkName}: ${event}`);
      },
      throttle: this.#logins,
    };
  }

  async #handshake(peer: PeerConnection): Promise<void> {
    const context = this.#handshakeContext(peer, Date.now() + this.#handshakeTimeout);
    try {
      if (!(await authenticate(peer, this.#auth, context))) {
        peer.close();
        return;
      }
      peer.maxLineBytes = Math.min(IDENTITY_LINE_LIMIT, this.#readLimit);
      const check = await askIdentity(peer, context);
      if (!check.ok) {
        peer.close();
        return;
      }
      if (peer.closed) return;
      if (!this.#register(peer, check.identity, context)) {
        peer.close();
        return;
      }
      peer.maxLineBytes = this.#readLimit;
      peer.mode = 'routing';
      if (this.#debug) {
        this.#log.debug(
          `handshake with ${peer.ip}:${peer.port} ok: ${peer.networkName} is a ${check.identity.type}` +
            (peer.isAdmin ? ' (administrator)' : ''),
        );
      }
      // Lines that came in right behind the identity (a client often sends its first request at once).
      for (const line of peer.takeQueuedAnswers()) {
        if (peer.closed) break;
        this.#onLine(peer, line);
      }
    } catch (error) {
      if (error instanceof FarcallTimeoutError && !peer.closed) {
        context.log('rejected: handshake timeout');
        this.#sendError(
          peer,
          this.name,
          '',
          `TimeoutError: the handshake did not finish within ${this.#handshakeTimeout} ms`,
        );
        peer.close();
      } else if (!(error instanceof ConnectionClosedError)) {
        this.#log.error(`handshake with ${peer.address} failed: ${describe(error)}`);
        peer.close();
      } else {
        context.log('connection closed during the handshake');
      }
    }
  }

  #register(
    peer: PeerConnection,
    identity: ClientIdentity | ServiceIdentity,
    context: HandshakeContext,
  ): boolean {
    peer.networkName = `${identity.name}[${peer.address}]`;
    if (identity.type === 'client') {
      if (this.#clients.has(peer.networkName)) {
        // Another peer already goes by this name (loopback addresses all show as this computer's name,
        // so 127.0.0.2 with the same port looks the same): the registered one keeps it, and with it its
        // replies; the newcomer is named by its IP address, or refused.
        const byIp = `${identity.name}[${peer.ip}:${peer.port}]`;
        if (this.#clients.has(byIp)) {
          context.log('rejected: a client with this name and address is already connected');
          this.#sendError(
            peer,
            this.name,
            '',
            `NameError: a client called ${pythonRepr(peer.networkName)} is already connected to ${this.name}`,
          );
          return false;
        }
        this.#log.warning(
          `a second client called ${pythonRepr(peer.networkName)} connected from ${peer.ip}:${peer.port}; it is named ${pythonRepr(byIp)}`,
        );
        peer.networkName = byIp;
      }
      const client = newClientState(peer, {
        name: identity.name,
        address: peer.address,
        language: identity.language ?? 'unknown',
        os: identity.os ?? 'unknown',
      });
      this.#clients.set(client.networkName, client);
      this.#states.set(peer, client);
      context.log('connected as a client');
      return true;
    }
    if (identity.name === MANAGER_SERVICE || this.#services.has(identity.name)) {
      const message =
        identity.name === MANAGER_SERVICE
          ? `NameError: 'Manager' is reserved for the Network Manager and cannot be a service name`
          : `NameError: A ${pythonRepr(identity.name)} service is already running on the Manager`;
      context.log('rejected: duplicate service name');
      this.#sendError(peer, this.name, '', message);
      return false;
    }
    const service = newServiceState(peer, identity.name, {
      attributes: identity.attributes,
      address: identity.address ?? peer.address,
      language: identity.language ?? 'unknown',
      os: identity.os ?? 'unknown',
      max_clients: identity.max_clients ?? -1,
    });
    this.#services.set(service.name, service);
    this.#states.set(peer, service);
    context.log('connected as a service');
    return true;
  }

  // -----------------------------------------------------------------------------------------------
  // reading
  // -----------------------------------------------------------------------------------------------

  #onLine(peer: PeerConnection, line: Buffer): void {
    try {
      this.#route(peer, line);
    } catch (error) {
      // A bug must cost one message, never the reader (or the Manager).
      this.#log.error(
        `unexpected error while handling a message from ${peer.networkName}: ${describe(error)}`,
      );
      const state = this.#states.get(peer);
      this.#sendError(
        peer,
        state === undefined ? this.name : requesterOf(state),
        topLevelString(line.toString('utf8'), 'uid') ?? '',
        `RuntimeError: the Manager could not handle this message (${describe(error)})`,
      );
    }
  }

  #route(peer: PeerConnection, line: Buffer): void {
    if (line.length === 0 || peer.closed) return;
    const state = this.#states.get(peer);
    if (state === undefined) return;
    if (state.kind === 'client' && state.deferred !== undefined) {
      // An admin request of this client is running: an answer to its login goes to the login, the rest
      // waits so that the client's replies keep the order of its requests.
      if (peer.mode === 'elevating' && line.length <= AUTHENTICATION_LINE_LIMIT && isHandshakeAnswer(line)) {
        peer.deliverAnswer(Buffer.from(line));
        return;
      }
      state.deferred.push(Buffer.from(line));
      state.deferredBytes += line.length;
      if (state.deferredBytes > DEFERRED_LINES_LIMIT && !state.deferredPaused) {
        // The rest waits in the client's own buffers until the login is over.
        state.deferredPaused = true;
        peer.socket.pause();
      }
      return;
    }
    // The fast path: a request to a Service, a reply or a notification is routed by its routing members
    // and forwarded as the bytes it came in, never parsed into values; everything else is parsed below.
    const fields = matchCommonLine(line) ?? scanRoutingFields(line);
    if (fields !== undefined) {
      if (state.kind === 'client') {
        if (isForwardableRequest(fields)) {
          this.#forwardRequest(state, fields, line);
          return;
        }
      } else if (isServiceAnswer(fields)) {
        if (isNotification(fields)) this.#notify(state, notificationOf(fields), line);
        else this.#routeReply(state, fields.requester, fields.uid, fields.error === true, line);
        return;
      }
    }
    const text = line.toString('utf8');
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (error) {
      if (error instanceof JsonDepthError) this.#onTooDeep(state, text, error);
      else this.#onText(state, text, error);
      return;
    }
    if (state.kind === 'client') this.#fromClient(state, line, value);
    else this.#fromService(state, value, line);
  }

  // JSON nested deeper than the limit: refused, answered with the uid a shallow scan finds. A Service's
  // reply fails the request it answers, so that its client does not wait for it forever.
  #onTooDeep(state: PeerState, text: string, error: JsonDepthError): void {
    const uid = topLevelString(text, 'uid') ?? '';
    const message = `ValueError: ${error.message}; the message was dropped`;
    this.#log.warning(`${state.peer.networkName} sent a message nested more than ${error.limit} levels deep`);
    if (state.kind === 'service')
      this.#failDroppedReply(state, topLevelString(text, 'requester'), uid, message);
    this.#sendError(state.peer, requesterOf(state), uid, message);
  }

  // A Service's reply that the Manager dropped (`message` says why) fails the request it answers, if that
  // request is still pending, so that its client does not wait for it forever.
  #failDroppedReply(
    service: ServiceState,
    requester: string | undefined,
    uid: string,
    message: string,
  ): void {
    const client = requester === undefined ? undefined : this.#clients.get(requester);
    if (client !== undefined && takePending(service, client, uid)) {
      this.#sendError(
        client.peer,
        client.networkName,
        uid,
        `${message} (the reply of the ${pythonRepr(service.name)} service)`,
      );
    }
  }

  // A line that is not JSON: a terminal's plain-text request (or garbage).
  #onText(state: PeerState, text: string, error: unknown): void {
    const typed = parseTerminalLine(text);
    if (typed?.kind === 'disconnect') {
      state.peer.close();
      return;
    }
    if (typed?.kind === 'request' && state.kind === 'client') {
      this.#request(state, typed.message, undefined);
      return;
    }
    const message =
      typed?.kind === 'identity'
        ? 'ValueError: the identity was already given during the handshake'
        : jsonDecodeErrorMessage(text, error);
    this.#log.info(`${state.peer.networkName} sent a line that is not JSON`);
    this.#sendError(state.peer, requesterOf(state), '', message);
  }

  #onOversize(peer: PeerConnection, sample: OversizeSample): void {
    const limit = peer.maxLineBytes;
    const what =
      peer.mode === 'handshake' && limit < this.#readLimit
        ? `limit of ${limit} bytes for a line during the handshake`
        : `read limit of ${limit} bytes (readLimit)`;
    const message = `OverflowError: a message of ${sample.bytes} bytes is over the Manager's ${what}; it was dropped`;
    this.#log.warning(`${peer.networkName} sent ${message.slice(15)}`);
    const state = this.#states.get(peer);
    if (state === undefined) {
      // Before the identity: nothing legitimate is this large.
      this.#sendError(peer, this.name, '', message);
      peer.close();
      return;
    }
    const uid = findMember(sample, 'uid') ?? '';
    // A reply too large to forward: its client must not wait for it forever.
    if (state.kind === 'service')
      this.#failDroppedReply(state, findMember(sample, 'requester'), uid, message);
    this.#sendError(peer, requesterOf(state), uid, message);
  }

  #onUnfinishedOverLimit(peer: PeerConnection, unfinished: UnfinishedLines, held: number): void {
    const message =
      `OverflowError: the Manager holds ${unfinished.used + held} bytes of unfinished lines (no newline yet) ` +
      `from all its peers, over its limit of ${unfinished.limit} bytes (unfinishedLinesLimit); this ` +
      `connection's unfinished line of ${held} bytes was dropped and the connection closed`;
    this.#log.warning(`${peer.networkName}: ${message.slice(15)}`);
    const state = this.#states.get(peer);
    this.#sendError(peer, state === undefined ? this.name : requesterOf(state), '', message);
    peer.close();
    // Read no more of it: the rest of its line waits in its own buffers until the socket is destroyed.
    peer.socket.pause();
  }

  #onClose(peer: PeerConnection): void {
    this.#peers.delete(peer);
    const state = this.#states.get(peer);
    this.#states.delete(peer);
    if (state?.kind === 'client') this.#removeClient(state);
    else if (state?.kind === 'service') this.#removeService(state);
    this.#database.logConnection(peer, peer.networkName, 'disconnected');
    this.#log.info(`${peer.networkName} disconnected`);
  }

  // -----------------------------------------------------------------------------------------------
  // from clients
  // -----------------------------------------------------------------------------------------------

  #fromClient(client: ClientState, line: Buffer, value: unknown): void {
    const classified = classifyMessage(value);
    switch (classified.kind) {
      case 'request':
        this.#request(client, classified.message, line);
        return;
      case 'disconnect':
        client.peer.close();
        return;
      case 'invalid':
        this.#sendError(client.peer, client.networkName, classified.uid ?? '', classified.reason);
        return;
      default: {
        const uid = typeof classified.message.uid === 'string' ? classified.message.uid : '';
        this.#sendError(
          client.peer,
          client.networkName,
          uid,
          'PermissionError: a Client cannot send replies or notifications; only a Service can',
        );
      }
    }
  }

  // The fast path's request (see isForwardableRequest): what #request does with such a request, from its
  // routing members, with `requester` spliced into the bytes it came in.
  #forwardRequest(client: ClientState, fields: RoutingFields, line: Buffer): void {
    const name = fields.service as string;
    const uid = fields.uid as string;
    const service = this.#services.get(name);
    if (this.#debug) this.#logRequest(client, service, name, fields.attribute, uid, line.length);
    if (!this.#admits(client, service, name, uid)) return;
    addPending(service, client, uid);
    service.peer.sendBytes(line.subarray(0, fields.closingBrace), client.requesterTail);
    throttle(client, service);
  }

  // `line` is the request's original bytes when it came as JSON (forwarded as is, plus `requester`).
  #request(client: ClientState, request: RequestMessage, line: Buffer | undefined): void {
    const service = request.service === MANAGER_SERVICE ? undefined : this.#services.get(request.service);
    if (this.#debug)
      this.#logRequest(client, service, request.service, request.attribute, request.uid, line?.length);
    if (request.service === MANAGER_SERVICE) {
      this.#managerRequest(client, request);
      return;
    }
    const uid = typeof request.uid === 'string' ? request.uid : '';
    if (!this.#admits(client, service, request.service, uid)) return;
    addPending(service, client, uid);
    const complete =
      line !== undefined &&
      typeof request.uid === 'string' &&
      Array.isArray(request.args) &&
      isPlainObject(request.kwargs);
    const end = complete && line !== undefined ? closingBrace(line) : -1;
    if (line !== undefined && end > 0 && !('requester' in request)) {
      // Splice `requester` into the original bytes: no re-serialisation on the hot path, and the
      // Service sees exactly what the client wrote (NaN, number formats, member order).
      service.peer.sendBytes(line.subarray(0, end), client.requesterTail);
    } else {
      const forwarded = {
        ...request,
        args: Array.isArray(request.args) ? request.args : [],
        kwargs: isPlainObject(request.kwargs) ? request.kwargs : {},
        uid,
        requester: client.networkName,
      };
      service.peer.send(stringifyJson(forwarded));
    }
    throttle(client, service);
  }

  // A request's debug line. Names and sizes only: the arguments may carry anything.
  #logRequest(
    client: ClientState,
    service: ServiceState | undefined,
    name: unknown,
    attribute: unknown,
    uid: unknown,
    bytes: number | undefined,
  ): void {
    this.#log.debugFormat(
      requestLogLine,
      service?.logName ?? logRepr(String(name)),
      attribute,
      uid,
      bytes,
      client,
    );
  }

  // Whether `client` may send a request to `service` (the Service it names as `name`): else it is
  // answered with the error (no such Service, or locked by another client).
  #admits(
    client: ClientState,
    service: ServiceState | undefined,
    name: unknown,
    uid: string,
  ): service is ServiceState {
    if (service === undefined) {
      const text = `the ${pythonRepr(name)} Service is not connected to ${this.name}`;
      this.#sendError(client.peer, client.networkName, uid, `KeyError: ${pythonRepr(text)}`);
      return false;
    }
    const refusal = accessRefusal(client, service);
    if (refusal !== undefined) {
      this.#sendError(client.peer, client.networkName, uid, refusal);
      return false;
    }
    return true;
  }

  // Replies and notifications to a client. A client that stops reading is disconnected once its unsent
  // backlog passes the limit, rather than holding the Manager's memory (or stalling its Service).
  #toClient(client: ClientState, line: Buffer): void {
    client.peer.sendBytes(line);
    this.#checkBacklog(client.peer);
  }

  // Every message the Manager writes to a peer on its own behalf or for a Service: a peer that stops
  // reading is disconnected once its unsent backlog passes the limit.
  #checkBacklog(peer: PeerConnection): void {
    const unsent = peer.unsentBytes;
    if (unsent <= this.#backlogLimit || peer.socket.destroyed) return;
    this.#log.warning(
      `${peer.networkName} does not read what the Manager sends (${unsent} bytes unsent, over the ` +
        `backlog limit of ${this.#backlogLimit} bytes); disconnected`,
    );
    peer.destroy();
  }

  #managerRequest(client: ClientState, request: RequestMessage): void {
    const uid = typeof request.uid === 'string' ? request.uid : '';
    const args = Array.isArray(request.args) ? request.args : [];
    const kwargs = isPlainObject(request.kwargs) ? request.kwargs : {};
    const reply = (result: unknown) => this.#sendReply(client.peer, client.networkName, uid, result);
    const fail = (message: string) => this.#sendError(client.peer, client.networkName, uid, message);
    const answer = (outcome: LinkOutcome) => (outcome.ok ? reply(outcome.result) : fail(outcome.message));
    const serviceArgument = (): string | undefined => {
      const name = args.length > 0 ? args[0] : kwargs.service;
      if (typeof name === 'string') return name;
      fail(`TypeError: ${request.attribute}() needs the name of a service (a string) as its first argument`);
      return undefined;
    };
    switch (request.attribute) {
      case 'identity':
        reply(this.identity());
        return;
      case 'link': {
        const name = serviceArgument();
        if (name === undefined) return;
        const outcome = link(client, this.#services.get(name), name);
        if (outcome.ok && outcome.linked)
          this.#log.info(`linked ${client.networkName} with ${pythonRepr(name)}`);
        answer(outcome);
        return;
      }
      case 'unlink': {
        const name = serviceArgument();
        if (name === undefined) return;
        unlink(client, this.#services.get(name));
        reply(true);
        return;
      }
      case 'acquire_lock': {
        const name = serviceArgument();
        if (name === undefined) return;
        const shared = Boolean(args.length > 1 ? args[1] : kwargs.shared);
        answer(acquireLock(client, this.#services.get(name), name, shared));
        return;
      }
      case 'release_lock': {
        const name = serviceArgument();
        if (name === undefined) return;
        answer(releaseLock(client, this.#services.get(name), name));
        return;
      }
      default:
        void this.#adminRequest(client, request);
    }
  }

  async #adminRequest(client: ClientState, request: RequestMessage): Promise<void> {
    const peer = client.peer;
    client.deferred = [];
    try {
      this.#log.info(`admin request ${pythonRepr(request.attribute)} from ${client.networkName}`);
      if (!peer.isAdmin) {
        peer.mode = 'elevating';
        const context = this.#handshakeContext(peer, Date.now() + this.#handshakeTimeout);
        let result: Awaited<ReturnType<typeof login>>;
        try {
          result = await login(peer, this.#database, context);
        } catch (error) {
          if (error instanceof FarcallTimeoutError) {
            this.#sendError(
              peer,
              this.name,
              '',
              'TimeoutError: the administrator login did not finish in time',
            );
          }
          return;
        } finally {
          if (!peer.closed) peer.mode = 'routing';
        }
        if (!result.ok) return;
        if (!result.isAdmin) {
          this.#sendError(
            peer,
            client.networkName,
            '',
            'ValueError: You must be an administrator to send this request to the Manager',
          );
          return;
        }
        peer.isAdmin = true;
      }
      const outcome = await runAdminRequest(
        request.attribute,
        Array.isArray(request.args) ? request.args : [],
        isPlainObject(request.kwargs) ? request.kwargs : {},
        this.#adminContext(),
      );
      if (outcome.ok && outcome.shutdown) {
        this.#log.info(`shutdown requested by ${client.networkName}`);
        void this.close();
        return;
      }
      // Admin replies carry uid "": Python clients match them to their latest pending request.
      if (outcome.ok) this.#sendReply(peer, client.networkName, '', outcome.result);
      else this.#sendError(peer, client.networkName, '', outcome.message);
    } finally {
      const deferred = client.deferred ?? [];
      client.deferred = undefined;
      client.deferredBytes = 0;
      if (client.deferredPaused) {
        client.deferredPaused = false;
        if (!peer.closed && !isBlocked(client, this.#services.values())) peer.socket.resume();
      }
      for (let i = 0; i < deferred.length; i++) {
        if (peer.closed) break;
        this.#onLine(peer, deferred[i]);
        if (client.deferred !== undefined) {
          // That line started another admin request: the rest waits behind it.
          const rest = deferred.slice(i + 1);
          (client.deferred as Buffer[]).push(...rest);
          client.deferredBytes += rest.reduce((sum, line) => sum + line.length, 0);
          break;
        }
      }
    }
  }

  #adminContext(): AdminContext {
    return {
      database: this.#database,
      port: this.port,
      hostname: localHostname(),
      authentication: this.#auth.kind,
      identity: () => this.identity(),
      shutdown: () => void this.close(),
    };
  }

  // -----------------------------------------------------------------------------------------------
  // from services
  // -----------------------------------------------------------------------------------------------

  #fromService(service: ServiceState, value: unknown, line: Buffer): void {
    const classified = classifyMessage(value);
    switch (classified.kind) {
      case 'reply':
        this.#routeReply(
          service,
          classified.message.requester,
          classified.message.uid,
          classified.message.error === true,
          line,
        );
        return;
      case 'notification':
        this.#notify(service, classified.message, line);
        return;
      case 'disconnect':
        service.peer.close();
        return;
      case 'invalid':
        this.#sendError(service.peer, service.name, classified.uid ?? '', classified.reason);
        return;
      case 'request':
        if (classified.message.service === MANAGER_SERVICE && classified.message.attribute === 'identity') {
          this.#sendReply(service.peer, service.name, classified.message.uid ?? '', this.identity());
        } else {
          this.#sendError(
            service.peer,
            service.name,
            typeof classified.message.uid === 'string' ? classified.message.uid : '',
            'PermissionError: a Service cannot send requests through the Manager; connect a Client for that',
          );
        }
    }
  }

  // A reply (`error`: an error reply) from a Service to the client named by its `requester`.
  #routeReply(
    service: ServiceState,
    requester: unknown,
    replyUid: unknown,
    error: boolean,
    line: Buffer,
  ): void {
    if (typeof requester !== 'string') {
      // A Python Service answers a line it could not read with requester null: nobody to route it to.
      // Its size, not its text: a reply may carry anything.
      this.#log.info(`${pythonRepr(service.name)} sent a reply without a requester (${line.length} bytes)`);
      return;
    }
    const uid = typeof replyUid === 'string' ? replyUid : '';
    const client = this.#clients.get(requester);
    if (client === undefined) {
      this.#log.info(
        `${pythonRepr(requester)} is no longer connected; dropped the reply of ${pythonRepr(service.name)}`,
      );
      return;
    }
    if (!takePending(service, client, uid)) {
      this.#log.warning(
        `${pythonRepr(service.name)} sent a reply to ${requester} (uid ${pythonRepr(uid)}) that answers no request`,
      );
      this.#sendError(
        service.peer,
        service.name,
        uid,
        `PermissionError: the reply to ${requester} with uid ${pythonRepr(uid)} answers no request the Manager ` +
          `sent to ${pythonRepr(service.name)}; it was dropped`,
      );
      return;
    }
    if (this.#debug) this.#log.debugFormat(replyLogLine, service, client, uid, line.length, error);
    this.#toClient(client, line);
  }

  #notify(service: ServiceState, notification: NotificationMessage, line: Buffer): void {
    if (notification.service !== service.name) {
      const known = this.#services.has(notification.service);
      const text = known
        ? `PermissionError: the ${pythonRepr(service.name)} service cannot emit notifications as ` +
          `${pythonRepr(notification.service)}`
        : `KeyError: ${pythonRepr(
            `cannot forward a notification of the ${pythonRepr(notification.service)} service: no such service is ` +
              `connected to ${this.name} (this service is ${pythonRepr(service.name)})`,
          )}`;
      this.#sendError(service.peer, service.name, 'notification', text);
      return;
    }
    if (this.#debug)
      this.#log.debugFormat(
        notificationLogLine,
        service,
        service.links.size,
        line.length,
        undefined,
        undefined,
      );
    for (const client of [...service.links]) this.#toClient(client, line);
  }

  // -----------------------------------------------------------------------------------------------
  // leaving
  // -----------------------------------------------------------------------------------------------

  #removeClient(client: ClientState): void {
    dropBlocked(client, this.#services.values());
    if (this.#clients.get(client.networkName) === client) this.#clients.delete(client.networkName);
    dropClientLinks(client);
    dropClientPending(client);
  }

  #removeService(service: ServiceState): void {
    if (this.#services.get(service.name) === service) this.#services.delete(service.name);
    const text = `ConnectionAbortedError: the ${pythonRepr(service.name)} service disconnected from ${this.name} before it replied`;
    for (const { client, uid } of takeAllPending(service)) {
      this.#sendError(client.peer, client.networkName, uid, text);
    }
    dropServiceLinks(service);
    unblock(service);
  }

  #sendReply(peer: PeerConnection, requester: string, uid: string, result: unknown): void {
    peer.send(stringifyJson(replyMessage({ result, requester, uid })));
    this.#checkBacklog(peer);
  }

  #sendError(peer: PeerConnection, requester: string, uid: string, message: string): void {
    peer.send(stringifyJson(errorMessage({ message, requester, uid })));
    this.#checkBacklog(peer);
  }

  /**
   * Stops the Manager: stops accepting, flushes and closes every connection, closes the database and
   * the log. Idempotent; resolves when everything is released.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = (async () => {
      const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const peer of [...this.#peers]) {
        peer.close();
        peer.socket.destroySoon();
      }
      // Sockets still in their TLS handshake (or never flushed) get a moment, then are cut: close never hangs.
      const grace = setTimeout(() => {
        for (const socket of this.#sockets) socket.destroy();
      }, 1000);
      await serverClosed;
      clearTimeout(grace);
      this.#database.close();
      this.#log.info(`${this.name} stopped`);
      await this.#log.close();
      this.#resolveClosed();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
