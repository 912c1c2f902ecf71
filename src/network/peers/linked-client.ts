/**
 * A Client linked with one Service in a single object: msl-network's `LinkedClient`.
 * @module
 */
import { ConnectionTimeoutError, MSLNetworkError } from '../../errors.js';
import type { ManagerIdentity } from '../protocol/messages.js';
import { type Client, type ConnectOptions, connect, type IdentitiesOptions } from './client.js';
import {
  type Link,
  type NotificationHandler,
  type RemoteMethods,
  remoteProxy,
  type ServiceBaseMembers,
  type UntypedService,
} from './link.js';
import { DEFAULT_CONNECT_TIMEOUT } from './manager-socket.js';

/** Options of a {@link LinkedClient}: those of `connect()`; `timeout` also bounds the wait for the Service. */
export interface LinkedClientOptions extends ConnectOptions {
  /** How often to ask the Manager whether the Service has appeared, in milliseconds. Default 100. */
  pollInterval?: number;
}

/** A LinkedClient typed after the Service class `T`. */
export type LinkedClientOf<T = UntypedService> = LinkedClient &
  RemoteMethods<Omit<T, ServiceBaseMembers | keyof LinkedClient>>;

/**
 * Connects to a Manager, waits (within `timeout`) for the Service named `serviceName` to appear, links
 * with it, and forwards every other method call to it. Override {@link LinkedClient.serviceErrorHandler}
 * to react when the Service answers with an error.
 *
 * @example
 * ```ts
 * const echo = await LinkedClient.create<Echo>('Echo', { port: 1875, autoSave: true });
 * console.log(await echo.echo('hello'));
 * await echo.disconnect();
 *
 * // or, without await on construction: calls wait until the link is ready
 * const dmm = new LinkedClient('DMM', { host: 'lab-pc' }) as LinkedClientOf<Dmm>;
 * ```
 */
export class LinkedClient {
  /** The Service this client is linked with. */
  readonly serviceName: string;
  /** Resolves when connected and linked; rejects if that fails. */
  readonly ready: Promise<void>;
  readonly #options: LinkedClientOptions;
  #client: Client | undefined;
  #link: Link | undefined;
  #handler: NotificationHandler | undefined;

  constructor(serviceName: string, options: LinkedClientOptions = {}) {
    this.serviceName = serviceName;
    this.#options = options;
    this.ready = this.#open();
    // The failure is reported by `ready` and by every call; it must not also crash the process as an
    // unhandled rejection when nobody awaited `ready`.
    this.ready.catch(() => {});
    // biome-ignore lint/correctness/noConstructorReturn: the proxy makes every unknown name a request
    return remoteProxy(this, (name, args) => this.#call(name, args));
  }

  /** Creates a LinkedClient and waits until it is linked. */
  static async create<T = UntypedService>(
    serviceName: string,
    options: LinkedClientOptions = {},
  ): Promise<LinkedClientOf<T>> {
    const linked = new LinkedClient(serviceName, options);
    await linked.ready;
    return linked as LinkedClientOf<T>;
  }

  /**
   * Called when the Service answers a request with an error, before the call rejects with that error.
   * Override it to log, reconnect, or throw an error of your own instead.
   */
  serviceErrorHandler(_error: MSLNetworkError): void {}

  /** The underlying Client (after {@link ready}). */
  get client(): Client {
    return this.#need().client;
  }

  /** The underlying Link (after {@link ready}). */
  get link(): Link {
    return this.#need().link;
  }

  /** Receives the Service's notifications. */
  get notificationHandler(): NotificationHandler | undefined {
    return this.#handler;
  }

  set notificationHandler(handler: NotificationHandler | undefined) {
    this.#handler = handler;
    if (this.#link) this.#link.notificationHandler = handler;
  }

  get serviceAddress(): string {
    return this.link.serviceAddress;
  }
  get serviceAttributes(): Record<string, unknown> {
    return this.link.serviceAttributes;
  }
  get serviceLanguage(): string {
    return this.link.serviceLanguage;
  }
  get serviceOs(): string {
    return this.link.serviceOs;
  }
  get serviceMaxClients(): number {
    return this.link.serviceMaxClients;
  }

  /** Sends a request for `attribute` explicitly (for Service methods named like a member here). */
  async request(attribute: string, ...args: unknown[]): Promise<unknown> {
    return this.#call(attribute, args);
  }

  async acquireLock(options: { shared?: boolean; timeout?: number } = {}): Promise<string[]> {
    await this.ready;
    return this.link.acquireLock(options);
  }

  async releaseLock(options: { timeout?: number } = {}): Promise<string[]> {
    await this.ready;
    return this.link.releaseLock(options);
  }

  async shutdownService(...args: unknown[]): Promise<unknown> {
    await this.ready;
    return this.link.shutdownService(...args);
  }

  async unlink(options: { timeout?: number } = {}): Promise<void> {
    await this.ready;
    return this.link.unlink(options);
  }

  async adminRequest(attrib: string, ...args: unknown[]): Promise<unknown> {
    await this.ready;
    return this.client.adminRequest(attrib, ...args);
  }

  async identities(options: IdentitiesOptions = {}): Promise<ManagerIdentity | string> {
    await this.ready;
    return this.client.identities(options);
  }

  isConnected(): boolean {
    return this.#client?.isConnected() === true;
  }

  /** A new LinkedClient with the same options (and another name) linked with the same Service. */
  spawn(name?: string): Promise<LinkedClientOf> {
    return LinkedClient.create(this.serviceName, {
      ...this.#options,
      signal: undefined,
      ...(name === undefined ? {} : { name }),
    });
  }

  /** Disconnects from the Manager. Idempotent. */
  async disconnect(): Promise<void> {
    try {
      await this.ready;
    } catch {
      return;
    }
    await this.#client?.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  async #call(name: string, args: unknown[]): Promise<unknown> {
    await this.ready;
    try {
      return await this.link.request(name, ...args);
    } catch (error) {
      if (error instanceof MSLNetworkError) this.serviceErrorHandler(error);
      throw error;
    }
  }

  #need(): { client: Client; link: Link } {
    if (this.#client === undefined || this.#link === undefined) {
      throw new Error(
        `The LinkedClient is not linked with '${this.serviceName}' yet: await its ready promise`,
      );
    }
    return { client: this.#client, link: this.#link };
  }

  async #open(): Promise<void> {
    const timeout = this.#options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
    const until = Date.now() + timeout;
    const client = await connect({ name: 'LinkedClient', ...this.#options });
    try {
      const poll = this.#options.pollInterval ?? 100;
      for (;;) {
        const left = until - Date.now();
        const identity = await client.identities({ timeout: Math.max(1, Math.min(left, 30_000)) });
        if (Object.hasOwn(identity.services ?? {}, this.serviceName)) break;
        if (left <= poll) {
          throw new ConnectionTimeoutError(
            `The '${this.serviceName}' Service did not appear on ${client.managerName} within ${timeout} ms` +
              ` (running: ${Object.keys(identity.services ?? {}).join(', ') || 'no Services'}). Start it, or raise timeout.`,
            timeout,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, poll));
      }
      const link = await client.link(this.serviceName);
      link.notificationHandler = this.#handler;
      this.#client = client;
      this.#link = link;
    } catch (error) {
      await client.disconnect();
      throw error;
    }
  }
}
