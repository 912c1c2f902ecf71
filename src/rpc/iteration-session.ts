/**
 * The owner's side of remote iteration (`for await (const x of proxy.items())`): an iteration session
 * pulls from the iterator of one of our objects, at most `window` items ahead of what the peer has taken,
 * and hands them out in batches. Sessions belong to one connection; their ids mean nothing elsewhere.
 * @module
 */
import { AccessDeniedError } from '../errors.js';
import { exposedView } from './exposure.js';
import { type AccessPolicy, describeObject } from './policy.js';

/** The ITERATE operations (`args[0]`). */
export const IterateOp = { OPEN: 0, NEXT: 1, RETURN: 2 } as const;

/** The window a consumer asks for unless it says otherwise: the owner runs at most this many items ahead. */
export const DEFAULT_ITERATION_WINDOW = 16;
/** The largest window an owner grants (a larger request is cut to it). */
export const MAX_ITERATION_WINDOW = 256;
/** Iterations one connection may have open at once; opening one more is refused. */
export const MAX_OPEN_ITERATIONS = 256;

type PulledIterator = {
  next(): unknown;
  return?(value?: unknown): unknown;
};

/** Pulls one iterator ahead of its consumer, never more than `window` items. */
class IterationSession {
  readonly #iterator: PulledIterator;
  readonly #window: number;
  readonly #buffer: unknown[] = [];
  #done = false;
  #failed = false;
  #error: unknown;
  #closed = false;
  /** The pump loop while it runs (one `next()` of the iterator at a time, never two). */
  #pumping: Promise<void> | undefined;
  /** Consumers waiting for an item (one normally; a peer sending NEXTs concurrently gets each woken). */
  readonly #waiting: (() => void)[] = [];

  constructor(iterator: PulledIterator, window: number) {
    this.#iterator = iterator;
    this.#window = window;
    this.#pump();
  }

  /** The buffered items (waiting for the first if there are none), and whether the iterator is done. */
  async next(): Promise<[unknown[], boolean]> {
    while (this.#buffer.length === 0 && !this.#done && !this.#failed && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        this.#pump();
      });
    }
    const batch = this.#buffer.splice(0);
    if (batch.length === 0 && this.#failed) throw this.#error;
    this.#pump();
    return [batch, this.#closed || (this.#done && this.#buffer.length === 0)];
  }

  /** True once the iterator has nothing more to give (the session can be forgotten after its last batch). */
  get exhausted(): boolean {
    // A failure is not the end yet: the next request gets the error, then the session is forgotten.
    return this.#done && this.#buffer.length === 0;
  }

  /** The consumer stopped early (`break`): let the pull in progress finish, then run the iterator's return(). */
  async return(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer.length = 0;
    this.#wakeAll();
    await this.#pumping;
    if (!this.#done && !this.#failed) await this.#iterator.return?.();
  }

  #wakeAll(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }

  #pump(): void {
    if (this.#pumping !== undefined) return;
    this.#pumping = (async () => {
      try {
        while (!this.#closed && !this.#done && !this.#failed && this.#buffer.length < this.#window) {
          const result = (await this.#iterator.next()) as IteratorResult<unknown>;
          if (result === null || typeof result !== 'object')
            throw new TypeError('The iterator returned a non-object result');
          if (result.done) this.#done = true;
          else this.#buffer.push(await result.value);
          this.#wakeAll();
        }
      } catch (error) {
        this.#failed = true;
        this.#error = error;
      } finally {
        this.#pumping = undefined;
        this.#wakeAll();
      }
    })();
  }
}

/** The iteration sessions of one connection. */
export class IterationSessions {
  readonly #sessions = new Map<number, IterationSession>();
  #nextId = 1;

  /** Opens a session over `value`'s iterator and returns its id. */
  open(value: unknown, window: unknown, policy: AccessPolicy, ownCopy: boolean): number {
    if (this.#sessions.size >= MAX_OPEN_ITERATIONS) {
      throw new RangeError(
        `This connection has ${MAX_OPEN_ITERATIONS} iterations open: finish or break out of one first`,
      );
    }
    const size =
      typeof window === 'number' && Number.isInteger(window) && window >= 1
        ? Math.min(window, MAX_ITERATION_WINDOW)
        : DEFAULT_ITERATION_WINDOW;
    const iterator = iteratorOf(value, policy, ownCopy);
    const id = this.#nextId++;
    this.#sessions.set(id, new IterationSession(iterator, size));
    return id;
  }

  async next(id: unknown): Promise<[unknown[], boolean]> {
    const session = this.#get(id);
    try {
      const batch = await session.next();
      if (session.exhausted) this.#sessions.delete(id as number);
      return batch;
    } catch (error) {
      this.#sessions.delete(id as number);
      throw error;
    }
  }

  async return(id: unknown): Promise<null> {
    const session = this.#sessions.get(id as number);
    if (session === undefined) return null; // already finished: nothing to stop
    this.#sessions.delete(id as number);
    await session.return();
    return null;
  }

  /** The connection closed: stop every iteration (their return() runs; errors are nobody's to report). */
  closeAll(): void {
    for (const session of this.#sessions.values()) session.return().catch(() => {});
    this.#sessions.clear();
  }

  #get(id: unknown): IterationSession {
    const session = typeof id === 'number' ? this.#sessions.get(id) : undefined;
    if (session === undefined)
      throw new ReferenceError(`Iteration #${String(id)} is not open on this connection`);
    return session;
  }
}

/**
 * The iterator of `value`: its `Symbol.asyncIterator`, else its `Symbol.iterator`. Iterating through a
 * method of a built-in prototype (a stream, a Map, a typed array) needs the policy's allowBuiltinMethods,
 * as any built-in method does; the iterators of generators and user classes do not.
 */
function iteratorOf(value: unknown, policy: AccessPolicy, ownCopy: boolean): PulledIterator {
  if (value === null || value === undefined || (typeof value !== 'object' && typeof value !== 'function'))
    throw new TypeError(`${describeObject(value)} is not iterable`);
  if (exposedView(value) !== undefined) {
    throw new AccessDeniedError(
      'Symbol.asyncIterator',
      `Iterating ${describeObject(value)} is denied: a view made with expose() has only the members it lists, ` +
        'and its iterator is not one of them (expose a method that returns an iterator instead)',
    );
  }
  for (const symbol of [Symbol.asyncIterator, Symbol.iterator]) {
    const method = (value as Record<symbol, unknown>)[symbol];
    if (typeof method !== 'function') continue;
    if (!ownCopy && !policy.allowBuiltinMethods && policy.isBuiltinMember(value, symbol)) {
      throw new AccessDeniedError(
        String(symbol),
        `Iterating ${describeObject(value)} is denied: its iterator is a method of a built-in prototype, ` +
          "which reaches the object's internal state; the server's policy needs allowBuiltinMethods",
      );
    }
    const iterator = Reflect.apply(method, value, []) as PulledIterator;
    if (iterator === null || typeof iterator !== 'object' || typeof iterator.next !== 'function')
      throw new TypeError(`The iterator of ${describeObject(value)} has no next()`);
    return iterator;
  }
  throw new TypeError(`${describeObject(value)} is not iterable`);
}
