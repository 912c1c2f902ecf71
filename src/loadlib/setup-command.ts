/**
 * `farcall server32 setup`: installs the 32-bit runtime wherever farcall runs, in one command.
 * - Linux: `scripts/setup-server32.sh` (Debian's i386 node and koffi's linux-ia32 build); with `--wine`,
 *   `scripts/setup-wine.sh` instead (Wine, its prefix, 32-bit Windows Node.js and koffi's win32-ia32 build,
 *   for `runtime: 'wine'`).
 * - Windows: npm installs `node-win-x86@22` (the last 32-bit Windows Node.js) and
 *   `@koromix/koffi-win32-ia32` at farcall's koffi version into the runtime folder
 *   (`%USERPROFILE%\.farcall\server32` by default).
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { defaultServer32Dir, farcallKoffiVersion } from './runtime.js';

interface SetupOptions {
  wine?: boolean;
  dir?: string;
  client64?: boolean;
  mingw?: boolean;
}

/** The scripts folder of this farcall (dist/loadlib/… or src/loadlib/… → scripts/). */
function script(name: string): string {
  return fileURLToPath(new URL(`../../scripts/${name}`, import.meta.url));
}

/**
 * The command and arguments `farcall server32 setup` runs on this platform.
 *
 * @example
 * ```ts
 * setupPlan({ wine: true }); // { command: 'bash', args: ['…/scripts/setup-wine.sh'] }
 * ```
 */
export function setupPlan(
  options: SetupOptions,
  platform: NodeJS.Platform = process.platform,
): { command: string; args: string[]; shell: boolean } {
  if (platform === 'win32') {
    if (options.wine) throw new Error('--wine sets Wine up on Linux; on Windows, leave it out');
    const dir = defaultServer32Dir(options.dir);
    // npm is npm.cmd on Windows, which Node starts only through the shell: quote every argument.
    const args = [
      'install',
      '--prefix',
      `"${dir}"`,
      '--force',
      '--no-audit',
      '--no-fund',
      'node-win-x86@22',
      `@koromix/koffi-win32-ia32@${farcallKoffiVersion()}`,
    ];
    return { command: 'npm', args, shell: true };
  }
  if (platform !== 'linux') {
    throw new Error(
      `farcall server32 setup knows Linux and Windows; on ${platform}, install a 32-bit Node.js with koffi's ` +
        'ia32 build yourself and point FARCALL_SERVER32_DIR at it',
    );
  }
  if (options.wine) {
    const args = [script('setup-wine.sh')];
    if (options.dir) args.push('--dir', options.dir);
    if (options.client64) args.push('--client64');
    if (options.mingw) args.push('--mingw');
    return { command: 'bash', args, shell: false };
  }
  const args = [script('setup-server32.sh')];
  if (options.dir) args.push('--dir', options.dir);
  return { command: 'bash', args, shell: false };
}

/**
 * The `setup` subcommand of `farcall server32`.
 *
 * @example
 * ```ts
 * server32Command().addCommand(setupCommand());
 * ```
 */
export function setupCommand(): Command {
  return new Command('setup')
    .description(
      'install the 32-bit runtime: Linux: the i386 node (--wine: Wine and 32-bit Windows Node.js); Windows: node-win-x86',
    )
    .option('--wine', "Linux: set up Wine for Client64's runtime: 'wine' (Windows DLLs from Linux)")
    .option(
      '--dir <dir>',
      'where the runtime goes (default ~/.farcall/server32, with --wine ~/.farcall/wine)',
    )
    .option(
      '--client64',
      'with --wine: also the 64-bit Windows Node.js (to run a Windows Client64 under Wine)',
    )
    .option('--mingw', 'with --wine: also the MinGW-w64 compilers (to build DLLs)')
    .action(async (options: SetupOptions) => {
      const plan = setupPlan(options);
      process.stdout.write(`+ ${plan.command} ${plan.args.join(' ')}\n`);
      process.exitCode = await new Promise<number>((resolve, reject) => {
        const child = spawn(plan.command, plan.args, { stdio: 'inherit', shell: plan.shell });
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 0 : 1)));
      });
    });
}
