/**
 * Finds the file a `LoadLibrary` path names: absolute, relative to the working directory, with the
 * platform's default extension added when it is missing, or on the search paths (the caller's, then
 * `LD_LIBRARY_PATH` / `DYLD_LIBRARY_PATH`, then `PATH`).
 *
 * Runs inside the 32-bit server too: Node 18 APIs only.
 * @module
 */
import { statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';

/** Where to look for a library, beyond the path itself. */
export interface LibrarySearchOptions {
  /** Folders to search, in order, after the working directory. */
  searchPaths?: readonly string[] | undefined;
  /** The environment whose `LD_LIBRARY_PATH` / `DYLD_LIBRARY_PATH` / `PATH` are searched. Default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
  /** The folder relative paths are resolved against. Default `process.cwd()`. */
  cwd?: string | undefined;
  /** The platform whose conventions apply. Default `process.platform`. */
  platform?: NodeJS.Platform | undefined;
}

/** The outcome of a search: the absolute path found (if any) and what was tried. */
export interface LibrarySearchResult {
  /** The file found, absolute; `undefined` when none was. */
  found: string | undefined;
  /** Every file tried, in order. */
  looked: string[];
  /** The names tried in each folder (the path, and the path with the default extension). */
  names: string[];
  /** The folders searched, in order; empty for an absolute path. */
  dirs: string[];
}

/**
 * The extension a shared library has on a platform: `.dll` on Windows, `.dylib` on macOS, `.so` elsewhere.
 *
 * @example
 * ```ts
 * defaultLibraryExtension('win32'); // '.dll'
 * ```
 */
export function defaultLibraryExtension(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return '.dll';
  if (platform === 'darwin') return '.dylib';
  return '.so';
}

/**
 * The folders a bare library name is searched in, after the working directory: `searchPaths`, then the
 * loader's environment variable (`LD_LIBRARY_PATH` on Linux, `DYLD_LIBRARY_PATH` on macOS), then `PATH`.
 */
export function librarySearchDirs(options: LibrarySearchOptions = {}): string[] {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const split = (value: string | undefined): string[] =>
    (value ?? '').split(platform === 'win32' ? ';' : delimiter).filter((dir) => dir !== '');
  const loaderVar =
    platform === 'darwin' ? 'DYLD_LIBRARY_PATH' : platform === 'win32' ? undefined : 'LD_LIBRARY_PATH';
  return [
    ...(options.searchPaths ?? []),
    ...(loaderVar ? split(env[loaderVar]) : []),
    ...split(platform === 'win32' ? (env.PATH ?? env.Path) : env.PATH),
  ];
}

/**
 * Looks for the library `path` names. An absolute path is tried as it is and with the default extension;
 * a relative one in the working directory and then in every search folder.
 *
 * @example
 * ```ts
 * const { found, looked } = findLibraryFile('cpp_lib32', { searchPaths: ['/opt/vendor/lib'] });
 * ```
 */
export function findLibraryFile(path: string, options: LibrarySearchOptions = {}): LibrarySearchResult {
  const platform = options.platform ?? process.platform;
  const cwd = options.cwd ?? process.cwd();
  const extension = defaultLibraryExtension(platform);
  const names = path.toLowerCase().endsWith(extension) ? [path] : [path, `${path}${extension}`];
  const dirs = isAbsolute(path)
    ? []
    : [...new Set([cwd, ...librarySearchDirs(options)].map((dir) => resolve(cwd, dir)))];

  const looked: string[] = [];
  for (const dir of isAbsolute(path) ? [''] : dirs) {
    for (const name of names) {
      const candidate = resolve(dir, name);
      if (looked.includes(candidate)) continue;
      looked.push(candidate);
      if (isFile(candidate)) return { found: candidate, looked, names, dirs };
    }
  }
  return { found: undefined, looked, names, dirs };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
