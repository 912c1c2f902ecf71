import { pbkdf2Sync } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerDatabaseError } from '../../src/errors.js';
import { ManagerDatabase } from '../../src/network/manager/database.js';
import { openSqlite } from '../../src/network/manager/sqlite.js';

let dir: string;
let path: string;
let db: ManagerDatabase;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'farcall-db-'));
  path = join(dir, 'manager.sqlite3');
  db = new ManagerDatabase(path);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('users', () => {
  it('registers users and verifies their passwords', async () => {
    await db.addUser('admin', 's3cret', { isAdmin: true });
    await db.addUser('bob', 'bob pw');
    expect(db.usernames()).toEqual(['admin', 'bob']);
    expect(db.listUsers()).toEqual([
      { username: 'admin', isAdmin: true },
      { username: 'bob', isAdmin: false },
    ]);
    expect(await db.verifyUser('admin', 's3cret')).toEqual({ username: 'admin', isAdmin: true });
    expect(await db.verifyUser('bob', 'bob pw')).toEqual({ username: 'bob', isAdmin: false });
    expect(await db.verifyUser('bob', 'wrong')).toBeUndefined();
    expect(await db.verifyUser('mallory', 'x')).toBeUndefined();
  });

  it('never stores a password in clear', async () => {
    await db.addUser('carol', 'a-very-distinct-password');
    db.close();
    const bytes = readFileSync(path);
    const wal = (() => {
      try {
        return readFileSync(`${path}-wal`);
      } catch {
        return Buffer.alloc(0);
      }
    })();
    expect(bytes.includes('a-very-distinct-password')).toBe(false);
    expect(wal.includes('a-very-distinct-password')).toBe(false);
    db = new ManagerDatabase(path);
    expect(await db.verifyUser('carol', 'a-very-distinct-password')).toBeTruthy();
  });

  it('salts each hash, so two users with one password have different hashes', async () => {
    await db.addUser('u1', 'same');
    await db.addUser('u2', 'same');
    expect(await db.verifyUser('u1', 'same')).toBeTruthy();
    expect(await db.verifyUser('u2', 'same')).toBeTruthy();
  });

  it('updates the password and the admin flag', async () => {
    await db.addUser('dave', 'old');
    await db.updateUser('dave', { password: 'new', isAdmin: true });
    expect(await db.verifyUser('dave', 'old')).toBeUndefined();
    expect(await db.verifyUser('dave', 'new')).toEqual({ username: 'dave', isAdmin: true });
    expect(db.isAdmin('dave')).toBe(true);
  });

  it('refuses duplicates, unknown users and empty values with a typed error', async () => {
    await db.addUser('eve', 'pw');
    await expect(db.addUser('eve', 'pw2')).rejects.toThrow(ManagerDatabaseError);
    await expect(db.addUser('', 'pw')).rejects.toThrow(ManagerDatabaseError);
    await expect(db.addUser('frank', '')).rejects.toThrow(ManagerDatabaseError);
    await expect(db.updateUser('nobody', { isAdmin: true })).rejects.toThrow(ManagerDatabaseError);
    expect(() => db.removeUser('nobody')).toThrow(ManagerDatabaseError);
    db.removeUser('eve');
    expect(db.hasUser('eve')).toBe(false);
  });
});

describe('hostnames', () => {
  it("trusts this computer by default under all of msl-network's LOCALHOST_ALIASES", () => {
    const trusted = db.listHostnames();
    for (const alias of [
      hostname().split('.')[0],
      'localhost',
      '127.0.0.1',
      '::1',
      '1.0.0.127.in-addr.arpa',
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa',
    ]) {
      expect(trusted).toContain(alias);
    }
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) if (info.family === 'IPv4') expect(trusted).toContain(info.address);
    }
  });

  it('adds and removes hostnames, and another handle on the file sees the change at once', () => {
    const other = new ManagerDatabase(path);
    try {
      other.addHostname('lab-pc-7');
      expect(db.listHostnames()).toContain('lab-pc-7');
      db.removeHostname('lab-pc-7');
      expect(other.listHostnames()).not.toContain('lab-pc-7');
      expect(() => db.removeHostname('lab-pc-7')).toThrow(ManagerDatabaseError);
    } finally {
      other.close();
    }
  });

  it('does not re-add the defaults once they were removed', () => {
    db.removeHostname('::1');
    db.close();
    db = new ManagerDatabase(path);
    expect(db.listHostnames()).not.toContain('::1');
  });
});

describe('connections log', () => {
  it('records events in order, batched per turn of the event loop', () => {
    db.logConnection('127.0.0.1:5000', 'A[vm:5000]', 'connected as a client');
    db.logConnection(
      { ip: '10.1.2.3', port: 5001, address: '10.1.2.3:5001' },
      'B[10.1.2.3:5001]',
      'disconnected',
    );
    const rows = db.connections();
    expect(rows.map((r) => [r.peer, r.ip, r.domain, r.port, r.name, r.event])).toEqual([
      ['127.0.0.1:5000', '127.0.0.1', 'localhost', 5000, 'A[vm:5000]', 'connected as a client'],
      ['10.1.2.3:5001', '10.1.2.3', '10.1.2.3', 5001, 'B[10.1.2.3:5001]', 'disconnected'],
    ]);
    // msl-network's format: local time to the second, T between date and time.
    expect(rows[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(Date.parse(rows[0].time)).not.toBeNaN();
    expect(db.connections({ limit: 1 }).map((r) => r.event)).toEqual(['disconnected']);
  });

  it('close is idempotent and flushes pending events', () => {
    db.logConnection('p', 'n', 'e');
    db.close();
    db.close();
    db = new ManagerDatabase(path);
    expect(db.connections().map((r) => r.event)).toEqual(['e']);
  });
});

// A database file as msl-network's tools write it (its UsersTable, HostnamesTable, ConnectionsTable).
function mslNetworkDatabase(file: string): void {
  const raw = openSqlite(file);
  raw.exec(`
    CREATE TABLE auth_users (pid INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, key BLOB NOT NULL,
      salt BLOB NOT NULL, is_admin BOOLEAN NOT NULL, UNIQUE(username));
    CREATE TABLE auth_hostnames (hostname TEXT NOT NULL, UNIQUE(hostname));
    CREATE TABLE connections (pid INTEGER PRIMARY KEY AUTOINCREMENT, datetime DATETIME NOT NULL,
      ip_address TEXT NOT NULL, domain TEXT NOT NULL, port INTEGER NOT NULL, message TEXT NOT NULL);
  `);
  const salt = Buffer.alloc(16, 7);
  const key = pbkdf2Sync('whatever', salt, 100_000, 32, 'sha256');
  raw.prepare('INSERT INTO auth_users VALUES (NULL, ?, ?, ?, ?)').run('admin', key, salt, 1);
  raw.prepare('INSERT INTO auth_hostnames VALUES (?)').run('lab-pc-9');
  raw
    .prepare('INSERT INTO connections VALUES (NULL, ?, ?, ?, ?, ?)')
    .run('2024-05-01T10:00:00', '10.0.0.5', 'lab-pc-9.example', 50123, 'new connection request');
  raw.close();
}

describe("a database made by msl-network's tools", () => {
  it('logs its users in (PBKDF2), trusts its hostnames and keeps its connection log', async () => {
    db.close();
    rmSync(path, { force: true });
    mslNetworkDatabase(path);
    db = new ManagerDatabase(path);
    expect(db.hasUser('admin')).toBe(true);
    expect(db.isAdmin('admin')).toBe(true);
    expect(await db.verifyUser('admin', 'whatever')).toEqual({ username: 'admin', isAdmin: true });
    expect(await db.verifyUser('admin', 'wrong')).toBeUndefined();
    expect(db.listHostnames()).toContain('lab-pc-9');
    db.logConnection('127.0.0.1:5000', 'A[vm:5000]', 'connected as a client');
    expect(db.connections().map((r) => [r.ip, r.domain, r.port, r.event])).toEqual([
      ['10.0.0.5', 'lab-pc-9.example', 50123, 'new connection request'],
      ['127.0.0.1', 'localhost', 5000, 'connected as a client'],
    ]);
    // Changes go where the user lives, hashed as msl-network hashes, so its own tools keep working.
    await db.updateUser('admin', { password: 'new pw', isAdmin: false });
    expect(await db.verifyUser('admin', 'new pw')).toEqual({ username: 'admin', isAdmin: false });
    await db.addUser('bob', 'bob pw');
    expect(db.usernames()).toEqual(['bob', 'admin']);
    db.removeUser('admin');
    db.removeHostname('lab-pc-9');
    expect(db.hasUser('admin')).toBe(false);
    expect(db.listHostnames()).not.toContain('lab-pc-9');
    db.close();
    const raw = openSqlite(path);
    expect(raw.prepare('SELECT COUNT(*) AS n FROM auth_users').get()?.n).toBe(0);
    raw.close();
    db = new ManagerDatabase(path);
  });

  it("converts farcall 0.1's connections table to msl-network's shape", () => {
    db.close();
    rmSync(path, { force: true });
    const raw = openSqlite(path);
    raw.exec(
      'CREATE TABLE connections (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, peer TEXT NOT NULL, name TEXT NOT NULL, event TEXT NOT NULL)',
    );
    raw
      .prepare('INSERT INTO connections (time, peer, name, event) VALUES (?, ?, ?, ?)')
      .run('2025-01-02T03:04:05.000Z', 'vm:5000', 'A[vm:5000]', 'disconnected');
    raw.close();
    db = new ManagerDatabase(path);
    expect(db.connections().map((r) => [r.peer, r.port, r.name, r.event])).toEqual([
      ['vm:5000', 5000, 'A[vm:5000]', 'disconnected'],
    ]);
  });
});

describe('file permissions', () => {
  it('creates the database (and its -wal and -shm) readable by its owner only, in a folder anyone can read', async () => {
    const open = mkdtempSync(join(tmpdir(), 'farcall-db-open-'));
    const previous = process.umask(0o022);
    try {
      chmodSync(open, 0o755);
      const file = join(open, 'users.sqlite3');
      const database = new ManagerDatabase(file);
      await database.addUser('alice', 'pw');
      database.logConnection('h:1', 'n', 'event');
      database.flush();
      const files = [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f));
      expect(files).toContain(file);
      for (const f of files) expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
      database.close();
    } finally {
      process.umask(previous);
      rmSync(open, { recursive: true, force: true });
    }
  });
});
