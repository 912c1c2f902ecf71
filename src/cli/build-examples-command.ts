/**
 * The `farcall build-examples` command: compiles farcall's example C libraries (`native/*.c`, shipped as
 * sources) into `native/build/` inside the installed package, where `Server32.examplesDir()` looks.
 * The npm package ships no binaries, so the README's loadlib examples need this once.
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

/** The command a user types; named by the "file was not found" error of an example library. */
export const BUILD_EXAMPLES_COMMAND = 'npx farcall build-examples';

/**
 * Adds `build-examples` to the program.
 *
 * @example
 * ```ts
 * addBuildExamplesCommand(program); // farcall build-examples [--force]
 * ```
 */
export function addBuildExamplesCommand(program: Command): void {
  program
    .command('build-examples')
    .description(
      "compile farcall's example libraries (native/*.c) into native/build, 32- and 64-bit " +
        '(needs gcc and gcc-multilib: bash node_modules/farcall/scripts/setup-server32.sh installs them)',
    )
    .option('--force', 'rebuild even the libraries that are up to date')
    .action(async (options: { force?: boolean }) => {
      // From dist/cli/ (or src/cli/) two folders up is the package.
      const script = fileURLToPath(new URL('../../scripts/build-native.sh', import.meta.url));
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('bash', [script, ...(options.force ? ['--force'] : [])], { stdio: 'inherit' });
        child.once('error', reject);
        child.once('exit', (status) => resolve(status ?? 1));
      });
      if (code !== 0)
        throw new Error(`building the example libraries failed (bash ${script} exited ${code})`);
    });
}
