/**
 * Deadlines of many pending requests on one timer.
 *
 * A `setTimeout` per request costs a timer-list insert, an async resource and a `clearTimeout` on every
 * call; on a path that answers in 20 µs that is a measurable share. Here adding a deadline is a `Map.set`
 * and settling one is a `Map.delete`. One timer is armed for the earliest deadline; when it fires it expires
 * what is due and re-arms for the earliest that remains. Requests usually share one timeout, so a new
 * deadline is rarely earlier than the armed one and re-arming is rare. When the last deadline goes, the
 * timer is not cleared but unref'd (it no longer keeps the process alive, and fires for nothing at worst),
 * so calls made one at a time do not pay a `setTimeout` and a `clearTimeout` each.
 *
 * Expiry is at the deadline or up to one millisecond after it, never before.
 *
 * @example
 * ```ts
 * const deadlines = new DeadlineTimer<number>((id) => failWithTimeout(id));
 * deadlines.add(id, 5000);
 * // … when the reply comes:
 * deadlines.delete(id);
 * ```
 */
export class DeadlineTimer<K> {
  readonly #deadlines = new Map<K, number>();
  readonly #onExpire: (key: K) => void;
  #timer: NodeJS.Timeout | undefined;
  /** True while the armed timer is kept, unref'd, with no deadline pending. */
  #idle = false;
  /** When the armed timer fires (ms, performance.now() clock), or +Infinity when none is armed. */
  #armedFor = Number.POSITIVE_INFINITY;

  /** @param onExpire - called once for each key whose deadline passed (the key is already removed). */
  constructor(onExpire: (key: K) => void) {
    this.#onExpire = onExpire;
  }

  /** Number of keys with a pending deadline. */
  get size(): number {
    return this.#deadlines.size;
  }

  /** Sets `key`'s deadline `timeoutMs` from now. A non-finite timeout means no deadline. */
  add(key: K, timeoutMs: number): void {
    if (!Number.isFinite(timeoutMs)) return;
    const deadline = performance.now() + Math.max(0, timeoutMs);
    this.#deadlines.set(key, deadline);
    if (deadline < this.#armedFor) this.#arm(deadline);
    else if (this.#idle) {
      // The kept timer fires before this deadline and re-arms for it: make it keep the process alive again.
      this.#idle = false;
      this.#timer?.ref();
    }
  }

  /** Removes `key`'s deadline (its request settled). */
  delete(key: K): void {
    if (!this.#deadlines.delete(key) || this.#deadlines.size > 0 || this.#idle) return;
    this.#idle = true;
    this.#timer?.unref();
  }

  /** Removes every deadline and the timer. */
  clear(): void {
    this.#deadlines.clear();
    this.#disarm();
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#idle = false;
    this.#armedFor = deadline;
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.ceil(deadline - performance.now())));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#idle = false;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#idle = false;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const due: K[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [key, deadline] of this.#deadlines) {
      if (deadline <= now + 0.5) due.push(key);
      else if (deadline < next) next = deadline;
    }
    for (const key of due) this.#deadlines.delete(key);
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    for (const key of due) this.#onExpire(key);
  };
}
