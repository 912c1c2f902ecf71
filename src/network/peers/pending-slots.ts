/**
 * The entries of a {@link RequestTable}, found by the sequence number inside their uid: an array indexed
 * by the number's low bits, not a `Map`.
 *
 * Why not a `Map`: a Map that requests keep entering and leaving rebuilds its hash table every few
 * thousand entries, and V8 links each table it replaces to its successor (for iterators). Once the
 * garbage collector has moved one such table to the old generation, it stays until the next full
 * collection, and that link keeps every later table alive through each young collection, with the
 * entries, promises and replies they still point to. In a Client with 2000 requests in flight, about
 * 2.5 MB survived each young collection that way, was promoted, and had to be collected again by a full
 * one: a third of the Client's CPU (`--trace-gc-nvp`: promoted 2.2 MB per scavenge against 0.08 MB with
 * this table). A slot is simply overwritten, so nothing links one request to a later one.
 *
 * The array grows (doubling) while a new entry's slot still holds an older pending entry, up to
 * `maxSlots`; past that, such entries wait in a small `Map` instead, so that one request left pending
 * for a long time among many fast ones costs a Map entry, not a huge array.
 * @module
 */

/** What a {@link PendingSlots} holds: its uid, and the sequence number the uid was made from. */
export interface SequencedEntry {
  readonly uid: string;
  readonly sequence: number;
}

/** The first size of the array of slots. */
const FIRST_SLOTS = 256;
/** The default largest array of slots (64 Ki slots, 512 KiB). */
const MAX_SLOTS = 65_536;

/** @internal Entries by sequence number (see the module's comment). */
export class PendingSlots<T extends SequencedEntry> {
  #slots: (T | undefined)[];
  #mask: number;
  readonly #maxSlots: number;
  /** Entries whose slot was taken when the array could grow no more. */
  readonly #overflow = new Map<string, T>();
  #size = 0;

  /** @param maxSlots a power of two ≥ 256: the largest array of slots. */
  constructor(maxSlots = MAX_SLOTS) {
    this.#maxSlots = maxSlots;
    this.#slots = new Array<T | undefined>(Math.min(FIRST_SLOTS, maxSlots)).fill(undefined);
    this.#mask = this.#slots.length - 1;
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#size;
  }

  /** The entry with this uid and sequence number, if it holds one (the uid must match exactly). */
  get(uid: string, sequence: number): T | undefined {
    const entry = this.#slots[sequence & this.#mask];
    if (entry !== undefined && entry.uid === uid) return entry;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(uid);
  }

  /** Adds an entry (its uid must not be held already). */
  add(entry: T): void {
    this.#size++;
    for (;;) {
      const at = entry.sequence & this.#mask;
      if (this.#slots[at] === undefined) {
        this.#slots[at] = entry;
        return;
      }
      if (this.#slots.length >= this.#maxSlots) {
        this.#overflow.set(entry.uid, entry);
        return;
      }
      this.#grow();
    }
  }

  /** Removes the entry; false if it is not held. */
  delete(entry: T): boolean {
    const at = entry.sequence & this.#mask;
    if (this.#slots[at] === entry) {
      this.#slots[at] = undefined;
      this.#size--;
      return true;
    }
    if (this.#overflow.get(entry.uid) !== entry) return false;
    this.#overflow.delete(entry.uid);
    this.#size--;
    return true;
  }

  /** Whether this very entry is held. */
  has(entry: T): boolean {
    return this.#slots[entry.sequence & this.#mask] === entry || this.#overflow.get(entry.uid) === entry;
  }

  /** Every entry held, in no particular order (a copy: the table may change while it is used). */
  values(): T[] {
    const all: T[] = [];
    for (const entry of this.#slots) if (entry !== undefined) all.push(entry);
    for (const entry of this.#overflow.values()) all.push(entry);
    return all;
  }

  // Doubles the array: entries in different slots stay in different slots (one more bit of their
  // number tells them apart). Never called once the overflow is in use (the array is then at its largest).
  #grow(): void {
    const old = this.#slots;
    this.#slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    this.#mask = this.#slots.length - 1;
    for (const entry of old) if (entry !== undefined) this.#slots[entry.sequence & this.#mask] = entry;
  }
}
