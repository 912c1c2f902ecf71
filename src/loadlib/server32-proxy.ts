/**
 * A typed stand-in for a Server32: every member is a function that calls `request32`, so a client
 * needs no method per server method (msl-loadlib's `__getattr__` recipe, typed).
 * @module
 */
import type { Server32Output, ShutdownOptions } from './client64-options.js';
import type { Server32 } from './server32.js';

/** What the proxy needs of its client (a `Client64`): a small interface, so neither imports the other. */
export interface Server32ProxyClient {
  request32<R = unknown>(name: string, ...args: unknown[]): Promise<R>;
  shutdownServer32(options?: ShutdownOptions): Promise<Server32Output>;
}

/**
 * One member of the server, as the proxy offers it: a method keeps its arguments and returns a promise; a
 * property (a field or a getter) is awaited for its value, `await proxy.serialNumber`, as with an rpc proxy
 * (`farcall/rpc`'s `Remote<T>`). Both are one `request32(name, ...args)`.
 */
export type Server32ProxyMember<M> = M extends (...args: infer A) => infer R
  ? (...args: A) => Promise<Awaited<R>>
  : PromiseLike<Awaited<M>>;

/**
 * The proxy of a server of type `T` (your Server32 subclass): each public method of `T` — not those of the
 * Server32 base class — becomes an async function, and each property is awaited for its value
 * (`await proxy.serialNumber`, which sends `request32('serialNumber')`), as with an rpc proxy. (Calling a
 * property, `proxy.serialNumber()`, also works at run time, as msl-loadlib's `request32` does; it is not
 * typed, so code reads one way.)
 *
 * Built-ins start with `$` so they never shadow a server member: `$client` (the Client64),
 * `$shutdown()` (= `$client.shutdownServer32()`); `await using` shuts the server down.
 */
export type Server32Proxy<T, C extends Server32ProxyClient = Server32ProxyClient> = {
  readonly [K in Exclude<keyof T, keyof Server32 | symbol | `_${string}`>]: Server32ProxyMember<T[K]>;
} & {
  /** The client the proxy calls through (the `Client64`). */
  readonly $client: C;
  /** Shuts the server down (see `Client64.shutdownServer32`). */
  $shutdown(options?: ShutdownOptions): Promise<Server32Output>;
  [Symbol.asyncDispose](): Promise<void>;
};

/** @internal Builds the proxy of `client` (see `Client64.proxy`). */
export function createServer32Proxy<T, C extends Server32ProxyClient>(client: C): Server32Proxy<T, C> {
  const members = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const handler: ProxyHandler<object> = {
    get(_target, key) {
      if (key === '$client') return client;
      if (key === '$shutdown') return (options?: ShutdownOptions) => client.shutdownServer32(options);
      if (key === Symbol.asyncDispose) return async () => void (await client.shutdownServer32());
      // Not a promise: `await proxy` must give the proxy, not call request32('then').
      if (typeof key !== 'string' || key === 'then') return undefined;
      let member = members.get(key);
      if (member === undefined) {
        const call = (...args: unknown[]) => client.request32(key, ...args);
        // `await proxy.label` reads a property: a member is thenable (one request32 per await), as an rpc
        // proxy's path is.
        Object.defineProperty(call, 'then', {
          value: (resolve: (value: unknown) => unknown, reject: (reason: unknown) => unknown) =>
            client.request32(key).then(resolve, reject),
        });
        member = call;
        members.set(key, member);
      }
      return member;
    },
    has(_target, key) {
      return key === '$client' || key === '$shutdown' || (typeof key === 'string' && key !== 'then');
    },
    set() {
      throw new TypeError('A Server32 proxy is read-only: call a server method to change its state');
    },
  };
  return new Proxy(Object.create(null) as object, handler) as Server32Proxy<T, C>;
}
