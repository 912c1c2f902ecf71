/**
 * `farcall start`: runs a Network Manager until SIGINT/SIGTERM.
 * @module
 */
import type { Command } from 'commander';
import { LOG_LEVELS, type LogLevel, parseLogLevel } from '../network/manager/log.js';
import { readyLine, startManager } from '../network/manager/start-manager.js';
import { terminalCredentialPrompt } from '../network/peers/credential-prompt.js';
import { DEFAULT_PORT } from '../network/protocol/messages.js';
import { defaultLogFile } from '../network/shared/home.js';
import {
  commandLineSecretWarning,
  DATABASE_OPTION,
  isSecretFile,
  parsePort,
  parsePositiveInteger,
  secretFromArgument,
  secretFromFile,
  withDatabase,
} from './options.js';

interface StartFlags {
  host?: string;
  port: number;
  authPassword?: string[];
  authPasswordFile?: string;
  authLogin?: boolean;
  authHostname?: boolean;
  certFile?: string;
  keyFile?: string;
  keyFilePassword?: string[];
  disableTls?: boolean;
  database?: string;
  logLevel: string;
  logFile?: string;
  readLimit?: number;
}

// A password given as several words (`-P h e l l o`, as msl-network allows), or the first line of the
// file those words name.
function joinedSecret(words: string[] | undefined): string | undefined {
  return words === undefined ? undefined : secretFromArgument(words.join(' '));
}

/** Adds `farcall start` (msl-network's `start` flags, long and short). */
export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('start a Network Manager')
    .option(
      '-H, --host <host>',
      'the address to listen on (default: 127.0.0.1, this computer only; 0.0.0.0 accepts other computers); ' +
        'also names the default certificate certs/<host>.crt and key keys/<host>.key',
    )
    .option('-p, --port <port>', 'the port to listen on', parsePort, DEFAULT_PORT)
    .option(
      '-P, --auth-password <password...>',
      "require this Manager password (several words are joined by spaces; a file's first line if it names " +
        'a file; - to type it). Visible in the process list: prefer --auth-password-file',
    )
    .option(
      '--auth-password-file <path>',
      'require the Manager password written on the first line of this file',
    )
    .option('--auth-login', 'require a registered username and password (farcall user add)')
    .option('--auth-hostname', 'accept only trusted hostnames (farcall hostname add)')
    .option(
      '-c, --cert-file <path>',
      'the TLS certificate (default: created in FARCALL_HOME/certs); alone, the key is read from this file',
    )
    .option(
      '-k, --key-file <path>',
      'the TLS private key (default: created in FARCALL_HOME/keys); alone, the default certificate is remade from it',
    )
    .option(
      '-D, --key-file-password <password...>',
      'the password of an encrypted key file (several words are joined by spaces; or the first line of this file)',
    )
    .option('--disable-tls', 'accept plain TCP instead of TLS')
    .option('-d, --database <path>', DATABASE_OPTION[1])
    .option(
      '-G, --log-level <level>',
      `what the terminal shows: ${LOG_LEVELS.join(', ')} (any case) or 10-50; debug adds every connection, handshake and request`,
      'info',
    )
    .option(
      '-l, --log-file <path>',
      'also write the log to this file (appended to), at debug level; the terminal still shows --log-level ' +
        '(default: a new FARCALL_HOME/logs/manager-YYYY-MM-DD-HH-MM-SS.log per start, as msl-network keeps)',
    )
    .option(
      '--read-limit <bytes>',
      'the largest message a peer may send, in bytes (default: 256 MiB)',
      parsePositiveInteger,
    )
    .action(async (flags: StartFlags) => {
      if (flags.authPassword !== undefined && flags.authPasswordFile !== undefined) {
        throw new Error('Choose one of --auth-password and --auth-password-file');
      }
      const authPassword = await managerPassword(flags);
      const modes = [authPassword !== undefined, flags.authLogin, flags.authHostname].filter(Boolean);
      if (modes.length > 1) {
        throw new Error(
          'Cannot specify multiple authentication methods: choose one of --auth-password, --auth-login and ' +
            '--auth-hostname (a Manager uses one at a time)',
        );
      }
      let logLevel: LogLevel;
      try {
        logLevel = parseLogLevel(flags.logLevel);
      } catch (error) {
        throw new Error(`--log-level: ${(error as Error).message}`);
      }
      if (flags.authLogin) {
        const users = await withDatabase(flags.database, (database) => database.usernames().length);
        if (users === 0) {
          throw new Error(
            "The users table is empty, no one could log in: add an administrator first with 'farcall user add " +
              "<name> --admin'" +
              (flags.database === undefined ? '' : ` --database ${flags.database}`),
          );
        }
      }
      // Signal handlers go in before anything can report readiness: a signal sent the moment the
      // ready line is read must find them (the kernel applies the default action, death, otherwise).
      // They stay installed until the process ends, so a signal during close never kills it midway.
      let stopping = false;
      let requestStop: () => void = () => {};
      const stopRequested = new Promise<void>((resolve) => {
        requestStop = resolve;
      });
      const onSignal = () => {
        // A second Ctrl+C while closing means "now": leave without waiting for the peers.
        if (stopping) process.exit(130);
        stopping = true;
        requestStop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const manager = await startManager({
        host: flags.host,
        port: flags.port,
        authPassword,
        authLogin: flags.authLogin === true,
        authHostname: flags.authHostname === true,
        certFile: flags.certFile,
        keyFile: flags.keyFile,
        keyFilePassword: joinedSecret(flags.keyFilePassword),
        credentialsName: flags.host,
        disableTls: flags.disableTls === true,
        database: flags.database,
        logLevel,
        // A complete log in a file, as msl-network keeps one; the terminal shows --log-level.
        logFile: flags.logFile ?? defaultLogFile(undefined, { create: true }),
        logFileLevel: 'debug',
        logConsole: 'stdout',
        // Printed below, once, on its own; the file keeps it too.
        logReadyLineToConsole: false,
        readLimit: flags.readLimit,
      });
      process.stdout.write(`${readyLine(manager)}\n`);
      // shutdown_manager (an admin request) stops the Manager from inside: end the command too.
      await Promise.race([stopRequested, manager.closed]);
      stopping = true;
      await manager.close();
      process.stdout.write('Network Manager stopped\n');
    });
}

// The Manager password from --auth-password-file, --auth-password - (typed, not echoed), a file named by
// --auth-password (msl-network's way), or --auth-password itself (with a warning: it is visible in
// the process list).
async function managerPassword(flags: StartFlags): Promise<string | undefined> {
  if (flags.authPasswordFile !== undefined)
    return secretFromFile(flags.authPasswordFile, '--auth-password-file');
  // msl-network's -P takes several words: they are one password, joined by spaces.
  const value = flags.authPassword?.join(' ');
  if (value === undefined) return undefined;
  if (value === '-') {
    const prompt = terminalCredentialPrompt();
    if (prompt === undefined) {
      throw new Error(
        '--auth-password -: there is no terminal to type the password on; use --auth-password-file',
      );
    }
    const typed = await prompt('passwordManager', 'Manager password > ');
    if (typed === '') throw new Error('--auth-password -: the password must not be empty');
    return typed;
  }
  if (isSecretFile(value)) return secretFromFile(value, '--auth-password');
  process.stderr.write(commandLineSecretWarning('--auth-password', '--auth-password-file'));
  return value;
}
