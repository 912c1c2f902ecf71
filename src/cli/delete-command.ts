/**
 * `farcall delete`: removes the files farcall's network layer created in FARCALL_HOME.
 * @module
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { certsDir, databasePath, farcallHome, keysDir, logsDir } from '../network/shared/home.js';
import { ask } from './options.js';

interface DeleteFlags {
  certs?: boolean;
  keys?: boolean;
  logs?: boolean;
  database?: boolean;
  yes?: boolean;
}

/** Adds `delete`. */
export function addDeleteCommand(program: Command): void {
  program
    .command('delete')
    .description('delete the files in FARCALL_HOME (all of them unless you pick some)')
    .option('--certs', 'the certificates (the Manager’s and the client certificate cache)')
    .option('--keys', 'the private keys')
    .option('--logs', 'the log files')
    .option('--database', 'the database (users, hostnames, connections log)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (flags: DeleteFlags) => {
      const all = !flags.certs && !flags.keys && !flags.logs && !flags.database;
      const db = databasePath();
      const targets = [
        ...(all || flags.certs ? [certsDir()] : []),
        ...(all || flags.keys ? [keysDir()] : []),
        ...(all || flags.logs ? [logsDir()] : []),
        ...(all || flags.database ? [db, `${db}-wal`, `${db}-shm`] : []),
      ].filter((path) => existsSync(path));
      if (targets.length === 0) {
        process.stdout.write(`Nothing to delete in ${farcallHome()}\n`);
        return;
      }
      if (!flags.yes) {
        const answer = await ask(
          `Delete ${targets.join(', ')}? [y/N] `,
          'Refusing to delete without confirmation: add --yes',
        );
        if (!/^y(es)?$/i.test(answer.trim())) {
          process.stdout.write('Nothing deleted\n');
          return;
        }
      }
      for (const path of targets) {
        rmSync(path, { recursive: true, force: true });
        process.stdout.write(`Deleted ${path}\n`);
      }
      const home = farcallHome();
      if (all && existsSync(home) && readdirSync(home).length === 0)
        rmSync(home, { recursive: true, force: true });
    });
}
