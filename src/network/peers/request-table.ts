/**
 * The requests a Client has sent and not yet had answered, matched to replies by uid.
 *
 * Each entry has its own deadline, kept in the entry itself and watched by one timer for the whole table
 * (armed for the earliest deadline; settling a request touches no timer and no second map). A reply that
 * arrives after its deadline is dropped (the caller has already had a `ResponseTimeoutError`). When the
 * connection goes, every entry fails at once.
 *
 * msl-network's Python Manager answers admin requests (and a request to a Service that vanished) with
 * `uid: ""`; {@link RequestTable.takeForEmptyUid} decides which request such a reply belongs to, without
 * ever guessing across unrelated requests.
 * @module
 */
import { ResponseTimeoutError } from '../../errors.js';
import { PendingSlots } from './pending-slots.js';

/**
 * One request waiting for its reply. A class, so every entry has the same shape (the table's hot
 * paths stay monomorphic); the promise's resolving functions are its only closures.
 */
class PendingRequest {
  /** Set only while a signal is being listened to. */
  onAbort: (() => void) | undefined = undefined;

  constructor(
    readonly uid: string,
    /** The number the uid was made from (its place in the table). */
    readonly sequence: number,
    readonly service: string,
    readonly attribute: string,
    readonly admin: boolean,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
    /** When the request times out (performance.now() clock, ms); it was sent `timeoutMs` earlier. */
    readonly deadline: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
  ) {}

  /** When the request was sent (performance.now() clock, ms). */
  get sentAt(): number {
    return this.deadline - this.timeoutMs;
  }
}

// `new Promise(capture)` hands its resolving functions over here: one shared executor instead of a
// closure per request (Promise.withResolvers would do the same, but Node 20 lacks it). The executor
// runs synchronously inside the constructor, so nothing can interleave between setting and reading.
let capturedResolve: ((value: unknown) => void) | undefined;
let capturedReject: ((error: Error) => void) | undefined;
function capture(resolve: (value: unknown) => void, reject: (error: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * @internal The requests of one connection. Their uids are `uidPrefix` and a counter in base 36, made by
 * {@link RequestTable.nextUid}; a reply's uid leads back to its entry through that counter.
 */
export class RequestTable {
  readonly #uidPrefix: string;
  #uidCount = 0;
  readonly #pending = new PendingSlots<PendingRequest>();
  /** One timer for every request's deadline (cheaper than a setTimeout per request). */
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (ms, performance.now() clock); +Infinity when none is armed. */
  #armedFor = Number.POSITIVE_INFINITY;
  /** Admin requests in the order sent (the Python Manager answers them with uid "" in that order). */
  readonly #admin: string[] = [];
  /** The last line dropped for being over the read limit: explains a timeout that follows. */
  #lastOversize: { bytes: number; at: number; limit: number } | undefined;

  constructor(uidPrefix: string) {
    this.#uidPrefix = uidPrefix;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** A new uid of this connection (the uid of a message that needs no reply may use one, too). */
  nextUid(): string {
    return this.#uidPrefix + (this.#uidCount++).toString(36);
  }

  // The counter inside a uid this table made, -1 for any other text (a reply's uid is the peer's word:
  // the entry found through it is used only if its uid is the same text).
  #sequenceOf(uid: string): number {
    if (!uid.startsWith(this.#uidPrefix)) return -1;
    const sequence = Number.parseInt(uid.slice(this.#uidPrefix.length), 36);
    return sequence >= 0 ? sequence : -1;
  }

  // A reply's entry. The counter is read without checking the prefix first: the entry found is used only
  // if its uid is the reply's whole text (PendingSlots compares it), which a foreign uid never is.
  #find(uid: string): PendingRequest | undefined {
    const sequence = Number.parseInt(uid.slice(this.#uidPrefix.length), 36);
    return sequence >= 0 ? this.#pending.get(uid, sequence) : undefined;
  }

  /**
   * Registers a request and returns the promise of its reply. `uid` comes from {@link nextUid} and is
   * not pending already; `timeoutMs` must be finite and > 0.
   */
  add(
    uid: string,
    service: string,
    attribute: string,
    admin: boolean,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const sequence = this.#sequenceOf(uid);
    if (sequence < 0) throw new TypeError(`RequestTable.add: '${uid}' is not a uid of this table`);
    const deadline = performance.now() + timeoutMs;
    const promise = new Promise<unknown>(capture);
    const added = new PendingRequest(
      uid,
      sequence,
      service,
      attribute,
      admin,
      timeoutMs,
      signal,
      deadline,
      capturedResolve as (value: unknown) => void,
      capturedReject as (error: Error) => void,
    );
    capturedResolve = undefined;
    capturedReject = undefined;
    if (signal !== undefined) this.#listen(added, signal);
    this.#pending.add(added);
    if (admin) this.#admin.push(uid);
    // Requests usually share one timeout, so a new deadline is rarely the earliest: no re-arm.
    if (deadline < this.#armedFor) this.#arm(deadline);
    else if (this.#pending.size === 1) this.#timer?.ref();
    return promise;
  }

  // In a method of its own: a closure written inside add() would cost every call a context object.
  #listen(entry: PendingRequest, signal: AbortSignal): void {
    entry.onAbort = () => {
      if (this.#remove(entry))
        entry.reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    };
    signal.addEventListener('abort', entry.onAbort, { once: true });
  }

  /** Resolves the request with `uid` with `value`; false if there is none (late or unknown reply). */
  resolve(uid: string, value: unknown): boolean {
    const entry = this.#find(uid);
    if (entry === undefined) return false;
    this.#drop(entry);
    entry.resolve(value);
    return true;
  }

  /** Resolves or rejects the request with `uid`; false if there is none (late or unknown reply). */
  settle(uid: string, outcome: { ok: true; value: unknown } | { ok: false; error: Error }): boolean {
    const entry = this.#find(uid);
    if (entry === undefined) return false;
    this.#drop(entry);
    if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
    return true;
  }

  /**
   * The uid a reply with `uid: ""` answers: the oldest admin request, else (for the Python Manager's
   * "the 'X' Service is not connected" error) the requests pending on service X. Returns the uids
   * (possibly none: the reply is then dropped, never given to an unrelated request).
   */
  takeForEmptyUid(errorText: string | undefined): string[] {
    if (this.#admin.length > 0) return [this.#admin[0]];
    const vanished = errorText?.match(/the '(.+)' Service is not connected/);
    if (vanished) {
      const service = vanished[1];
      return this.#pending
        .values()
        .filter((e) => e.service === service)
        .map((e) => e.uid);
    }
    return [];
  }

  /** Fails every pending request (the connection is gone). */
  failAll(error: () => Error): void {
    for (const entry of this.#pending.values()) {
      if (this.#remove(entry)) entry.reject(error());
    }
    this.#disarm();
  }

  /** Remembers a dropped oversize line so the timeout that follows can say why. */
  noteOversize(bytes: number, limit: number): void {
    this.#lastOversize = { bytes, at: performance.now(), limit };
  }

  #expire(entry: PendingRequest, timeoutMs: number): void {
    if (!this.#remove(entry)) return;
    let message = `No reply to '${entry.service}.${entry.attribute}' within ${timeoutMs} ms`;
    const dropped = this.#lastOversize;
    if (dropped !== undefined && dropped.at >= entry.sentAt) {
      message +=
        `; a reply of ${dropped.bytes} bytes was dropped because it is over readLimit (${dropped.limit} bytes)` +
        ' — raise readLimit';
    } else {
      message += ' (pass a longer timeout with callOptions({ timeout }) if the call takes longer)';
    }
    entry.reject(new ResponseTimeoutError(message, timeoutMs));
  }

  #remove(entry: PendingRequest): boolean {
    if (!this.#pending.has(entry)) return false;
    this.#drop(entry);
    return true;
  }

  // Takes an entry known to be pending out of the table.
  #drop(entry: PendingRequest): void {
    this.#pending.delete(entry);
    if (entry.onAbort !== undefined) {
      entry.signal?.removeEventListener('abort', entry.onAbort);
      entry.onAbort = undefined;
    }
    if (entry.admin) {
      const at = this.#admin.indexOf(entry.uid);
      if (at >= 0) this.#admin.splice(at, 1);
    }
    // The timer stays armed (firing for nothing at worst) but no longer keeps the process alive.
    if (this.#pending.size === 0) this.#timer?.unref();
  }

  #arm(deadline: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = deadline;
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.ceil(deadline - performance.now())));
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  // Expires every request whose deadline passed (never before it) and re-arms for the earliest left.
  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const due: PendingRequest[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#pending.values()) {
      if (entry.deadline <= now + 0.5) due.push(entry);
      else if (entry.deadline < next) next = entry.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    for (const entry of due) this.#expire(entry, entry.timeoutMs);
  };
}
