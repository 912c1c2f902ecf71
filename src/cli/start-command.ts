/**
 * `farcall start`: runs a Network Manager until SIGINT/SIGTERM.
 * @module
 */
import type { Command } from 'commander';
import { terminalCredentialPrompt } from '../network/device-handshake.js';
import { LOG_LEVELS, type LogLevel } from '../network/log.js';
import { startManager } from '../network/manager.js';
import { DEFAULT_PORT } from '../network/messages.js';
import {
  commandLineSecretWarning,
  DATABASE_OPTION,
  isSecretFile,
  parsePort,
  secretFromFile,
} from './options.js';

interface StartFlags {
  host: string;
  port: number;
  authPassword?: string;
  authPasswordFile?: string;
  authLogin?: boolean;
  authHostname?: boolean;
  certFile?: string;
  keyFile?: string;
  keyFilePassword?: string;
  disableTls?: boolean;
  database?: string;
  logLevel?: string;
  logFile?: string;
}

/** Adds `farcall start`. */
export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('start a Network Manager')
    .option('--host <host>', 'the address to listen on (0.0.0.0 to accept other computers)', '127.0.0.1')
    .option('--port <port>', 'the port to listen on', parsePort, DEFAULT_PORT)
    .option(
      '--auth-password <password>',
      "require this Manager password (a file's first line if it names a file; - to type it). " +
        'Visible in the process list: prefer --auth-password-file',
    )
    .option(
      '--auth-password-file <path>',
      'require the Manager password written on the first line of this file',
    )
    .option('--auth-login', 'require a registered username and password (farcall user add)')
    .option('--auth-hostname', 'accept only trusted hostnames (farcall hostname add)')
    .option('--cert-file <path>', 'the TLS certificate (default: created in FARCALL_HOME/certs)')
    .option('--key-file <path>', 'the TLS private key (default: created in FARCALL_HOME/keys)')
    .option('--key-file-password <password>', 'the password of an encrypted key file')
    .option('--disable-tls', 'accept plain TCP instead of TLS')
    .option(...DATABASE_OPTION)
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--log-file <path>', 'also write the log to this file')
    .action(async (flags: StartFlags) => {
      if (flags.authPassword !== undefined && flags.authPasswordFile !== undefined) {
        throw new Error('Choose one of --auth-password and --auth-password-file');
      }
      const authPassword = await managerPassword(flags);
      const modes = [authPassword !== undefined, flags.authLogin, flags.authHostname].filter(Boolean);
      if (modes.length > 1) {
        throw new Error(
          'Choose one of --auth-password, --auth-login and --auth-hostname: a Manager uses one at a time',
        );
      }
      if (flags.logLevel !== undefined && !LOG_LEVELS.includes(flags.logLevel as LogLevel)) {
        throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${flags.logLevel}'`);
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
        keyFilePassword: flags.keyFilePassword,
        disableTls: flags.disableTls === true,
        database: flags.database,
        logLevel: flags.logLevel as LogLevel | undefined,
        logFile: flags.logFile,
      });
      process.stdout.write(
        `Network Manager running on ${manager.host}:${manager.port} (TLS ${manager.tlsEnabled ? 'ENABLED' : 'DISABLED'})\n`,
      );
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
  const value = flags.authPassword;
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
