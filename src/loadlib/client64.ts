/**
 * `Client64`: calls a 32-bit library from 64-bit Node.js through a `Server32` running in a 32-bit
 * Node.js (msl-loadlib's `Client64`).
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConnectionClosedError,
  ConnectionTimeoutError,
  ProcessStartError,
  RemoteError,
  ResponseTimeoutError,
  Server32Error,
} from '../errors.js';
import { elapsed, type PartLog, partLog } from '../log/logger.js';
import type { Connection } from '../rpc/connection.js';
import { describeCall } from '../rpc/remote-errors.js';
import {
  type Call32Options,
  CLIENT64_OPTION_KEYS,
  type Client64Options,
  type Client64State,
  type Server32Output,
  type Server32Transport,
  type ShutdownOptions,
} from './client64-options.js';
import { type MockedServer, startMockedServer } from './mocked.js';

import { type CallGuard, type GuardedCall, Server32Connection } from './server32-connection.js';
import { describeExit, type ExitStatus } from './server32-exit.js';
import {
  SERVER32_MAX_MESSAGE_BYTES,
  type Server32StartReply,
  type Server32StartRequest,
} from './server32-host.js';
import { server32LogName } from './server32-log-name.js';
import type { Server32Process, Server32ProcessOptions } from './server32-process.js';
import { createServer32Proxy, type Server32Proxy } from './server32-proxy.js';
import { forWine } from './wine.js';

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
 * The server starts at construction; `await client.ready` to see it up, or just call: `request32` waits.
 * A server that fails while starting rejects at once with a {@link ProcessStartError} that carries the
 * server's own output; one not ready within `timeout` is killed and rejects with a `ConnectionTimeoutError`.
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
 *
 * A constructor cannot wait for the server. A subclass that needs a value from the server before it is
 * used (msl-loadlib's `__init__` calling `request32`) gets an async factory:
 *
 * @example
 * ```ts
 * class Multimeter extends Client64 {
 *   serial = '';
 *   private constructor(options: Client64Options) {
 *     super(new URL('./multimeter-server.mjs', import.meta.url), options);
 *   }
 *   static async create(options: Client64Options = {}): Promise<Multimeter> {
 *     const client = new Multimeter(options);
 *     try {
 *       client.serial = await client.request32<string>('serial'); // waits for the server
 *       return client;
 *     } catch (error) {
 *       await client.shutdownServer32(); // a failed start leaves nothing behind
 *       throw error;
 *     }
 *   }
 * }
 *
 * await using meter = await Multimeter.create({ serverOptions: { port: 'COM3' } });
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
  /**
   * Resolves when the server is up. Rejects with ProcessStartError when the server fails while starting
   * (at once, with its output), ConnectionTimeoutError when it is not ready within `timeout`, or
   * Server32RuntimeNotFoundError when the 32-bit runtime is not set up.
   */
  readonly ready: Promise<void>;

  #connection: Connection | undefined;
  #control: Connection | undefined;
  #process: Server32Process | undefined;
  #mocked: MockedServer | undefined;
  #reply: Server32StartReply | undefined;
  #port: number | undefined;
  #socketDir: string | undefined;
  #shutdown: Promise<Server32Output> | undefined;
  #failed = false;
  readonly #log: PartLog;

  /**
   * @param module32 - your Server32 module: a path (absolute, or relative to the working directory), a
   *   `file:` URL (`new URL('./my-server.mjs', import.meta.url)`), or a name found on `appendSysPath`
   * @param options - see {@link Client64Options}; what your server's constructor receives goes in
   *   `serverOptions`
   * @throws TypeError at once for a missing module name, an unknown option or an empty `server32Dir`
   */
  constructor(module32: string | URL, options: Client64Options = {}) {
    checkOptions(options);
    this.#log = partLog('loadlib', options.logger);
    this.module32 = checkModule32(module32);
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
    const kwargs: Record<string, unknown> = { ...options.serverOptions };

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
    this.ready.catch(() => {
      this.#failed = true;
    });
    if (this.#log.debugEnabled) this.#logStart(timeout, Object.keys(kwargs).length);
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
  static async proxy<T>(
    module32: string | URL,
    options: Client64Options = {},
  ): Promise<Server32Proxy<T, Client64>> {
    const client = new Client64(module32, options);
    await client.ready;
    return createServer32Proxy<T, Client64>(client);
  }

  /** The TCP port the server listens on (`transport: 'tcp'`), else undefined. */
  get port(): number | undefined {
    return this.#port;
  }

  /** The absolute path of the library the server loaded (once ready). */
  get lib32Path(): string | undefined {
    return this.#reply?.lib32Path;
  }

  /** The rpc connection `request32` calls go through: while the client is `'ready'`, else undefined. */
  get connection(): Connection | undefined {
    return this.state === 'ready' ? this.#connection : undefined;
  }

  /** Where the client is in its life (see {@link Client64State}). */
  get state(): Client64State {
    if (this.#failed) return 'failed';
    if (this.#shutdown !== undefined || this.#connection?.closed === true) return 'closed';
    return this.#connection === undefined ? 'starting' : 'ready';
  }

  /** `MyClient(module=/path/my-server.mjs, pid=1234, transport=pipe, state=ready)`. */
  toString(): string {
    const pid = this.serverPid ?? this.#process?.pid;
    return (
      `${this.constructor.name}(module=${this.module32}, pid=${pid ?? 'none'}, transport=${this.transport}, ` +
      `state=${this.state})`
    );
  }

  /** What `console.log(client)` shows: the same as {@link Client64.toString}. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
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
   *   ProcessStartError or ConnectionTimeoutError when the server failed to start (as {@link Client64.ready})
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
   * Sends one call. The Connection keeps its deadline (one timer for all calls in flight); the guard
   * keeps the program alive meanwhile and explains a failure; a timeout becomes request32's own.
   */
  #call<R>(
    connection: Connection,
    name: string,
    args: unknown[],
    timeout = this.rpcTimeout,
    signal?: AbortSignal,
    timeoutOption = 'the rpcTimeout option',
  ): Promise<R> {
    return connection.call('request32', [name, args], { timeout, signal }).catch((error: unknown) => {
      if (error instanceof ResponseTimeoutError)
        throw this.#timeoutError(name, error.timeoutMs, timeoutOption);
      throw error;
    }) as Promise<R>;
  }

  /** Brackets every call on this client's connections (see Server32Connection). */
  readonly #guard: CallGuard = {
    begin: () => this.#process?.ref(),
    end: () => this.#process?.unref(),
    explain: (error, call) => this.#explainCallFailure(error, describeGuardedCall(call)),
  };

  #timeoutError(name: string, ms: number, option: string): ResponseTimeoutError {
    return new ResponseTimeoutError(
      `request32('${name}') got no reply within ${ms} ms (${option}). The server keeps running and this ` +
        'client stays usable; a late reply is dropped. Raise the timeout if the call needs longer.',
      ms,
    );
  }

  async #explainCallFailure(error: unknown, what: string): Promise<unknown> {
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
          `${what} failed: the server was shut down (shutdownServer32() was called) before it replied`,
          { cause: error },
        );
      }
      // The pipe closed before the exit status is known: wait a moment for it, to say why the server died.
      const status = await this.#process?.waitForEnd(EXIT_STATUS_WAIT_MS);
      if (status !== undefined) {
        return new ConnectionClosedError(
          `${what} failed: the 32-bit server ${describeExit(status)}.` +
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
      if (this.#log.debugEnabled) {
        this.#log.debug(
          `the 32-bit server (pid ${process32.pid}) of ${this.module32} ` +
            (status === undefined
              ? `did not exit within ${killTimeout} ms: killing it`
              : describeExit(status)),
        );
      }
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

  #logStart(timeout: number, serverOptionCount: number): void {
    const started = performance.now();
    this.#log.debug(
      `starting ${this.module32} (transport ${this.transport}, timeout ${timeout} ms, ` +
        `${serverOptionCount} serverOptions)`,
    );
    this.ready.then(
      () =>
        this.#log.debug(
          `${this.module32} ready in ${elapsed(started)}: server pid ${this.serverPid}, Node.js ` +
            `${this.serverRuntime?.node} ${this.serverRuntime?.arch}, at ${this.address}, library ` +
            `${this.lib32Path ?? '(none)'}`,
        ),
      (error: unknown) =>
        this.#log.debug(
          `${this.module32} failed to start after ${elapsed(started)}: ${(error as Error).name} ` +
            `${(error as { code?: string }).code ?? ''}`.trimEnd(),
        ),
    );
  }

  async #start(
    request: Server32StartRequest,
    timeout: number,
    processOptions: Server32ProcessOptions,
  ): Promise<void> {
    // Loaded when needed: a server module imports farcall/loadlib too, and the 32-bit server never
    // spawns a server nor opens a socket to one — its start stays quick.
    const { Server32Process } = await import('./server32-process.js');
    const process32 = await Server32Process.spawn(processOptions);
    this.#process = process32;
    if (this.#log.debugEnabled) {
      this.#log.debug(`spawned the 32-bit server (pid ${process32.pid}) for ${this.module32}`);
    }
    process32.ref();
    const control = new Server32Connection(
      process32.channel,
      {
        authKey: process32.controlKey,
        side: 'client',
        peerName: 'the 32-bit server',
        maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
        log: this.#log,
        logName: server32LogName,
        handshakeTimeout: timeout,
        timeout: Number.POSITIVE_INFINITY,
      },
      this.#guard,
    );
    this.#control = control;
    let authKey: string | undefined;
    if (this.transport === 'tcp' || this.transport === 'unix') {
      const { randomBytes } = await import('node:crypto');
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
    const { connectTransport } = await import('../wire/transports.js');
    const stream = await connectTransport(address, { timeoutMs: timeout });
    this.#process?.adopt(stream);
    const connection = new Server32Connection(
      stream,
      {
        authKey,
        side: 'client',
        peerName: `the 32-bit server at ${address}`,
        maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
        log: this.#log,
        logName: server32LogName,
        handshakeTimeout: timeout,
        timeout: this.rpcTimeout,
      },
      this.#guard,
    );
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
    const exit = await process32.ended;
    return new ProcessStartError(
      reason + outputSection(process32.stdout, process32.stderr),
      { exitCode: exit.code, signal: exit.signal, stderr: stderrTail(process32.stderr) },
      { cause: outcome.kind === 'failed' ? outcome.error : exit.error },
    );
  }

  async #startMocked(request: Server32StartRequest, timeout: number): Promise<void> {
    const mocked = startMockedServer();
    this.#mocked = mocked;
    const connection = new Server32Connection(
      mocked.stream,
      {
        side: 'client',
        peerName: 'the mocked Server32',
        maxFrameBytes: SERVER32_MAX_MESSAGE_BYTES,
        log: this.#log,
        logName: server32LogName,
        timeout: this.rpcTimeout,
      },
      this.#guard,
    );
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
        throw new ProcessStartError(
          `The mocked server (host: null) could not start ${this.module32}: ${error instanceof RemoteError ? remoteMessage(error) : String(error)}`,
          { exitCode: null, signal: null, stderr: '' },
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

/** `request32('add')`, or the call on an object the server returned: for messages. */
function describeGuardedCall(call: GuardedCall): string {
  if (call.target === 0 && call.path.length === 1 && call.path[0] === 'request32') {
    return `request32('${String(call.args[0])}')`;
  }
  return `${describeCall(call.action, call.target, call.path)} (on an object the server returned)`;
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

/** The last 8 KiB of the server's stderr, as ProcessSpawner keeps for `ProcessStartError.stderr`. */
function stderrTail(stderr: string): string {
  return stderr.length <= 8192 ? stderr.trimEnd() : stderr.slice(-8192).trimEnd();
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

/** Unknown keys (a typo, or a server option outside `serverOptions`) and empty strings fail at once. */
function checkOptions(options: Client64Options): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Client64's options must be an object, got ${String(options)}`);
  }
  const known: readonly string[] = CLIENT64_OPTION_KEYS;
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = known.find((name) => closeTo(name, key));
    throw new TypeError(
      `Client64 has no option '${key}'${near === undefined ? '' : ` (did you mean '${near}'?)`}. Its options are ` +
        `${known.join(', ')}; what your Server32 subclass's constructor receives goes in serverOptions: ` +
        `new Client64(module32, { serverOptions: { ${key}: … } }).`,
    );
  }
  if (
    options.server32Dir !== undefined &&
    (typeof options.server32Dir !== 'string' || options.server32Dir === '')
  ) {
    throw new TypeError(
      `server32Dir must be the folder of the 32-bit runtime (a non-empty string), got ${describeValue(options.server32Dir)}. ` +
        'Leave it out to use $FARCALL_SERVER32_DIR or ~/.farcall/server32.',
    );
  }
  const serverOptions = options.serverOptions;
  if (
    serverOptions !== undefined &&
    (typeof serverOptions !== 'object' || serverOptions === null || Array.isArray(serverOptions))
  ) {
    throw new TypeError(
      `serverOptions must be an object of options for your server, got ${describeValue(serverOptions)}`,
    );
  }
}

/** The server module as given, checked: a non-empty path or name, or a URL. */
function checkModule32(module32: unknown): string {
  if (module32 instanceof URL) return module32.href;
  if (typeof module32 !== 'string' || module32.trim() === '') {
    throw new TypeError(
      `Client64 needs the server module: a path, a file: URL or a module name, got ${describeValue(module32)}. ` +
        "Fix: new Client64(new URL('./my-server.mjs', import.meta.url)).",
    );
  }
  return module32;
}

/** Whether `a` and `b` differ by at most two edits (a typo), ignoring case. */
function closeTo(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (Math.abs(x.length - y.length) > 2) return false;
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[y.length] <= 2;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
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
