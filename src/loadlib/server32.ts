/**
 * `Server32`: the base class of a server that loads a 32-bit library inside the 32-bit Node.js and
 * answers a `Client64`'s `request32` calls (msl-loadlib's `Server32`).
 *
 * Runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as koffi from 'koffi';
import { type LibType, LoadLibrary, type LoadLibraryOptions } from './library.js';

/**
 * Marks a class as a Server32 (on the class) and a constructed Server32 (on the instance). A symbol from
 * the global registry, not `instanceof`: the user's module may import farcall from another copy than the
 * one the server runs (e.g. `dist/` while the host runs from the sources under a test runner).
 */
export const SERVER32_BRAND = Symbol.for('farcall.loadlib.Server32');

/**
 * @internal Extra library search folders (the client's `appendEnvironPath`, `addDllDirectory`), set on
 * `globalThis` by the host while it constructs the server: the Server32 constructor searches them too.
 */
export const LIBRARY_SEARCH_PATHS = Symbol.for('farcall.loadlib.librarySearchPaths');

/**
 * @internal The arguments the host constructs the subclass with (`new MyServer(host, port, options)`), set
 * on `globalThis` while it does: the Server32 constructor recognises them when a subclass without a
 * constructor of its own passed them through unchanged.
 */
export const CONSTRUCTION_ARGUMENTS = Symbol.for('farcall.loadlib.constructionArguments');

/** The constructor a Server32 subclass needs, for error messages. */
export const SERVER32_CONSTRUCTOR_HINT =
  'A Server32 subclass is constructed as new MyServer(host, port, options) and must call\n' +
  'super(path, libtype, host, port) with the library to load, e.g.\n' +
  '  export class MyServer extends Server32 {\n' +
  '    constructor(host, port, options) {\n' +
  "      super('/path/to/lib32.so', 'cdll', host, port);\n" +
  '    }\n' +
  '  }';

/** Marks an error of a Server32 subclass's shape (its message already holds the hint). */
export const SHAPE_ERROR = Symbol.for('farcall.loadlib.server32ShapeError');

/** Set by the 32-bit server's entry point (`server32-main`), read by {@link Server32.isInterpreter}. */
const IN_SERVER32 = Symbol.for('farcall.loadlib.inServer32');

/** @internal Marks this process as the 32-bit server (called by `server32-main` before it imports the module). */
export function markServer32Process(): void {
  (globalThis as Record<symbol, unknown>)[IN_SERVER32] = true;
}

/**
 * The base class of your 32-bit server. Subclass it in a module of its own, load the library in the
 * constructor by calling `super(libPath, libtype, host, port)`, and add a method per library function
 * the 64-bit side may call. `Client64` starts the 32-bit Node.js on that module, constructs your class
 * with `(host, port, options)` — `options` is the client's `serverOptions` — and forwards each
 * `request32(name, ...args)` to the method `name` (or returns the value of the property `name`), also
 * to a static member of your class. The base class's own members stay inside the server, except the
 * facts `path`, `libtype`, `host` and `port`. A method may return a promise: calls run concurrently, so
 * declare slow native functions with koffi's `fn.async` and await them.
 *
 * **The module runs on the 32-bit runtime's Node.js — 18 on Linux (Debian's i386 build), 22 on
 * Windows — not on yours: write it for Node.js 18** (no RegExp `v` flag, no `Array.fromAsync`…); syntax
 * it lacks fails the start with a SyntaxError naming that version. Import koffi from farcall
 * (`import { koffi } from 'farcall/loadlib'`), not from your own koffi: two koffi builds cannot share
 * one process.
 *
 * @example
 * ```ts
 * // my-server.mjs — runs in the 32-bit Node.js 18
 * import { koffi, Server32 } from 'farcall/loadlib';
 *
 * export class MyServer extends Server32 {
 *   constructor(host, port, options) {
 *     super('/opt/vendor/libdaq32.so', 'cdll', host, port);
 *     this.gain = options.gain ?? 1; // new Client64(module, { serverOptions: { gain: 2 } })
 *     this.addFn = this.library.func('int add(int a, int b)');
 *   }
 *   add(a, b) {
 *     return this.addFn(a, b);
 *   }
 * }
 * ```
 */
export class Server32 {
  /** Brands subclasses (see {@link SERVER32_BRAND}). */
  static readonly [SERVER32_BRAND] = true;

  /** The loaded library (farcall's `LoadLibrary`): `library.func()` declares with the libtype's convention. */
  readonly library: LoadLibrary;
  /** The host the client was told to reach (`'127.0.0.1'` by default), or `null` in mocked mode. */
  readonly host: string | null;
  /** The TCP port the server listens on; 0 when it talks over its private pipe (the default). */
  readonly port: number;

  /**
   * Loads the library.
   * @param path - the library: absolute, relative to the working directory, or a name on the search paths
   *   (`appendEnvironPath`); the extension may be left out
   * @param libtype - `'cdll'` or `'windll'` (stdcall on 32-bit Windows)
   * @param host - pass on the `host` your constructor received
   * @param port - pass on the `port` your constructor received
   * @param options - `LoadLibrary` options (search folders, koffi's load flags)
   * @throws LibraryLoadError when the library cannot be loaded (the message says why and what to do)
   */
  constructor(
    path: string,
    libtype: LibType = 'cdll',
    host: string | null = '127.0.0.1',
    port = 0,
    options: LoadLibraryOptions = {},
  ) {
    checkConstructorArguments(new.target.name, path, libtype, host);
    const extra = (globalThis as Record<symbol, unknown>)[LIBRARY_SEARCH_PATHS] as string[] | undefined;
    const searchPaths = [...(options.searchPaths ?? []), ...(extra ?? [])];
    this.library = new LoadLibrary(path, libtype, { ...options, searchPaths });
    this.host = host;
    this.port = port;
    Object.defineProperty(this, SERVER32_BRAND, { value: true, enumerable: false });
  }

  /** The koffi library handle: `this.lib.func('int add(int a, int b)')`. */
  get lib(): koffi.LibraryHandle {
    return this.library.lib;
  }

  /** The absolute path of the loaded library. */
  get path(): string {
    return this.library.path;
  }

  /** The libtype the library was loaded with. */
  get libtype(): LibType {
    return this.library.libtype;
  }

  /**
   * Called once before the server exits (the client called `shutdownServer32()` or went away): release
   * what the library holds (close an instrument, free memory). May return a promise; the server waits
   * for it (within the client's `killTimeout`). The default does nothing.
   */
  shutdownHandler(): void | Promise<void> {}

  /**
   * The Node.js version of the process this runs in (`'18.20.4'` inside Debian's i386 node).
   *
   * @example
   * ```ts
   * Server32.version(); // '18.20.4'
   * ```
   */
  static version(): string {
    return process.versions.node;
  }

  /**
   * True inside the 32-bit server process (started by `Client64`), false elsewhere — in the 64-bit
   * client and in mocked mode (`host: null`). Lets one module pick the library of the right bitness.
   */
  static isInterpreter(): boolean {
    return (globalThis as Record<symbol, unknown>)[IN_SERVER32] === true;
  }

  /**
   * The folder of farcall's example libraries (`libfarcall_example-32.so`, `-64.so`, built by
   * `scripts/build-native.sh`): `<farcall>/native/build`.
   */
  static examplesDir(): string {
    // This file is <farcall>/dist/loadlib/server32.js (or src/loadlib/server32.ts): two folders up.
    return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'build');
  }

  toString(): string {
    return `${this.constructor.name}(path='${this.library.path}', libtype='${this.library.libtype}')`;
  }
}

/**
 * A subclass without a constructor of its own hands the host's `(host, port, options)` straight to
 * Server32; `super()` without a path gives no library. Both get a message showing the constructor needed.
 */
function checkConstructorArguments(className: string, path: unknown, libtype: unknown, host: unknown): void {
  const passed = (globalThis as Record<symbol, unknown>)[CONSTRUCTION_ARGUMENTS] as
    | { host: unknown; port: unknown; options: unknown }
    | undefined;
  if (passed !== undefined && path === passed.host && libtype === passed.port && host === passed.options) {
    throw shapeError(
      `${className} has no constructor of its own, so Server32 got the arguments the server is constructed ` +
        'with (host, port, options) instead of the library to load. Give it a constructor that calls super() ' +
        `with the library.\n${SERVER32_CONSTRUCTOR_HINT}`,
    );
  }
  if (typeof path !== 'string' || path === '') {
    const got = typeof path === 'string' ? "''" : String(path);
    throw shapeError(
      `${className} called super() without the library's path (got ${got}): Server32's constructor is ` +
        `super(path, libtype, host, port).\n${SERVER32_CONSTRUCTOR_HINT}`,
    );
  }
}

function shapeError(message: string): TypeError {
  const error = new TypeError(message);
  Object.defineProperty(error, SHAPE_ERROR, { value: true });
  return error;
}

/** True if `value` is a class that extends Server32 (from any copy of farcall). */
export function isServer32Class(value: unknown): value is typeof Server32 {
  return typeof value === 'function' && value.prototype !== undefined && SERVER32_BRAND in value;
}

/** True if `value` is an object whose Server32 constructor ran (`super()` was called). */
export function isServer32Instance(value: unknown): value is Server32 {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, SERVER32_BRAND);
}
