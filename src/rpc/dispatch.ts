/**
 * Serving a peer's REQUEST: finds the target object, walks the attribute path through the access policy
 * and performs the action. Knows nothing of sockets or encoding: the Connection feeds it decoded requests
 * and sends back what it returns (a value or a promise of one) or throws.
 * @module
 */
import { AccessDeniedError } from '../errors.js';
import { isConstructible } from './exposure.js';
import { IterateOp, IterationSessions } from './iteration-session.js';
import { Action, type ActionCode, type Target } from './messages.js';
import { type AccessPolicy, describeObject, isBuiltinOrCodeEvaluator } from './policy.js';
import { createProxy, proxyParts } from './proxy.js';
import type { RemoteTarget } from './remote-target.js';

/** What an RPCServer adds to the connections it serves: published names, imports, remote close. */
export interface ServerContext {
  /** The object published under `name`, or undefined. */
  lookup(name: string): object | undefined;
  /** The names published now (for error messages). */
  names(): string[];
  /**
   * A peer publishes `value` under `name` (`client.set(name, value)`).
   * @throws {@link AccessDeniedError} if the name belongs to the server itself.
   */
  publish(name: string, value: unknown): void;
  /** Module specifiers a peer may import. */
  readonly importable: readonly string[];
  /** A peer asked the server to close (`client.closeServer()`); throws if that is not allowed. */
  closeServer(): void;
}

/** Marks a value to be sent by reference even if it could travel by value (returnType 'proxy'). */
export class ByReference {
  constructor(readonly value: object) {}
}

/** A request for an object that is a proxy itself: handed on to the object's real owner. */
export type Forward = (target: RemoteTarget, path: readonly string[]) => Promise<unknown>;

/**
 * Serves requests for one connection.
 * Ownership: `args` passed to {@link perform} become the called function's; nothing keeps them after.
 */
export class RequestDispatcher {
  readonly #root: object | undefined;
  readonly #server: ServerContext | undefined;
  readonly #policy: AccessPolicy;
  readonly #lookupExport: (id: number) => object | undefined;
  /** Copies peers sent us with TRANSFER: their own data, whose built-in methods they may call. */
  readonly #transferred = new WeakSet<object>();
  /** The iterations this peer has open (`for await` over a proxy). */
  readonly #iterations = new IterationSessions();
  /** Functions read with GET, bound to their object, so a proxy of `obj.method` calls it on `obj`. */
  readonly #bound = new WeakMap<object, Map<string, unknown>>();

  constructor(
    root: object | undefined,
    server: ServerContext | undefined,
    policy: AccessPolicy,
    lookupExport: (id: number) => object | undefined,
  ) {
    this.#root = root;
    this.#server = server;
    this.#policy = policy;
    this.#lookupExport = lookupExport;
  }

  get policy(): AccessPolicy {
    return this.#policy;
  }

  /** The connection closed: stop the peer's open iterations (their `return()` runs). */
  close(): void {
    this.#iterations.closeAll();
  }

  /**
   * Performs one request and returns its result (possibly a promise).
   * @throws whatever the called code throws, {@link AccessDeniedError}, TypeError for a bad target or path.
   */
  perform(action: ActionCode, target: Target, path: readonly string[], args: readonly unknown[]): unknown {
    switch (action) {
      case Action.PING:
        return args[0];
      case Action.TIME:
        return performance.timeOrigin + performance.now();
      case Action.IMPORT:
        return this.#import(args[0]);
      case Action.NAMES:
        if (this.#server === undefined)
          throw new TypeError('This peer is not an RPCServer: it has no published names');
        return this.#server.names();
      case Action.TRANSFER: {
        const copy = transfer(args[0]);
        this.#transferred.add(copy.value);
        return copy;
      }
      case Action.CLOSE_SERVER:
        if (this.#server === undefined)
          throw new TypeError('This peer is not an RPCServer: there is no server to close');
        this.#server.closeServer();
        return null;
    }
    if (action === Action.ITERATE) {
      if (args[0] === IterateOp.NEXT) return this.#iterations.next(args[1]);
      if (args[0] === IterateOp.RETURN) return this.#iterations.return(args[1]);
      if (args[0] !== IterateOp.OPEN) throw new TypeError(`Unknown iterate operation ${String(args[0])}`);
    }
    if (action === Action.SET && path.length === 0 && typeof target === 'string') {
      if (this.#server === undefined)
        throw new TypeError('This peer is not an RPCServer: it has no published names');
      this.#server.publish(target, args[0]);
      return null;
    }
    const object = this.#resolve(target);
    const ownCopy = this.#transferred.has(object as object);
    const last = path.length - 1;
    if (action === Action.GET) {
      if (last < 0) return object;
      const holder = this.#walk(object, path, last, ownCopy);
      if (holder instanceof Forwarded) return holder.send(Action.GET, args);
      const value = this.#policy.getMember(holder, path[last], 'get', ownCopy);
      return typeof value === 'function' ? this.#bind(holder as object, path[last], value) : value;
    }
    if (action === Action.CALL) {
      if (last < 0) {
        if (typeof object !== 'function') throw new TypeError(`${describeObject(object)} is not a function`);
        const parts = proxyParts(object);
        if (parts !== undefined) return parts.target.request(Action.CALL, parts.path, args, {});
        return Reflect.apply(object, undefined, args);
      }
      const holder = this.#walk(object, path, last, ownCopy);
      if (holder instanceof Forwarded) return holder.send(Action.CALL, args);
      const method = this.#policy.getMember(holder, path[last], 'call', ownCopy) as (
        ...a: unknown[]
      ) => unknown;
      return Reflect.apply(method, holder, args);
    }
    if (action === Action.ITERATE) {
      const value = this.#read(object, path, ownCopy);
      // An object of a third process: iterate its proxy here, and hand the items on.
      const source = value instanceof Forwarded ? createProxy(value.target, value.path) : value;
      return this.#iterations.open(source, args[1], this.#policy, ownCopy);
    }
    if (action === Action.DISPOSE) {
      if (typeof target !== 'number' || target === 0) {
        throw new TypeError(
          'Only an object lent to you can be disposed remotely: published objects and the root are shared',
        );
      }
      const value = this.#read(object, path, ownCopy);
      if (value instanceof Forwarded) return value.send(Action.DISPOSE, args);
      return this.#dispose(value, ownCopy);
    }
    if (action === Action.CONSTRUCT) {
      if (last < 0) {
        const parts = typeof object === 'function' ? proxyParts(object) : undefined;
        if (parts !== undefined) return parts.target.request(Action.CONSTRUCT, parts.path, args, {});
        // A class published under a name is constructible: publishing it is the owner's choice.
        return construct(object, args, typeof target === 'string' || isConstructible(object));
      }
      const holder = this.#walk(object, path, last, ownCopy);
      if (holder instanceof Forwarded) return holder.send(Action.CONSTRUCT, args);
      const maker = this.#policy.getMember(holder, path[last], 'get', ownCopy);
      return construct(maker, args, isConstructible(maker));
    }
    if (action === Action.SET || action === Action.DELETE) {
      if (last < 0) throw new TypeError('set and delete need a member name');
      const holder = this.#walk(object, path, last, ownCopy);
      if (holder instanceof Forwarded) return holder.send(action, args);
      if (action === Action.SET) this.#policy.setMember(holder, path[last], args[0]);
      else this.#policy.deleteMember(holder, path[last]);
      return null;
    }
    throw new TypeError(`Unknown action ${String(action)}`);
  }

  /**
   * Runs `value[Symbol.asyncDispose]()` or else `value[Symbol.dispose]()` (RPyC's remote `__exit__`); nothing
   * if it has neither. A built-in's dispose method (a stream's) needs allowBuiltinMethods.
   */
  async #dispose(value: unknown, ownCopy: boolean): Promise<null> {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return null;
    const parts = typeof value === 'function' ? proxyParts(value) : undefined;
    if (parts !== undefined) {
      await parts.target.request(Action.DISPOSE, parts.path, [], {});
      return null;
    }
    for (const symbol of [Symbol.asyncDispose, Symbol.dispose]) {
      const method = (value as Record<symbol, unknown>)[symbol];
      if (typeof method !== 'function') continue;
      if (!ownCopy && !this.#policy.allowBuiltinMethods && this.#policy.isBuiltinMember(value, symbol)) {
        throw new AccessDeniedError(
          String(symbol),
          `Disposing ${describeObject(value)} is denied: its dispose method belongs to a built-in prototype; ` +
            "the server's policy needs allowBuiltinMethods",
        );
      }
      await Reflect.apply(method, value, []);
      return null;
    }
    return null;
  }

  /** `object.path` read with the policy's 'get' rule, or the rest of the request for a proxy met on the way. */
  #read(object: unknown, path: readonly string[], ownCopy: boolean): unknown {
    const last = path.length - 1;
    if (last < 0) return object;
    const holder = this.#walk(object, path, last, ownCopy);
    if (holder instanceof Forwarded) return holder;
    return this.#policy.getMember(holder, path[last], 'get', ownCopy);
  }

  #resolve(target: Target): unknown {
    if (target === 0) {
      if (this.#root === undefined) {
        throw new TypeError(
          'This peer serves no root object (pass `root` to its Connection, or use a published name)',
        );
      }
      return this.#root;
    }
    if (typeof target === 'string') {
      const object = this.#server?.lookup(target);
      if (object === undefined) {
        const names = this.#server?.names() ?? [];
        const published =
          names.length > 0
            ? `published are: ${names.map((n) => `'${n}'`).join(', ')}`
            : 'nothing is published';
        throw new ReferenceError(`No object is published under '${target}' on this server (${published})`);
      }
      return object;
    }
    const object = this.#lookupExport(target);
    if (object === undefined) {
      throw new ReferenceError(
        `Object #${target} is not lent to this peer (it was released, or never existed)`,
      );
    }
    return object;
  }

  /**
   * Walks `path[0..end)` from `object` with the policy's 'get' rule. A proxy met on the way (an object of a
   * third process) takes the rest of the path: the request is handed on to its owner.
   */
  #walk(object: unknown, path: readonly string[], end: number, ownCopy: boolean): unknown {
    let current = object;
    for (let i = 0; i <= end; i++) {
      if (typeof current === 'function') {
        const parts = proxyParts(current);
        if (parts !== undefined) return new Forwarded(parts.target, [...parts.path, ...path.slice(i)]);
      }
      if (i === end) return current;
      current = this.#policy.getMember(current, path[i], 'get', ownCopy);
    }
    return current;
  }

  #bind(holder: object, name: string, fn: unknown): unknown {
    if (proxyParts(fn as object) !== undefined) return fn;
    let byName = this.#bound.get(holder);
    if (byName === undefined) {
      byName = new Map();
      this.#bound.set(holder, byName);
    }
    let bound = byName.get(name);
    if (bound === undefined) {
      bound = (fn as (...a: unknown[]) => unknown).bind(holder);
      byName.set(name, bound);
    }
    return bound;
  }

  async #import(specifier: unknown): Promise<unknown> {
    if (typeof specifier !== 'string') throw new TypeError('import needs a module specifier string');
    const allowed = this.#server?.importable ?? [];
    if (!allowed.includes(specifier)) {
      throw new AccessDeniedError(
        specifier,
        `Module '${specifier}' is not importable: the server allows ${
          allowed.length > 0 ? allowed.map((m) => `'${m}'`).join(', ') : 'no modules'
        } (add it to the server's 'importable' option)`,
      );
    }
    return new ByReference(await import(specifier));
  }
}

/**
 * `new maker(...args)`, as a reference: only for a published class or one marked `constructible()`, never
 * for a built-in constructor or a code evaluator.
 */
function construct(maker: unknown, args: readonly unknown[], allowed: boolean): ByReference {
  if (typeof maker !== 'function') throw new TypeError(`${describeObject(maker)} is not a class`);
  const name = maker.name || '(anonymous)';
  if (isBuiltinOrCodeEvaluator(maker)) {
    throw new AccessDeniedError(name, `Constructing '${name}' is denied: it is a built-in constructor`);
  }
  if (!allowed) {
    throw new AccessDeniedError(
      name,
      `Constructing '${name}' is denied: only a class published under a name, or one the owner marked ` +
        'with constructible(), can be constructed by a peer',
    );
  }
  if (typeof maker.prototype !== 'object' || maker.prototype === null) {
    throw new TypeError(`${describeObject(maker)} is not a class (it cannot be called with new)`);
  }
  return new ByReference(Reflect.construct(maker, args) as object);
}

function transfer(value: unknown): ByReference {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new TypeError(`Only objects can be transferred (got ${value === null ? 'null' : typeof value})`);
  }
  return new ByReference(value);
}

/** The rest of a request, handed on to the owner of a proxy met on the path. */
class Forwarded {
  constructor(
    readonly target: RemoteTarget,
    readonly path: readonly string[],
  ) {}

  send(action: ActionCode, args: readonly unknown[]): Promise<unknown> {
    return this.target.request(action, this.path, args, {});
  }
}
