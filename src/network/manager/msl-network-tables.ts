/**
 * msl-network's tables inside a Manager database, so that farcall's Manager can be pointed at a
 * database file that msl-network's tools made (`msl-network user add …`, its `UsersTable`) and its users
 * and trusted hostnames keep working:
 * - `auth_users (pid, username, key, salt, is_admin)`: passwords hashed with PBKDF2-HMAC-SHA256,
 *   100 000 iterations, 16-byte salt, 32-byte key (msl-network's `UsersTable`);
 * - `auth_hostnames (hostname)`;
 * - `connections (pid, datetime, ip_address, domain, port, message)`: the connection log, which farcall
 *   writes in the same shape (plus its own `address` and `name` columns).
 *
 * Internal to {@link ManagerDatabase}; a table that does not exist is simply empty.
 * @module
 */
import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlDatabase } from './sqlite.js';

/** msl-network's PBKDF2 parameters (`UsersTable`). */
const PBKDF2 = { iterations: 100_000, keyLength: 32, saltLength: 16, digest: 'sha256' } as const;

/** A row of msl-network's `auth_users`. */
export interface MslUserRow {
  username: string;
  key: Buffer;
  salt: Buffer;
  is_admin: number;
}

function hasTable(db: SqlDatabase, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

function derive(password: string, salt: Buffer, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, PBKDF2.iterations, keyLength, PBKDF2.digest, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** msl-network's users, in its order (by username). */
export function mslUsers(db: SqlDatabase): MslUserRow[] {
  if (!hasTable(db, 'auth_users')) return [];
  return db
    .prepare('SELECT username, key, salt, is_admin FROM auth_users ORDER BY username')
    .all() as unknown as MslUserRow[];
}

/** One msl-network user, or undefined. */
export function mslUser(db: SqlDatabase, username: string): MslUserRow | undefined {
  if (!hasTable(db, 'auth_users')) return undefined;
  return db
    .prepare('SELECT username, key, salt, is_admin FROM auth_users WHERE username = ?')
    .get(username) as MslUserRow | undefined;
}

/** Whether `password` is the password of an msl-network user row (constant-time compare). */
export async function mslPasswordMatches(row: MslUserRow, password: string): Promise<boolean> {
  const key = Buffer.from(row.key);
  const derived = await derive(password, Buffer.from(row.salt), key.length);
  return derived.length === key.length && timingSafeEqual(derived, key);
}

/** Changes an msl-network user's password (hashed as msl-network does) and/or admin flag. */
export async function updateMslUser(
  db: SqlDatabase,
  username: string,
  changes: { password?: string; isAdmin?: boolean },
): Promise<void> {
  if (changes.password !== undefined) {
    const salt = randomBytes(PBKDF2.saltLength);
    const key = await derive(changes.password, salt, PBKDF2.keyLength);
    db.prepare('UPDATE auth_users SET key = ?, salt = ? WHERE username = ?').run(key, salt, username);
  }
  if (changes.isAdmin !== undefined) {
    db.prepare('UPDATE auth_users SET is_admin = ? WHERE username = ?').run(
      changes.isAdmin ? 1 : 0,
      username,
    );
  }
}

/** Deletes an msl-network user; whether there was one. */
export function deleteMslUser(db: SqlDatabase, username: string): boolean {
  if (!hasTable(db, 'auth_users')) return false;
  return db.prepare('DELETE FROM auth_users WHERE username = ?').run(username).changes > 0;
}

/** msl-network's trusted hostnames. */
export function mslHostnames(db: SqlDatabase): string[] {
  if (!hasTable(db, 'auth_hostnames')) return [];
  return db
    .prepare('SELECT hostname FROM auth_hostnames ORDER BY hostname')
    .all()
    .map((row) => Object.values(row)[0] as string);
}

/** Stops trusting an msl-network hostname; whether it was trusted. */
export function deleteMslHostname(db: SqlDatabase, hostname: string): boolean {
  if (!hasTable(db, 'auth_hostnames')) return false;
  return db.prepare('DELETE FROM auth_hostnames WHERE hostname = ?').run(hostname).changes > 0;
}

/**
 * Creates the connections table in msl-network's shape (plus `address` and `name`), adds the two
 * columns to one msl-network made, and converts the table of farcall 0.1 (`id, time, peer, name, event`).
 */
export function ensureConnectionsTable(db: SqlDatabase): void {
  const columns = new Set(
    (db.prepare('PRAGMA table_info(connections)').all() as Array<{ name: string }>).map((c) => c.name),
  );
  const create = `CREATE TABLE connections (
      pid INTEGER PRIMARY KEY AUTOINCREMENT,
      datetime DATETIME NOT NULL,
      ip_address TEXT NOT NULL,
      domain TEXT NOT NULL,
      port INTEGER NOT NULL,
      message TEXT NOT NULL,
      address TEXT NOT NULL DEFAULT '',
      name TEXT NOT NULL DEFAULT ''
    )`;
  if (columns.size === 0) {
    db.exec(create);
    return;
  }
  if (columns.has('event')) {
    db.transaction(() => {
      db.exec('ALTER TABLE connections RENAME TO connections_farcall_0_1');
      db.exec(create);
      const rows = db
        .prepare('SELECT id, time, peer, name, event FROM connections_farcall_0_1 ORDER BY id')
        .all() as Array<{ id: number; time: string; peer: string; name: string; event: string }>;
      const insert = db.prepare(
        'INSERT INTO connections (pid, datetime, ip_address, domain, port, message, address, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const row of rows) {
        const where = splitAddress(row.peer);
        insert.run(
          row.id,
          localTime(new Date(row.time)),
          where.host,
          where.host,
          where.port,
          row.event,
          row.peer,
          row.name,
        );
      }
      db.exec('DROP TABLE connections_farcall_0_1');
    });
    return;
  }
  if (!columns.has('address')) db.exec("ALTER TABLE connections ADD COLUMN address TEXT NOT NULL DEFAULT ''");
  if (!columns.has('name')) db.exec("ALTER TABLE connections ADD COLUMN name TEXT NOT NULL DEFAULT ''");
}

/** `host:port` (or `[v6]:port`, or a bare host) split into its parts. */
export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = at > 0 ? Number(address.slice(at + 1)) : Number.NaN;
  if (!Number.isInteger(port)) return { host: address, port: 0 };
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

/** A date as local time `YYYY-MM-DDTHH:MM:SS`, the format of msl-network's connection log. */
export function localTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}
