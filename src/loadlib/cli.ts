/**
 * The `farcall server32` subcommand: which 32-bit runtime `Client64` would start, and an interactive
 * 32-bit Node.js with farcall's loadlib and koffi loaded, to try a 32-bit library by hand.
 * @module
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { resolveBuiltModule } from '../internal/module-path.js';
import { findServer32Runtime, probeServer32Version } from './runtime.js';
import { setupCommand } from './setup-command.js';

interface Server32CommandOptions {
  version?: boolean;
  interactive?: boolean;
  server32Dir?: string;
}

/**
 * The `server32` subcommand (commander): `farcall server32 --version` prints the 32-bit runtime's
 * Node.js version, architecture and folder (and fails, with the setup command, if there is none);
 * `farcall server32 --interactive` opens a REPL in the 32-bit Node.js with `loadlib` (farcall/loadlib)
 * and `koffi` as globals.
 *
 * @example
 * ```ts
 * program.addCommand(server32Command());
 * ```
 */
export function server32Command(): Command {
  return new Command('server32')
    .addCommand(setupCommand())
    .description("the 32-bit Node.js runtime that Client64's Server32 runs in")
    .option('--version', "print the 32-bit runtime's Node.js version, architecture and folder")
    .option('--interactive', 'open a REPL in the 32-bit Node.js with `loadlib` and `koffi` loaded')
    .option(
      '--server32-dir <dir>',
      'the runtime folder (default: $FARCALL_SERVER32_DIR or ~/.farcall/server32)',
    )
    .action(async (options: Server32CommandOptions) => {
      const runtime = findServer32Runtime({ server32Dir: options.server32Dir });
      if (options.interactive) {
        process.exitCode = await interactive(runtime);
        return;
      }
      const { version, arch } = await probeServer32Version(runtime);
      if (options.version) {
        process.stdout.write(`${version}\n`);
        return;
      }
      process.stdout.write(
        `Node.js ${version} (${arch}) in ${runtime.dir}, with koffi ${runtime.koffiVersion}\n` +
          "Use it from 64-bit Node.js with Client64 (import { Client64, Server32 } from 'farcall/loadlib').\n",
      );
    });
}

/** Runs the 32-bit node's REPL with farcall's loadlib and koffi preloaded; resolves with its exit code. */
function interactive(runtime: ReturnType<typeof findServer32Runtime>): Promise<number> {
  const loadlib = pathToFileURL(resolveBuiltModule(import.meta.url, './index.js')).href;
  const koffi = pathToFileURL(createRequire(import.meta.url).resolve('koffi')).href;
  // Loaded with --import, which finishes (top-level await) before the REPL reads its first line; a `-e`
  // preamble's dynamic imports did not, so piped input ran before `koffi` and `loadlib` existed.
  const preload =
    `const [l, k] = await Promise.all([import(${JSON.stringify(loadlib)}), import(${JSON.stringify(koffi)})]);` +
    ' globalThis.loadlib = l; globalThis.koffi = k.default ?? k;' +
    " console.log('32-bit Node.js ' + process.version + ' (' + process.arch + '): loadlib and koffi are loaded;" +
    ' try new loadlib.LoadLibrary("/path/to/lib32.so").func("int add(int a, int b)")\');';
  const preloadUrl = `data:text/javascript,${encodeURIComponent(preload)}`;
  return new Promise((resolve, reject) => {
    const child = spawn(runtime.command, [...runtime.args, '--import', preloadUrl, '-i'], {
      env: runtime.env,
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 0 : 1)));
  });
}
