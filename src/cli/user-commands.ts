/**
 * `farcall user add|remove|update|list`: the users a Manager started with `--auth-login` accepts.
 * @module
 */
import type { Command } from 'commander';
import { terminalCredentialPrompt } from '../network/peers/credential-prompt.js';
import { commandLineSecretWarning, DATABASE_OPTION, secretFromFile, withDatabase } from './options.js';

// Asks for a password on the terminal without echoing it; rejects (with the fix) without a terminal.
async function askSecret(question: string): Promise<string> {
  const prompt = terminalCredentialPrompt();
  if (prompt === undefined) {
    throw new Error('Give the password with --password-file (there is no terminal to ask on)');
  }
  return prompt('password', question);
}

// The password of `--password-file`, `--password -` (typed), or `--password` (with a warning: it is
// visible in the process list); `ask` when none was given and the command needs one.
async function passwordOf(flags: UserFlags, question: string, ask: boolean): Promise<string | undefined> {
  if (flags.passwordFile !== undefined) return secretFromFile(flags.passwordFile, '--password-file');
  if (flags.password === '-' || (flags.password === undefined && ask)) return askSecret(question);
  if (flags.password !== undefined) {
    process.stderr.write(commandLineSecretWarning('--password', '--password-file'));
  }
  return flags.password;
}

interface UserFlags {
  password?: string;
  passwordFile?: string;
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
    .option(
      '--password <password>',
      'the password (- to type it; visible in the process list: prefer --password-file)',
    )
    .option('--password-file <path>', 'read the password from the first line of this file')
    .option('--admin', 'make the user an administrator of the Manager')
    .option(...DATABASE_OPTION)
    .action(async (username: string, flags: UserFlags) => {
      const password = (await passwordOf(flags, `Password for ${username}: `, true)) as string;
      await withDatabase(flags.database, (db) =>
        db.addUser(username, password, { isAdmin: flags.admin === true }),
      );
      process.stdout.write(`Added user '${username}'${flags.admin ? ' (administrator)' : ''}\n`);
    });

  user
    .command('update')
    .description("change a user's password or administrator flag")
    .argument('<username>')
    .option(
      '--password <password>',
      'the new password (- to type it; visible in the process list: prefer --password-file)',
    )
    .option('--password-file <path>', 'read the new password from the first line of this file')
    .option('--admin', 'make the user an administrator')
    .option('--no-admin', 'make the user an ordinary user')
    .option(...DATABASE_OPTION)
    .action(async (username: string, flags: UserFlags) => {
      if (flags.password === undefined && flags.passwordFile === undefined && flags.admin === undefined) {
        throw new Error('Nothing to update: give --password-file, --password, --admin or --no-admin');
      }
      const password = await passwordOf(flags, `New password for ${username}: `, false);
      await withDatabase(flags.database, (db) => db.updateUser(username, { password, isAdmin: flags.admin }));
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
