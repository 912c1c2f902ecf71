/**
 * What an owner opens explicitly, beyond its access policy: classes a peer may construct
 * ({@link constructible}) and restricted views of objects ({@link expose}).
 * @module
 */

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
