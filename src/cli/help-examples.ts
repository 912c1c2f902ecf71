/**
 * An example for every `farcall` command's `--help`, kept in one place so every command has one (a test
 * walks the program and checks), and so that each command's file stays about what the command does.
 * @module
 */
import type { Command } from 'commander';

/** Examples by command path (`'user add'`), shown after the options in `--help`. */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': ['farcall start', 'farcall user add alice --admin', 'farcall --version'],
  start: [
    'farcall start                                  # localhost:1875, TLS, files in ~/.farcall',
    'farcall start --port 1876 --auth-login         # clients must log in (farcall user add …)',
  ],
  keygen: [
    'farcall keygen',
    'farcall keygen --force && farcall certgen       # replace the key, then its certificate',
  ],
  certgen: ['farcall certgen', 'farcall certgen --alt-name lab-pc-7.local 192.168.1.20 --days 365 --show'],
  certdump: ['farcall certdump ~/.farcall/certs/localhost.crt'],
  user: ['farcall user list'],
  'user add': ['farcall user add alice --admin        # asks for the password on a terminal'],
  'user update': ['farcall user update alice --no-admin'],
  'user remove': ['farcall user remove alice bob'],
  'user list': ['farcall user list'],
  hostname: ['farcall hostname list'],
  'hostname add': ['farcall hostname add lab-pc-7 192.168.1.20'],
  'hostname remove': ['farcall hostname remove lab-pc-7'],
  'hostname list': ['farcall hostname list'],
  delete: [
    'farcall delete --logs --yes',
    'farcall delete                                 # everything, after asking',
  ],
  'build-examples': ['npx farcall build-examples'],
  server32: [
    'farcall server32                               # which 32-bit runtime Client64 starts',
    'farcall server32 --interactive                 # a 32-bit REPL with koffi and loadlib loaded',
  ],
  'server32 setup': [
    'npx farcall server32 setup                     # the 32-bit Node.js and koffi, for Client64',
    'npx farcall server32 setup --wine              # Linux: 32-bit Windows Node.js under Wine',
  ],
};

/** The path of `command` below the program, e.g. `'user add'` (the program itself is `''`). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Adds its examples to `command` and every subcommand below it; returns the paths that have none. */
export function addHelpExamples(command: Command): string[] {
  const missing: string[] = [];
  const path = commandPath(command);
  const examples = HELP_EXAMPLES[path];
  if (examples === undefined) missing.push(path);
  else {
    const title = examples.length === 1 ? 'Example' : 'Examples';
    command.addHelpText('after', `\n${title}:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
  }
  for (const sub of command.commands) missing.push(...addHelpExamples(sub));
  return missing;
}
