/**
 * A Client's link with one Service: every method name you call on it becomes a request to the Service.
 * @module
 */

import { ConnectionClosedError } from '../../errors.js';
import type { ServiceSummary } from '../protocol/messages.js';
import { type CallExtra, type CallOptionsInit, callOptions, kwargs } from './call-arguments.js';
import type { Service } from './service.js';

/** A function that receives a Service's notifications: its `args` and `kwargs`. */
export type NotificationHandler = (args: unknown[], kwargs: Record<string, unknown>) => void;

/**
 * What a Link needs from its Client: send a request and get the promise of its reply. A {@link Client} is
 * one; you do not implement it.
 */
export interface RequestSender {
  request(service: string, attribute: string, all: readonly unknown[], admin?: boolean): Promise<unknown>;
  forgetLink(link: Link): void;
}

/** Any function: the members of a Service class that {@link RemoteMethods} keeps. */
export type AnyMethod = (...args: never[]) => unknown;

/**
 * The methods of a Service class `T` as seen through a link: same parameters (plus optional trailing
 * `kwargs(...)` / `callOptions(...)`), results wrapped in a Promise. Members starting with `_` are left
 * out (a Service refuses them).
 */
export type RemoteMethods<T> = {
  [K in keyof T as K extends string
    ? K extends `_${string}`
      ? never
      : T[K] extends AnyMethod
        ? K
        : never
    : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: [...A, ...CallExtra[]]) => Promise<Awaited<R>>
    : never;
};

/** The members every Service has that are not requests (the base class's own; left out of a typed link). */
export type ServiceBaseMembers = keyof Service;

/** A link typed after the Service class `T`: `client.link<Echo>('Echo')`. */
export type LinkTo<T> = Link & RemoteMethods<Omit<T, ServiceBaseMembers | keyof Link>>;

/** The stand-in type of a Service with no TypeScript type: any name is a method. */
export type UntypedService = Record<string, (...args: unknown[]) => unknown>;

/**
 * A link with a Service, made by `client.link(name)`. Call the Service's methods on it directly
 * (`await link.echo(1, 2)`); they are sent as requests and resolve with the Service's result, or reject
 * with `MSLNetworkError` (the Service threw), `ResponseTimeoutError` or `ConnectionClosedError`.
 *
 * The members below are the link's own; to call a Service method whose name is one of them, use
 * {@link Link.request}.
 *
 * @example
 * ```ts
 * const link = await client.link<Echo>('Echo');
 * link.notificationHandler = (args, kw) => console.log('notified', args, kw);
 * console.log(await link.echo(1, 'two', kwargs({ x: 3.5 })));
 * await link.acquireLock();
 * ```
 */
// How the proxy of a link sends a request: the arguments array the proxy collected goes as it is (no
// copy into `request(attribute, ...args)`). Set by Link's static block, which may read #send.
let sendFromProxy: (link: Link, attribute: string, args: unknown[]) => Promise<unknown>;

export class Link {
  static {
    sendFromProxy = (link, attribute, args) => link.#send(link.serviceName, attribute, args);
  }

  /** The Service's name. */
  readonly serviceName: string;
  /** Called with each notification the Service emits (assign a function; `undefined` ignores them). */
  notificationHandler: NotificationHandler | undefined;
  #identity: ServiceSummary;
  #sender: RequestSender | undefined;

  /** @internal Made by `Client.link()`. */
  constructor(sender: RequestSender, serviceName: string, identity: ServiceSummary) {
    this.#sender = sender;
    this.serviceName = serviceName;
    this.#identity = identity;
  }

  /** The Service's address as the Manager sees it (`host:port`). */
  get serviceAddress(): string {
    return this.#identity.address;
  }

  /** The Service's public attributes: method name → signature text (or constant → value). */
  get serviceAttributes(): Record<string, unknown> {
    return this.#identity.attributes;
  }

  /** The language the Service is written in, e.g. `'Python 3.11.2'` or `'Node.js 20.20.2'`. */
  get serviceLanguage(): string {
    return this.#identity.language;
  }

  /** The operating system the Service runs on. */
  get serviceOs(): string {
    return this.#identity.os;
  }

  /** How many clients may link with the Service (`<= 0`: unlimited). */
  get serviceMaxClients(): number {
    return this.#identity.max_clients;
  }

  /** Whether the link is still usable (not unlinked, client connected). */
  get isLinked(): boolean {
    return this.#sender !== undefined;
  }

  /**
   * Sends a request for `attribute` explicitly — for Service methods whose names are members of Link.
   * @example
   * ```ts
   * await link.request('unlink', 'channel-1'); // the Service's own 'unlink' method
   * ```
   */
  request(attribute: string, ...args: unknown[]): Promise<unknown> {
    return this.#send(this.serviceName, attribute, args);
  }

  /**
   * Locks the Service for this client: exclusive (default; this client must be its only link) or
   * shared. While any lock is held, no new client can link. Resolves with the linked clients' names.
   */
  acquireLock(options: { shared?: boolean } & Pick<CallOptionsInit, 'timeout'> = {}): Promise<string[]> {
    const extra = callExtras({ shared: options.shared === true }, options.timeout);
    return this.#send('Manager', 'acquire_lock', [this.serviceName, ...extra]) as Promise<string[]>;
  }

  /** Releases this client's lock; resolves with the names of the clients still holding a lock. */
  releaseLock(options: { timeout?: number } = {}): Promise<string[]> {
    return this.#send('Manager', 'release_lock', [
      this.serviceName,
      ...callExtras(undefined, options.timeout),
    ]) as Promise<string[]>;
  }

  /** Asks the Service to shut down (calls its `shutdownService` hook); resolves with its answer. */
  shutdownService(...args: unknown[]): Promise<unknown> {
    return this.#send(this.serviceName, 'shutdown_service', args);
  }

  /** Unlinks from the Service (this client's lock on it is released too). Idempotent. */
  async unlink(options: { timeout?: number } = {}): Promise<void> {
    const sender = this.#sender;
    if (sender === undefined) return;
    try {
      await sender.request('Manager', 'unlink', [
        this.serviceName,
        ...callExtras(undefined, options.timeout),
      ]);
    } finally {
      this.#detach();
    }
  }

  /** @internal Delivers a notification from the Manager. */
  deliverNotification(args: unknown[], kw: Record<string, unknown>): void {
    const handler = this.notificationHandler;
    if (handler === undefined) return;
    try {
      handler(args, kw);
    } catch (error) {
      // A throwing handler must not break the client's reader; report it like an uncaught error would.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** @internal The client went away or unlinked. */
  detach(): void {
    this.#sender = undefined;
  }

  #detach(): void {
    const sender = this.#sender;
    this.#sender = undefined;
    sender?.forgetLink(this);
  }

  #send(service: string, attribute: string, args: readonly unknown[]): Promise<unknown> {
    if (this.#sender === undefined) {
      return Promise.reject(
        new ConnectionClosedError(`The link with '${this.serviceName}' is closed (unlinked or disconnected)`),
      );
    }
    return this.#sender.request(service, attribute, args);
  }
}

function callExtras(kw: Record<string, unknown> | undefined, timeout: number | undefined): unknown[] {
  // Built with the helpers a user would call, so the client splits them again on one code path.
  const out: unknown[] = [];
  if (kw !== undefined) out.push(kwargs(kw));
  if (timeout !== undefined) out.push(callOptions({ timeout }));
  return out;
}

// Names a caller or a tool may probe on any object; a link must not turn them into requests
// (`await link` would call `then`, test matchers probe `asymmetricMatch` and `@@…` markers, …).
const NOT_REMOTE = new Set([
  'then',
  'catch',
  'finally',
  'toJSON',
  'asymmetricMatch',
  '$$typeof',
  'nodeType',
  'inspect',
]);

/**
 * Wraps `target` so that unknown property names become remote calls made by `call(name, args)`.
 * Own members of `target` (and of its prototype chain) stay local; functions are bound to `target`
 * so that `#private` fields keep working through the proxy.
 * @internal
 */
export function remoteProxy<T extends object>(
  target: T,
  call: (name: string, args: unknown[]) => Promise<unknown>,
): T {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop) {
      if (typeof prop === 'symbol' || prop in obj || NOT_REMOTE.has(prop) || prop.startsWith('@@')) {
        const value = Reflect.get(obj, prop, obj);
        if (typeof value !== 'function') return value;
        let fn = bound.get(prop);
        if (fn === undefined || (fn as { original?: unknown }).original !== value) {
          const wrapper = (value as (...a: unknown[]) => unknown).bind(obj);
          Object.defineProperty(wrapper, 'original', { value });
          fn = wrapper;
          bound.set(prop, fn);
        }
        return fn;
      }
      let fn = bound.get(prop);
      if (fn === undefined) {
        fn = remoteFunction(call, prop);
        bound.set(prop, fn);
      }
      return fn;
    },
    set(obj, prop, value) {
      return Reflect.set(obj, prop, value, obj);
    },
  });
}

// Made outside the proxy's get trap: a closure written inside the trap would cost every property read
// a context object, a remote call included.
function remoteFunction(
  call: (name: string, args: unknown[]) => Promise<unknown>,
  name: string,
): (...args: unknown[]) => Promise<unknown> {
  return (...args) => call(name, args);
}

/** Makes the proxy a Client hands out for a Link. @internal */
export function linkProxy<T>(link: Link): LinkTo<T> {
  return remoteProxy(link, (name, args) => sendFromProxy(link, name, args)) as LinkTo<T>;
}
