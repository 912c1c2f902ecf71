/**
 * The two reference tables of the rpc layer (capnweb's import/export tables):
 *
 * - {@link ExportTable}: the objects we lend. One table per owner (an RPCServer, an RPCClient, a standalone
 *   Connection); each object gets one id however often it is sent, and a count of the references handed
 *   out. The object stays alive while the count is above zero.
 * - {@link ImportTable}: the objects one peer lent us, one table per connection. One live
 *   {@link ImportedTarget} per id; it counts how many times the peer sent that id, and when it is released
 *   (explicitly or by the garbage collector) one RELEASE message gives the whole count back. Because the
 *   count says how many sends it covers, a release can never race a re-send: a reference that was in
 *   flight when we released keeps the object alive.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { ConnectionClosedError } from '../errors.js';
import type { ActionCode } from './messages.js';
import { type CallOptions, RemoteTarget, type RequestChannel } from './remote-target.js';

/** A random owner id, unique per export table: it tells whose object a reference names. */
export function newOwnerId(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * How many references one borrower (one connection) holds of each object; subtracted when it goes away,
 * so a peer that dies does not keep our objects alive.
 */
export class ExportHolder {
  /** object id → references handed to this borrower and not yet released. */
  readonly counts = new Map<number, number>();
}

interface ExportEntry {
  readonly id: number;
  readonly value: object;
  /** All references handed out and not released, across every holder plus `detached`. */
  count: number;
  /** References forwarded to third parties (RETAIN), not attributed to a holder. */
  detached: number;
}

/**
 * The objects one owner lends to its peers.
 *
 * @example
 * ```ts
 * const exports = new ExportTable();
 * const holder = new ExportHolder();
 * const id = exports.export(scanner, holder); // same id every time `scanner` is exported
 * exports.release(id, 1, holder);             // the peer dropped its proxy: `scanner` is forgotten
 * ```
 */
export class ExportTable {
  /** Identifies this owner in every reference it hands out. */
  readonly ownerId: string;
  /** Where third parties can connect to this owner (`tcp://…`), or null if it does not listen. */
  address: string | null;
  readonly #byId = new Map<number, ExportEntry>();
  readonly #byValue = new Map<object, ExportEntry>();
  #nextId = 1;

  constructor(ownerId: string = newOwnerId(), address: string | null = null) {
    this.ownerId = ownerId;
    this.address = address;
  }

  /** The number of objects currently lent. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Lends `value` to `holder` once more and returns its id (the same id for the same object while it is
   * lent). The caller must send the id to that holder, or give the count back with {@link release}.
   */
  export(value: object, holder: ExportHolder): number {
    let entry = this.#byValue.get(value);
    if (entry === undefined) {
      entry = { id: this.#nextId++, value, count: 0, detached: 0 };
      this.#byId.set(entry.id, entry);
      this.#byValue.set(value, entry);
    }
    entry.count++;
    holder.counts.set(entry.id, (holder.counts.get(entry.id) ?? 0) + 1);
    return entry.id;
  }

  /** The object lent under `id`, or undefined if it is not (or no longer) lent. */
  lookup(id: number): object | undefined {
    return this.#byId.get(id)?.value;
  }

  /**
   * A borrower forwarded `count` references of `id` to a third party, which will release them over its own
   * connection. Returns false if `id` is not lent.
   */
  retain(id: number, count: number): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined || !(count > 0)) return false;
    entry.count += count;
    entry.detached += count;
    return true;
  }

  /**
   * `holder` gives back `count` references of `id`. A peer can never give back more than it holds itself
   * plus those forwarded to third parties, so a confused peer cannot free an object others still use.
   */
  release(id: number, count: number, holder: ExportHolder): void {
    const entry = this.#byId.get(id);
    if (entry === undefined || !(count > 0)) return;
    const held = holder.counts.get(id) ?? 0;
    const fromHolder = Math.min(count, held);
    const fromDetached = Math.min(count - fromHolder, entry.detached);
    if (fromHolder > 0) {
      if (held === fromHolder) holder.counts.delete(id);
      else holder.counts.set(id, held - fromHolder);
    }
    entry.detached -= fromDetached;
    this.#drop(entry, fromHolder + fromDetached);
  }

  /** `holder` went away (its connection closed): every reference it held is given back. */
  releaseHolder(holder: ExportHolder): void {
    for (const [id, count] of holder.counts) {
      const entry = this.#byId.get(id);
      if (entry !== undefined) this.#drop(entry, count);
    }
    holder.counts.clear();
  }

  #drop(entry: ExportEntry, count: number): void {
    entry.count -= count;
    if (entry.count <= 0) {
      this.#byId.delete(entry.id);
      this.#byValue.delete(entry.value);
    }
  }
}

/**
 * The release bookkeeping of one imported reference; the FinalizationRegistry holds it (never the target
 * itself), so it survives the target's collection and says how many references to give back.
 */
interface ImportToken {
  readonly id: number;
  /** How many times the peer sent this id to this target. */
  count: number;
  released: boolean;
}

/** The sink of RELEASE messages: a connection, which ignores them once it is closed. */
export interface ReleaseSink {
  sendRelease(id: number, count: number): void;
}

/**
 * An object a peer lent us over one connection (target of its proxies). Released once: explicitly
 * (`release(proxy)`, `Symbol.dispose`) or when the garbage collector finds no proxy of it left.
 */
export class ImportedTarget extends RemoteTarget {
  readonly #channel: RequestChannel;
  readonly #table: ImportTable;
  /** @internal */
  readonly token: ImportToken;
  readonly typeName: string;

  constructor(channel: RequestChannel, table: ImportTable, token: ImportToken, typeName: string) {
    super();
    this.#channel = channel;
    this.#table = table;
    this.token = token;
    this.typeName = typeName;
  }

  /** The peer's id of the object. */
  get id(): number {
    return this.token.id;
  }

  get channel(): RequestChannel {
    return this.#channel;
  }

  get released(): boolean {
    return this.token.released;
  }

  request(
    action: ActionCode,
    path: readonly string[],
    args: readonly unknown[],
    options: CallOptions,
  ): Promise<unknown> {
    if (this.token.released) return Promise.reject(releasedError(this.describe()));
    return this.#channel.request(action, this.token.id, path, args, options);
  }

  release(): void {
    this.#table.release(this);
  }

  describe(): string {
    return `${this.typeName || 'object'} #${this.token.id} of ${this.#channel.describePeer()}`;
  }
}

function releasedError(what: string): ConnectionClosedError {
  return new ConnectionClosedError(`${what} was released: a released proxy cannot be used`);
}

/**
 * The objects one peer lent us, keyed by the peer's ids. Holds its targets weakly: a target nobody uses is
 * collected, and the FinalizationRegistry then sends the RELEASE for it.
 */
export class ImportTable {
  readonly #sink: ReleaseSink;
  readonly #entries = new Map<number, { ref: WeakRef<ImportedTarget>; token: ImportToken }>();
  readonly #registry = new FinalizationRegistry<ImportToken>((token) => this.#collected(token));

  constructor(sink: ReleaseSink) {
    this.#sink = sink;
  }

  /** The number of ids with a live target (collected ones may linger until their finalizer runs). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The peer sent a reference to its object `id`: returns the live target for it (its count raised by one)
   * or a new one made by `create`.
   */
  receive(id: number, create: (token: ImportToken) => ImportedTarget): ImportedTarget {
    const entry = this.#entries.get(id);
    const live = entry?.ref.deref();
    if (live !== undefined && !live.token.released) {
      live.token.count++;
      return live;
    }
    const token: ImportToken = { id, count: 1, released: false };
    const target = create(token);
    this.#entries.set(id, { ref: new WeakRef(target), token });
    this.#registry.register(target, token, token);
    return target;
  }

  /** Gives every reference `target` holds back to the peer, now. Idempotent. */
  release(target: ImportedTarget): void {
    const token = target.token;
    if (token.released) return;
    token.released = true;
    this.#registry.unregister(token);
    if (this.#entries.get(token.id)?.token === token) this.#entries.delete(token.id);
    this.#sink.sendRelease(token.id, token.count);
  }

  /**
   * The connection closed: the peer forgot what it lent us, so nothing is sent. The targets stay, and
   * their requests fail with the connection's ConnectionClosedError.
   */
  clear(): void {
    for (const { token } of this.#entries.values()) this.#registry.unregister(token);
    this.#entries.clear();
  }

  #collected(token: ImportToken): void {
    if (token.released) return;
    token.released = true;
    if (this.#entries.get(token.id)?.token === token) this.#entries.delete(token.id);
    this.#sink.sendRelease(token.id, token.count);
  }
}
