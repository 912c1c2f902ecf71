/**
 * `Client64`: calls a 32-bit library from 64-bit Node.js through a `Server32` running in a 32-bit
 * Node.js (msl-loadlib's `Client64`).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConnectionClosedError,
  ConnectionTimeoutError,
  RemoteError,
  ResponseTimeoutError,
  Server32Error,
} from '../errors.js';
import { Connection } from '../rpc/connection.js';
import { connectTransport } from '../wire/transports.js';
import { type MockedServer, startMockedServer } from './mocked.js';
import {
  SERVER32_MAX_MESSAGE_BYTES,
  type Server32StartReply,
  type Server32StartRequest,
} from './server32-host.js';
import { describeExit, type ExitStatus, Server32Process } from './server32-process.js';
import { createServer32Proxy, type Server32Proxy } from './server32-proxy.js';
import { forWine } from './wine.js';

/** How the client reaches its server. */
export type Server32Transport = 'pipe' | 'unix' | 'tcp';

/**
 * Options of a {@link Client64}. Every key not listed here is passed to your Server32 subclass's
 * constructor, in its third argument (`options`), with its type intact: numbers stay numbers, and a
 * `Date`, `Map`, `Set`, bigint, Buffer or typed array arrives as one (every value type of the rpc codec).
 * msl-loadlib, by contrast, passes its `**kwargs` on the server's command line, so every value arrives
 * as a string, and a value holding `=` or `;` is cut apart.
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
   * `bash node_modules/farcall/scripts/setup-wine.sh`.
   */
  runtime?: 'native' | 'wine';
  /** The Wine folder of `runtime: 'wine'` (default `$FARCALL_WINE_DIR`, else `~/.farcall/wine`). */
  wineDir?: string;
  /** Milliseconds the server may take to start (to construct your class). Default 10 000 (`runtime: 'wine'`: 60 000). */
  timeout?: number;
  /** Any other key is passed to the Server32 subclass's constructor. */
  [kwarg: string]: unknown;
}

/** Options of {@link Client64.call32}. */
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

/** Options of {@link Client64.shutdownServer32}. */
export interface ShutdownOptions {
  /** Milliseconds to wait for the server to exit before killing it (with a warning). Default 10 000. */
  killTimeout?: number;
}

const OPTION_KEYS = new Set([
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
]);

const DEFAULT_RPC_TIMEOUT_MS = 30_000;
const DEFAULT_START_TIMEOUT_MS = 10_000;
const DEFAULT_WINE_START_TIMEOUT_MS = 60_000;
const DEFAULT_KILL_TIMEOUT_MS = 10_000;
/** How long a call that lost its connection waits for the process's exit status, to say why it died. */
const EXIT_STATUS_WAIT_MS = 1000;

/**
 * Starts a 32-bit server on your Server32 module and calls it. Subclass it and add a method per
 * server method, or use {@link Client64.proxy} to get them all, typed.
 *
 * The server starts at construction; `await client.ready` to see it up (a start-up failure rejects with
 * a `ConnectionTimeoutError` that carries the server's own output), or just call: `request32` waits.
 * The server exits when you call `shutdownServer32()`, leave an `await using` block, or when this
 * process exits or dies; an idle client never keeps this process alive.
 *
 * @example
 * ```ts
 * import { Client64 } from 'farcall/loadlib';
 *
 * class MyClient extends Client64 {
 *   constructor() {
 *     super(new URL('./my-server.mjs', import.meta.url));
 *   }
 *   add(a: number, b: number): Promise<number> {
 *     return this.request32('add', a, b);
 *   }
 * }
 *
 * await using client = new MyClient();
 * console.log(await client.add(1, 2)); // 3, computed by the 32-bit library
 * ```
 */
export class Client64 {
  /** The server module, as given. */
  readonly module32: string;
  /** The host of a TCP server (`'127.0.0.1'` by default); `null` in mocked mode. */
  readonly host: string | null;
  /** How the client reaches the server: `'pipe'`, `'unix'`, `'tcp'`, or `'mocked'` (`host: null`). */
  readonly transport: Server32Transport | 'mocked';
  /** The per-call deadline in milliseconds (`Infinity`: none). */
  readonly rpcTimeout: number;
  /** Resolves when the server is up; rejects with ConnectionTimeoutError (or Server32RuntimeNotFoundError). */
  readonly ready: Promise<void>;

  #connection: Connection | undefined;
  #control: Connection | undefined;
  #process: Server32Process | undefined;
  #mocked: MockedServer | undefined;
  #reply: Server32StartReply | undefined;
  #port: number | undefined;
  #socketDir: string | undefined;
  #shutdown: Promise<Server32Output> | undefined;

  /**
   * @param module32 - your Server32 module: a path (absolute, or relative to the working directory), a
   *   `file:` URL (`new URL('./my-server.mjs', import.meta.url)`), or a name found on `appendSysPath`
   * @param options - see {@link Client64Options}; other keys go to your server's constructor
   */
  constructor(module32: string | URL, options: Client64Options = {}) {
    this.module32 = module32 instanceof URL ? module32.href : module32;
    this.host = options.host === undefined ? '127.0.0.1' : options.host;
    const runtime = checkRuntime(options.runtime);
    let transport = options.transport ?? (options.port !== undefined ? 'tcp' : 'pipe');
    if (!['pipe', 'unix', 'tcp'].includes(transport)) {
      throw new TypeError(`transport must be 'pipe', 'unix' or 'tcp', got ${String(transport)}`);
    }
    if (runtime === 'wine') transport = wineTransport(transport);
    if (process.platform === 'win32' && transport === 'unix') {
      throw new TypeError(
        "transport 'unix' is not available on Windows: leave transport out (a private named pipe) or use 'tcp'",
      );
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`port must be an integer from 0 to 65535, got ${String(options.port)}`);
    }
    this.transport = this.host === null ? 'mocked' : transport;
    this.rpcTimeout = checkMs('rpcTimeout', options.rpcTimeout, DEFAULT_RPC_TIMEOUT_MS);
    // Wine's first start (wineserver, the prefix) takes seconds more than a native one.
    const timeout = checkMs(
      'timeout',
      options.timeout,
      runtime === 'wine' ? DEFAULT_WINE_START_TIMEOUT_MS : DEFAULT_START_TIMEOUT_MS,
    );
    const kwargs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) if (!OPTION_KEYS.has(key)) kwargs[key] = value;

    const appendEnvironPath = toList(options.appendEnvironPath);
    const addDllDirectory = toList(options.addDllDirectory);
    let request: Server32StartRequest = {
      module32: this.module32,
      appendSysPath: toList(options.appendSysPath),
      librarySearchPaths: [...appendEnvironPath, ...addDllDirectory],
      host: this.host,
      port,
      kwargs,
    };
    if (runtime === 'wine' && this.host !== null) request = forWine(request);
    this.ready =
      this.transport === 'mocked'
        ? this.#startMocked(request, timeout)
        : this.#start(request, timeout, {
            server32Dir: options.server32Dir,
            appendEnvironPath,
            addDllDirectory,
            appendSysPath: request.appendSysPath,
            runtime,
            wineDir: options.wineDir,
          });
    // The same failure reaches whoever awaits `ready` or calls request32; never an unhandled rejection.
    this.ready.catch(() => {});
  }

  /**
   * Starts a server and returns a typed proxy of it: each method of your Server32 subclass `T` becomes
   * an async method that calls `request32`. Rejects like {@link Client64.ready}.
   *
   * @example
   * ```ts
   * import type { MyServer } from './my-server.mjs';
   *
   * await using server = await Client64.proxy<MyServer>(new URL('./my-server.mjs', import.meta.url));
   * await server.add(1, 2); // 3
   * ```
   */
  static async proxy<T>(module32: string | URL, options: Client64Options = {}): Promise<Server32Proxy<T>> {
    const client = new Client64(module32, options);
    await client.ready;
    return createServer32Proxy<T>(client);
  }

  /** The TCP port the server listens on (`transport: 'tcp'`), else undefined. */
  get port(): number | undefined {
    return this.#port;
  }

  /** The absolute path of the library the server loaded (once ready). */
  get lib32Path(): string | undefined {
    return this.#reply?.lib32Path;
  }

  /** The rpc connection `request32` calls go through (once ready). */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /**
   * Where the server is: `pipe:fd3`, `unix:///tmp/…/server32.sock`, `tcp://127.0.0.1:40123`, a named pipe
   * `\\.\pipe\farcall-server32-…` (Windows) or `mocked`.
   */
  get address(): string {
    if (this.transport === 'mocked') return 'mocked';
    return this.#reply?.address ?? this.#process?.controlAddress ?? 'pipe:fd3';
  }

  /** The server's process id (the client's own in mocked mode), once ready. */
  get serverPid(): number | undefined {
    return this.#reply?.pid;
  }

  /** The server's Node.js version and architecture, e.g. `{ node: '18.20.4', arch: 'ia32' }` (once ready). */
  get serverRuntime(): { node: string; arch: string } | undefined {
    return this.#reply === undefined ? undefined : { node: this.#reply.node, arch: this.#reply.arch };
  }

  /**
   * Calls the server's method `name` with `args`, or returns the value of its property `name` (no args).
   * Calls run concurrently: several may be in flight, and an async server method does not block others.
   *
   * @throws Server32Error when the server method throws (with the server-side stack in `remoteStack`),
   *   or `name` is no public member; ResponseTimeoutError after `rpcTimeout` (the client stays usable);
   *   ConnectionClosedError when the server is shut down or dies (the message names the signal of a crash);
   *   ConnectionTimeoutError when the server failed to start
   * @example
   * ```ts
   * const sum = await client.request32('add', 1, 2);
   * const path = await client.request32('path');
   * ```
   */
  request32<R = unknown>(name: string, ...args: unknown[]): Promise<R> {
    const connection = this.#connection;
    if (connection === undefined || this.#shutdown !== undefined) return this.#requestLater<R>(name, args);
    return this.#call<R>(connection, name, args);
  }

  /**
   * `request32` with options of its own: a `timeout` other than `rpcTimeout` (`Infinity`: none) and an
   * `AbortSignal` that cancels the wait (the call rejects with AbortError; the server finishes the call
   * and its late reply is dropped).
   *
   * @throws as {@link Client64.request32}; AbortError when `signal` aborts
   * @example
   * ```ts
   * const reading = await client.call32('read_samples', [1000], { timeout: 60_000, signal });
   * ```
   */
  async call32<R = unknown>(name: string, args: readonly unknown[], options: Call32Options = {}): Promise<R> {
    const timeout = checkMs('timeout', options.timeout, this.rpcTimeout);
    if (this.#connection === undefined && this.#shutdown === undefined) await this.ready;
    const connection = this.#connection;
    if (connection === undefined || this.#shutdown !== undefined) {
      throw new ConnectionClosedError(
        `call32('${name}') cannot be sent: the server has been shut down (shutdownServer32() was called)`,
      );
    }
    return this.#call<R>(connection, name, [...args], timeout, options.signal, 'the timeout option');
  }

  async #requestLater<R>(name: string, args: unknown[]): Promise<R> {
    if (this.#shutdown === undefined) await this.ready;
    const connection = this.#connection;
    if (connection === undefined || this.#shutdown !== undefined) {
      throw new ConnectionClosedError(
        `request32('${name}') cannot be sent: the server has been shut down (shutdownServer32() was called)`,
      );
    }
    return this.#call<R>(connection, name, args);
  }

  /**
   * Sends one call. The Connection keeps its deadline (one timer for all calls in flight); a timeout, a
   * remote throw or a dead server becomes the error this layer promises.
   */
  #call<R>(
    connection: Connection,
    name: string,
    args: unknown[],
    timeout = this.rpcTimeout,
    signal?: AbortSignal,
    timeoutOption = 'the rpcTimeout option',
  ): Promise<R> {
    const process32 = this.#process;
    process32?.ref();
    return connection.call('request32', [name, args], { timeout, signal }).then(
      (value) => {
        process32?.unref();
        return value as R;
      },
      async (error: unknown) => {
        // Stay referenced while the exit status is awaited: a server that died in this call must be
        // seen to exit, or nothing keeps this process alive to report why (its exit comes late under Wine).
        try {
          if (error instanceof ResponseTimeoutError)
            throw this.#timeoutError(name, error.timeoutMs, timeoutOption);
          throw await this.#explainCallFailure(error, name);
        } finally {
          process32?.unref();
        }
      },
    );
  }

  #timeoutError(name: string, ms: number, option: string): ResponseTimeoutError {
    return new ResponseTimeoutError(
      `request32('${name}') got no reply within ${ms} ms (${option}). The server keeps running and this ` +
        'client stays usable; a late reply is dropped. Raise the timeout if the call needs longer.',
      ms,
    );
  }

  async #explainCallFailure(error: unknown, name: string): Promise<unknown> {
    if (error instanceof RemoteError && !(error instanceof Server32Error)) {
      const converted = new Server32Error({
        name: error.remoteName,
        message: error.message.slice(error.remoteName.length + 2),
        remoteStack: error.remoteStack,
        remoteCode: error.remoteCode,
      });
      return converted;
    }
    if (error instanceof ConnectionClosedError) {
      if (this.#shutdown !== undefined) {
        return new ConnectionClosedError(
          `request32('${name}') failed: the server was shut down (shutdownServer32() was called) before it replied`,
          { cause: error },
        );
      }
      // The pipe closed before the exit status is known: wait a moment for it, to say why the server died.
      const status = await this.#process?.waitForEnd(EXIT_STATUS_WAIT_MS);
      if (status !== undefined) {
        return new ConnectionClosedError(
          `request32('${name}') failed: the 32-bit server ${describeExit(status)}.` +
            outputSection(this.#process?.stdout ?? '', this.#process?.stderr ?? ''),
          { cause: error },
        );
      }
    }
    return error;
  }

  /**
   * Stops the server: closes the connection, lets the server run its `shutdownHandler()` and exit, and
   * returns what it printed. A server still running after `killTimeout` ms is killed, with a warning
   * (`process.emitWarning`). Idempotent: later calls return the same output.
   *
   * @example
   * ```ts
   * const { stdout, stderr } = await client.shutdownServer32();
   * ```
   */
  shutdownServer32(options: ShutdownOptions = {}): Promise<Server32Output> {
    this.#shutdown ??= this.#stop(checkMs('killTimeout', options.killTimeout, DEFAULT_KILL_TIMEOUT_MS));
    return this.#shutdown;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdownServer32();
  }

  async #stop(killTimeout: number): Promise<Server32Output> {
    await this.ready.catch(() => {});
    const process32 = this.#process;
    process32?.ref();
    try {
      if (this.#connection !== this.#control)
        await this.#connection?.close('the Client64 shut the server down');
      await this.#control?.close('the Client64 shut the server down');
      if (this.#mocked !== undefined) {
        await this.#mocked.closed;
        return { stdout: '', stderr: '' };
      }
      if (process32 === undefined) return { stdout: '', stderr: '' };
      const status = await waitWithRef(process32, killTimeout);
      if (status === undefined) {
        process32.kill('SIGKILL');
        await process32.ended;
        process.emitWarning(
          `The 32-bit server (pid ${process32.pid}) of ${this.module32} did not exit within ${killTimeout} ms ` +
            'of shutdownServer32() (is its shutdownHandler() stuck?), so it was killed. Raise killTimeout if ' +
            'the handler needs longer.',
          { code: 'FARCALL_SERVER32_KILLED' },
        );
      }
      return { stdout: process32.stdout, stderr: process32.stderr };
    } finally {
      this.#removeSocketDir();
      process32?.unref();
    }
  }

  // --- starting ------------------------------------------------------------------------------------------

  async #start(
    request: Server32StartRequest,
    timeout: number,
    processOptions: Parameters<typeof Server32Process.spawn>[0],
  ): Promise<void> {
    const process32 = await Server32Process.spawn(processOptions);
    this.#process = process32;
    process32.ref();
    const control = new Connection(process32.channel, {
      authKey: process32.controlKey,
      side: 'client',
      peerName: 'the 32-bit server',
      maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
      handshakeTimeout: timeout,
      timeout: Number.POSITIVE_INFINITY,
    });
    this.#control = control;
    let authKey: string | undefined;
    if (this.transport === 'tcp' || this.transport === 'unix') {
      authKey = randomBytes(32).toString('hex');
      let address: string;
      if (this.transport === 'unix') {
        // A folder only this user can enter: no other user can even reach the socket.
        this.#socketDir = mkdtempSync(join(tmpdir(), 'farcall-server32-'));
        address = `unix://${join(this.#socketDir, 'server32.sock')}`;
      } else address = `tcp://${formatHost(this.host as string)}:${request.port}`;
      request.listen = { address, authKey };
    }

    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        control.call('start', [request], { timeout: Number.POSITIVE_INFINITY }).then(
          (reply) => ({ kind: 'started' as const, reply: reply as Server32StartReply }),
          (error: unknown) => ({ kind: 'failed' as const, error }),
        ),
        process32.ended.then((status) => ({ kind: 'exited' as const, status })),
        new Promise<{ kind: 'timeout' }>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'timeout' }), timeout);
        }),
      ]);
      if (outcome.kind !== 'started') throw await this.#startFailure(outcome, timeout);
      this.#reply = outcome.reply;
      if (authKey !== undefined) await this.#connectSocket(outcome.reply, authKey, timeout);
      else this.#connection = control;
    } catch (error) {
      await control.close('the Client64 gave up starting the server');
      process32.kill('SIGKILL');
      await process32.ended;
      this.#removeSocketDir();
      throw error;
    } finally {
      clearTimeout(timer);
      process32.unref();
    }
  }

  async #connectSocket(reply: Server32StartReply, authKey: string, timeout: number): Promise<void> {
    const address = reply.address as string;
    if (address.startsWith('tcp://')) this.#port = Number(address.slice(address.lastIndexOf(':') + 1));
    const stream = await connectTransport(address, { timeoutMs: timeout });
    this.#process?.adopt(stream);
    const connection = new Connection(stream, {
      authKey,
      side: 'client',
      peerName: `the 32-bit server at ${address}`,
      maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
      handshakeTimeout: timeout,
      timeout: this.rpcTimeout,
    });
    await connection.ready;
    this.#connection = connection;
  }

  async #startFailure(
    outcome:
      | { kind: 'failed'; error: unknown }
      | { kind: 'exited'; status: ExitStatus }
      | { kind: 'timeout' },
    timeout: number,
  ): Promise<Error> {
    const process32 = this.#process as Server32Process;
    if (outcome.kind === 'timeout') {
      process32.kill('SIGKILL');
      await process32.ended;
      return new ConnectionTimeoutError(
        `The 32-bit server did not finish starting ${this.module32} within ${timeout} ms (the 'timeout' option): ` +
          'the module is still loading or its constructor has not returned (is it waiting for something?). ' +
          `The server was killed. Raise 'timeout' if it needs longer.` +
          outputSection(process32.stdout, process32.stderr),
        timeout,
      );
    }
    let reason: string;
    if (outcome.kind === 'failed' && outcome.error instanceof RemoteError) {
      // The server explained; it exits at once — wait for its last words.
      const status = await process32.waitForEnd(2000);
      if (status === undefined) process32.kill('SIGKILL');
      reason = `The 32-bit server could not start ${this.module32}: ${remoteMessage(outcome.error)}`;
    } else {
      const status = outcome.kind === 'exited' ? outcome.status : await process32.waitForEnd(2000);
      if (status === undefined) process32.kill('SIGKILL');
      const how = status === undefined ? 'stopped answering' : describeExit(status);
      reason = `The 32-bit server ${how} while starting ${this.module32}.`;
    }
    await process32.ended;
    return new ConnectionTimeoutError(reason + outputSection(process32.stdout, process32.stderr), timeout, {
      cause: outcome.kind === 'failed' ? outcome.error : undefined,
    });
  }

  async #startMocked(request: Server32StartRequest, timeout: number): Promise<void> {
    const mocked = startMockedServer();
    this.#mocked = mocked;
    const connection = new Connection(mocked.stream, {
      side: 'client',
      peerName: 'the mocked Server32',
      maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
      timeout: this.rpcTimeout,
    });
    this.#control = connection;
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        connection.call('start', [request], { timeout: Number.POSITIVE_INFINITY }).then(
          (reply) => ({ kind: 'started' as const, reply: reply as Server32StartReply }),
          (error: unknown) => ({ kind: 'failed' as const, error }),
        ),
        new Promise<{ kind: 'timeout' }>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'timeout' }), timeout);
        }),
      ]);
      if (outcome.kind === 'timeout') {
        throw new ConnectionTimeoutError(
          `The mocked server (host: null) did not finish starting ${this.module32} within ${timeout} ms (the ` +
            "'timeout' option): the module is still loading or its constructor has not returned.",
          timeout,
        );
      }
      if (outcome.kind === 'failed') {
        const error = outcome.error;
        throw new ConnectionTimeoutError(
          `The mocked server (host: null) could not start ${this.module32}: ${error instanceof RemoteError ? remoteMessage(error) : String(error)}`,
          timeout,
          { cause: error },
        );
      }
      this.#reply = outcome.reply;
      this.#connection = connection;
    } catch (error) {
      await connection.close('the Client64 gave up starting the server');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #removeSocketDir(): void {
    if (this.#socketDir === undefined) return;
    rmSync(this.#socketDir, { recursive: true, force: true });
    this.#socketDir = undefined;
  }
}

function remoteMessage(error: RemoteError): string {
  return error.message.slice(error.remoteName.length + 2);
}

/** The server's output, for an error message. */
function outputSection(stdout: string, stderr: string): string {
  let text = '';
  if (stdout.trim() !== '') text += `\n--- the server's stdout ---\n${stdout.trimEnd()}`;
  if (stderr.trim() !== '') text += `\n--- the server's stderr ---\n${stderr.trimEnd()}`;
  return text;
}

/** Waits up to `ms` for the process to end, keeping this process alive meanwhile. */
function waitWithRef(process32: Server32Process, ms: number): Promise<ExitStatus | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    process32.ended,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function checkRuntime(value: unknown): 'native' | 'wine' {
  if (value === undefined || value === 'native') return 'native';
  if (value === 'wine') {
    if (process.platform !== 'linux') {
      throw new TypeError(
        `runtime: 'wine' runs the server under Wine on Linux; this is ${process.platform} ` +
          (process.platform === 'win32' ? "(on Windows, leave runtime at 'native')" : ''),
      );
    }
    return 'wine';
  }
  throw new TypeError(`runtime must be 'native' or 'wine', got ${String(value)}`);
}

/** Wine's programs cannot use a Linux pipe or Unix socket: the server is reached over TCP on loopback. */
function wineTransport(transport: Server32Transport): Server32Transport {
  if (transport === 'unix') {
    throw new TypeError(
      "transport 'unix' does not reach a server under Wine (a Windows program has no Unix sockets): " +
        "leave transport out, or use 'tcp'",
    );
  }
  return 'tcp';
}

function toList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

function checkMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new RangeError(
      `${name} must be a positive number of milliseconds (or Infinity), got ${String(value)}`,
    );
  }
  return value;
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
