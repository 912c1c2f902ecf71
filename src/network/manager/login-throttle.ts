/**
 * Limits password guessing at the Manager: per source address and per account, with back-offs that a
 * legitimate user survives.
 *
 * - **Per source address.** The first {@link LOGIN_LIMITS}`.sourceFreeFailures` failed logins (or
 *   Manager passwords) from one IP address cost nothing but the per-connection delay; after that the
 *   address is locked out for 1 s, 2 s, 4 s … (at most `sourceMaxLockMs`) after each further failure.
 *   While locked out, a login from that address is refused at once, without checking any password, and
 *   the refusal says how long to wait. An attempt refused that way does not extend the lock-out.
 * - **Per account.** After `accountFreeFailures` failed logins for one registered user (from any
 *   address), the account is locked for 1 s, 2 s, 4 s … (at most `accountMaxLockMs`) after each
 *   further failure — but only against the addresses that have failed on it: an address with no failed
 *   login for that account is still checked, so an attacker cannot lock the owner out.
 * - **One check at a time per address.** Password checks (scrypt) from one address wait for each
 *   other, so 100 parallel guesses from one address occupy one thread of the pool, not all of them, and
 *   logins from other addresses are not queued behind them.
 *
 * Failures are forgotten `forgetAfterMs` after the last one (and a success forgets its address's
 * failures). The tables are bounded (`maxEntries`, oldest forgotten first).
 *
 * Internal to the Manager.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle();
 * const wait = throttle.sourceLockedFor('127.0.0.2'); // 0: go on
 * throttle.failed('127.0.0.2', 'admin');
 * ```
 * @module
 */

/** The limits of a {@link LoginThrottle}. */
export interface LoginLimits {
  /** Failed attempts from one address before it is locked out. */
  sourceFreeFailures: number;
  /** The longest lock-out of one address, in ms. */
  sourceMaxLockMs: number;
  /** Failed logins for one account (from all addresses) before it is locked. */
  accountFreeFailures: number;
  /** The longest lock of one account, in ms. */
  accountMaxLockMs: number;
  /** The first lock-out, in ms (each further failure doubles it). */
  firstLockMs: number;
  /** Failures are forgotten this long after the last one, in ms. */
  forgetAfterMs: number;
  /** The most addresses (and accounts) remembered. */
  maxEntries: number;
}

/** The default limits (documented in the README's security section). */
export const LOGIN_LIMITS: Readonly<LoginLimits> = Object.freeze({
  sourceFreeFailures: 5,
  sourceMaxLockMs: 60_000,
  accountFreeFailures: 10,
  accountMaxLockMs: 30_000,
  firstLockMs: 1000,
  forgetAfterMs: 15 * 60_000,
  maxEntries: 10_000,
});

interface FailureRecord {
  failures: number;
  lastFailure: number;
  lockedUntil: number;
}

interface AccountRecord extends FailureRecord {
  /** The addresses that failed on this account (bounded). */
  sources: Set<string>;
}

const MAX_SOURCES_PER_ACCOUNT = 1000;

/** Counts failed logins and says who must wait. */
export class LoginThrottle {
  readonly limits: Readonly<LoginLimits>;
  readonly #now: () => number;
  readonly #sources = new Map<string, FailureRecord>();
  readonly #accounts = new Map<string, AccountRecord>();
  readonly #turns = new Map<string, Promise<void>>();

  constructor(limits: Partial<LoginLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...LOGIN_LIMITS, ...limits };
    this.#now = now;
  }

  /** Milliseconds the address must wait before its next attempt is checked (0: none). */
  sourceLockedFor(ip: string): number {
    const record = this.#fresh(this.#sources, ip);
    return record === undefined ? 0 : Math.max(0, record.lockedUntil - this.#now());
  }

  /**
   * Milliseconds the address must wait before a login for `username` from it is checked (0: none).
   * Only an address that has failed on the account waits.
   */
  accountLockedFor(username: string, ip: string): number {
    const record = this.#fresh(this.#accounts, username);
    if (record === undefined || !record.sources.has(ip)) return 0;
    return Math.max(0, record.lockedUntil - this.#now());
  }

  /** Counts a failure of `ip` (and of the account, for a registered user's wrong password). */
  failed(ip: string, username?: string): { sourceFailures: number; accountFailures: number } {
    const now = this.#now();
    const source = this.#count(this.#sources, ip, now, () => ({
      failures: 0,
      lastFailure: 0,
      lockedUntil: 0,
    }));
    source.lockedUntil = lockUntil(
      now,
      source.failures,
      this.limits.sourceFreeFailures,
      this.limits,
      this.limits.sourceMaxLockMs,
    );
    let accountFailures = 0;
    if (username !== undefined) {
      const account = this.#count(this.#accounts, username, now, () => ({
        failures: 0,
        lastFailure: 0,
        lockedUntil: 0,
        sources: new Set<string>(),
      }));
      if (account.sources.size < MAX_SOURCES_PER_ACCOUNT) account.sources.add(ip);
      account.lockedUntil = lockUntil(
        now,
        account.failures,
        this.limits.accountFreeFailures,
        this.limits,
        this.limits.accountMaxLockMs,
      );
      accountFailures = account.failures;
    }
    return { sourceFailures: source.failures, accountFailures };
  }

  /** A successful login from `ip`: its failures are forgotten (the account's are not). */
  succeeded(ip: string): void {
    this.#sources.delete(ip);
  }

  /**
   * Waits until no other check from `ip` is running, then runs `check`: one password check at a time
   * per address.
   */
  async oneAtATime<T>(ip: string, check: () => Promise<T>): Promise<T> {
    const before = this.#turns.get(ip) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chain = before.then(() => mine);
    this.#turns.set(ip, chain);
    await before;
    try {
      return await check();
    } finally {
      release();
      if (this.#turns.get(ip) === chain) this.#turns.delete(ip);
    }
  }

  // The record for `key` unless it is forgotten by now (then it is dropped).
  #fresh<R extends FailureRecord>(table: Map<string, R>, key: string): R | undefined {
    const record = table.get(key);
    if (record === undefined) return undefined;
    if (this.#now() - record.lastFailure > this.limits.forgetAfterMs) {
      table.delete(key);
      return undefined;
    }
    return record;
  }

  // One more failure for `key`, kept as the newest entry; the oldest go when the table is full.
  #count<R extends FailureRecord>(table: Map<string, R>, key: string, now: number, create: () => R): R {
    const record = this.#fresh(table, key) ?? create();
    table.delete(key);
    table.set(key, record);
    record.failures += 1;
    record.lastFailure = now;
    while (table.size > this.limits.maxEntries) {
      const oldest = table.keys().next().value as string;
      table.delete(oldest);
    }
    return record;
  }
}

// The end of the lock-out after `failures` failures: none within the free ones, then the first lock,
// doubled for each further failure, at most `maxMs`.
function lockUntil(now: number, failures: number, free: number, limits: LoginLimits, maxMs: number): number {
  if (failures <= free) return 0;
  const doublings = Math.min(failures - free - 1, 30);
  return now + Math.min(maxMs, limits.firstLockMs * 2 ** doublings);
}
