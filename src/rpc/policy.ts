/**
 * Which members of our objects a peer may reach: safe by default, in the spirit of RPyC's access model.
 *
 * Reachable by default are the public methods and getters of the objects we publish or hand out:
 * - members found on a prototype in the object's chain (class methods and getters), except those of
 *   `Object.prototype` and `Function.prototype`;
 * - own members whose value is a function (the function members of a published plain object or module,
 *   arrow-function class fields, static methods of a published class).
 *
 * Never reachable: names starting with `_`, `#private` members (JavaScript keeps them out of reach anyway),
 * and the methods of built-in prototypes (Array, Map, Set, Date, RegExp, Promise, typed arrays, ArrayBuffer,
 * Buffer, EventEmitter, streams…: they reach the state an object keeps in them) unless
 * `allowBuiltinMethods`. Reading plain data fields needs `allowPublicAttrs`; setting and deleting members
 * need `allowSetAttr` / `allowDelAttr`.
 *
 * Under EVERY option, `allowAll` included: `constructor`, `__proto__`, `prototype`, `__lookupGetter__`,
 * `__lookupSetter__`, `__defineGetter__`, `__defineSetter__`, every member of `Object.prototype` and
 * `Function.prototype`, the code-evaluating constructors (`Function`, `eval`, …), the `buffer`,
 * `byteOffset`, `parent` and `offset` of a binary view (they reveal the memory around it), and any change
 * to a function, a prototype or a built-in object (those are shared by every object of the process).
 * @module
 */
import { EventEmitter } from 'node:events';
import { Duplex, Readable, Stream, Transform, Writable } from 'node:stream';
import { AccessDeniedError } from '../errors.js';
import { type ExposedView, exposedView, isConstructible } from './exposure.js';
import { FORBIDDEN_NAMES } from './forbidden-names.js';

/** The options of an {@link AccessPolicy}; every one is off by default except `includeRemoteStack`. */
export interface AccessPolicyOptions {
  /**
   * Only members whose name starts with this prefix are reachable, and a peer asking for `foo` reaches
   * `${exposedPrefix}foo` (RPyC's `exposed_`). A member named with the prefix is reachable whatever it is:
   * a data field `exposed_rate` reads as `rate` without `allowPublicAttrs`. With `allowAll` the mapping
   * stays: `foo` reaches `exposed_foo` if the object has one, else `foo`. Default: none (every public member).
   */
  exposedPrefix?: string;
  /** Let the peer read public data fields (own properties that are not functions). Default false. */
  allowPublicAttrs?: boolean;
  /** Let the peer set public members (`setAttr`). Default false. */
  allowSetAttr?: boolean;
  /** Let the peer delete public own members (`deleteAttr`). Default false. */
  allowDelAttr?: boolean;
  /**
   * Let the peer reach every member, private ones included. `constructor`, `__proto__`, `prototype` and
   * the code-evaluating constructors stay out of reach. Default false: use it only between trusted peers.
   */
  allowAll?: boolean;
  /**
   * Let the peer call the methods and getters of built-in prototypes (Array, Map, Set, Date, RegExp,
   * Promise, typed arrays, ArrayBuffer, Buffer, EventEmitter, streams…) on our objects: `push` on an array
   * a getter returns by reference, `removeAllListeners` of a published EventEmitter. Default false (not
   * implied by `allowAll`). Objects a peer sent with `transfer()` are its own copy: their built-in
   * methods are reachable whatever this option.
   */
  allowBuiltinMethods?: boolean;
  /** Send the stack of an error our objects throw to the peer. Default true. */
  includeRemoteStack?: boolean;
}

/** What a peer wants to do with a member. */
export type MemberAccess = 'get' | 'call' | 'set' | 'delete';

/** Members of a binary view that reach the memory around it (a pooled Buffer's 8 KiB slab, a parent). */
const VIEW_MEMORY_NAMES = new Set(['buffer', 'byteOffset', 'parent', 'offset']);

// The constructors of each kind of function: each turns a string into code, like Function.
const AsyncFunction = (async () => {}).constructor;
const GeneratorFunction = function* () {}.constructor;
const AsyncGeneratorFunction = async function* () {}.constructor;
/** Read by name so the linter sees no call of eval: we only compare values against it. */
// biome-ignore lint/complexity/useLiteralKeys: see above
const globalEval = (globalThis as Record<string, unknown>)['eval'];

/** Values that turn a string into code: reaching one of them would let a peer evaluate code. */
const CODE_EVALUATORS = new Set<unknown>([
  Function,
  globalEval,
  AsyncFunction,
  GeneratorFunction,
  AsyncGeneratorFunction,
]);

/** Prototypes whose members are never reachable under any option (`toString`, `call`, `bind`, `__defineGetter__`…). */
const SHARED_PROTOTYPES = new Set<unknown>([Object.prototype, Function.prototype]);

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;
const asyncIteratorPrototype = Object.getPrototypeOf(
  Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})())),
) as object;

/**
 * Built-in prototypes whose constructors are not native code (Node implements them in JavaScript); the
 * others are recognised by their native constructor.
 */
const BUILTIN_PROTOTYPES = new Set<object>([
  TypedArrayPrototype,
  iteratorPrototype,
  Buffer.prototype,
  EventEmitter.prototype,
  Stream.prototype,
  Readable.prototype,
  Writable.prototype,
  Duplex.prototype,
  Transform.prototype,
  EventTarget.prototype,
  AbortController.prototype,
  AbortSignal.prototype,
  URL.prototype,
  URLSearchParams.prototype,
  TextEncoder.prototype,
  TextDecoder.prototype,
]);

/** Built-in objects that are not prototypes but are shared by the whole process: never changed by a peer. */
const BUILTIN_OBJECTS = new Set<unknown>([globalThis, Math, JSON, Reflect, Atomics, Intl, console, process]);

const builtinCache = new WeakMap<object, boolean>();

/** True if `holder` is the prototype of a built-in class (its methods reach state the object keeps in it). */
function isBuiltinPrototype(holder: object): boolean {
  let known = builtinCache.get(holder);
  if (known === undefined) {
    known = BUILTIN_PROTOTYPES.has(holder) || SHARED_PROTOTYPES.has(holder) || hasNativeConstructor(holder);
    builtinCache.set(holder, known);
  }
  return known;
}

function hasNativeConstructor(holder: object): boolean {
  const maker = Object.getOwnPropertyDescriptor(holder, 'constructor')?.value;
  return typeof maker === 'function' && maker.prototype === holder && isNativeFunction(maker);
}

function isNativeFunction(fn: unknown): boolean {
  return (
    typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
  );
}

/**
 * True if `fn` is built into the runtime (native code, like `Array`, `Map`, `Buffer`'s natives) or turns
 * strings into code: a peer never constructs such a function.
 */
export function isBuiltinOrCodeEvaluator(fn: unknown): boolean {
  if (CODE_EVALUATORS.has(fn) || isNativeFunction(fn) || BUILTIN_OBJECTS.has(fn)) return true;
  // Node's classes written in JavaScript (Buffer, EventEmitter, streams…) are known by their prototype.
  const prototype = typeof fn === 'function' ? (fn as { prototype?: unknown }).prototype : undefined;
  return typeof prototype === 'object' && prototype !== null && isBuiltinPrototype(prototype);
}

/** True if `target` is the prototype of some class (changing it changes every instance). */
function isPrototypeObject(target: object): boolean {
  const maker = Object.getOwnPropertyDescriptor(target, 'constructor')?.value;
  return typeof maker === 'function' && maker.prototype === target;
}

/**
 * Why a peer may never change members of `target`, or undefined if it may (policy permitting): functions
 * are shared code (a method lives on its class's prototype, `push` on Array.prototype), prototypes and
 * built-in objects are shared by every object of the process.
 */
function unchangeable(target: object): string | undefined {
  if (typeof target === 'function')
    return 'a function is shared code (a method belongs to every instance of its class): its members cannot be changed';
  if (SHARED_PROTOTYPES.has(target) || BUILTIN_OBJECTS.has(target) || isPrototypeObject(target))
    return 'prototypes and built-in objects are shared by the whole process: they cannot be changed';
  return undefined;
}

/**
 * True if `value` travels by value (the codec copies it): it is never turned into a reference, so a peer
 * never gets a handle on the array, map or buffer behind a getter.
 */
export function travelsByValue(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function';
  if (Array.isArray(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  if (value instanceof Date || value instanceof Map || value instanceof Set || value instanceof Error)
    return true;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/**
 * Decides which members of our objects a peer may get, call, set or delete.
 *
 * @example
 * ```ts
 * const policy = new AccessPolicy({ allowPublicAttrs: true });
 * const server = await RPCServer.listen({ policy });
 * ```
 */
export class AccessPolicy {
  readonly exposedPrefix: string | undefined;
  readonly allowPublicAttrs: boolean;
  readonly allowSetAttr: boolean;
  readonly allowDelAttr: boolean;
  readonly allowAll: boolean;
  readonly allowBuiltinMethods: boolean;
  readonly includeRemoteStack: boolean;

  constructor(options: AccessPolicyOptions = {}) {
    this.exposedPrefix = options.exposedPrefix || undefined;
    this.allowPublicAttrs = options.allowPublicAttrs ?? false;
    this.allowSetAttr = options.allowSetAttr ?? false;
    this.allowDelAttr = options.allowDelAttr ?? false;
    this.allowAll = options.allowAll ?? false;
    this.allowBuiltinMethods = options.allowBuiltinMethods ?? false;
    this.includeRemoteStack = options.includeRemoteStack ?? true;
  }

  /** Returns `policy` if it is already an `AccessPolicy`, else a policy with those options. */
  static from(policy: AccessPolicy | AccessPolicyOptions | undefined): AccessPolicy {
    return policy instanceof AccessPolicy ? policy : new AccessPolicy(policy);
  }

  /**
   * The name a peer's `name` maps to on our side: `exposed_foo` for `foo` under `exposedPrefix: 'exposed_'`.
   * @throws {@link AccessDeniedError} if the name is never reachable.
   */
  memberName(name: unknown, target?: unknown): string {
    if (typeof name !== 'string') throw new AccessDeniedError(String(name), 'Member names must be strings');
    if (FORBIDDEN_NAMES.has(name)) throw denied(name, 'it leads to prototypes and constructors');
    const prefix = this.exposedPrefix;
    if (prefix !== undefined) {
      const exposed = name.startsWith(prefix) ? name : prefix + name;
      // allowAll keeps the mapping (RPyC): `foo` reaches `exposed_foo` if there is one, else `foo` itself.
      if (!this.allowAll || FORBIDDEN_NAMES.has(exposed)) return exposed;
      if (target === undefined || target === null || findHolder(Object(target), exposed) !== undefined)
        return exposed;
      return name;
    }
    if (this.allowAll) return name;
    if (name.startsWith('_')) throw denied(name, "names starting with '_' are private");
    return name;
  }

  /** True if `key` (a mapped name) is one the owner exposed by its name (`exposed_x` under that prefix). */
  #exposedByName(key: string): boolean {
    return this.exposedPrefix !== undefined && key.startsWith(this.exposedPrefix);
  }

  /**
   * Reads member `name` of `target` for `access` ('get' or 'call'), applying this policy.
   * A function read for 'call' is returned unbound; the caller calls it with `target` as `this`.
   * @param ownCopy - `target` is (part of) a copy the peer sent us (`transfer()`): its built-in methods
   *   are reachable, since they reach only the peer's own data.
   * @throws {@link AccessDeniedError} naming the member when the policy refuses it.
   * @throws TypeError when the member does not exist.
   */
  getMember(target: unknown, name: unknown, access: 'get' | 'call', ownCopy = false): unknown {
    const view = exposedView(target);
    if (view !== undefined) return getExposedMember(view, name, access);
    const key = this.memberName(name, target);
    if (target === null || target === undefined) {
      throw new TypeError(`Cannot read '${String(name)}' of ${String(target)}`);
    }
    const holder = findHolder(target as object, key);
    if (holder === undefined) throw missing(target, String(name), key);
    if (SHARED_PROTOTYPES.has(holder)) {
      throw denied(
        String(name),
        'members every object inherits (Object.prototype, Function.prototype) are never exposed',
      );
    }
    if (VIEW_MEMORY_NAMES.has(key) && ArrayBuffer.isView(target)) {
      throw denied(String(name), 'it reaches the memory around a binary view, which may hold other data');
    }
    if (!this.allowBuiltinMethods && !ownCopy && isBuiltinPrototype(holder)) {
      throw denied(
        String(name),
        "it is a method of a built-in prototype, which reaches the object's internal state; " +
          "the server's policy needs allowBuiltinMethods",
      );
    }
    if (!this.allowAll) {
      const descriptor = Object.getOwnPropertyDescriptor(holder, key) as PropertyDescriptor;
      const own = holder === Object(target);
      const isGetter = descriptor.get !== undefined;
      const isFunction = typeof descriptor.value === 'function';
      // A prototype's methods and getters are the object's public interface; an own function is a method
      // stored on the instance (an arrow-function field, a plain object's or module's function member).
      // A member the owner named with the exposed prefix is reachable whatever it is (RPyC's exposed_ fields).
      const reachable = isFunction || (isGetter && !own) || this.allowPublicAttrs || this.#exposedByName(key);
      if (!reachable) {
        throw denied(
          String(name),
          own
            ? "it is a data field; the server's policy needs allowPublicAttrs to expose fields"
            : 'it is not a method or getter',
        );
      }
    }
    const value = Reflect.get(target as object, key);
    if (CODE_EVALUATORS.has(value)) throw denied(String(name), 'it evaluates code');
    if (access === 'call' && typeof value !== 'function') {
      throw new TypeError(
        `'${String(name)}' of ${describeObject(target)} is not a function (it is ${typeof value})`,
      );
    }
    return value;
  }

  /**
   * True if `target` reaches its member `key` (a symbol: an iterator, a dispose method) from a built-in
   * prototype other than the iterator prototypes (whose `[Symbol.iterator]()` returns the iterator itself).
   */
  isBuiltinMember(target: object, key: symbol): boolean {
    let holder: object | null = Object(target);
    for (let depth = 0; holder !== null && depth < 1000; depth++) {
      if (Object.hasOwn(holder, key)) break;
      holder = Object.getPrototypeOf(holder);
    }
    if (holder === null || holder === iteratorPrototype || holder === asyncIteratorPrototype) return false;
    return isBuiltinPrototype(holder);
  }

  /**
   * Sets member `name` of `target` to `value`, applying this policy.
   * @throws {@link AccessDeniedError} unless `allowSetAttr` (or `allowAll`) permits it.
   */
  setMember(target: unknown, name: unknown, value: unknown): void {
    const view = exposedView(target);
    // A view's listed names are the object's own names: the policy's prefix and '_' rules do not apply.
    const key = view === undefined ? this.memberName(name, target) : exposedName(view, name);
    if (view !== undefined) target = view.target;
    if (!this.allowAll && !this.allowSetAttr) {
      throw denied(String(name), "setting members is off; the server's policy needs allowSetAttr");
    }
    if (typeof target !== 'object' && typeof target !== 'function')
      throw new TypeError(`Cannot set '${key}' of ${String(target)}`);
    if (target === null) throw new TypeError(`Cannot set '${key}' of null`);
    const why = unchangeable(target);
    if (why !== undefined) throw denied(String(name), why);
    const holder = findHolder(target, key);
    if (holder !== undefined && SHARED_PROTOTYPES.has(holder)) {
      throw denied(String(name), 'members every object inherits cannot be replaced');
    }
    if (!Reflect.set(target, key, value))
      throw new TypeError(`'${key}' of ${describeObject(target)} is read-only`);
  }

  /**
   * Deletes own member `name` of `target`, applying this policy.
   * @throws {@link AccessDeniedError} unless `allowDelAttr` (or `allowAll`) permits it.
   */
  deleteMember(target: unknown, name: unknown): void {
    const view = exposedView(target);
    const key = view === undefined ? this.memberName(name, target) : exposedName(view, name);
    if (view !== undefined) target = view.target;
    if (!this.allowAll && !this.allowDelAttr) {
      throw denied(String(name), "deleting members is off; the server's policy needs allowDelAttr");
    }
    if (typeof target !== 'object' && typeof target !== 'function')
      throw new TypeError(`Cannot delete '${key}' of ${String(target)}`);
    if (target === null) throw new TypeError(`Cannot delete '${key}' of null`);
    const why = unchangeable(target);
    if (why !== undefined) throw denied(String(name), why);
    if (view !== undefined) {
      const holder = findHolder(target, key);
      if (holder !== undefined && SHARED_PROTOTYPES.has(holder))
        throw denied(key, 'members every object inherits are never exposed, even when listed');
    }
    if (!Object.hasOwn(target, key)) throw missing(target, String(name), key);
    if (!Reflect.deleteProperty(target, key))
      throw new TypeError(`'${key}' of ${describeObject(target)} cannot be deleted`);
  }

  /**
   * A copy of `value` that travels by value although it is a class instance (returnType 'value'): its
   * public own data fields, recursively. Needs `allowPublicAttrs` (or `allowAll`), because it reveals fields.
   * Plain values are returned as they are.
   */
  toPlainValue(value: unknown, depth = 0): unknown {
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'function') throw new TypeError('A function cannot be sent by value');
      return value;
    }
    if (depth > 100) throw new TypeError('The value is nested too deeply to be sent by value');
    const view = exposedView(value);
    if (view !== undefined) return this.#exposedPlainValue(view, depth);
    if (Array.isArray(value)) return value.map((item) => this.toPlainValue(item, depth + 1));
    if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof Error) return value;
    if (value instanceof Map) {
      const copy = new Map();
      for (const [key, item] of value)
        copy.set(this.toPlainValue(key, depth + 1), this.toPlainValue(item, depth + 1));
      return copy;
    }
    if (value instanceof Set) {
      const copy = new Set();
      for (const item of value) copy.add(this.toPlainValue(item, depth + 1));
      return copy;
    }
    const prototype = Object.getPrototypeOf(value);
    const plain = prototype === Object.prototype || prototype === null;
    if (!plain && !this.allowAll && !this.allowPublicAttrs) {
      throw denied(
        describeObject(value),
        "a class instance reveals its fields when sent by value; the server's policy needs allowPublicAttrs",
      );
    }
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (!plain && !this.allowAll && key.startsWith('_')) continue;
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'function') continue;
      copy[key] = this.toPlainValue(item, depth + 1);
    }
    return copy;
  }

  /** A view's copy: its listed data fields (readable anyway), whatever `allowPublicAttrs`. */
  #exposedPlainValue(view: ExposedView, depth: number): Record<string, unknown> {
    const copy: Record<string, unknown> = {};
    for (const key of view.members) {
      const holder = findHolder(view.target, key);
      if (holder === undefined || SHARED_PROTOTYPES.has(holder)) continue;
      const item = Reflect.get(view.target, key);
      if (typeof item === 'function' || item === view.target) continue;
      copy[key] = this.toPlainValue(item, depth + 1);
    }
    return copy;
  }
}

/** `name` if the view lists it. @throws {@link AccessDeniedError} for any other name or a symbol. */
function exposedName(view: ExposedView, name: unknown): string {
  if (typeof name === 'string' && view.members.has(name)) return name;
  const listed = view.members.size > 0 ? [...view.members].map((m) => `'${m}'`).join(', ') : 'none';
  throw denied(
    String(name),
    `the object is exposed with only these members: ${listed} (see expose() on the server)`,
  );
}

/**
 * Member `name` of an {@link expose} view for `access`: the view's list decides, not the policy. A method
 * comes back as a function that runs on the view's object; a result that is the object itself is the view.
 */
function getExposedMember(view: ExposedView, name: unknown, access: 'get' | 'call'): unknown {
  const key = exposedName(view, name);
  const object = view.target;
  const holder = findHolder(object, key);
  if (holder === undefined) throw missing(object, key, key);
  if (SHARED_PROTOTYPES.has(holder)) {
    throw denied(
      key,
      'members every object inherits (Object.prototype, Function.prototype) are never exposed, even when listed',
    );
  }
  if (VIEW_MEMORY_NAMES.has(key) && ArrayBuffer.isView(object)) {
    throw denied(key, 'it reaches the memory around a binary view, which may hold other data');
  }
  const value = Reflect.get(object, key);
  if (CODE_EVALUATORS.has(value)) throw denied(key, 'it evaluates code');
  if (value === object) return view.wrapper;
  if (typeof value !== 'function') {
    if (access === 'call')
      throw new TypeError(`'${key}' of ${describeObject(object)} is not a function (it is ${typeof value})`);
    return value;
  }
  // A listed class the owner marked constructible stays a class (`new proxy.Scanner()`).
  if (access === 'get' && isConstructible(value)) return value;
  return exposedMethod(view, key, value);
}

/** The function a peer gets for method `key` of a view: runs on the object, never hands the object out. */
function exposedMethod(view: ExposedView, key: string, method: unknown): unknown {
  const known = view.methods.get(key);
  if (known !== undefined && known.method === method) return known.callable;
  const object = view.target;
  const callable = (...args: unknown[]): unknown => {
    const result = Reflect.apply(method as (...a: unknown[]) => unknown, object, args);
    if (result === object) return view.wrapper;
    if (result instanceof Promise)
      return result.then((value: unknown) => (value === object ? view.wrapper : value));
    return result;
  };
  Object.defineProperty(callable, 'name', { value: key });
  view.methods.set(key, { method, callable });
  return callable;
}

/** The object in `target`'s prototype chain (itself included) that holds `key`, or undefined. */
function findHolder(target: object, key: string): object | undefined {
  let current: object | null = Object(target);
  for (let depth = 0; current !== null && depth < 1000; depth++) {
    if (Object.hasOwn(current, key)) return current;
    current = Object.getPrototypeOf(current);
  }
  return undefined;
}

function denied(member: string, why: string): AccessDeniedError {
  return new AccessDeniedError(member, `Access to '${member}' is denied by the remote access policy: ${why}`);
}

function missing(target: unknown, name: string, key: string): TypeError {
  const mapped = key === name ? '' : ` (looked up as '${key}')`;
  return new TypeError(`${describeObject(target)} has no member '${name}'${mapped}`);
}

/** A short description of an object for messages: `Scanner instance`, `function start`, `module`. */
export function describeObject(value: unknown): string {
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (value === null || typeof value !== 'object') return String(value);
  const view = exposedView(value);
  if (view !== undefined) return `exposed ${describeObject(view.target)}`;
  if (Object.prototype.toString.call(value) === '[object Module]') return 'module';
  const prototype = Object.getPrototypeOf(value);
  if (prototype === null || prototype === Object.prototype) return 'object';
  const name = prototype.constructor?.name;
  return typeof name === 'string' && name ? `${name} instance` : 'object';
}
