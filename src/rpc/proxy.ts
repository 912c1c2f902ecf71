/**
 * `ObjectProxy`: a JS Proxy standing for an object on the other side of a connection.
 *
 * Reading a member does not talk to the peer: it makes a proxy with a longer attribute path
 * (`proxy.a.b.c`). Calling a proxy sends ONE request for the whole path (`proxy.a.b.c(1, 2)`), and
 * awaiting a proxy with a path fetches that member's value (`await proxy.a`). A proxy without a path (the
 * object itself) is not thenable, so `await client.get('x')` and `return proxy` from an async function
 * hand the proxy over instead of fetching anything.
 *
 * The built-ins are exported functions ({@link release}, {@link options}, {@link getValue},
 * {@link setAttr}, {@link deleteAttr}) or symbols (`Symbol.dispose`), so they never shadow a remote member.
 * @module
 */
import { ConnectionClosedError, FarcallError } from '../errors.js';
import { Action, type ActionCode } from './messages.js';
import { RemoteIterator } from './remote-iterator.js';
import type { CallOptions, RemoteTarget } from './remote-target.js';

// ---------------------------------------------------------------------------------------------------------
// Types: Remote<T> maps an interface to what its proxy offers (birpc-style), so calls are type-checked.
// ---------------------------------------------------------------------------------------------------------

/** Values that travel by value although they have methods (see {@link RemoteResult}). */
export type ByValueObject =
  | Date
  | Map<unknown, unknown>
  | Set<unknown>
  | ArrayBufferView
  | readonly unknown[]
  | Error;

/** True if some member of `T` is a function: then `T` is an object with methods, which travels by reference. */
export type HasMethods<T> = true extends {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? true : false;
}[keyof T]
  ? true
  : false;

/**
 * What a remote call resolves to (returnType 'auto'): the awaited result, where a function comes back as
 * a callable proxy and an object with methods (a class instance) as a proxy of it. Plain data stays data.
 * `F` is {@link Remote}'s: whether data fields are typed.
 */
export type RemoteResult<R, F extends boolean = false> =
  Awaited<R> extends (...args: infer A) => infer R2
    ? RemoteFunction<A, R2, F>
    : Awaited<R> extends ByValueObject
      ? Awaited<R>
      : Awaited<R> extends object
        ? HasMethods<Awaited<R>> extends true
          ? Remote<Awaited<R>, F>
          : Awaited<R>
        : Awaited<R>;

/**
 * What `for await` gives over a remote iterable (an async generator, a class with `[Symbol.iterator]`):
 * its items as a call returns them. Strings are not iterated.
 */
export type RemoteIteration<R, F extends boolean = false> =
  Awaited<R> extends string
    ? unknown
    : Awaited<R> extends AsyncIterable<infer E>
      ? AsyncIterable<RemoteResult<E, F>>
      : Awaited<R> extends Iterable<infer E>
        ? AsyncIterable<RemoteResult<E, F>>
        : unknown;

/**
 * A remote function or method: the same parameters, a Promise of the result; for an iterable result the
 * promise is also async-iterable (`for await (const x of proxy.items())`).
 */
export type RemoteFunction<A extends unknown[], R, F extends boolean = false> = (
  ...args: A
) => Promise<RemoteResult<R, F>> & RemoteIteration<R, F>;

/** A remote data member or getter: awaitable for its value, and a path to its own members. */
export type RemoteProperty<V, F extends boolean = false> = PromiseLike<RemoteResult<V, F>> &
  (V extends object ? RemoteMembers<V, F> : unknown);

/** One member of a remote object, seen through a proxy. */
export type RemoteMember<V, F extends boolean = false> = V extends abstract new (
  ...args: infer A
) => infer I
  ? RemoteClass<A, I, F>
  : V extends (...args: infer A) => infer R
    ? RemoteFunction<A, R, F>
    : RemoteProperty<V, F>;

/** A remote class: `await new proxy(...args)` constructs on the owner and gives a proxy of the instance. */
export type RemoteClass<A extends unknown[], I, F extends boolean = false> = new (
  ...args: A
) => Promise<Remote<I, F>>;

/**
 * The members of `T` a default policy lets a peer reach: methods (and function-valued members) and `readonly`
 * members, which is how TypeScript types a getter. A writable data field needs the server's
 * `allowPublicAttrs`, so it is typed only by `Remote<T, true>`.
 */
export type ReachableKeys<T, F extends boolean = false> = keyof T extends infer K
  ? K extends keyof T & string
    ? K extends `_${string}`
      ? never
      : F extends true
        ? K
        : T[K] extends (...args: never[]) => unknown
          ? K
          : T[K] extends abstract new (
                ...args: never[]
              ) => unknown
            ? K
            : // K is readonly when Pick<T, K> differs from its writable copy (the exact-equality test).
              (<G>() => G extends Pick<T, K> ? 1 : 2) extends <G>() => G extends {
                  -readonly [Q in keyof Pick<T, K>]: Pick<T, K>[Q];
                }
                  ? 1
                  : 2
              ? never
              : K
    : never
  : never;

/**
 * The public members of `T` (names starting with `_` are never reachable), seen through a proxy: see
 * {@link ReachableKeys} for which.
 */
export type RemoteMembers<T, F extends boolean = false> = {
  readonly [K in ReachableKeys<T, F>]: RemoteMember<T[K], F>;
};

/** A proxy of an object whose type is not known: every member is reachable, results are `unknown`. */
export interface UntypedRemote extends Disposable, AsyncDisposable, AsyncIterable<unknown> {
  readonly [name: string]: UntypedRemoteMember;
}

/** A member of an {@link UntypedRemote}: callable, awaitable, and a path to further members. */
export type UntypedRemoteMember = ((...args: unknown[]) => Promise<unknown> & AsyncIterable<unknown>) &
  (new (
    ...args: unknown[]
  ) => Promise<UntypedRemote>) &
  PromiseLike<unknown> &
  UntypedRemote;

/**
 * The proxy of a remote object of type `T`, typed as the server's default policy serves it: its methods
 * return Promises of their results, its getters (`readonly` members) are awaitable; a writable data field
 * is not typed, because reading it needs the server's `allowPublicAttrs`. With such a server, use
 * `Remote<T, true>`, which types every public member. Without a type argument every member is reachable
 * and untyped.
 *
 * @typeParam F - `true` when the server's policy has `allowPublicAttrs` (or `allowAll`): data fields typed too
 *
 * @example
 * ```ts
 * class Scanner { rate = 10; start(rate: number): number { return rate; } get status(): string { return 'idle'; } }
 * const scanner: Remote<Scanner> = client.get<Scanner>('scanner');
 * const n: number = await scanner.start(10);   // type-checked end to end
 * const s: string = await scanner.status;      // a getter: readable under the default policy
 * // await scanner.rate;                       // a type error: a data field needs allowPublicAttrs
 * const open: Remote<Scanner, true> = client.get<Scanner>('scanner');
 * const rate: number = await open.rate;        // when the server has allowPublicAttrs
 * ```
 */
export type Remote<T = unknown, F extends boolean = false> = unknown extends T
  ? UntypedRemote
  : RemoteMembers<T, F> &
      Disposable &
      AsyncDisposable &
      RemoteIteration<T, F> &
      (T extends abstract new (
        ...args: infer A
      ) => infer I
        ? RemoteClass<A, I, F>
        : T extends (...args: infer A) => infer R
          ? RemoteFunction<A, R, F>
          : unknown);

// ---------------------------------------------------------------------------------------------------------
// The proxy
// ---------------------------------------------------------------------------------------------------------

interface ProxyState {
  readonly target: RemoteTarget;
  readonly path: readonly string[];
  readonly options: CallOptions;
  /** Proxies of `this.path + [name]`, kept so a hot `proxy.add(…)` does not build a proxy per call. */
  children: Map<string, object> | undefined;
  /** The proxy itself (for `then`, which must not rebuild it). */
  proxy: object;
}

/** proxy → state and proxy-target function → state: how built-ins and traps find a proxy's state. */
const states = new WeakMap<object, ProxyState>();

const EMPTY_ARGS: readonly unknown[] = [];

/**
 * `util.inspect.custom`, which Node.js defines as this registered symbol: named here so that loading the
 * proxy does not load `node:util` (in the 32-bit server's Node 18, without a code cache, that costs ms).
 */
const INSPECT_CUSTOM = Symbol.for('nodejs.util.inspect.custom');

/**
 * Names that serializers, test frameworks and inspectors probe on any object (`JSON.stringify` calls
 * `toJSON`, test matchers call `asymmetricMatch`, DOM checks read `nodeType`; React and Immutable probe
 * `$$…`/`@@…` names). On a proxy they would become remote calls nobody awaits, so they read as undefined.
 */
const LOCAL_NAMES = new Set(['toJSON', 'asymmetricMatch', 'nodeType']);

/**
 * Makes the proxy of `path` below `target`.
 * Ownership: `path` and `options` are kept as they are and must not be modified afterwards.
 */
export function createProxy<T = unknown>(
  target: RemoteTarget,
  path: readonly string[] = EMPTY_ARGS as readonly string[],
  options: CallOptions = {},
): Remote<T> {
  // The proxy's target is a (constructible) function so the proxy is callable and `new`-able. util.inspect
  // looks at a Proxy's target without calling its traps: the target's prototype says what it stands for.
  const fn = function ObjectProxy() {};
  Object.setPrototypeOf(fn, proxyTargetPrototype);
  const state: ProxyState = { target, path, options, children: undefined, proxy: fn };
  const proxy = new Proxy(fn, handler);
  state.proxy = proxy;
  states.set(fn, state);
  states.set(proxy, state);
  return proxy as unknown as Remote<T>;
}

/** How util.inspect shows a proxy: `[ObjectProxy Report #5 of tcp://127.0.0.1:5000 .summary]`. */
function inspectProxy(this: unknown): string {
  const state = typeof this === 'function' ? states.get(this) : undefined;
  return state === undefined ? '[ObjectProxy]' : `[ObjectProxy ${describeForInspect(state)}]`;
}

/** The prototype of every proxy target: Function.prototype plus what util.inspect reads. */
const proxyTargetPrototype = Object.create(Function.prototype, {
  [INSPECT_CUSTOM]: { value: inspectProxy },
  [Symbol.toStringTag]: { value: 'ObjectProxy' },
}) as object;

function describeForInspect(state: ProxyState): string {
  const path = state.path.length > 0 ? ` .${state.path.join('.')}` : '';
  return `${state.target.describe()}${path}`;
}

const handler: ProxyHandler<() => void> = {
  get(fn, key) {
    const state = states.get(fn) as ProxyState;
    if (typeof key === 'symbol') return symbolMember(state, key);
    if (key === 'then') return state.path.length === 0 ? undefined : thenOf(state);
    if (LOCAL_NAMES.has(key) || key.startsWith('$$') || key.startsWith('@@')) return undefined;
    let children = state.children;
    if (children === undefined) {
      children = new Map();
      state.children = children;
    }
    let child = children.get(key);
    if (child === undefined) {
      child = createProxy(state.target, [...state.path, key], state.options) as object;
      children.set(key, child);
    }
    return child;
  },
  apply(fn, _thisArg, args) {
    const call = send(states.get(fn) as ProxyState, Action.CALL, args, undefined);
    // `for await (const x of proxy.items())`: the call's promise iterates what it resolves to.
    (call as Promise<unknown> & AsyncIterable<unknown>)[Symbol.asyncIterator] = iterateResult;
    return call;
  },
  construct(fn, args) {
    // `new proxy(...)` constructs on the owner; the Promise of the new instance's proxy is the result.
    return send(states.get(fn) as ProxyState, Action.CONSTRUCT, args, undefined);
  },
  set(fn, key) {
    throw new TypeError(
      `Cannot assign '${String(key)}' on a proxy of ${describeState(states.get(fn) as ProxyState)}: ` +
        `the assignment could not report a remote failure. Use 'await setAttr(proxy, name, value)'.`,
    );
  },
  deleteProperty(fn, key) {
    throw new TypeError(
      `Cannot delete '${String(key)}' on a proxy of ${describeState(states.get(fn) as ProxyState)}: ` +
        `use 'await deleteAttr(proxy, name)'.`,
    );
  },
  has(fn, key) {
    if (typeof key !== 'string')
      return key === Symbol.dispose || key === Symbol.asyncDispose || key === Symbol.asyncIterator;
    if (key === 'then') return (states.get(fn) as ProxyState).path.length > 0;
    return !(LOCAL_NAMES.has(key) || key.startsWith('$$') || key.startsWith('@@'));
  },
  defineProperty() {
    return false;
  },
};

/** `[Symbol.asyncIterator]` of a call's promise: iterates the result, remote (a proxy) or local (a copy). */
function iterateResult(this: Promise<unknown>): AsyncIterator<unknown> {
  let inner: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  const open = async (): Promise<AsyncIterator<unknown> | Iterator<unknown>> => {
    if (inner !== undefined) return inner;
    const value = (await this) as Record<symbol, unknown> | null | undefined;
    const method =
      value === null || value === undefined
        ? undefined
        : (value[Symbol.asyncIterator] ?? value[Symbol.iterator]);
    if (typeof method !== 'function')
      throw new TypeError(`The call's result is not iterable (${typeof value})`);
    inner = Reflect.apply(method, value, []) as AsyncIterator<unknown>;
    return inner;
  };
  return {
    next: async () => {
      const step = await (await open()).next();
      return { value: await step.value, done: step.done };
    },
    return: async (value?: unknown) => {
      if (inner?.return !== undefined) await inner.return(value);
      return { value, done: true };
    },
  };
}

/**
 * `await using`: runs the remote object's `Symbol.asyncDispose` / `Symbol.dispose` on its owner, then
 * releases the proxy. A connection already gone has disposed of nothing, and has nothing left to release.
 */
async function disposeRemote(state: ProxyState): Promise<void> {
  try {
    await send(state, Action.DISPOSE, EMPTY_ARGS, undefined);
  } catch (error) {
    if (!(error instanceof ConnectionClosedError)) throw error;
  } finally {
    state.target.release();
  }
}

function symbolMember(state: ProxyState, key: symbol): unknown {
  switch (key) {
    case Symbol.asyncDispose:
      return () => disposeRemote(state);
    case Symbol.asyncIterator:
      return () => new RemoteIterator(state.target, state.path, state.options);
    case Symbol.dispose:
      return () => state.target.release();
    case Symbol.toPrimitive:
      return () => `[ObjectProxy ${describeForInspect(state)}]`;
    case Symbol.toStringTag:
      return 'ObjectProxy';
    case INSPECT_CUSTOM:
      return () => `[ObjectProxy ${describeForInspect(state)}]`;
    default:
      return undefined;
  }
}

function thenOf(state: ProxyState) {
  return (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
    send(state, Action.GET, EMPTY_ARGS, undefined).then(onFulfilled, onRejected);
}

function describeState(state: ProxyState): string {
  const path = state.path.length > 0 ? `.${state.path.join('.')}` : '';
  return `${state.target.describe()}${path}`;
}

/**
 * Sends one request for `state` and re-captures the stack of a farcall error here, after the await, so
 * it shows where the user made the call (V8 appends the awaiting async frames) instead of the socket's
 * data handler.
 */
async function send(
  state: ProxyState,
  action: ActionCode,
  args: readonly unknown[],
  override: CallOptions | undefined,
): Promise<unknown> {
  try {
    return await state.target.request(
      action,
      state.path,
      args,
      override === undefined ? state.options : { ...state.options, ...override },
    );
  } catch (error) {
    if (error instanceof FarcallError) Error.captureStackTrace(error);
    throw error;
  }
}

function stateOf(proxy: unknown, caller: string): ProxyState {
  const state = typeof proxy === 'function' ? states.get(proxy) : undefined;
  if (state === undefined) throw new TypeError(`${caller}() expects an ObjectProxy, got ${typeof proxy}`);
  return state;
}

// ---------------------------------------------------------------------------------------------------------
// Built-ins: exported functions, so they never collide with remote member names.
// ---------------------------------------------------------------------------------------------------------

/** True if `value` is an ObjectProxy. */
export function isProxy(value: unknown): boolean {
  return typeof value === 'function' && states.has(value);
}

/**
 * The target and attribute path of a proxy, or undefined for anything else (used by the codec hooks to
 * send a proxy back to its owner or on to a third process).
 * @internal
 */
export function proxyParts(value: object): { target: RemoteTarget; path: readonly string[] } | undefined {
  const state = states.get(value);
  return state === undefined ? undefined : { target: state.target, path: state.path };
}

/**
 * Gives the remote object's references back to its owner now, instead of when the proxy is
 * garbage-collected. Every proxy of that object (any path, any options) becomes unusable. Idempotent.
 * `using p = await client.transfer(data)` does the same through `Symbol.dispose`.
 *
 * @example
 * ```ts
 * const scanner = await root.makeScanner();
 * try { await scanner.start(10); } finally { release(scanner); }
 * ```
 */
export function release(proxy: unknown): void {
  stateOf(proxy, 'release').target.release();
}

/**
 * A proxy of the same remote object and path with other default call options (timeout, sync,
 * returnType). The original proxy keeps its options.
 *
 * @example
 * ```ts
 * const quick = options(remote, { timeout: 500 });
 * await quick.measure();                               // rejects with ResponseTimeoutError after 500 ms
 * await options(remote.log, { sync: 'off' })('hello'); // fire and forget
 * const copy = await options(remote.table, { returnType: 'value' });
 * ```
 */
export function options<P>(proxy: P, callOptions: CallOptions): P {
  const state = stateOf(proxy, 'options');
  return createProxy(state.target, state.path, { ...state.options, ...callOptions }) as P;
}

/**
 * Fetches a copy of the proxy's value (returnType 'value'): for a path, the member's value; for the
 * object itself, its public data. A class instance needs the server's `allowPublicAttrs`.
 *
 * @example
 * ```ts
 * const settings = await getValue(client.get('settings'));
 * ```
 */
export function getValue<T = unknown>(proxy: unknown): Promise<T> {
  return send(stateOf(proxy, 'getValue'), Action.GET, EMPTY_ARGS, { returnType: 'value' }) as Promise<T>;
}

/**
 * Sets member `name` of the remote object to `value` (needs the server's `allowSetAttr`).
 *
 * @example
 * ```ts
 * await setAttr(remote.config, 'rate', 100);
 * ```
 */
export async function setAttr(proxy: unknown, name: string, value: unknown): Promise<void> {
  const state = stateOf(proxy, 'setAttr');
  const child = stateOf(createProxy(state.target, [...state.path, name], state.options), 'setAttr');
  await send(child, Action.SET, [value], undefined);
}

/**
 * Deletes member `name` of the remote object (needs the server's `allowDelAttr`).
 *
 * @example
 * ```ts
 * await deleteAttr(remote.cache, 'stale');
 * ```
 */
export async function deleteAttr(proxy: unknown, name: string): Promise<void> {
  const state = stateOf(proxy, 'deleteAttr');
  const child = stateOf(createProxy(state.target, [...state.path, name], state.options), 'deleteAttr');
  await send(child, Action.DELETE, EMPTY_ARGS, undefined);
}

/**
 * Sends `action` for a proxy with extra call options; used by RPCClient for requests that are not plain
 * member calls.
 * @internal
 */
export function sendFor(
  proxy: unknown,
  action: ActionCode,
  args: readonly unknown[],
  callOptions?: CallOptions,
): Promise<unknown> {
  return send(stateOf(proxy, 'send'), action, args, callOptions);
}
