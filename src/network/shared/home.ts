/**
 * Where the network layer keeps its files: `FARCALL_HOME` (default `~/.farcall`) with the Manager's
 * database `manager.sqlite3`, certificates in `certs/`, private keys in `keys/` and log files in `logs/`.
 * Folders are created when a path is asked for with `create: true`, never at import.
 *
 * @example
 * ```ts
 * const home = farcallHome();                     // honours $FARCALL_HOME
 * const db = databasePath(home);                  // ~/.farcall/manager.sqlite3
 * const certs = certsDir(home, { create: true }); // ~/.farcall/certs (created if missing)
 * ```
 * @module
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The environment variable that moves farcall's home folder. */
export const FARCALL_HOME_ENV = 'FARCALL_HOME';

/** The database file name inside the home folder. */
export const DATABASE_FILE_NAME = 'manager.sqlite3';

/** Options of the path helpers. */
export interface HomePathOptions {
  /** Create the folder (and its parents) if it does not exist. Default: false. */
  create?: boolean;
}

/**
 * The home folder: `home` if given, else `$FARCALL_HOME`, else `~/.farcall`. Always an absolute path.
 */
export function farcallHome(home?: string): string {
  const chosen = home ?? process.env[FARCALL_HOME_ENV];
  return chosen !== undefined && chosen !== '' ? resolve(chosen) : join(homedir(), '.farcall');
}

function folder(home: string | undefined, name: string, options?: HomePathOptions): string {
  const path = join(farcallHome(home), name);
  if (options?.create) mkdirSync(path, { recursive: true, mode: 0o700 });
  return path;
}

/** The folder of certificates: the Manager's own and the certificate cache of clients. */
export function certsDir(home?: string, options?: HomePathOptions): string {
  return folder(home, 'certs', options);
}

/** The folder of private keys. */
export function keysDir(home?: string, options?: HomePathOptions): string {
  return folder(home, 'keys', options);
}

/** The folder of log files. */
export function logsDir(home?: string, options?: HomePathOptions): string {
  return folder(home, 'logs', options);
}

/** The Manager's SQLite database file (the home folder is created if `create` is set). */
export function databasePath(home?: string, options?: HomePathOptions): string {
  const root = farcallHome(home);
  if (options?.create) mkdirSync(root, { recursive: true, mode: 0o700 });
  return join(root, DATABASE_FILE_NAME);
}

/** The default certificate file of a host: `certs/<hostname>.crt`. */
export function certificatePath(hostname: string, home?: string, options?: HomePathOptions): string {
  return join(certsDir(home, options), `${hostname}.crt`);
}

/** The default private key file of a host: `keys/<hostname>.key`. */
export function keyPath(hostname: string, home?: string, options?: HomePathOptions): string {
  return join(keysDir(home, options), `${hostname}.key`);
}

/**
 * A new log file name for a Manager started now, as msl-network names it: `logs/manager-YYYY-MM-DD-HH-MM-SS.log`
 * in local time (the folder is created if `create` is set). A Manager started in the same second appends
 * to the same file.
 *
 * @example
 * ```ts
 * defaultLogFile('/home/me/.farcall', {}, new Date(2026, 0, 2, 3, 4, 5));
 * // '/home/me/.farcall/logs/manager-2026-01-02-03-04-05.log'
 * ```
 */
export function defaultLogFile(home?: string, options?: HomePathOptions, now: Date = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const stamp =
    `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}-` +
    `${two(now.getHours())}-${two(now.getMinutes())}-${two(now.getSeconds())}`;
  return join(logsDir(home, options), `manager-${stamp}.log`);
}
