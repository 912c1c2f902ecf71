/**
 * Error classes across the wire: what of a thrown error's own fields is sent (bounded plain data), and
 * which local classes a received error may be rebuilt as (only those registered with {@link registerError}:
 * a peer names a class, it never chooses a constructor).
 * @module
 */
import { RemoteError } from '../errors.js';

/** At most this many own fields of a thrown error are sent; the rest are left out. */
export const MAX_ERROR_FIELDS = 32;
/** The fields of one error are sent within this many bytes (strings by length, other values 8 each). */
export const MAX_ERROR_FIELD_BYTES = 16 * 1024;
/** Nested arrays and plain objects in an error field are sent down to this depth. */
const MAX_FIELD_DEPTH = 4;
/** Field names longer than this are left out. */
const MAX_FIELD_NAME_LENGTH = 128;

/** Sent separately (message, stack) or never a field (they lead to prototypes). */
const SKIPPED_FIELDS = new Set(['message', 'stack', '__proto__', 'constructor', 'prototype']);

/** A class of errors that {@link registerError} can rebuild on this side. */
export type ErrorClass = abstract new (...args: never[]) => Error;
/** The classes the caller registered, by the name a peer sends. */
const registry = new Map<string, ErrorClass>();

/**
 * Lets errors a peer throws under `name` (default: the class's name) arrive as instances of `ErrorClass`
 * instead of {@link RemoteError}: `instanceof ScanError` works, `message` and the error's own fields
 * (`code`, …) are set. The constructor is NOT run (a peer's error never runs our code); the instance is an
 * `Error` whose prototype is `ErrorClass.prototype`, its `remoteStack` the stack where it was thrown.
 * Registration is per process and applies to every connection; registering a name again replaces it.
 *
 * @example
 * ```ts
 * class ScanError extends Error { code = 'E_SCAN'; channel = 0; }
 * registerError(ScanError);
 * try { await scanner.start(99); } catch (e) { if (e instanceof ScanError) console.log(e.channel); }
 * ```
 */
export function registerError<C extends ErrorClass>(ErrorClass: C, name: string = ErrorClass.name): C {
  if (typeof ErrorClass !== 'function' || !(ErrorClass.prototype instanceof Error)) {
    throw new TypeError('registerError() expects a class that extends Error');
  }
  if (typeof name !== 'string' || name === '') throw new TypeError('registerError() needs a class name');
  registry.set(name, ErrorClass);
  return ErrorClass;
}

/** Forgets the class registered under `name`; returns whether there was one. */
export function unregisterError(name: string): boolean {
  return registry.delete(name);
}

/** The class name a thrown error is sent under: its `name`, or its class's name for `class X extends Error {}`. */
export function errorClassName(error: Error): string {
  const name = String(error.name);
  if (name !== 'Error') return name;
  const maker = Object.getPrototypeOf(error)?.constructor;
  return typeof maker === 'function' && typeof maker.name === 'string' && maker.name ? maker.name : name;
}

/**
 * The own enumerable data fields of `error`, as bounded plain data (primitives, Dates, and arrays and plain
 * objects of them): functions, class instances and proxies are left out, and so is whatever is past
 * {@link MAX_ERROR_FIELDS} fields or {@link MAX_ERROR_FIELD_BYTES}. Also used on what a peer sent.
 */
export function boundedErrorFields(error: object): Record<string, unknown> | null {
  const fields: Record<string, unknown> = {};
  const budget = { bytes: MAX_ERROR_FIELD_BYTES };
  let count = 0;
  let keys: string[];
  try {
    keys = Object.keys(error);
  } catch {
    return null;
  }
  for (const key of keys) {
    if (count >= MAX_ERROR_FIELDS) break;
    if (SKIPPED_FIELDS.has(key) || key.length > MAX_FIELD_NAME_LENGTH) continue;
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    // Data only: a getter is code, and reading it could run anything.
    if (descriptor === undefined || !('value' in descriptor)) continue;
    budget.bytes -= key.length;
    const value = boundedValue(descriptor.value, budget, 0);
    if (value === SKIP || budget.bytes < 0) continue;
    defineField(fields, key, value);
    count++;
  }
  return count === 0 ? null : fields;
}

const SKIP = Symbol('skip');

function boundedValue(value: unknown, budget: { bytes: number }, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      budget.bytes -= value.length;
      return budget.bytes < 0 ? SKIP : value;
    case 'number':
    case 'boolean':
    case 'bigint':
      budget.bytes -= 8;
      return value;
    case 'object':
      break;
    default:
      return SKIP; // functions (proxies included), symbols, undefined
  }
  if (value === null) return null;
  if (value instanceof Date) {
    budget.bytes -= 8;
    return new Date(value.getTime());
  }
  if (depth >= MAX_FIELD_DEPTH) return SKIP;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    for (const item of value) {
      if (budget.bytes < 0 || copy.length >= MAX_ERROR_FIELDS) return SKIP;
      const bounded = boundedValue(item, budget, depth + 1);
      copy.push(bounded === SKIP ? null : bounded);
    }
    return copy;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return SKIP; // a class instance: not data
  const copy: Record<string, unknown> = {};
  let count = 0;
  for (const key of Object.keys(value)) {
    if (SKIPPED_FIELDS.has(key)) continue;
    if (count++ >= MAX_ERROR_FIELDS) return SKIP;
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !('value' in descriptor)) continue;
    budget.bytes -= key.length;
    const bounded = boundedValue(descriptor.value, budget, depth + 1);
    if (bounded === SKIP || budget.bytes < 0) return SKIP;
    defineField(copy, key, bounded);
  }
  return copy;
}

function defineField(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** What a received ERROR message describes. */
export interface ReceivedError {
  name: string;
  message: string;
  code: string | undefined;
  stack: string | undefined;
  fields: Record<string, unknown> | null;
}

/**
 * The error a caller sees for an error a peer threw: an instance of the class registered under its name
 * (constructor not run), else a {@link RemoteError} carrying `remoteName` and `remoteFields`.
 */
export function rebuildError(received: ReceivedError): Error {
  const ErrorClass = registry.get(received.name);
  if (ErrorClass === undefined) {
    return new RemoteError({
      name: received.name,
      message: received.message,
      remoteStack: received.stack,
      remoteCode: received.code,
      remoteFields: Object.freeze({ ...(received.fields ?? {}) }),
    });
  }
  // An Error made by Error itself (a real error, with a stack here) whose prototype is the registered one.
  const error = Reflect.construct(Error, [received.message], ErrorClass) as Error;
  const prototype = ErrorClass.prototype as object;
  for (const [key, value] of Object.entries(received.fields ?? {})) {
    // A field never shadows a member of the class (a peer cannot replace `toString` or a method).
    if (key !== 'name' && key in prototype) continue;
    if (key === 'name' && typeof value !== 'string') continue;
    Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
  }
  Object.defineProperty(error, 'remoteStack', {
    value: received.stack,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return error;
}
