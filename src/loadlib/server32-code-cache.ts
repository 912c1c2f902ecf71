/**
 * Runs the 32-bit server's bundle (`server32-bundle-initial.cjs`, see `scripts/bundle-server32.mjs`) as a
 * CommonJS module through `vm.Script` with a V8 code cache, kept per user in a private folder.
 *
 * Why: Debian's i386 Node.js 18 has no module compile cache, so every start parses the 200 KiB bundle and
 * compiles each function it runs. With V8's cached data (made by `script.createCachedData()` once the
 * server has answered its start, so that it holds the functions the start ran), that work is skipped.
 *
 * The cache: `<dir>/server32-<bundle hash>-<node version>-<arch>-<flags>.v8cache` (`<flags>`: a hash of the
 * Node.js and V8 flags), where `<dir>` is
 * `$FARCALL_CACHE_DIR`, else `$FARCALL_HOME/cache`, else `~/.farcall/cache`; the folder is made with mode
 * 0700 and used only while it is a real folder (no symlink) of this user with no group or other access
 * (POSIX). A file is written to a temporary name (mode 0600) and renamed over the old one: a reader sees
 * the old or the new file, never half of one. A cache V8 rejects (another V8, other flags, a truncated or
 * foreign file) is ignored and rewritten. Any failure to read or write the cache only costs the speed-up.
 * `FARCALL_CACHE_DIR=off` turns it off.
 *
 * Runs on Debian's i386 Node 18 (and Windows Node.js 22): Node 18 APIs only.
 * @module
 */
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createRequire, Module } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** What the bundle's cache did at this start. */
export type CodeCacheState = 'accepted' | 'rejected' | 'absent' | 'off';

/** The bundle, run, and its cache. */
export interface CachedBundle {
  /** The bundle's `module.exports`. */
  readonly exports: Record<string, unknown>;
  /** What the cache did: used (`accepted`), refused by V8 (`rejected`), not there (`absent`), not used (`off`). */
  readonly state: CodeCacheState;
  /** Where the cache is (undefined when off). */
  readonly file: string | undefined;
  /** Writes the cache unless it was accepted at this start; never throws. Call it once the server has started. */
  save(): void;
}

/** The private folder the caches live in, or undefined when caching is off or the folder is not private. */
function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env.FARCALL_CACHE_DIR;
  if (configured === 'off') return undefined;
  const dir =
    configured !== undefined && configured !== ''
      ? configured
      : join(
          env.FARCALL_HOME !== undefined && env.FARCALL_HOME !== ''
            ? env.FARCALL_HOME
            : join(homedir(), '.farcall'),
          'cache',
        );
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) return undefined;
    // Another user's (or a shared) folder could hand this process code to run: only our own, closed one.
    if (process.platform !== 'win32') {
      if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) return undefined;
      if ((stat.mode & 0o077) !== 0) return undefined;
    }
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * A short key of the V8 and Node.js flags this process runs with (V8 rejects a cache made under other flags:
 * without the key, two clients with different `FARCALL_SERVER32_NODE_OPTIONS` would rewrite it by turns).
 * FNV-1a, 32 bits: no node:crypto at start.
 */
function flagsKey(env: NodeJS.ProcessEnv): string {
  const text = `${process.execArgv.join(' ')}|${env.NODE_OPTIONS ?? ''}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/** Writes `data` to `file` atomically (a temporary file of mode 0600, renamed); never throws. */
function writeAtomically(file: string, data: Uint8Array): void {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // nothing left to do: the cache is only a speed-up
    }
  }
}

/**
 * Runs the CommonJS bundle at `url` as the module `require` knows under its path (its lazily loaded
 * chunks `require()` it and must get this very instance), with the code cache for `bundleHash`.
 * `importModule` is the ES module `import()` the bundle's own `import()` calls go to.
 *
 * @example
 * ```ts
 * const bundle = loadCachedBundle(new URL('./server32-bundle-initial.cjs', import.meta.url), 'ab12…', (s) => import(s));
 * bundle.save(); // after the start
 * ```
 */
export function loadCachedBundle(
  url: URL,
  bundleHash: string,
  importModule: (specifier: string) => Promise<unknown>,
  env: NodeJS.ProcessEnv = process.env,
): CachedBundle {
  const filename = fileURLToPath(url);
  const source = readFileSync(filename, 'utf8');
  const dir = cacheDir(env);
  const file =
    dir === undefined
      ? undefined
      : join(dir, `server32-${bundleHash}-${process.version}-${process.arch}-${flagsKey(env)}.v8cache`);
  let cachedData: Buffer | undefined;
  if (file !== undefined) {
    try {
      cachedData = readFileSync(file);
    } catch {
      // none yet
    }
  }
  // Module.wrap's function, and one more parameter: the build made the bundle's import() calls calls of it
  // (Node 18 lets a vm.Script's own import() work only with --experimental-vm-modules).
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname, __farcallImport) { ${source}\n});`,
    { filename, cachedData },
  );
  const state: CodeCacheState =
    file === undefined
      ? 'off'
      : cachedData === undefined
        ? 'absent'
        : script.cachedDataRejected
          ? 'rejected'
          : 'accepted';

  const module = new Module(filename);
  module.filename = filename;
  const require = createRequire(filename);
  // Before it runs, as Node's own loader does: the chunks it loads find it there.
  require.cache[filename] = module;
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
    importFunction: (specifier: string) => Promise<unknown>,
  ) => void;
  wrapper.call(module.exports, module.exports, require, module, filename, dirname(filename), importModule);
  module.loaded = true;

  let saved = state === 'accepted' || file === undefined;
  return {
    exports: module.exports as Record<string, unknown>,
    state,
    file,
    save: () => {
      if (saved || file === undefined) return;
      saved = true;
      try {
        writeAtomically(file, script.createCachedData());
      } catch {
        // the cache is only a speed-up
      }
    },
  };
}
