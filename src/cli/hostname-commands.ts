/**
 * `farcall hostname add|remove|list`: the hostnames a Manager started with `--auth-hostname` trusts.
 * A running Manager reads the list at each connection, so changes apply at once.
 * @module
 */
import type { Command } from 'commander';
import { DATABASE_OPTION, withDatabase } from './options.js';

/** Adds `hostname` and its subcommands. */
export function addHostnameCommands(program: Command): void {
  const hostname = program.command('hostname').description('manage the trusted hostnames of --auth-hostname');

  hostname
    .command('add')
    .description('trust hostnames (or IP addresses)')
    .argument('<hostname...>')
    .option(...DATABASE_OPTION)
    .action((names: string[], flags: { database?: string }) =>
      withDatabase(flags.database, (database) => {
        for (const name of names) {
          database.addHostname(name);
          process.stdout.write(`Trusted '${name}'\n`);
        }
      }),
    );

  hostname
    .command('remove')
    .description('stop trusting hostnames')
    .argument('<hostname...>')
    .option(...DATABASE_OPTION)
    .action((names: string[], flags: { database?: string }) =>
      withDatabase(flags.database, (database) => {
        for (const name of names) {
          database.removeHostname(name);
          process.stdout.write(`No longer trusted: '${name}'\n`);
        }
      }),
    );

  hostname
    .command('list')
    .description('list the trusted hostnames')
    .option(...DATABASE_OPTION)
    .action((flags: { database?: string }) =>
      withDatabase(flags.database, (database) => {
        for (const name of database.listHostnames()) process.stdout.write(`${name}\n`);
      }),
    );
}
