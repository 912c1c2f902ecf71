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
import { ConnectionClosedError } from '../errors.js';
import { randomBytes } from '../internal/crypto.js';
import type { ActionCode } from './messages.js';
import { type CallOptions, RemoteTarget, type RequestChannel } from './remote-target.js';

/** A random owner id, unique per export table: it tells whose object a reference names. */
export function newOwnerId(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * How many references one borrower (one connection) holds of each object; subtracted when it goes away,
 * so a peer that dies does not keep our objects alive. An id is usable only by a holder that holds it: a
 * reference is a capability of the connection it was given to.
 */
export class ExportHolder {
  /** object id → references handed to this borrower and not yet released. */
  readonly counts = new Map<number, number>();
  /**
   * object id → references this borrower forwarded to a third process (RETAIN) that no connection has
   * claimed yet; given back when this borrower goes away.
   */
  readonly forwarded = new Map<number, number>();
}

interface ExportEntry {
  readonly id: number;
  readonly value: object;
  /** All references handed out and not released, across every holder plus the unclaimed forwarded ones. */
  count: number;
  /** References forwarded to third parties (RETAIN) and not claimed yet, by the holder that forwarded them. */
  readonly unclaimed: Map<ExportHolder, number>;
}

/** The largest count one RETAIN or RELEASE may carry (a count beyond it is a confused or hostile peer). */
const MAX_COUNT = 2 ** 31;

/** Random object ids drawn at a time (one crypto call per this many exports). */
const ID_POOL = 256;

/**
 * The objects one owner lends to its peers.
 *
 * Object ids are random 52-bit integers, not counted up: a peer cannot name an object it was not given
 * by guessing. On top of that every use is checked against the holder (the connection) that uses it, see
 * {@link ExportTable.resolve}.
 *
 * @example
 * ```ts
 * const exports = new ExportTable();
 * const holder = new ExportHolder();
 * const id = exports.export(scanner, holder); // same id every time `scanner` is exported
 * exports.resolve(id, holder);                // scanner; undefined for a holder it was not lent to
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
  #idPool: Buffer = Buffer.alloc(0);
  #idPoolAt = 0;

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
      entry = { id: this.#newId(), value, count: 0, unclaimed: new Map() };
      this.#byId.set(entry.id, entry);
      this.#byValue.set(value, entry);
    }
    entry.count++;
    holder.counts.set(entry.id, (holder.counts.get(entry.id) ?? 0) + 1);
    return entry.id;
  }

  /**
   * The object lent under `id`, whoever holds it: for the owner's own diagnostics. Never answer a peer
   * with it; use {@link resolve}.
   */
  lookup(id: number): object | undefined {
    return this.#byId.get(id)?.value;
  }

  /**
   * The object lent under `id` if `holder` may use it: it holds a reference, or a reference of it was
   * forwarded to a third party (RETAIN) and not claimed yet, which `holder` then claims (it counts as
   * lent to `holder` from now on). Undefined otherwise, whether or not the id exists: the answer tells a
   * peer nothing about other peers' objects.
   */
  resolve(id: number, holder: ExportHolder): object | undefined {
    const entry = this.#byId.get(id);
    if (entry === undefined) return undefined;
    if (holder.counts.has(id)) return entry.value;
    for (const [forwarder, count] of entry.unclaimed) {
      this.#takeUnclaimed(entry, forwarder, count, 1);
      holder.counts.set(id, 1);
      return entry.value;
    }
    return undefined;
  }

  /**
   * `holder` forwarded `count` references of `id` to a third party, which will claim them over its own
   * connection. Refused (returns false) unless `holder` holds `id` itself; the forwarded references are
   * charged to `holder` until claimed, and given back when it goes away.
   */
  retain(id: number, count: number, holder: ExportHolder): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined || !holder.counts.has(id) || !validCount(count)) return false;
    entry.count += count;
    entry.unclaimed.set(holder, (entry.unclaimed.get(holder) ?? 0) + count);
    holder.forwarded.set(id, (holder.forwarded.get(id) ?? 0) + count);
    return true;
  }

  /**
   * `holder` gives back `count` references of `id`: its own first, then unclaimed forwarded ones (a third
   * party releasing what was forwarded to it before it used it). A peer can never give back more than
   * that, so a confused peer cannot free an object others still use.
   */
  release(id: number, count: number, holder: ExportHolder): void {
    const entry = this.#byId.get(id);
    if (entry === undefined || !validCount(count)) return;
    const held = holder.counts.get(id) ?? 0;
    const fromHolder = Math.min(count, held);
    if (fromHolder > 0) {
      if (held === fromHolder) holder.counts.delete(id);
      else holder.counts.set(id, held - fromHolder);
    }
    let rest = count - fromHolder;
    let released = fromHolder;
    for (const [forwarder, unclaimed] of entry.unclaimed) {
      if (rest <= 0) break;
      const taken = this.#takeUnclaimed(entry, forwarder, unclaimed, rest);
      rest -= taken;
      released += taken;
    }
    this.#drop(entry, released);
  }

  /**
   * `holder` went away (its connection closed): every reference it held is given back, and so are the
   * ones it forwarded that nobody claimed.
   */
  releaseHolder(holder: ExportHolder): void {
    for (const [id, count] of holder.counts) {
      const entry = this.#byId.get(id);
      if (entry !== undefined) this.#drop(entry, count);
    }
    holder.counts.clear();
    for (const id of holder.forwarded.keys()) {
      const entry = this.#byId.get(id);
      const unclaimed = entry?.unclaimed.get(holder);
      if (entry === undefined || unclaimed === undefined) continue;
      entry.unclaimed.delete(holder);
      this.#drop(entry, unclaimed);
    }
    holder.forwarded.clear();
  }

  /** Takes up to `wanted` of `forwarder`'s unclaimed references of `entry`; returns how many. */
  #takeUnclaimed(entry: ExportEntry, forwarder: ExportHolder, unclaimed: number, wanted: number): number {
    const taken = Math.min(unclaimed, wanted);
    if (taken === unclaimed) entry.unclaimed.delete(forwarder);
    else entry.unclaimed.set(forwarder, unclaimed - taken);
    const forwarded = (forwarder.forwarded.get(entry.id) ?? 0) - taken;
    if (forwarded > 0) forwarder.forwarded.set(entry.id, forwarded);
    else forwarder.forwarded.delete(entry.id);
    return taken;
  }

  #drop(entry: ExportEntry, count: number): void {
    entry.count -= count;
    if (entry.count <= 0 && this.#byId.get(entry.id) === entry) {
      this.#byId.delete(entry.id);
      this.#byValue.delete(entry.value);
    }
  }

  /** A fresh random id in [1, 2^52): unguessable, and a safe integer MessagePack carries exactly. */
  #newId(): number {
    for (;;) {
      if (this.#idPoolAt + 7 > this.#idPool.length) {
        this.#idPool = randomBytes(7 * ID_POOL);
        this.#idPoolAt = 0;
      }
      const high = this.#idPool.readUIntBE(this.#idPoolAt, 3) & 0x0fffff; // 20 bits
      const low = this.#idPool.readUInt32BE(this.#idPoolAt + 3);
      this.#idPoolAt += 7;
      const id = high * 2 ** 32 + low;
      if (id !== 0 && !this.#byId.has(id)) return id;
    }
  }
}

function validCount(count: number): boolean {
  return Number.isInteger(count) && count > 0 && count <= MAX_COUNT;
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
