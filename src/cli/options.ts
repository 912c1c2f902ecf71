/**
 * Small helpers shared by the `farcall` subcommands.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError } from 'commander';
import { ManagerDatabase } from '../network/manager/database.js';
import { databasePath } from '../network/shared/home.js';

/** Parses a TCP port number (0 = any free port). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`'${value}' is not a port number (0-65535)`);
  }
  return port;
}

/** Parses a positive integer. */
export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  return n;
}

/** A secret given on the command line, or read from the file it names (as msl-network allows). */
export function secretFromArgument(value: string): string {
  if (existsSync(value)) {
    const first = readFileSync(value, 'utf8').split(/\r?\n/)[0];
    if (first !== undefined && first !== '') return first;
  }
  return value;
}

/** Whether a secret option's value names a file (then the file's first line is the secret). */
export function isSecretFile(value: string): boolean {
  return existsSync(value);
}

/**
 * The first line of a file holding a secret; throws with the fix if the file is missing or its first
 * line is empty.
 */
export function secretFromFile(path: string, option: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${option}: cannot read '${path}' (${(error as Error).message})`);
  }
  const first = text.split(/\r?\n/)[0] ?? '';
  if (first === '')
    throw new Error(`${option}: the first line of '${path}' is empty; write the password there`);
  return first;
}

/** The warning printed when a secret is given on the command line itself. */
export function commandLineSecretWarning(option: string, fileOption: string, typeIt = `${option} -`): string {
  return (
    `Warning: ${option} given on the command line is visible to every user of this computer in the process ` +
    `list (ps, /proc/<pid>/cmdline) and may be kept in the shell's history. Use ${fileOption} <path> (the ` +
    `file's first line is the password; make it readable by you only), or ${typeIt} to type it.\n`
  );
}

/** Opens the database the command works on: `--database`, else `FARCALL_HOME/manager.sqlite3`. */
export function openDatabase(path: string | undefined): ManagerDatabase {
  return new ManagerDatabase(path ?? databasePath(undefined, { create: true }));
}

/** Opens the database (see {@link openDatabase}), runs `work` with it, and closes it whatever happens. */
export async function withDatabase<T>(
  path: string | undefined,
  work: (database: ManagerDatabase) => T | Promise<T>,
): Promise<T> {
  const database = openDatabase(path);
  try {
    return await work(database);
  } finally {
    database.close();
  }
}

/** The `--database` option every database command takes. */
export const DATABASE_OPTION = [
  '--database <path>',
  'the SQLite database (default: FARCALL_HOME/manager.sqlite3)',
] as const;

/** Asks a question on the terminal; rejects when there is no terminal to ask on. */
export async function ask(question: string, hint: string): Promise<string> {
  if (!process.stdin.isTTY) throw new Error(`${hint} (there is no terminal to ask on)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}
