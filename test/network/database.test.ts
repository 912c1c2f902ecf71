import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerDatabaseError } from '../../src/errors.js';
import { ManagerDatabase } from '../../src/network/database.js';

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
  it('trusts this computer by default, as msl-network does', () => {
    expect(db.listHostnames()).toEqual([hostname().split('.')[0], 'localhost', '127.0.0.1', '::1']);
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
    db.logConnection('127.0.0.1:5000', 'A[vm:5000]', 'disconnected');
    const rows = db.connections();
    expect(rows.map((r) => [r.peer, r.name, r.event])).toEqual([
      ['127.0.0.1:5000', 'A[vm:5000]', 'connected as a client'],
      ['127.0.0.1:5000', 'A[vm:5000]', 'disconnected'],
    ]);
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
