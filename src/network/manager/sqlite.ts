/**
 * The SQLite driver the Manager's database runs on, chosen when the first database opens:
 * Node's built-in `node:sqlite` where this Node.js has it (22.5 and later; before 22.13 only with
 * `--experimental-sqlite`), else the optional dependency `better-sqlite3`. Nothing here is loaded until
 * a database opens, so `farcall`, `farcall/rpc`, `farcall/loadlib`, `farcall/wire` and the rest of
 * `farcall/network` install and import on a machine with no C compiler (where better-sqlite3 cannot
 * build) and no SQLite.
 *
 * Both drivers are synchronous; this module gives them one small interface (statements with positional
 * parameters, `exec`, transactions), which is all the database needs.
 * @module
 */
import { createRequire } from 'node:module';
import { SQLiteUnavailableError } from '../../errors.js';

/** A value bound to a `?` parameter or read from a column. */
export type SqlValue = string | number | bigint | Buffer | Uint8Array | null;

/** The result of a statement that changes rows. */
export interface RunResult {
  changes: number | bigint;
}

/** A prepared statement. */
export interface SqlStatement {
  run(...params: SqlValue[]): RunResult;
  get(...params: SqlValue[]): Record<string, unknown> | undefined;
  all(...params: SqlValue[]): Record<string, unknown>[];
}

/** An open database file. */
export interface SqlDatabase {
  /** Which driver opened it: `'node:sqlite'` or `'better-sqlite3'`. */
  readonly driver: SqliteDriverName;
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /** Runs `work` in one transaction: committed if it returns, rolled back if it throws. */
  transaction(work: () => void): void;
  close(): void;
}

/** The drivers farcall knows, in the order it tries them. */
export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/** What the install hint names when no driver loads. */
export const SQLITE_INSTALL_HINT =
  'install the optional dependency better-sqlite3 (`npm install better-sqlite3`, which compiles SQLite ' +
  'with a C/C++ compiler when no prebuilt binary can be downloaded), or run Node.js 22.13 or later, ' +
  'which has node:sqlite built in';

interface NodeSqliteModule {
  DatabaseSync: new (
    path: string,
  ) => {
    exec(sql: string): void;
    prepare(sql: string): SqlStatement;
    close(): void;
  };
}

type BetterSqliteConstructor = new (
  path: string,
) => {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
};

const requireHere = createRequire(import.meta.url);

type Opener = (path: string) => SqlDatabase;

function nodeSqliteOpener(): Opener {
  // Node.js 22-24 print "ExperimentalWarning: SQLite is an experimental feature" when node:sqlite loads; a
  // Manager's user can do nothing about it, so that one warning (and only it) is not passed on.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning instanceof Error ? warning.message : warning).includes('SQLite is an experimental'))
      return;
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  let module: NodeSqliteModule;
  try {
    module = requireHere('node:sqlite') as NodeSqliteModule;
  } finally {
    process.emitWarning = emitWarning;
  }
  const { DatabaseSync } = module;
  return (path) => wrap('node:sqlite', new DatabaseSync(path));
}

function betterSqliteOpener(moduleName: string): Opener {
  const Database = requireHere(moduleName) as BetterSqliteConstructor;
  return (path) => wrap('better-sqlite3', new Database(path));
}

function wrap(
  driver: SqliteDriverName,
  db: { exec(sql: string): void; prepare(sql: string): SqlStatement; close(): void },
): SqlDatabase {
  return {
    driver,
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql),
    transaction(work) {
      db.exec('BEGIN');
      try {
        work();
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
      db.exec('COMMIT');
    },
    close: () => db.close(),
  };
}

/** Where to look for the drivers; tests point these at modules that do not exist. */
export interface SqliteCandidates {
  /** The built-in module's name, or `null` to skip it. Default `'node:sqlite'`. */
  builtin?: string | null;
  /** The npm package's name, or `null` to skip it. Default `'better-sqlite3'`. */
  package?: string | null;
}

let defaultOpener: Opener | undefined;

/**
 * Loads the first driver that this Node.js can load, or throws {@link SQLiteUnavailableError} saying
 * what to install.
 */
export function loadSqliteDriver(candidates: SqliteCandidates = {}): Opener {
  const builtin = candidates.builtin === undefined ? 'node:sqlite' : candidates.builtin;
  const pkg = candidates.package === undefined ? 'better-sqlite3' : candidates.package;
  const failures: string[] = [];
  if (builtin !== null) {
    try {
      return builtin === 'node:sqlite' ? nodeSqliteOpener() : betterSqliteOpener(builtin);
    } catch (error) {
      failures.push(`${builtin}: ${firstLine(error)}`);
    }
  }
  if (pkg !== null) {
    try {
      return betterSqliteOpener(pkg);
    } catch (error) {
      failures.push(`${pkg}: ${firstLine(error)}`);
    }
  }
  throw new SQLiteUnavailableError(
    `The Manager's database needs SQLite, and this Node.js ${process.version} has no SQLite driver ` +
      `(${failures.join('; ')}). To fix it, ${SQLITE_INSTALL_HINT}.`,
  );
}

/** Opens (creating if needed) a database file with the first driver that loads. */
export function openSqlite(path: string): SqlDatabase {
  defaultOpener ??= loadSqliteDriver();
  return defaultOpener(path);
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}
