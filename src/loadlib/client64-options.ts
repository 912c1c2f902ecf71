/**
 * The options and small result types of `Client64`, in a module of their own so that the proxy
 * (`server32-proxy`) can use them without importing the client.
 * @module
 */

import type { Logger } from '../log/logger.js';

/** How the client reaches its server. */
export type Server32Transport = 'pipe' | 'unix' | 'tcp';

/**
 * Options of a `Client64`. Only these keys: a misspelt one (`rpcTimout`) is a type error, and a
 * TypeError at run time. What your Server32 subclass's constructor receives goes in `serverOptions`.
 *
 * @example
 * ```ts
 * new Client64(new URL('./my-server.mjs', import.meta.url), {
 *   rpcTimeout: 5000,
 *   serverOptions: { serial: 'SN-1', gain: 2.5, since: new Date() },
 * });
 * ```
 */
export interface Client64Options {
  /** Folders where the server module (`module32`) is looked for, after the working directory. */
  appendSysPath?: string | readonly string[];
  /** Folders added to the server's PATH and library search path (the library and its dependencies). */
  appendEnvironPath?: string | readonly string[];
  /** Windows: folders of DLLs the library depends on (added to the server's PATH and library search). */
  addDllDirectory?: string | readonly string[];
  /**
   * The host a TCP server listens on (default `'127.0.0.1'`). `null` runs the server class in THIS
   * process ("mocked" mode, for tests): it must then load a library of this process's bitness.
   */
  host?: string | null;
  /** Listen on this TCP port (0 = any free one) instead of the private pipe; implies `transport: 'tcp'`. */
  port?: number;
  /**
   * `'pipe'` (default): a private pipe only this process holds. `'unix'`: a Unix socket in a private
   * (0700) temporary folder. `'tcp'`: a TCP port on `host`. Sockets require a random per-server token
   * that only this client knows, so no other local process can drive the library.
   */
  transport?: Server32Transport;
  /** Milliseconds a `request32` call may take before it rejects with ResponseTimeoutError. Default 30 000; `Infinity` for none. */
  rpcTimeout?: number;
  /** Where the 32-bit runtime is (default `$FARCALL_SERVER32_DIR`, else `~/.farcall/server32`). */
  server32Dir?: string;
  /**
   * `'native'` (default): the 32-bit Node.js of this platform. `'wine'` (Linux): 32-bit Windows Node.js
   * under Wine, to call a Windows DLL from Linux; the server is then reached over TCP on loopback
   * (`transport` is `'tcp'`) and paths are handed over as Wine's `Z:` paths. Set it up once with
   * `npx farcall server32 setup --wine`.
   */
  runtime?: 'native' | 'wine';
  /** The Wine folder of `runtime: 'wine'` (default `$FARCALL_WINE_DIR`, else `~/.farcall/wine`). */
  wineDir?: string;
  /** Milliseconds the server may take to start (to construct your class). Default 10 000 (`runtime: 'wine'`: 60 000). */
  timeout?: number;
  /**
   * Passed to your Server32 subclass's constructor, in its third argument (`options`), with its types
   * intact: numbers stay numbers, and a `Date`, `Map`, `Set`, bigint, Buffer or typed array arrives as
   * one (every value type of the rpc codec). msl-loadlib, by contrast, passes its `**kwargs` on the
   * server's command line, so every value arrives as a string, and a value holding `=` or `;` is cut apart.
   */
  serverOptions?: Readonly<Record<string, unknown>>;
  /**
   * Receives this client's debug records: the server process started (pid, transport), ready (its
   * Node.js, architecture, library, how long it took) or why not, every call (name, id, size, duration,
   * error class), shut down (how it exited). Never argument values, `serverOptions` values or tokens.
   * `NODE_DEBUG=farcall:loadlib` writes the same lines to stderr, and the 32-bit server, which inherits
   * the environment, then logs its side to its stderr. Default none.
   */
  logger?: Logger;
}

/** The keys of {@link Client64Options}, for the run-time check. */
export const CLIENT64_OPTION_KEYS: readonly (keyof Client64Options)[] = [
  'appendSysPath',
  'appendEnvironPath',
  'addDllDirectory',
  'host',
  'port',
  'transport',
  'rpcTimeout',
  'server32Dir',
  'timeout',
  'runtime',
  'wineDir',
  'serverOptions',
  'logger',
];

/** Options of `Client64.call32`. */
export interface Call32Options {
  /** Milliseconds to wait for the reply (default: the client's `rpcTimeout`; `Infinity`: none). */
  timeout?: number;
  /** Cancels the wait: the call rejects with AbortError. */
  signal?: AbortSignal;
}

/** What the server printed. */
export interface Server32Output {
  /** Everything the server wrote on stdout (its last MiB); `''` in mocked mode. */
  stdout: string;
  /** Everything the server wrote on stderr (its last MiB); `''` in mocked mode. */
  stderr: string;
}

/** Options of `Client64.shutdownServer32`. */
export interface ShutdownOptions {
  /** Milliseconds to wait for the server to exit before killing it (with a warning). Default 10 000. */
  killTimeout?: number;
}

/**
 * Where a client is in its life: `'starting'` (the server is being started), `'ready'` (calls are
 * served), `'failed'` (the server did not start: `ready` rejected), `'closed'` (shut down, or the
 * server died).
 */
export type Client64State = 'starting' | 'ready' | 'failed' | 'closed';
