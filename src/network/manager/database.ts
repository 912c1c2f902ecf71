/**
 * The Manager's SQLite database (better-sqlite3): registered users, trusted hostnames and a log of
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
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { FarcallError, ManagerDatabaseError } from '../../errors.js';
import {
  deleteMslHostname,
  deleteMslUser,
  ensureConnectionsTable,
  localTime,
  mslHostnames,
  mslPasswordMatches,
  mslUser,
  mslUsers,
  splitAddress,
  updateMslUser,
} from './msl-network-tables.js';
import { openSqlite, type SqlDatabase } from './sqlite.js';

/** A registered user, without the password hash. */
export interface UserRecord {
  username: string;
  isAdmin: boolean;
}

/** One entry of the connections log. */
export interface ConnectionRecord {
  id: number;
  /** Local time of the event, `YYYY-MM-DDTHH:MM:SS` (msl-network's format). */
  time: string;
  /** The peer's address as the Manager names it, `host:port`. */
  peer: string;
  /** The peer's IP address. */
  ip: string;
  /** The peer's domain name as msl-network records it: `localhost` for loopback, else the IP address. */
  domain: string;
  /** The peer's port. */
  port: number;
  /** The peer's network name, if known at the time (`Client[host:port]`), else its address. */
  name: string;
  /** What happened, e.g. `'connected as a client'`, `'rejected: wrong login password'`. */
  event: string;
}

/** Who a connection event is about: a connected peer (its IP, port and name), or its `host:port`. */
export type ConnectionPeer = string | { ip: string; port: number; address: string };

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

/** The reverse-DNS names of the loopback addresses, which msl-network trusts by default. */
const LOOPBACK_REVERSE_NAMES = [
  '1.0.0.127.in-addr.arpa',
  '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa',
];

/**
 * The hostnames every new database trusts: this computer, under each of its names (msl-network's
 * `LOCALHOST_ALIASES`: its host name, `localhost`, the loopback addresses and their reverse-DNS names,
 * and this computer's IPv4 addresses).
 */
export function defaultTrustedHostnames(): string[] {
  const ipv4: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (info.family === 'IPv4') ipv4.push(info.address);
  }
  return [
    ...new Set([
      osHostname().split('.')[0],
      'localhost',
      '127.0.0.1',
      '::1',
      ...LOOPBACK_REVERSE_NAMES,
      ...ipv4,
    ]),
  ];
}

function scryptAsync(
  password: string,
  salt: Buffer,
  keyLength: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

interface UserRow {
  username: string;
  key: Buffer;
  salt: Buffer;
  params: string;
  is_admin: number;
}

/**
 * The Manager's database. Synchronous reads (better-sqlite3 is synchronous and these are tiny);
 * password hashing runs on libuv's thread pool so it never stalls the Manager's event loop.
 * Connection events are buffered and written in one transaction per turn of the event loop.
 */
export class ManagerDatabase {
  /** The database file (or `':memory:'`). */
  readonly path: string;
  readonly #db: SqlDatabase;
  #pendingEvents: Array<[string, string, string, number, string, string, string]> = [];
  #flushScheduled = false;
  #closed = false;

  /**
   * Opens (creating if needed) the database at `path`. A new database trusts
   * {@link defaultTrustedHostnames}. A database made by msl-network's tools works too: the users of its
   * `auth_users` table can log in (their PBKDF2 hashes are checked as msl-network does) and the hostnames of
   * its `auth_hostnames` table are trusted, next to farcall's own.
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
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    ensureConnectionsTable(this.#db);
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
    if (changes.password !== undefined) checkPassword(changes.password);
    if (!this.#hasOwnUser(username)) {
      // A user of msl-network's table stays there, hashed as msl-network hashes (its tools keep working).
      await updateMslUser(this.#db, username, changes);
      return;
    }
    if (changes.password !== undefined) {
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
    const fromMsl = deleteMslUser(this.#db, username);
    if (changes === 0 && !fromMsl) throw new ManagerDatabaseError(`There is no user named '${username}'`);
  }

  /** The registered users (never their password hashes), in the order they were added. */
  listUsers(): UserRecord[] {
    const rows = this.#db.prepare('SELECT username, is_admin FROM users ORDER BY id').all() as Array<{
      username: string;
      is_admin: number;
    }>;
    const own = rows.map((row) => ({ username: row.username, isAdmin: row.is_admin === 1 }));
    const names = new Set(own.map((user) => user.username));
    const msl = mslUsers(this.#db)
      .filter((row) => !names.has(row.username))
      .map((row) => ({ username: row.username, isAdmin: Boolean(row.is_admin) }));
    return [...own, ...msl];
  }

  /** The registered usernames, in the order they were added. */
  usernames(): string[] {
    return this.listUsers().map((user) => user.username);
  }

  /** Whether a user is registered (in farcall's table or msl-network's). */
  hasUser(username: string): boolean {
    return this.#hasOwnUser(username) || mslUser(this.#db, username) !== undefined;
  }

  #hasOwnUser(username: string): boolean {
    return this.#db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
  }

  /** Whether a registered user is an administrator (false for an unknown user). */
  isAdmin(username: string): boolean {
    const row = this.#db.prepare('SELECT is_admin FROM users WHERE username = ?').get(username) as
      | { is_admin: number }
      | undefined;
    if (row !== undefined) return row.is_admin === 1;
    return Boolean(mslUser(this.#db, username)?.is_admin);
  }

  /**
   * Checks a login. Resolves to the user if the password is right, `undefined` if the user is unknown
   * or the password wrong. Compares in constant time.
   */
  async verifyUser(username: string, password: string): Promise<UserRecord | undefined> {
    const row = this.#db
      .prepare('SELECT username, key, salt, params, is_admin FROM users WHERE username = ?')
      .get(username) as UserRow | undefined;
    if (row === undefined) {
      const msl = mslUser(this.#db, username);
      if (msl === undefined || !(await mslPasswordMatches(msl, password))) return undefined;
      return { username: msl.username, isAdmin: Boolean(msl.is_admin) };
    }
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
    const fromMsl = deleteMslHostname(this.#db, hostname.trim());
    if (changes === 0 && !fromMsl) throw new ManagerDatabaseError(`'${hostname}' is not a trusted hostname`);
  }

  /** The trusted hostnames, read from the file now (so changes made elsewhere are seen). */
  listHostnames(): string[] {
    const own = this.#db
      .prepare('SELECT hostname FROM hostnames ORDER BY id')
      .all()
      .map((row) => Object.values(row)[0] as string);
    return [...new Set([...own, ...mslHostnames(this.#db)])];
  }

  // ---------------------------------------------------------------------------------------------
  // connections log
  // ---------------------------------------------------------------------------------------------

  /**
   * Appends a connection event. Writes are batched: all events of one turn of the event loop go in one
   * transaction, so logging costs the Manager's hot path almost nothing.
   */
  logConnection(peer: ConnectionPeer, name: string, event: string): void {
    if (this.#closed) return;
    const split = typeof peer === 'string' ? splitAddress(peer) : undefined;
    const ip = split?.host ?? (peer as Exclude<ConnectionPeer, string>).ip;
    const port = split?.port ?? (peer as Exclude<ConnectionPeer, string>).port;
    const address = typeof peer === 'string' ? peer : peer.address;
    const domain = isLoopbackAddress(ip) ? 'localhost' : ip;
    this.#pendingEvents.push([localTime(new Date()), ip, domain, port, event, address, name]);
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
    const insert = this.#db.prepare(
      'INSERT INTO connections (datetime, ip_address, domain, port, message, address, name) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#db.transaction(() => {
      for (const event of events) insert.run(...event);
    });
  }

  /** The connection events, oldest first. */
  connections(query: ConnectionsQuery = {}): ConnectionRecord[] {
    this.flush();
    const since = query.since === undefined ? '' : localTime(query.since);
    const columns =
      'pid AS id, datetime AS time, ip_address AS ip, domain, port, message AS event, address AS peer, name';
    const rows =
      query.limit === undefined
        ? this.#db.prepare(`SELECT ${columns} FROM connections WHERE datetime >= ? ORDER BY pid`).all(since)
        : this.#db
            .prepare(
              `SELECT * FROM (SELECT ${columns} FROM connections WHERE datetime >= ? ORDER BY pid DESC LIMIT ?) ORDER BY id`,
            )
            .all(since, query.limit);
    return (rows as unknown as ConnectionRecord[]).map((row) =>
      row.peer === ''
        ? { ...row, peer: `${row.ip}:${row.port}`, name: row.name || `${row.ip}:${row.port}` }
        : row,
    );
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
    throw new FarcallError(`Unknown password hash parameters '${params}'`, 'ERR_FARCALL_DATABASE');
  const N = Number(match[1]);
  const r = Number(match[2]);
  const p = Number(match[3]);
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.') || ip === 'localhost';
}
