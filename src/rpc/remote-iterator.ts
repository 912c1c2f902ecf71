/**
 * The consumer's side of remote iteration: `for await (const x of proxy)` pulls batches of items from an
 * iteration session on the owner (see iteration-session.ts), which runs at most `window` items ahead.
 * Breaking out of the loop runs the owner's iterator `return()` (a generator's `finally`).
 * @module
 */
import { DEFAULT_ITERATION_WINDOW, IterateOp } from './iteration-session.js';
import { Action } from './messages.js';
import type { CallOptions, RemoteTarget } from './remote-target.js';

/** Iterates the remote iterable at `path` below `target`. */
export class RemoteIterator implements AsyncIterableIterator<unknown> {
  readonly #target: RemoteTarget;
  readonly #path: readonly string[];
  readonly #options: CallOptions;
  readonly #window: number;
  #session: Promise<number> | undefined;
  #buffer: unknown[] = [];
  #index = 0;
  /** The owner said its iterator is done (it forgot the session). */
  #ownerDone = false;
  /** This side finished: ended, failed, or returned early. */
  #finished = false;

  constructor(
    target: RemoteTarget,
    path: readonly string[],
    options: CallOptions,
    window = DEFAULT_ITERATION_WINDOW,
  ) {
    this.#target = target;
    this.#path = path;
    // Waiting for the next item of a live source may take any time: only an explicit timeout bounds it
    // (a dead owner still fails the wait at once, when the connection closes).
    this.#options = { ...options, timeout: options.timeout ?? Number.POSITIVE_INFINITY };
    this.#window = window;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<unknown>> {
    for (;;) {
      if (this.#index < this.#buffer.length) {
        const value = this.#buffer[this.#index];
        this.#buffer[this.#index++] = undefined; // the consumer owns it now
        return { value, done: false };
      }
      if (this.#ownerDone || this.#finished) {
        this.#finished = true;
        return { value: undefined, done: true };
      }
      try {
        this.#session ??= this.#request([IterateOp.OPEN, this.#window]) as Promise<number>;
        const id = await this.#session;
        const batch = (await this.#request([IterateOp.NEXT, id])) as unknown;
        if (!Array.isArray(batch) || !Array.isArray(batch[0]) || typeof batch[1] !== 'boolean')
          throw new TypeError('The owner answered an iteration request with something else than a batch');
        this.#buffer = batch[0];
        this.#index = 0;
        this.#ownerDone = batch[1];
      } catch (error) {
        this.#finished = true;
        throw error;
      }
    }
  }

  /** Stops early (`break`, a throw in the loop body): the owner's iterator return() runs before this resolves. */
  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    const open = !this.#finished && !this.#ownerDone && this.#session !== undefined;
    this.#finished = true;
    this.#buffer = [];
    if (open) await this.#request([IterateOp.RETURN, await (this.#session as Promise<number>)]);
    return { value, done: true };
  }

  #request(args: unknown[]): Promise<unknown> {
    return this.#target.request(Action.ITERATE, this.#path, args, this.#options);
  }
}
