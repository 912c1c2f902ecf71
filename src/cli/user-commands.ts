/**
 * `farcall user add|remove|update|list`: the users a Manager started with `--auth-login` accepts.
 * @module
 */
import type { Command } from 'commander';
import { ask, DATABASE_OPTION, withDatabase } from './options.js';

interface UserFlags {
  password?: string;
  admin?: boolean;
  database?: string;
}

/** Adds `user` and its subcommands. */
export function addUserCommands(program: Command): void {
  const user = program.command('user').description('manage the users of --auth-login');

  user
    .command('add')
    .description('register a user')
    .argument('<username>')
    .option('--password <password>', 'the password (asked for if omitted and on a terminal)')
    .option('--admin', 'make the user an administrator of the Manager')
    .option(...DATABASE_OPTION)
    .action(async (username: string, flags: UserFlags) => {
      const password =
        flags.password ?? (await ask(`Password for ${username}: `, 'Give the password with --password'));
      await withDatabase(flags.database, (db) =>
        db.addUser(username, password, { isAdmin: flags.admin === true }),
      );
      process.stdout.write(`Added user '${username}'${flags.admin ? ' (administrator)' : ''}\n`);
    });

  user
    .command('update')
    .description("change a user's password or administrator flag")
    .argument('<username>')
    .option('--password <password>', 'the new password')
    .option('--admin', 'make the user an administrator')
    .option('--no-admin', 'make the user an ordinary user')
    .option(...DATABASE_OPTION)
    .action(async (username: string, flags: UserFlags) => {
      if (flags.password === undefined && flags.admin === undefined) {
        throw new Error('Nothing to update: give --password, --admin or --no-admin');
      }
      await withDatabase(flags.database, (db) =>
        db.updateUser(username, { password: flags.password, isAdmin: flags.admin }),
      );
      process.stdout.write(`Updated user '${username}'\n`);
    });

  user
    .command('remove')
    .description('remove a user')
    .argument('<username...>')
    .option(...DATABASE_OPTION)
    .action((usernames: string[], flags: UserFlags) =>
      withDatabase(flags.database, (db) => {
        for (const name of usernames) {
          db.removeUser(name);
          process.stdout.write(`Removed user '${name}'\n`);
        }
      }),
    );

  user
    .command('list')
    .description('list the registered users')
    .option(...DATABASE_OPTION)
    .action((flags: UserFlags) =>
      withDatabase(flags.database, (db) => {
        const users = db.listUsers();
        if (users.length === 0) process.stdout.write('No users are registered\n');
        for (const u of users) process.stdout.write(`${u.username}${u.isAdmin ? ' (admin)' : ''}\n`);
      }),
    );
}
