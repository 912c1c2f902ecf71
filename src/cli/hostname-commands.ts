/**
 * `farcall hostname add|remove|list`: the hostnames a Manager started with `--auth-hostname` trusts.
 * A running Manager reads the list at each connection, so changes apply at once.
 * @module
 */
import type { Command } from 'commander';
import { openDatabase } from './options.js';

/** Adds `hostname` and its subcommands. */
export function addHostnameCommands(program: Command): void {
  const hostname = program.command('hostname').description('manage the trusted hostnames of --auth-hostname');
  const db = '--database <path>';
  const dbHelp = 'the SQLite database (default: FARCALL_HOME/manager.sqlite3)';

  hostname
    .command('add')
    .description('trust hostnames (or IP addresses)')
    .argument('<hostname...>')
    .option(db, dbHelp)
    .action((names: string[], flags: { database?: string }) => {
      const database = openDatabase(flags.database);
      try {
        for (const name of names) {
          database.addHostname(name);
          process.stdout.write(`Trusted '${name}'\n`);
        }
      } finally {
        database.close();
      }
    });

  hostname
    .command('remove')
    .description('stop trusting hostnames')
    .argument('<hostname...>')
    .option(db, dbHelp)
    .action((names: string[], flags: { database?: string }) => {
      const database = openDatabase(flags.database);
      try {
        for (const name of names) {
          database.removeHostname(name);
          process.stdout.write(`No longer trusted: '${name}'\n`);
        }
      } finally {
        database.close();
      }
    });

  hostname
    .command('list')
    .description('list the trusted hostnames')
    .option(db, dbHelp)
    .action((flags: { database?: string }) => {
      const database = openDatabase(flags.database);
      try {
        for (const name of database.listHostnames()) process.stdout.write(`${name}\n`);
      } finally {
        database.close();
      }
    });
}
