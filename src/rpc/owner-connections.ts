/**
 * Which third processes this process may connect to directly. When a peer forwards a proxy of an object a
 * third process owns, the reference names that owner's address. Connecting there is the owner of THIS
 * process's decision: by default nothing is (calls go through the peer that forwarded the proxy), and with
 * an allow-list only the addresses on it are, and only when the proxy is first used.
 * @module
 */
import { AddressError } from '../errors.js';
import { formatAddress, parseAddress } from '../wire/address.js';

/** The allow-list entry that admits every address. */
export const ANY_OWNER = '*';

/** The most entries an allow-list may have (it is sent in HELLO, which must stay small). */
export const MAX_OWNER_CONNECTIONS = 64;

/** An allow-list of owner addresses, normalised (`tcp://localhost:5000` and `tcp://localhost:5000/` match). */
export class OwnerConnections {
  readonly #entries: ReadonlySet<string>;

  constructor(entries: readonly unknown[] | undefined) {
    const list = (entries ?? []).filter((entry): entry is string => typeof entry === 'string');
    if (list.length > MAX_OWNER_CONNECTIONS) {
      throw new RangeError(
        `allowOwnerConnections lists ${list.length} addresses; at most ${MAX_OWNER_CONNECTIONS} are allowed (use '${ANY_OWNER}' for any)`,
      );
    }
    this.#entries = new Set(list.map(normalise));
  }

  /** The entries, as sent in HELLO. */
  get entries(): string[] {
    return [...this.#entries];
  }

  /** True if `address` is on the list (or the list admits any address). */
  allows(address: string | null): boolean {
    if (address === null || address === '' || this.#entries.size === 0) return false;
    return this.#entries.has(ANY_OWNER) || this.#entries.has(normalise(address));
  }
}

function normalise(address: string): string {
  if (address === ANY_OWNER) return address;
  try {
    return formatAddress(parseAddress(address));
  } catch (error) {
    if (error instanceof AddressError) return address;
    throw error;
  }
}
