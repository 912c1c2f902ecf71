/**
 * The Manager's SQLite database (`node:sqlite`, else the optional better-sqlite3: see `sqlite.ts`): registered users, trusted hostnames and a log of
 * connection events. The same file serves a running Manager and the `farcall user|hostname` commands,
 * so a change made from the command line applies to the next connection without a restart.
 *
 * Passwords are stored as scrypt hashes with a per-user random salt, never in clear, and never logged.
 *
 * @example
 * ```ts
 * using db = new ManagerDatabase(databasePath(undefined, { create: true }));
 * await db.addUser('alice', 'correct horse', { isAdmin: true });
 * await db.verifyUser('alice', 'correct horse'); // { username: 'alice', isAdmin: true }
 * db.addHostname('lab-pc-7');
 * ```
 * @module
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { ManagerDatabaseError } from '../errors.js';
import { openSqlite, type SqlDatabase } from './sqlite.js';

/** A registered user, without the password hash. */
export interface UserRecord {
  username: string;
  isAdmin: boolean;
}

/** One entry of the connections log. */
export interface ConnectionRecord {
  id: number;
  /** ISO 8601 time of the event. */
  time: string;
  /** The peer's address as `host:port`. */
  peer: string;
  /** The peer's network name, if known at the time (`Client[host:port]`), else its address. */
  name: string;
  /** What happened, e.g. `'connected as a client'`, `'rejected: wrong login password'`. */
  event: string;
}

/** Options of {@link ManagerDatabase.connections}. */
export interface ConnectionsQuery {
  /** Only events at or after this time. */
  since?: Date;
  /** At most this many, newest last. Default: all. */
  limit?: number;
}

/** The cost parameters of the password hash (scrypt, RFC 7914). Stored with each hash. */
const SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

/** The hostnames every new database trusts: this computer, under each of its names. */
export function defaultTrustedHostnames(): string[] {
  return [osHostname().split('.')[0], 'localhost', '127.0.0.1', '::1'];
}

function scryptAsync(
  password: string,
  salt: Uint8Array,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

interface UserRow {
  username: string;
  key: Uint8Array;
  salt: Uint8Array;
  params: string;
  is_admin: number;
}

/**
 * The Manager's database. Synchronous reads (both SQLite drivers are synchronous and these are tiny);
 * password hashing runs on libuv's thread pool so it never stalls the Manager's event loop.
 * Connection events are buffered and written in one transaction per turn of the event loop.
 */
export class ManagerDatabase {
  /** The database file (or `':memory:'`). */
  readonly path: string;
  readonly #db: SqlDatabase;
  #pendingEvents: Array<[string, string, string, string]> = [];
  #flushScheduled = false;
  #closed = false;

  /**
   * Opens (creating if needed) the database at `path`. A new database trusts this computer (its host name,
   * `localhost`, `127.0.0.1` and `::1`).
   */
  constructor(path: string) {
    this.path = path;
    const onDisk = path !== ':memory:' && path !== '';
    // The file holds password hashes and the connection log: readable by its owner only, even in a
    // folder anyone can read (umask alone would give 0644).
    if (onDisk) createPrivateFile(path);
    this.#db = openSqlite(path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA busy_timeout = 5000');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        key BLOB NOT NULL,
        salt BLOB NOT NULL,
        params TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS hostnames (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        hostname TEXT NOT NULL UNIQUE
      );
      CREATE TABLE IF NOT EXISTS connections (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time TEXT NOT NULL,
        peer TEXT NOT NULL,
        name TEXT NOT NULL,
        event TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    // SQLite gives its -wal and -shm files the database's permissions; make sure of it.
    if (onDisk) for (const suffix of ['-wal', '-shm']) restrictIfPresent(`${path}${suffix}`);
    const seeded = this.#db.prepare("SELECT value FROM meta WHERE key = 'hostnames_seeded'").get();
    if (seeded === undefined) {
      const insert = this.#db.prepare('INSERT OR IGNORE INTO hostnames (hostname) VALUES (?)');
      this.#db.transaction(() => {
        for (const name of defaultTrustedHostnames()) insert.run(name);
        this.#db.prepare("INSERT INTO meta (key, value) VALUES ('hostnames_seeded', '1')").run();
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // users
  // ---------------------------------------------------------------------------------------------

  /** Registers a user. Throws {@link ManagerDatabaseError} if the name is taken or empty. */
  async addUser(username: string, password: string, options: { isAdmin?: boolean } = {}): Promise<void> {
    checkUsername(username);
    checkPassword(password);
    if (this.hasUser(username)) throw new ManagerDatabaseError(`A user named '${username}' already exists`);
    const { key, salt, params } = await hashPassword(password);
    try {
      this.#db
        .prepare('INSERT INTO users (username, key, salt, params, is_admin) VALUES (?, ?, ?, ?, ?)')
        .run(username, key, salt, params, options.isAdmin ? 1 : 0);
    } catch (error) {
      if (String(error).includes('UNIQUE'))
        throw new ManagerDatabaseError(`A user named '${username}' already exists`);
      throw error;
    }
  }

  /**
   * Changes a user's password and/or admin flag. Throws {@link ManagerDatabaseError} if the user is not
   * registered.
   */
  async updateUser(username: string, changes: { password?: string; isAdmin?: boolean }): Promise<void> {
    if (!this.hasUser(username)) throw new ManagerDatabaseError(`There is no user named '${username}'`);
    if (changes.password !== undefined) {
      checkPassword(changes.password);
      const { key, salt, params } = await hashPassword(changes.password);
      this.#db
        .prepare('UPDATE users SET key = ?, salt = ?, params = ? WHERE username = ?')
        .run(key, salt, params, username);
    }
    if (changes.isAdmin !== undefined) {
      this.#db
        .prepare('UPDATE users SET is_admin = ? WHERE username = ?')
        .run(changes.isAdmin ? 1 : 0, username);
    }
  }

  /** Removes a user. Throws {@link ManagerDatabaseError} if the user is not registered. */
  removeUser(username: string): void {
    const { changes } = this.#db.prepare('DELETE FROM users WHERE username = ?').run(username);
    if (changes === 0) throw new ManagerDatabaseError(`There is no user named '${username}'`);
  }

  /** The registered users (never their password hashes), in the order they were added. */
  listUsers(): UserRecord[] {
    const rows = this.#db
      .prepare('SELECT username, is_admin FROM users ORDER BY id')
      .all() as unknown as Array<{
      username: string;
      is_admin: number;
    }>;
    return rows.map((row) => ({ username: row.username, isAdmin: row.is_admin === 1 }));
  }

  /** The registered usernames, in the order they were added. */
  usernames(): string[] {
    return this.#db
      .prepare('SELECT username FROM users ORDER BY id')
      .all()
      .map((row) => row.username as string);
  }

  /** Whether a user is registered. */
  hasUser(username: string): boolean {
    return this.#db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
  }

  /** Whether a registered user is an administrator (false for an unknown user). */
  isAdmin(username: string): boolean {
    const row = this.#db.prepare('SELECT is_admin FROM users WHERE username = ?').get(username) as
      | { is_admin: number }
      | undefined;
    return row?.is_admin === 1;
  }

  /**
   * Checks a login. Resolves to the user if the password is right, `undefined` if the user is unknown
   * or the password wrong. Compares in constant time.
   */
  async verifyUser(username: string, password: string): Promise<UserRecord | undefined> {
    const row = this.#db
      .prepare('SELECT username, key, salt, params, is_admin FROM users WHERE username = ?')
      .get(username) as UserRow | undefined;
    if (row === undefined) return undefined;
    const key = await scryptAsync(password, row.salt, row.key.length, parseParams(row.params));
    if (key.length !== row.key.length || !timingSafeEqual(key, row.key)) return undefined;
    return { username: row.username, isAdmin: row.is_admin === 1 };
  }

  // ---------------------------------------------------------------------------------------------
  // hostnames
  // ---------------------------------------------------------------------------------------------

  /** Trusts a hostname (or IP address). Adding one that is already trusted is not an error. */
  addHostname(hostname: string): void {
    const name = hostname.trim();
    if (name === '') throw new ManagerDatabaseError('A hostname must not be empty');
    this.#db.prepare('INSERT OR IGNORE INTO hostnames (hostname) VALUES (?)').run(name);
  }

  /** Stops trusting a hostname. Throws {@link ManagerDatabaseError} if it was not trusted. */
  removeHostname(hostname: string): void {
    const { changes } = this.#db.prepare('DELETE FROM hostnames WHERE hostname = ?').run(hostname.trim());
    if (changes === 0) throw new ManagerDatabaseError(`'${hostname}' is not a trusted hostname`);
  }

  /** The trusted hostnames, read from the file now (so changes made elsewhere are seen). */
  listHostnames(): string[] {
    return this.#db
      .prepare('SELECT hostname FROM hostnames ORDER BY id')
      .all()
      .map((row) => row.hostname as string);
  }

  // ---------------------------------------------------------------------------------------------
  // connections log
  // ---------------------------------------------------------------------------------------------

  /**
   * Appends a connection event. Writes are batched: all events of one turn of the event loop go in one
   * transaction, so logging costs the Manager's hot path almost nothing.
   */
  logConnection(peer: string, name: string, event: string): void {
    if (this.#closed) return;
    this.#pendingEvents.push([new Date().toISOString(), peer, name, event]);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes buffered connection events now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#closed || this.#pendingEvents.length === 0) return;
    const events = this.#pendingEvents;
    this.#pendingEvents = [];
    const insert = this.#db.prepare('INSERT INTO connections (time, peer, name, event) VALUES (?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const event of events) insert.run(...event);
    });
  }

  /** The connection events, oldest first. */
  connections(query: ConnectionsQuery = {}): ConnectionRecord[] {
    this.flush();
    const since = query.since?.toISOString() ?? '';
    const rows =
      query.limit === undefined
        ? this.#db
            .prepare('SELECT id, time, peer, name, event FROM connections WHERE time >= ? ORDER BY id')
            .all(since)
        : this.#db
            .prepare(
              'SELECT * FROM (SELECT id, time, peer, name, event FROM connections WHERE time >= ? ORDER BY id DESC LIMIT ?) ORDER BY id',
            )
            .all(since, query.limit);
    // Plain objects: node:sqlite's rows have a null prototype.
    return rows.map((row) => ({
      id: Number(row.id),
      time: row.time as string,
      peer: row.peer as string,
      name: row.name as string,
      event: row.event as string,
    }));
  }

  /** Flushes and closes the file. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

// Creates `path` with mode 0600 if it does not exist yet (an existing file keeps its mode).
function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function restrictIfPresent(path: string): void {
  try {
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function checkUsername(username: string): void {
  if (typeof username !== 'string' || username.trim() === '')
    throw new ManagerDatabaseError('A username must not be empty');
}

function checkPassword(password: string): void {
  if (typeof password !== 'string' || password === '')
    throw new ManagerDatabaseError('A password must not be empty');
}

async function hashPassword(password: string): Promise<{ key: Buffer; salt: Buffer; params: string }> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scryptAsync(password, salt, KEY_LENGTH, SCRYPT_COST);
  return { key, salt, params: `scrypt:N=${SCRYPT_COST.N},r=${SCRYPT_COST.r},p=${SCRYPT_COST.p}` };
}

function parseParams(params: string): ScryptOptions {
  const match = /^scrypt:N=(\d+),r=(\d+),p=(\d+)$/.exec(params);
  if (match === null)
    throw new ManagerDatabaseError(
      `Unknown password hash parameters '${params}': the database was written by another farcall version`,
    );
  const N = Number(match[1]);
  const r = Number(match[2]);
  const p = Number(match[3]);
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}
