/**
 * Finds the 32-bit Node.js runtime that `Server32` runs in, and says how to start it.
 *
 * Where it looks, first match wins (only the first of these that is set is searched):
 * 1. the `server32Dir` option;
 * 2. the `FARCALL_SERVER32_DIR` environment variable;
 * 3. `$FARCALL_HOME/server32`, by default `~/.farcall/server32`.
 *
 * What a runtime directory holds:
 * - Linux, as `scripts/setup-server32.sh` lays it out: Debian's i386 node unpacked with `dpkg-deb -x`
 *   (`usr/bin/node`, its libraries under `lib/` and `usr/lib/i386-linux-gnu/`), started through the
 *   runtime's own loader: `<dir>/lib/ld-linux.so.2 --library-path <dir>/lib/i386-linux-gnu:<dir>/usr/lib/i386-linux-gnu <dir>/usr/bin/node`.
 *   A 32-bit node that runs by itself (`<dir>/bin/node`, e.g. an unofficial linux-x86 build) works too.
 * - Windows: `node-win-x86` from npm (`<dir>/node_modules/node-win-x86/bin/node.exe`), or a `node.exe`
 *   in `<dir>`; 22.x is the last 32-bit Windows Node.js.
 * - koffi's ia32 build, of the same version as the koffi farcall imports:
 *   `<dir>/koffi/<version>/node_modules/@koromix/koffi-<platform>-ia32` (what the setup script writes) or
 *   `<dir>/node_modules/@koromix/koffi-<platform>-ia32` (an `npm install --prefix <dir>`). The 32-bit node
 *   imports farcall's own `koffi` package; koffi `require()`s its platform package, which `NODE_PATH`
 *   makes the 32-bit node find there.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { FarcallTimeoutError, Server32RuntimeNotFoundError } from '../errors.js';

/** The command that sets the runtime up on Linux, as a user of the npm package types it. */
export const SETUP_SERVER32_COMMAND = 'bash node_modules/farcall/scripts/setup-server32.sh';

/** Where to look for the runtime, and the environment to start it with. */
export interface Server32RuntimeOptions {
  /** The runtime directory. Default: `$FARCALL_SERVER32_DIR`, else `$FARCALL_HOME/server32` (`~/.farcall/server32`). */
  server32Dir?: string | undefined;
  /**
   * The environment the 32-bit node gets (default `process.env`). Its `NODE_OPTIONS` is dropped (it was
   * meant for this Node.js, whose flags the 32-bit one may not know); `FARCALL_SERVER32_NODE_OPTIONS`
   * becomes the 32-bit node's `NODE_OPTIONS` instead. On Linux its `LD_LIBRARY_PATH` is passed to the
   * runtime's loader, which otherwise would ignore it.
   */
  env?: NodeJS.ProcessEnv | undefined;
  /** More folders for the 32-bit library's dependencies (Linux: the loader's `--library-path`). */
  libraryPath?: readonly string[] | undefined;
}

/**
 * Everything needed to start the 32-bit node on a script:
 * `spawn(runtime.command, [...runtime.args, ...nodeFlags, script, ...scriptArgs], { env: runtime.env })`.
 *
 * Inside the 32-bit node, `process.execPath` is the loader (`ld-linux.so.2`) on Linux, not node: to start
 * another 32-bit node from there, use this object again.
 */
export interface Server32Runtime {
  /** The executable to spawn: the runtime's loader (Linux) or its `node.exe` (Windows). */
  command: string;
  /** Arguments that come before node's own flags and the script. */
  args: string[];
  /** The environment to spawn with (it points `NODE_PATH` at koffi's ia32 build). */
  env: NodeJS.ProcessEnv;
  /** The 32-bit node's version without the `v` (e.g. `'18.20.4'`), when the runtime records it. */
  version?: string;
  /** The runtime directory. */
  dir: string;
  /** The koffi version the runtime has an ia32 build of (farcall's koffi). */
  koffiVersion: string;
  /** The node executable itself (run by `command` on Linux). */
  node: string;
}

/**
 * Finds the 32-bit runtime and returns how to spawn it.
 *
 * @throws Server32RuntimeNotFoundError when the runtime or its koffi build is missing: the message says
 *   where it looked and the command that fixes it
 * @example
 * ```ts
 * const runtime = findServer32Runtime();
 * const child = spawn(runtime.command, [...runtime.args, 'server32-main.js'], { env: runtime.env });
 * ```
 */
export function findServer32Runtime(options: Server32RuntimeOptions = {}): Server32Runtime {
  const env = options.env ?? process.env;
  const { dir, source } = server32Dir(options.server32Dir, env);
  const looked: string[] = [];

  const launch = findNode(dir, looked);
  if (launch === undefined) {
    throw new Server32RuntimeNotFoundError(
      dir,
      looked,
      `The 32-bit Node.js runtime that Server32 runs in is not in ${dir} (${source}). Looked for:\n` +
        `${looked.map((p) => `  ${p}`).join('\n')}\n${fixHint(dir, source)}`,
    );
  }

  const koffiVersion = farcallKoffiVersion();
  const koffiModules = findKoffiIa32(dir, koffiVersion, looked);
  if (koffiModules === undefined) {
    throw new Server32RuntimeNotFoundError(
      dir,
      looked,
      `The 32-bit Node.js runtime in ${dir} has no ia32 build of koffi ${koffiVersion} (the koffi farcall uses). ` +
        `Looked for:\n${looked
          .filter((p) => p.includes('koffi'))
          .map((p) => `  ${p}`)
          .join('\n')}\n${fixHint(dir, source)}`,
    );
  }

  const childEnv: NodeJS.ProcessEnv = { ...env };
  delete childEnv.NODE_OPTIONS;
  if (env.FARCALL_SERVER32_NODE_OPTIONS) childEnv.NODE_OPTIONS = env.FARCALL_SERVER32_NODE_OPTIONS;
  if (koffiModules !== '') {
    childEnv.NODE_PATH = [koffiModules, ...(env.NODE_PATH ?? '').split(delimiter)]
      .filter((p) => p !== '')
      .join(delimiter);
  }

  let args: string[] = [];
  if (launch.loader !== undefined) {
    const libraryPath = [
      join(dir, 'lib', 'i386-linux-gnu'),
      join(dir, 'usr', 'lib', 'i386-linux-gnu'),
      ...(options.libraryPath ?? []),
      ...(env.LD_LIBRARY_PATH ?? '').split(':'),
    ].filter((p) => p !== '');
    args = ['--library-path', libraryPath.join(':'), launch.node];
  }
  const runtime: Server32Runtime = {
    command: launch.loader ?? launch.node,
    args,
    env: childEnv,
    dir,
    koffiVersion,
    node: launch.node,
  };
  const version = recordedVersion(dir);
  if (version !== undefined) runtime.version = version;
  return runtime;
}

/**
 * The runtime directory farcall uses: the `server32Dir` option, else `$FARCALL_SERVER32_DIR`, else
 * `$FARCALL_HOME/server32`, else `~/.farcall/server32`. Always absolute.
 *
 * @example
 * ```ts
 * defaultServer32Dir(); // '/home/me/.farcall/server32'
 * ```
 */
export function defaultServer32Dir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return server32Dir(option, env).dir;
}

/**
 * The runtime's Node.js version (`'18.20.4'`), read from what the runtime records, without starting it;
 * `undefined` when it records nothing (then use {@link probeServer32Version}).
 */
export function recordedVersion(dir: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'farcall-server32.json'), 'utf8')) as {
      node?: unknown;
    };
    if (typeof manifest.node === 'string') return manifest.node;
  } catch {
    // no manifest: a runtime not made by the setup script
  }
  try {
    const pkg = JSON.parse(
      readFileSync(join(dir, 'node_modules', 'node-win-x86', 'package.json'), 'utf8'),
    ) as {
      version?: unknown;
    };
    if (typeof pkg.version === 'string') return pkg.version;
  } catch {
    // not a node-win-x86 install
  }
  return undefined;
}

/**
 * Starts the 32-bit node with `-p` to ask its version and architecture: proof that it runs.
 *
 * @example
 * ```ts
 * await probeServer32Version(findServer32Runtime()); // { version: '18.20.4', arch: 'ia32' }
 * ```
 */
export async function probeServer32Version(
  runtime: Server32Runtime,
  timeoutMs = 10_000,
): Promise<{ version: string; arch: string }> {
  // Loaded when needed: this module is also loaded inside the 32-bit server, whose start must stay quick.
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, openSync, closeSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  // On Windows the answer goes to files, as the server's output does: between Windows programs under Wine
  // (farcall's Windows tests) a piped stdout arrives empty or hangs; files work everywhere.
  const files = process.platform === 'win32' ? mkdtempSync(join(tmpdir(), 'farcall-probe-')) : undefined;
  const removeFiles = (): void => {
    if (files !== undefined) rmSync(files, { recursive: true, force: true });
  };
  const fd = (name: string): number => openSync(join(files as string, name), 'w');
  const stdio: ('ignore' | 'pipe' | number)[] =
    files === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd('stdout.txt'), fd('stderr.txt')];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      runtime.command,
      [...runtime.args, '-p', 'process.versions.node + " " + process.arch'],
      { env: runtime.env, stdio, windowsHide: true },
    );
    for (const handle of stdio) if (typeof handle === 'number') closeSync(handle);
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      removeFiles();
      reject(
        new FarcallTimeoutError(
          `The 32-bit node in ${runtime.dir} did not answer within ${timeoutMs} ms`,
          timeoutMs,
        ),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      removeFiles();
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (files !== undefined) {
        out = readFileSync(join(files, 'stdout.txt'), 'utf8');
        err = readFileSync(join(files, 'stderr.txt'), 'utf8');
        removeFiles();
      }
      const [version, arch] = out.trim().split(' ');
      if (code === 0 && version && arch) resolvePromise({ version, arch });
      else {
        const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
        reject(new Error(`The 32-bit node in ${runtime.dir} failed (${how}): ${err.trim() || out.trim()}`));
      }
    });
  });
}

/**
 * The 32-bit runtime's Node.js version, for `farcall server32 --version`: the recorded one when the
 * runtime records it (no process started), else asked from the 32-bit node.
 *
 * @throws Server32RuntimeNotFoundError when there is no runtime
 * @example
 * ```ts
 * console.log(await server32Version()); // '18.20.4'
 * ```
 */
export async function server32Version(options: Server32RuntimeOptions = {}): Promise<string> {
  const runtime = findServer32Runtime(options);
  return runtime.version ?? (await probeServer32Version(runtime)).version;
}

type DirSource = 'the server32Dir option' | 'FARCALL_SERVER32_DIR' | 'the default directory';

function server32Dir(option: string | undefined, env: NodeJS.ProcessEnv): { dir: string; source: DirSource } {
  if (option) return { dir: resolve(option), source: 'the server32Dir option' };
  if (env.FARCALL_SERVER32_DIR)
    return { dir: resolve(env.FARCALL_SERVER32_DIR), source: 'FARCALL_SERVER32_DIR' };
  const home = env.FARCALL_HOME ? resolve(env.FARCALL_HOME) : join(homedir(), '.farcall');
  return { dir: join(home, 'server32'), source: 'the default directory' };
}

function findNode(dir: string, looked: string[]): { node: string; loader?: string } | undefined {
  const exists = (path: string): boolean => {
    looked.push(path);
    return existsSync(path);
  };
  if (process.platform === 'win32') {
    for (const node of [
      join(dir, 'node_modules', 'node-win-x86', 'bin', 'node.exe'),
      join(dir, 'node.exe'),
    ]) {
      if (exists(node)) return { node };
    }
    return undefined;
  }
  // Debian's i386 node unpacked with dpkg-deb: it needs the runtime's own loader and libraries.
  const node = join(dir, 'usr', 'bin', 'node');
  const loader = join(dir, 'lib', 'ld-linux.so.2');
  if (exists(node) && exists(loader)) return { node, loader };
  const standalone = join(dir, 'bin', 'node');
  if (exists(standalone)) return { node: standalone };
  return undefined;
}

/** The koffi ia32 folder to put on NODE_PATH; '' when koffi finds its ia32 build by itself. */
function findKoffiIa32(dir: string, version: string, looked: string[]): string | undefined {
  const pkg = `@koromix/koffi-${process.platform === 'win32' ? 'win32' : process.platform}-ia32`;
  for (const modules of [join(dir, 'koffi', version, 'node_modules'), join(dir, 'node_modules')]) {
    const manifest = join(modules, pkg, 'package.json');
    looked.push(manifest);
    if (packageVersion(manifest) === version) return modules;
  }
  // Installed beside koffi itself (npm install --force): koffi's own require() finds it.
  try {
    const manifest = createRequire(koffiEntry()).resolve(`${pkg}/package.json`);
    looked.push(manifest);
    if (packageVersion(manifest) === version) return '';
  } catch {
    // not there
  }
  return undefined;
}

function packageVersion(manifest: string): string | undefined {
  try {
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

function koffiEntry(): string {
  return createRequire(import.meta.url).resolve('koffi');
}

/** The version of the koffi package farcall imports (its ia32 build must match it exactly). */
export function farcallKoffiVersion(): string {
  const version = packageVersion(join(dirname(koffiEntry()), 'package.json'));
  if (version === undefined) throw new Error(`Cannot read the version of koffi at ${dirname(koffiEntry())}`);
  return version;
}

function fixHint(dir: string, source: DirSource): string {
  if (process.platform === 'win32') {
    return (
      `Fix: npx farcall server32 setup${source === 'the default directory' ? '' : ` --dir "${dir}"`}, which runs ` +
      `npm install --prefix "${dir}" --force node-win-x86@22 @koromix/koffi-win32-ia32@${safeKoffiVersion()} ` +
      '(node-win-x86 22.x is the last 32-bit Node.js for Windows).'
    );
  }
  const dirFlag = source === 'the default directory' ? '' : ` --dir '${dir}'`;
  return `Fix: ${SETUP_SERVER32_COMMAND}${dirFlag}   (Debian/Ubuntu; it installs gcc-multilib and unpacks Debian's i386 node)`;
}

function safeKoffiVersion(): string {
  try {
    return farcallKoffiVersion();
  } catch {
    return 'latest';
  }
}
