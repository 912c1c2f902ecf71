/**
 * A Client of a Network Manager: connect, link with Services, call them, lock them, receive their
 * notifications, and (as an administrator) query the Manager.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConnectionClosedError, MSLNetworkError } from '../../errors.js';
import { byteSize, elapsed, type PartLog, partLog } from '../../log/logger.js';
import { stringifyJson } from '../protocol/json.js';
import {
  isPlainObject,
  type ManagerIdentity,
  replyMessage,
  type ServiceSummary,
} from '../protocol/messages.js';
import { CallOptions, type CallOptionsInit, isKwargs, splitCallArguments } from './call-arguments.js';
import { terminalCredentialPrompt } from './credential-prompt.js';
import {
  answerHandshake,
  credentialAnswer,
  type HandshakeCredentials,
  isManagerRequest,
} from './device-handshake.js';
import { deviceLanguage, deviceOs } from './device-identity.js';
import { Link, type LinkTo, linkProxy, type RequestSender, type UntypedService } from './link.js';
import {
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_PORT,
  DEFAULT_READ_LIMIT,
  Deadline,
  describeFailure,
  type ManagerAddressOptions,
  ManagerSocket,
  openManagerSocket,
} from './manager-socket.js';
import { RequestTable } from './request-table.js';

/** The keyword arguments and options of a call that has none (only ever read). */
const NO_KWARGS: Record<string, unknown> = Object.freeze({});
const NO_OPTIONS: CallOptionsInit = Object.freeze({});

/** Default deadline of a request, in milliseconds (override per call with `callOptions({ timeout })`). */
export const DEFAULT_REQUEST_TIMEOUT = 30_000;

/** Options of {@link connect}. */
export interface ConnectOptions extends ManagerAddressOptions {
  /** The client's name on the Manager. Default `'Client'`. */
  name?: string;
  /** Default deadline of every request, in milliseconds. Default 30 000. */
  requestTimeout?: number;
}

const CONNECT_OPTION_NAMES = [
  'name',
  'host',
  'port',
  'timeout',
  'username',
  'password',
  'passwordManager',
  'readLimit',
  'disableTls',
  'certFile',
  'assertHostname',
  'autoSave',
  'home',
  'signal',
  'certificatePrompt',
  'credentialPrompt',
  'requestTimeout',
  'logger',
] as const satisfies readonly (keyof ConnectOptions)[];

/**
 * Keeps only the options {@link connect} understands (msl-network's `filter_client_connect_kwargs`).
 * Like the Python function, the Manager's `authPassword` becomes the client's `passwordManager`.
 * @example
 * ```ts
 * const client = await connect(filterClientConnectKwargs({ port: 1875, authPassword: 'abc', logLevel: 'info' }));
 * ```
 */
export function filterClientConnectKwargs(options: Record<string, unknown>): ConnectOptions {
  const out: Record<string, unknown> = {};
  for (const key of CONNECT_OPTION_NAMES) if (options[key] !== undefined) out[key] = options[key];
  if (options.authPassword !== undefined && out.passwordManager === undefined) {
    out.passwordManager = options.authPassword;
  }
  return out as ConnectOptions;
}

/**
 * Connects to a Network Manager as a Client.
 *
 * @throws ConnectError when no Manager listens at `host:port` (refused, unknown host); ConnectionTimeoutError
 *   when it does not answer within `timeout`; TLSError, AuthenticationError when the handshake fails
 * @example
 * ```ts
 * import { connect } from 'farcall/network';
 * await using client = await connect({ name: 'Lab PC', host: 'localhost', autoSave: true });
 * const echo = await client.link('Echo');
 * console.log(await echo.echo(1, 2));
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const host = options.host ?? 'localhost';
  const port = options.port ?? DEFAULT_PORT;
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  const deadline = new Deadline(timeout, `Cannot connect to the Manager at ${host}:${port}`, options.signal);
  const log = partLog('network', options.logger);
  let opened: Awaited<ReturnType<typeof openManagerSocket>> | undefined;
  try {
    opened = await openManagerSocket(options, deadline);
    const name = options.name ?? 'Client';
    const socket = new ManagerSocket(opened, options.readLimit ?? DEFAULT_READ_LIMIT, {
      onMessage: () => {},
      onClose: () => {},
    });
    const credentials: HandshakeCredentials = {
      username: options.username,
      password: options.password,
      passwordManager: options.passwordManager,
    };
    const managerName = await answerHandshake(socket, {
      credentials,
      prompt: options.credentialPrompt ?? terminalCredentialPrompt(),
      identity: () => ({ type: 'client', name, language: deviceLanguage(), os: deviceOs() }),
      where: { host, port },
      deadline,
    });
    if (log.debugEnabled) log.debug(`handshake with ${managerName} ok: connected as client '${name}'`);
    return new Client(socket, managerName, { ...options, ...credentials, host, port, name });
  } catch (error) {
    // A failure to connect at all is logged by openManagerSocket.
    if (log.debugEnabled && opened !== undefined) {
      log.debug(`handshake with the Manager at ${host}:${port} failed: ${describeFailure(error)}`);
    }
    throw error;
  } finally {
    deadline.dispose();
  }
}

/** Options of {@link Client.identities}. */
export interface IdentitiesOptions {
  /** Return a readable text instead of the object. Default false. */
  asString?: boolean;
  /** Spaces per level of the text. Default 2. */
  indent?: number;
  /** Deadline in milliseconds. */
  timeout?: number;
}

/**
 * A connection to a Network Manager. Make one with {@link connect}.
 *
 * Requests are matched to their replies by uid, so any number may be in flight at once; each has a
 * deadline. If the Manager goes away, every pending request rejects at once with
 * `ConnectionClosedError`.
 */
export class Client implements RequestSender {
  /** The name given to {@link connect}. */
  readonly name: string;
  /** The Manager's name, `Manager[host:port]`. */
  readonly managerName: string;
  readonly #socket: ManagerSocket;
  readonly #options: ConnectOptions & { host: string; port: number; name: string };
  /**
   * Request uids are this connection's random prefix (8 hex digits) and a counter (base 36): unique on
   * the connection, which is all the protocol asks of them (Managers match a reply to its request per
   * client, and a uid is of no use on another connection), and told apart across connections in logs.
   * A fraction of the cost of a random UUID each, and short: up to 12 characters (the first 1.6 million
   * requests) V8 keeps as one flat string, which every peer parses faster. The request table makes them
   * and finds a reply's request through the counter.
   */
  readonly #requests = new RequestTable(randomBytes(4).toString('hex'));
  readonly #links = new Map<string, Set<Link>>();
  readonly #requestTimeout: number;
  readonly #credentials: HandshakeCredentials;
  readonly #log: PartLog;
  #disconnecting: Promise<void> | undefined;

  /** @internal Made by {@link connect}. */
  constructor(
    socket: ManagerSocket,
    managerName: string,
    options: ConnectOptions & { host: string; port: number; name: string },
  ) {
    this.#socket = socket;
    this.managerName = managerName;
    this.#options = options;
    this.name = options.name;
    this.#credentials = {
      username: options.username,
      password: options.password,
      passwordManager: options.passwordManager,
    };
    this.#requestTimeout = options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT;
    checkTimeout(this.#requestTimeout);
    this.#log = partLog('network', options.logger);
    socket.handlers = {
      onMessage: (message) => this.#onMessage(message),
      onOversize: (bytes) => this.#requests.noteOversize(bytes, socket.readLimit),
      onClose: (error) => this.#onClose(error),
    };
    if (!socket.isOpen) this.#onClose(undefined);
  }

  /** This client's name on the network: `name[host:port]`. */
  get networkName(): string {
    return `${this.name}[${hostname()}:${this.#socket.localPort}]`;
  }

  /** The Manager's address, `host:port`. */
  get addressManager(): string {
    return `${this.#options.host}:${this.#options.port}`;
  }

  /** Whether the connection uses TLS. */
  get tlsEnabled(): boolean {
    return this.#socket.tls;
  }

  /** Whether the connection to the Manager is open. */
  isConnected(): boolean {
    return this.#socket.isOpen && this.#disconnecting === undefined;
  }

  /**
   * Links with a Service. Rejects with `MSLNetworkError` if there is no such Service, it is locked, or
   * it already has its maximum number of clients.
   * @example
   * ```ts
   * const echo = await client.link<Echo>('Echo'); // typed after the Service class
   * ```
   */
  async link<T = UntypedService>(service: string, options: { timeout?: number } = {}): Promise<LinkTo<T>> {
    const identity = (await this.#send('Manager', 'link', [service], {}, options, false)) as ServiceSummary;
    const link = new Link(this, service, normaliseSummary(identity));
    let set = this.#links.get(service);
    if (set === undefined) {
      set = new Set();
      this.#links.set(service, set);
    }
    set.add(link);
    return linkProxy<T>(link);
  }

  /** Unlinks `link` (same as `link.unlink()`). */
  unlink(link: Link, options: { timeout?: number } = {}): Promise<void> {
    return link.unlink(options);
  }

  /**
   * The identities of the Manager and of every Client and Service connected to it.
   * @example
   * ```ts
   * console.log(await client.identities({ asString: true }));
   * ```
   */
  identities(options: IdentitiesOptions & { asString: true }): Promise<string>;
  identities(options?: IdentitiesOptions & { asString?: false }): Promise<ManagerIdentity>;
  identities(options?: IdentitiesOptions): Promise<ManagerIdentity | string>;
  async identities(options: IdentitiesOptions = {}): Promise<ManagerIdentity | string> {
    const identity = (await this.#send(
      'Manager',
      'identity',
      [],
      {},
      { timeout: options.timeout },
      false,
    )) as ManagerIdentity;
    return options.asString ? formatIdentities(identity, this.managerName, options.indent ?? 2) : identity;
  }

  /**
   * Sends an admin request to the Manager: `attrib` names one of its admin attributes (dotted names
   * such as `'users_table.usernames'`). The Manager checks (once per connection) that the login is an
   * administrator. Put `kwargs({...})` and `callOptions({ timeout })` after the arguments.
   * @example
   * ```ts
   * const names = await client.adminRequest('users_table.usernames');
   * await client.adminRequest('users_table.insert', 'bob', 'pw', kwargs({ is_admin: false }));
   * ```
   */
  adminRequest(attrib: string, ...args: unknown[]): Promise<unknown> {
    return this.request('Manager', attrib, args, true);
  }

  /** Opens another connection to the same Manager with the same options and a new name. */
  spawn(name = 'Client'): Promise<Client> {
    // The signal belonged to the first connect() call, not to connections made later.
    return connect({ ...this.#options, signal: undefined, name });
  }

  /**
   * Leaves the Manager: sends the leave message, waits (briefly) for the Manager to close, and fails
   * whatever is still pending. Idempotent.
   */
  disconnect(): Promise<void> {
    if (this.#disconnecting !== undefined) return this.#disconnecting;
    this.#disconnecting = (async () => {
      if (this.#socket.isOpen) {
        try {
          this.#socket.send({
            args: [],
            attribute: '__disconnect__',
            error: false,
            kwargs: {},
            service: this.networkName,
            uid: this.#nextUid(),
          });
        } catch {
          // already closing
        }
        await this.#socket.end(1000);
      }
    })();
    return this.#disconnecting;
  }

  /** `await using client = await connect()` disconnects at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /** @internal Sends a request; used by Link. `all` may end with `kwargs(...)`/`callOptions(...)`. */
  request(service: string, attribute: string, all: readonly unknown[], admin = false): Promise<unknown> {
    // The common call has neither kwargs nor options at its end: nothing to split, nothing to allocate.
    const last = all[all.length - 1];
    if (!(last instanceof CallOptions) && !isKwargs(last)) {
      return this.#send(service, attribute, all as unknown[], NO_KWARGS, NO_OPTIONS, admin);
    }
    const call = splitCallArguments(all);
    return this.#send(service, attribute, call.args, call.kwargs, call.options, admin);
  }

  /** @internal A link was unlinked. */
  forgetLink(link: Link): void {
    this.#links.get(link.serviceName)?.delete(link);
  }

  #send(
    service: string,
    attribute: string,
    args: unknown[],
    kw: Record<string, unknown>,
    options: CallOptionsInit,
    admin: boolean,
  ): Promise<unknown> {
    if (!this.isConnected()) {
      return Promise.reject(
        new ConnectionClosedError(
          `Cannot send '${service}.${attribute}': the connection to ${this.managerName} is closed`,
        ),
      );
    }
    const timeout = options.timeout ?? this.#requestTimeout;
    try {
      checkTimeout(timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const uid = this.#nextUid();
    const reply = this.#requests.add(uid, service, attribute, admin, timeout, options.signal);
    const line = requestLine(service, attribute, args, kw, uid);
    this.#socket.write(line);
    if (this.#log.debugEnabled) this.#logRequest(`${service}.${attribute}`, uid, line, reply);
    return reply;
  }

  #nextUid(): string {
    return this.#requests.nextUid();
  }

  /** Logs a request and, when it settles, its outcome: names, uid, size and duration, never arguments. */
  #logRequest(what: string, uid: string, line: string, reply: Promise<unknown>): void {
    const sent = performance.now();
    this.#log.debug(
      `request ${what} (uid ${uid}, ${byteSize(Buffer.byteLength(line))}) sent to ${this.managerName}`,
    );
    reply.then(
      () => this.#log.debug(`request ${what} (uid ${uid}) answered in ${elapsed(sent)}`),
      (error: unknown) =>
        this.#log.debug(
          `request ${what} (uid ${uid}) failed in ${elapsed(sent)}: ${error instanceof Error ? error.name : typeof error}`,
        ),
    );
  }

  #onMessage(message: unknown): void {
    if (!isPlainObject(message)) return;
    const uid = message.uid;
    // The hot path: a result for a pending request (one map lookup, no outcome object).
    if (message.error === false && typeof uid === 'string' && 'result' in message) {
      if (this.#requests.resolve(uid, message.result)) return;
    }
    if (uid === 'notification' && typeof message.service === 'string') {
      const result = message.result;
      const args = Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as unknown[]) : [];
      const kw =
        Array.isArray(result) && isPlainObject(result[1]) ? (result[1] as Record<string, unknown>) : {};
      const links = this.#links.get(message.service);
      if (links !== undefined) for (const link of links) link.deliverNotification(args, kw);
      return;
    }
    if (isManagerRequest(message)) {
      // The Manager checks a login before the first admin request on this connection.
      this.#answerManager(message);
      return;
    }
    const outcome =
      message.error === true
        ? {
            ok: false as const,
            error: new MSLNetworkError(
              typeof message.message === 'string' ? message.message : 'UnknownError: no message',
              Array.isArray(message.traceback) ? message.traceback.map(String) : [],
            ),
          }
        : { ok: true as const, value: message.result };
    if (typeof uid === 'string' && uid !== '' && this.#requests.settle(uid, outcome)) return;
    if (uid === '' || uid === undefined) {
      const errorText = typeof message.message === 'string' ? message.message : undefined;
      for (const match of this.#requests.takeForEmptyUid(errorText)) this.#requests.settle(match, outcome);
    }
    // Anything else is a late reply (its request timed out) and is dropped.
  }

  #answerManager(request: {
    attribute: string;
    args: unknown[];
    requester: string | null;
    uid: string;
  }): void {
    let answer: string | null = null;
    try {
      answer = credentialAnswer(request, this.#credentials, this.addressManager, 'admin');
    } catch (error) {
      // No credentials: the Manager will answer the admin request with its own error, which carries
      // the reason; an empty answer makes that happen at once instead of at the Manager's deadline.
      for (const uid of this.#requests.takeForEmptyUid(undefined)) {
        this.#requests.settle(uid, { ok: false, error: error as Error });
      }
    }
    this.#socket.send(replyMessage({ result: answer, requester: request.requester, uid: request.uid ?? '' }));
  }

  #onClose(error: Error | undefined): void {
    const why = error ? ` (${error.message})` : '';
    if (this.#log.debugEnabled) this.#log.debug(`connection to ${this.managerName} closed${why}`);
    this.#requests.failAll(
      () =>
        new ConnectionClosedError(
          this.#disconnecting
            ? `The request was pending when the client disconnected from ${this.managerName}`
            : `The connection to ${this.managerName} closed while the request was pending${why}`,
        ),
    );
    for (const set of this.#links.values()) for (const link of set) link.detach();
    this.#links.clear();
  }
}

/**
 * A request line as Python's client writes it (sorted keys, Python separators). Built by hand because
 * it is the hot path: only `args` and `kwargs` need the general serialiser.
 */
function requestLine(
  service: string,
  attribute: string,
  args: unknown[],
  kw: Record<string, unknown>,
  uid: string,
): string {
  const argsText = args.length === 0 ? '[]' : stringifyJson(args);
  for (const _ in kw) {
    // Some kwargs: the middle is made for this call.
    return `{"args": ${argsText}${callMiddle(service, attribute, stringifyJson(kw))}${uid}"}\r\n`;
  }
  // No kwargs, the common call: what lies between the args and the uid is the same for every call of the
  // same method, kept as one text (a line is then four pieces, not ten).
  return `{"args": ${argsText}${callMiddles.text(service, attribute)}${uid}"}\r\n`;
}

/** What a request line holds between its `args` and its uid's text. */
function callMiddle(service: string, attribute: string, kwText: string): string {
  return `, "attribute": ${JSON.stringify(attribute)}, "error": false, "kwargs": ${kwText}, "service": ${JSON.stringify(service)}, "uid": "`;
}

/** {@link callMiddle} without kwargs, of the method last called. */
class CallMiddle {
  #service = '';
  #attribute = '';
  #text = callMiddle('', '', '{}');

  text(service: string, attribute: string): string {
    if (service !== this.#service || attribute !== this.#attribute) {
      this.#service = service;
      this.#attribute = attribute;
      this.#text = callMiddle(service, attribute, '{}');
    }
    return this.#text;
  }
}

const callMiddles = new CallMiddle();

function checkTimeout(timeout: number): void {
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new RangeError(`timeout must be a positive, finite number of milliseconds, got ${timeout}`);
  }
}

function normaliseSummary(value: unknown): ServiceSummary {
  const v = isPlainObject(value) ? value : {};
  return {
    attributes: isPlainObject(v.attributes) ? v.attributes : {},
    address: typeof v.address === 'string' ? v.address : 'unknown',
    language: typeof v.language === 'string' ? v.language : 'unknown',
    os: typeof v.os === 'string' ? v.os : 'unknown',
    max_clients: typeof v.max_clients === 'number' ? v.max_clients : -1,
  };
}

/** The text of `identities({ asString: true })`. */
export function formatIdentities(identity: ManagerIdentity, managerName: string, indent: number): string {
  const pad = (level: number) => ' '.repeat(indent * level);
  const lines: string[] = [];
  const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const sorted = (o: Record<string, unknown> | undefined) => Object.keys(o ?? {}).sort();
  lines.push(`Manager: ${managerName}`);
  for (const key of sorted(identity as unknown as Record<string, unknown>)) {
    if (key === 'clients' || key === 'services') continue;
    if (key === 'attributes') {
      lines.push(`${pad(1)}attributes:`);
      for (const name of sorted(identity.attributes))
        lines.push(`${pad(2)}${name}${value(identity.attributes[name])}`);
    } else lines.push(`${pad(1)}${key}: ${value((identity as unknown as Record<string, unknown>)[key])}`);
  }
  const clients = identity.clients ?? {};
  lines.push(`Clients [${Object.keys(clients).length}]:`);
  for (const name of sorted(clients)) {
    lines.push(`${pad(1)}${name}`);
    const c = clients[name] as unknown as Record<string, unknown>;
    for (const key of sorted(c))
      if (key !== 'name' && key !== 'address') lines.push(`${pad(2)}${key}: ${value(c[key])}`);
  }
  const services = identity.services ?? {};
  lines.push(`Services [${Object.keys(services).length}]:`);
  for (const name of sorted(services)) {
    lines.push(`${pad(1)}${name}`);
    const s = services[name] as unknown as Record<string, unknown>;
    for (const key of sorted(s)) {
      if (key === 'attributes') {
        lines.push(`${pad(2)}attributes:`);
        const attributes = (s.attributes ?? {}) as Record<string, unknown>;
        for (const a of sorted(attributes)) lines.push(`${pad(3)}${a}${value(attributes[a])}`);
      } else lines.push(`${pad(2)}${key}: ${value(s[key])}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
