/**
 * What an owner opens explicitly, beyond its access policy: classes a peer may construct
 * ({@link constructible}) and restricted views of objects ({@link expose}).
 * @module
 */
import { FORBIDDEN_NAMES } from './forbidden-names.js';

const constructibles = new WeakSet<object>();

/**
 * Marks `Class` so that a peer may construct it (`await new proxy.Scanner(10)`) wherever it reaches it
 * through the access policy (a static member, a module namespace). A class published directly under a
 * name (`server.set('Scanner', Scanner)`) is constructible without this mark. Built-in constructors
 * never are. Returns `Class`.
 *
 * @example
 * ```ts
 * server.set('lab', { Scanner: constructible(Scanner) });
 * const scanner = await new client.get('lab').Scanner(10); // a proxy of the new instance
 * ```
 */
export function constructible<C extends abstract new (...args: never[]) => unknown>(Class: C): C {
  if (typeof Class !== 'function') throw new TypeError('constructible() expects a class');
  constructibles.add(Class);
  return Class;
}

/** True if `value` was marked with {@link constructible}. */
export function isConstructible(value: unknown): boolean {
  return typeof value === 'function' && constructibles.has(value);
}

/** A restricted view made by {@link expose}: the object behind it and the only names a peer may reach. */
export interface ExposedView {
  /** The object the view shows. */
  readonly target: object;
  /** The member names a peer may reach, in the order given. */
  readonly members: ReadonlySet<string>;
  /** The wrapper {@link expose} returned (what is lent to peers). */
  readonly wrapper: object;
  /**
   * The function handed out for each method read so far, and the method it calls: reading the same
   * method twice gives the same function (one export, not one per read).
   */
  readonly methods: Map<string, { method: unknown; callable: unknown }>;
}

/**
 * The class of every wrapper {@link expose} returns. Its instances travel by reference, like any class
 * instance; a peer never reaches this class's own members (the view's rules apply instead of the policy).
 */
class ExposedObject {}

const views = new WeakMap<object, ExposedView>();

/** The view behind `value` if it is a wrapper {@link expose} returned, else undefined. */
export function exposedView(value: unknown): ExposedView | undefined {
  return (typeof value === 'object' && value !== null) || typeof value === 'function'
    ? views.get(value)
    : undefined;
}

/**
 * A view of `target` of which a peer reaches only `members`, whatever the server's access policy
 * (RPyC's `restricted`): listed methods are callable and listed data fields and getters readable even
 * without `allowPublicAttrs`, while every other member, inherited ones (`toString`, `hasOwnProperty`)
 * and symbols included, is refused with an `AccessDeniedError`, even under `allowAll`. A listed field is
 * writable or deletable only where the policy allows it (`allowSetAttr` / `allowDelAttr`). Members of
 * `Object.prototype` and `Function.prototype`, and the names no policy opens (`constructor`,
 * `__proto__`, `prototype`…), are never reachable: listing one throws. A method that returns `target`
 * itself (a fluent `return this`) returns the view instead, so a peer never gets the unrestricted
 * object through it; any other result travels as usual.
 *
 * Lend or publish the returned wrapper instead of `target`. It travels by reference and comes back to
 * its owner as itself (never as `target`). Locally it has the listed members as accessors that read and
 * write `target` (methods come bound to `target`). A peer cannot iterate or dispose the view itself:
 * `Symbol.asyncIterator` and `Symbol.asyncDispose` are not among its members.
 *
 * @param target - One of your own objects (or functions); not a proxy of another process's object.
 * @param members - The names a peer may reach.
 * @throws TypeError if `target` is not an object or a name is not a string or is never exposable.
 * @example
 * ```ts
 * const file = new LogFile('/var/log/scan.log');
 * server.set('log', expose(file, ['read', 'size'])); // a peer may call read() and read size, nothing else
 * // the peer: await client.get('log').read(0, 100); await client.get('log').size
 * // await client.get('log').truncate()  -> rejects with AccessDeniedError
 * ```
 */
export function expose<T extends object, K extends keyof T & string>(
  target: T,
  members: readonly K[],
): Pick<T, K> {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    throw new TypeError(`expose() expects an object, got ${target === null ? 'null' : typeof target}`);
  }
  if (!Array.isArray(members)) throw new TypeError('expose() expects an array of member names');
  for (const name of members as readonly unknown[]) {
    if (typeof name !== 'string')
      throw new TypeError(`expose() member names must be strings, got ${String(name)}`);
    if (FORBIDDEN_NAMES.has(name)) {
      throw new TypeError(
        `expose() cannot expose '${name}': it leads to prototypes and constructors, which no peer may reach`,
      );
    }
  }
  // A view of a view narrows it: the names both allow, on the original object.
  const inner = exposedView(target);
  const object: object = inner?.target ?? target;
  const names = inner === undefined ? members : members.filter((name) => inner.members.has(name));
  const wrapper = new ExposedObject();
  for (const name of names) {
    Object.defineProperty(wrapper, name, {
      enumerable: true,
      get() {
        const value: unknown = Reflect.get(object, name);
        if (value === object) return wrapper;
        return typeof value === 'function' ? value.bind(object) : value;
      },
      set(value: unknown) {
        Reflect.set(object, name, value);
      },
    });
  }
  views.set(wrapper, { target: object, members: new Set(names), wrapper, methods: new Map() });
  return wrapper as Pick<T, K>;
}
