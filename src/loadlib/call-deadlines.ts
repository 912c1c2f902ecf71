/**
 * The `rpcTimeout` of a Client64's calls with one timer for all of them, not one per call: every call of
 * a client has the same timeout, so deadlines expire in the order the calls were made, and only the
 * oldest one needs a timer. A timer per call costs about 4 µs of a 25 µs round trip.
 * @module
 */

/** One call waiting for its reply. */
export interface CallDeadline {
  /** When the call expires (performance.now() milliseconds). */
  readonly at: number;
  /** Rejects the call with a timeout error. */
  readonly expire: () => void;
  /** Set when the deadline passed (the call has been rejected). */
  expired: boolean;
}

/** The deadlines of one client's calls, all `timeoutMs` long. */
export class CallDeadlines {
  readonly #timeoutMs: number;
  /** Insertion order is deadline order (same timeout for every call). */
  readonly #calls = new Set<CallDeadline>();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Starts the deadline of a call; `expire` is called if it passes before {@link settle}. */
  start(expire: () => void): CallDeadline {
    const deadline: CallDeadline = { at: performance.now() + this.#timeoutMs, expire, expired: false };
    this.#calls.add(deadline);
    if (this.#timer === undefined) this.#schedule(this.#timeoutMs);
    return deadline;
  }

  /** The call got its answer in time (or failed otherwise): forget its deadline. */
  settle(deadline: CallDeadline): void {
    this.#calls.delete(deadline);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(1, ms));
    // A pending call keeps the program alive through its connection, not through this timer.
    this.#timer.unref();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const deadline of this.#calls) {
      if (deadline.at > now) {
        this.#schedule(deadline.at - now);
        return;
      }
      this.#calls.delete(deadline);
      deadline.expired = true;
      deadline.expire();
    }
  }
}
