/**
 * A Service: an object whose public methods clients on the network can call through a Manager.
 * @module
 */
import { hostname } from 'node:os';
import { ConnectionClosedError, MSLNetworkError } from '../../errors.js';
import { byteSize, type PartLog, partLog } from '../../log/logger.js';
import { stringifyJson } from '../protocol/json.js';
import { isPlainObject } from '../protocol/messages.js';
import { serviceCallArguments, splitKwargs } from './call-arguments.js';
import { terminalCredentialPrompt } from './credential-prompt.js';
import { answerHandshake, isManagerRequest } from './device-handshake.js';
import { deviceLanguage, deviceOs } from './device-identity.js';
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
import {
  describeAttributes,
  resolveAttribute,
  ServiceMethods,
  SHUTDOWN_SERVICE,
} from './service-attributes.js';

/** Options of the {@link Service} constructor. */
export interface ServiceOptions {
  /** The Service's name on the Manager (unique there). Default: the class name. */
  name?: string;
  /** How many clients may link at once; `<= 0` or absent: unlimited. */
  maxClients?: number;
  /** Members to leave out of the Service's identity (they stay callable, as in msl-network). */
  ignoreAttributes?: string[];
}

/** Options of {@link Service.start}. */
export interface ServiceStartOptions extends ManagerAddressOptions {
  /** Overrides the name given to the constructor. */
  name?: string;
}

/** An error a method threw, as the reply carries it. */
interface ErrorReply {
  message: string;
  traceback: string[];
}

/**
 * Base class of every Service. Public methods of your subclass become requests clients can send;
 * names starting with `_`, `#private` members, `constructor` and this base class's members are out of
 * reach. Methods may be `async`: requests run concurrently and each reply goes out when its method
 * finishes. A method that throws sends the client an error (`"Name: message"` plus the stack).
 *
 * Keyword arguments (Python's `**kwargs`) arrive as a trailing object: see {@link splitKwargs}.
 * Define `shutdownService(...args)` to let clients shut the Service down (`link.shutdownService()`).
 *
 * @example
 * ```ts
 * import { Service, splitKwargs } from 'farcall/network';
 *
 * class Echo extends Service {
 *   echo(...all: unknown[]) {
 *     return splitKwargs(all); // [args, kwargs]
 *   }
 *   async slowAdd(a: number, b: number) {
 *     await new Promise((r) => setTimeout(r, 100));
 *     return a + b;
 *   }
 * }
 * const echo = new Echo({ maxClients: 10 });
 * await echo.start({ host: 'localhost', autoSave: true });
 * ```
 */
export class Service {
  #name: string;
  readonly #maxClients: number;
  readonly #ignored: Set<string>;
  /** The methods requests named, found once (see {@link ServiceMethods}). */
  readonly #methods = new ServiceMethods(this);
  #socket: ManagerSocket | undefined;
  #networkName = '';
  #identity: Record<string, unknown> | undefined;
  #closed: Promise<void> = Promise.resolve();
  #disconnecting = false;
  #starting = false;
  #log: PartLog = partLog('network');
  #lastRequester: string | undefined;
  #lastRequesterText = '';

  constructor(options: ServiceOptions = {}) {
    this.#name = options.name ?? new.target.name;
    const max = options.maxClients;
    this.#maxClients = max === undefined || max === null || max <= 0 ? -1 : Math.trunc(max);
    this.#ignored = new Set(options.ignoreAttributes ?? []);
  }

  /** The Service's name on the Manager. */
  get name(): string {
    return this.#name;
  }

  /** The most clients that may link at once (`-1`: unlimited). */
  get maxClients(): number {
    return this.#maxClients;
  }

  /** Whether the Service is connected to a Manager. */
  get isRunning(): boolean {
    return this.#socket?.isOpen === true;
  }

  /** Resolves when the connection to the Manager has closed (at once if not started). */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Leaves members out of the Service's identity (call before {@link start}). */
  ignoreAttributes(...names: string[]): void {
    for (const name of names) this.#ignored.add(name);
  }

  /**
   * Connects to a Manager and registers this Service. Resolves once the Manager has accepted it;
   * rejects if it refuses (a wrong password, a Service of the same name already running, …). The
   * Service then answers requests until {@link disconnect}, `signal` aborts, or the Manager goes away
   * (see {@link closed}).
   */
  async start(options: ServiceStartOptions = {}): Promise<void> {
    if (this.#socket?.isOpen || this.#starting) {
      throw new MSLNetworkError('RuntimeError: The Service has already started');
    }
    this.#starting = true;
    try {
      await this.#start(options);
    } finally {
      this.#starting = false;
    }
  }

  async #start(options: ServiceStartOptions): Promise<void> {
    if (options.name !== undefined) this.#name = options.name;
    this.#log = partLog('network', options.logger);
    const host = options.host ?? 'localhost';
    const port = options.port ?? DEFAULT_PORT;
    const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
    this.#identity = this.#makeIdentity();
    const deadline = new Deadline(
      timeout,
      `Cannot start the '${this.#name}' Service at ${host}:${port}`,
      options.signal,
    );
    let socket: ManagerSocket | undefined;
    let early: unknown[] = [];
    try {
      const t0 = Date.now();
      const opened = await openManagerSocket(options, deadline);
      socket = new ManagerSocket(opened, options.readLimit ?? DEFAULT_READ_LIMIT, {
        onMessage: () => {},
        onClose: () => {},
      });
      let firstHeard = 0;
      const identity = this.#identity;
      await answerHandshake(socket, {
        credentials: {
          username: options.username,
          password: options.password,
          passwordManager: options.passwordManager,
        },
        prompt: options.credentialPrompt ?? terminalCredentialPrompt(),
        identity: () => {
          firstHeard ||= Date.now();
          return identity;
        },
        where: { host, port },
        deadline,
      });
      early = await this.#awaitAcceptance(
        socket,
        Math.min(500, Math.max(25, 4 * (firstHeard - t0))),
        host,
        port,
      );
    } catch (error) {
      socket?.destroy();
      // A failure to connect at all is logged by openManagerSocket.
      if (this.#log.debugEnabled && socket !== undefined) {
        this.#log.debug(
          `starting the '${this.#name}' Service at ${host}:${port} failed: ${describeFailure(error)}`,
        );
      }
      throw error;
    } finally {
      deadline.dispose();
    }
    if (this.#log.debugEnabled) {
      this.#log.debug(
        `handshake with the Manager at ${host}:${port} ok: the '${this.#name}' Service is accepted`,
      );
      void socket.closed.then(() =>
        this.#log.debug(`the '${this.#name}' Service's connection to ${host}:${port} closed`),
      );
    }
    this.#socket = socket;
    this.#disconnecting = false;
    this.#networkName = `${this.#name}[${hostname()}:${socket.localPort}]`;
    this.#closed = socket.closed;
    socket.handlers = {
      onMessage: (message) => this.#onMessage(message),
      onInvalidLine: (_text, error) =>
        this.#sendError({ message: `${error.name}: ${error.message}`, traceback: [] }, null, ''),
      onClose: () => {},
    };
    for (const message of early) this.#onMessage(message);
    if (options.signal !== undefined) {
      const signal = options.signal;
      const onAbort = () => void this.disconnect();
      signal.addEventListener('abort', onAbort, { once: true });
      void socket.closed.then(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /**
   * Sends a notification to every client linked with this Service. A trailing `kwargs({...})` becomes
   * the notification's keyword arguments.
   * @example
   * ```ts
   * this.emitNotification(temperature, kwargs({ unit: 'C' }));
   * ```
   */
  emitNotification(...args: unknown[]): void {
    const socket = this.#socket;
    if (socket === undefined || !socket.isOpen) return;
    const [positional, kw] = splitKwargs(args);
    socket.send({ error: false, result: [positional, kw], service: this.#name, uid: 'notification' });
  }

  /** Leaves the Manager (requests still running have their replies dropped). Idempotent. */
  async disconnect(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || !socket.isOpen || this.#disconnecting) return this.#closed;
    this.#disconnecting = true;
    try {
      socket.send({ service: this.#networkName, attribute: '__disconnect__' });
    } catch {
      // already closing
    }
    await socket.end(1000);
  }

  /** `await using service = …` disconnects at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  #makeIdentity(): Record<string, unknown> {
    const attributes = describeAttributes(this, Service.prototype, this.#ignored, (value) => {
      try {
        stringifyJson(value);
        return value !== undefined;
      } catch {
        return false;
      }
    });
    // Member order as Python's Service writes it.
    return {
      type: 'service',
      name: this.#name,
      attributes,
      max_clients: this.#maxClients,
      language: deviceLanguage(),
      os: deviceOs(),
    };
  }

  // The Manager refuses a Service after the identity (e.g. a duplicate name) with an error line and a
  // close, and says nothing when it accepts: wait a few round trips for a refusal, or for a request.
  // Resolves with the messages that arrived meanwhile (requests to handle once running).
  #awaitAcceptance(socket: ManagerSocket, waitMs: number, host: string, port: number): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const early: unknown[] = [];
      const timer = setTimeout(() => done(), waitMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        socket.handlers = { onMessage: (m) => early.push(m), onClose: () => {} };
        if (error) reject(error);
        else resolve(early);
      };
      socket.handlers = {
        onMessage: (message) => {
          if (isPlainObject(message) && message.error === true && !('service' in message)) {
            const text = typeof message.message === 'string' ? message.message : 'UnknownError';
            const traceback = Array.isArray(message.traceback) ? message.traceback.map(String) : [];
            return done(
              new MSLNetworkError(
                `The Manager at ${host}:${port} refused the '${this.#name}' Service: ${text}`,
                traceback,
              ),
            );
          }
          early.push(message);
          done();
        },
        onClose: (error) =>
          done(
            new ConnectionClosedError(
              `The Manager at ${host}:${port} closed the connection after the '${this.#name}' Service identified itself` +
                (error ? ` (${error.message})` : ''),
            ),
          ),
      };
    });
  }

  #onMessage(message: unknown): void {
    if (!isPlainObject(message)) return;
    if (message.error === true) return; // an error sent to a Service has no one to go to
    const attribute = message.attribute;
    if (typeof attribute !== 'string') return;
    const requester = typeof message.requester === 'string' ? message.requester : null;
    const uid = typeof message.uid === 'string' ? message.uid : '';
    if (isManagerRequest(message)) {
      // The Manager may ask for the identity again; it never needs credentials from a running Service.
      if (attribute === 'identity' && this.#identity) this.#sendResult(this.#identity, requester, uid);
      return;
    }
    const args = Array.isArray(message.args) ? (message.args as unknown[]) : [];
    const kw = isPlainObject(message.kwargs) ? message.kwargs : {};
    if (this.#log.debugEnabled) {
      this.#log.debug(
        `request ${attribute} (uid ${uid}, ${args.length} args, ${Object.keys(kw).length} kwargs) from ${requester ?? 'nobody'}`,
      );
    }
    const known = this.#methods.get(attribute);
    if (known !== undefined) {
      this.#call(known, args, kw, requester, uid, false);
      return;
    }
    let resolved: ReturnType<typeof resolveAttribute>;
    try {
      resolved = resolveAttribute(this, Service.prototype, attribute, this.#ignored);
    } catch (error) {
      this.#sendError(describeError(error), requester, uid);
      return;
    }
    switch (resolved.kind) {
      case 'private':
        this.#sendError(
          { message: 'PermissionError: Cannot request a private attribute', traceback: [] },
          requester,
          uid,
        );
        return;
      case 'missing':
        this.#sendError(
          {
            message: `AttributeError: '${this.constructor.name}' object has no attribute '${attribute}'`,
            traceback: [],
          },
          requester,
          uid,
        );
        return;
      case 'value':
        this.#sendResult(resolved.value, requester, uid);
        return;
      case 'method':
        this.#methods.remember(attribute, resolved.fn);
        this.#call(resolved.fn, args, kw, requester, uid, attribute === SHUTDOWN_SERVICE);
    }
  }

  #call(
    fn: (...args: unknown[]) => unknown,
    args: unknown[],
    kw: Record<string, unknown>,
    requester: string | null,
    uid: string,
    shutdown: boolean,
  ): void {
    let outcome: unknown;
    try {
      outcome = fn.apply(this, serviceCallArguments(args, kw));
    } catch (error) {
      this.#sendError(describeError(error), requester, uid);
      return;
    }
    if (
      outcome instanceof Promise ||
      (typeof outcome === 'object' &&
        outcome !== null &&
        typeof (outcome as PromiseLike<unknown>).then === 'function')
    ) {
      Promise.resolve(outcome).then(
        (value) => {
          this.#sendResult(value, requester, uid);
          if (shutdown) void this.#leaveAfterShutdown();
        },
        (error: unknown) => {
          this.#sendError(describeError(error), requester, uid);
          if (shutdown) void this.#leaveAfterShutdown();
        },
      );
      return;
    }
    this.#sendResult(outcome, requester, uid);
    if (shutdown) void this.#leaveAfterShutdown();
  }

  async #leaveAfterShutdown(): Promise<void> {
    // As msl-network does: the reply first, then the leave message; the Manager closes the connection.
    await this.disconnect();
  }

  #sendResult(result: unknown, requester: string | null, uid: string): void {
    const socket = this.#socket;
    if (socket === undefined || !socket.isOpen) return; // the Manager is gone; so is the requester
    let line: string;
    try {
      // Built by hand (the hot path), with its line end: member order and separators as Python's
      // Service writes them.
      const resultText = result === undefined ? 'null' : stringifyJson(result);
      line = `{"error": false, "requester": ${this.#requesterText(requester)}, "result": ${resultText}, "uid": ${JSON.stringify(uid)}}\r\n`;
    } catch (error) {
      this.#sendError(describeError(error), requester, uid);
      return;
    }
    socket.write(line);
    if (this.#log.debugEnabled) {
      const bytes = Buffer.byteLength(line) - 2; // the message, without its line end
      this.#log.debug(`reply (uid ${uid}, ${byteSize(bytes)}) to ${requester ?? 'nobody'}`);
    }
  }

  // The requester as JSON text, kept for the next reply: a Service mostly answers the same few clients.
  #requesterText(requester: string | null): string {
    if (requester === null) return 'null';
    if (requester !== this.#lastRequester) {
      this.#lastRequester = requester;
      this.#lastRequesterText = JSON.stringify(requester);
    }
    return this.#lastRequesterText;
  }

  #sendError(error: ErrorReply, requester: string | null, uid: string): void {
    const socket = this.#socket;
    if (socket === undefined || !socket.isOpen) return;
    if (this.#log.debugEnabled) {
      // The error's class only: its message may quote the arguments.
      this.#log.debug(`error reply (uid ${uid}) to ${requester ?? 'nobody'}: ${error.message.split(':')[0]}`);
    }
    socket.send({
      error: true,
      message: error.message,
      requester,
      result: null,
      traceback: error.traceback,
      uid,
    });
  }
}

/** `"Name: message"` and the stack lines of a thrown value. */
function describeError(error: unknown): ErrorReply {
  if (error instanceof Error) {
    const name = error.name || error.constructor?.name || 'Error';
    const traceback = typeof error.stack === 'string' ? error.stack.split('\n') : [];
    return { message: `${name}: ${error.message}`, traceback };
  }
  return { message: `Error: ${String(error)}`, traceback: [] };
}
