import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SQLiteUnavailableError } from '../../src/errors.js';
import { loadSqliteDriver, openSqlite } from '../../src/network/manager/sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function hasBuiltinSqlite(): boolean {
  try {
    createRequire(import.meta.url)('node:sqlite');
    return true;
  } catch {
    return false;
  }
}

describe('the SQLite driver', () => {
  it('uses node:sqlite where this Node.js has it, else better-sqlite3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'farcall-sqlite-'));
    dirs.push(dir);
    const db = openSqlite(join(dir, 'x.sqlite3'));
    try {
      expect(db.driver).toBe(hasBuiltinSqlite() ? 'node:sqlite' : 'better-sqlite3');
      db.exec('CREATE TABLE t (v TEXT)');
      db.transaction(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('a'));
      expect(() =>
        db.transaction(() => {
          db.prepare('INSERT INTO t (v) VALUES (?)').run('b');
          throw new Error('roll back');
        }),
      ).toThrow('roll back');
      expect(
        db
          .prepare('SELECT v FROM t')
          .all()
          .map((r) => r.v),
      ).toEqual(['a']);
    } finally {
      db.close();
    }
  });

  it('says what to install when neither driver loads', () => {
    let caught: unknown;
    try {
      loadSqliteDriver({ builtin: 'farcall-no-such-sqlite', package: 'farcall-no-such-sqlite-either' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SQLiteUnavailableError);
    const error = caught as SQLiteUnavailableError;
    expect(error.code).toBe('ERR_FARCALL_SQLITE_UNAVAILABLE');
    expect(error.message).toContain('npm install better-sqlite3');
    expect(error.message).toContain('node:sqlite');
    expect(error.message).toContain(process.version);
  });
});
