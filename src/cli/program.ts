/**
 * Builds the `farcall` command line program (commander) and runs it with uniform error handling.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { server32Command } from '../loadlib/cli.js';
import { addBuildExamplesCommand } from './build-examples-command.js';
import { addCertificateCommands } from './certificate-commands.js';
import { addDeleteCommand } from './delete-command.js';
import { addHelpExamples } from './help-examples.js';
import { addHostnameCommands } from './hostname-commands.js';
import { addStartCommand } from './start-command.js';
import { addUserCommands } from './user-commands.js';

/** The farcall program with all its subcommands. */
export function createProgram(): Command {
  const program = new Command('farcall')
    .description('farcall: a Network Manager for Services and Clients (wire-compatible with msl-network)')
    .version(packageVersion(), '-V, --version', "print farcall's version")
    // Options after a subcommand are the subcommand's: `farcall server32 --version` is the runtime's.
    .enablePositionalOptions()
    .exitOverride();
  addStartCommand(program);
  addCertificateCommands(program);
  addUserCommands(program);
  addHostnameCommands(program);
  addDeleteCommand(program);
  addBuildExamplesCommand(program);
  program.addCommand(server32Command());
  addHelpExamples(program);
  useOneErrorPrefix(program);
  return program;
}

/** farcall's version, from its package.json (two folders up from dist/cli/ or src/cli/). */
function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/**
 * Every message commander prints for a usage error ("error: unknown option …") gets the prefix the program's
 * own errors have, `farcall: error: `, on every subcommand too.
 */
function useOneErrorPrefix(command: Command): void {
  command.configureOutput({
    outputError: (text, write) => write(text.startsWith('error:') ? `farcall: ${text}` : text),
  });
  for (const sub of command.commands) useOneErrorPrefix(sub);
}

/** Makes an error a single line (commands never print stack traces). */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Runs the program on `argv` (as `process.argv`) and resolves with the exit status: 0 on success,
 * non-zero (with a one-line message on stderr) on any error.
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message (usage errors); help and version exit 0.
      return error.exitCode;
    }
    process.stderr.write(`farcall: error: ${oneLine(error)}\n`);
    return 1;
  }
}
