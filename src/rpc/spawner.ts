/**
 * `ProcessSpawner`: starts a child Node.js process that hosts an RPCServer, and hands back its client
 * (pyacq's ProcessSpawner). The parent and the child talk over a private pipe (fd 3 of the child); the
 * child exits when that pipe closes, so it never outlives its parent.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { basename, extname, isAbsolute, resolve as resolvePath } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ConnectionTimeoutError, ProcessStartError } from '../errors.js';
import { resolveBuiltModule } from '../internal/module-path.js';
import { type Logger, partLog } from '../log/logger.js';
import { childChannel } from '../wire/transports.js';
import { formatRecord } from './child-log.js';
import { RPCClient } from './client.js';
import { AccessPolicy, type AccessPolicyOptions } from './policy.js';
import type { Remote } from './proxy.js';
import { SPAWNER_CONFIG_VARIABLE, type SpawnerChildConfig } from './spawner-config.js';
import { type ChildLogRecord, DEFAULT_LOG_RATE, readChildLogs } from './spawner-logs.js';
import { forwardLines, OutputTail } from './spawner-output.js';

/** Options of {@link ProcessSpawner.spawn}. */
export interface ProcessSpawnerOptions {
  /**
   * The module the child imports: a path (relative to `cwd`), a `file:` URL, or a package name. It exports
   * either `setup(server, context)` — called with the child's RPCServer, it publishes what it wants with
   * `server.set(name, object)` and may return a function the child calls before it exits — or, without a
   * `setup`, the objects to publish: every named export is published under its name (`default` as
   * `'default'`).
   */
  module: string | URL;
  /** Names the child in its output prefix (`[worker] …`) and in errors. Default: the module's file name. */
  name?: string;
  /**
   * Also listen here (e.g. `'tcp://127.0.0.1:0'`), so other processes can connect to the child; the real
   * address is {@link ProcessSpawner.address}. Default: none (only the parent reaches the child).
   */
  address?: string;
  /** Environment variables of the child, added to (and overriding) this process's. */
  env?: Record<string, string | undefined>;
  /** Node.js options of the child (e.g. `['--max-old-space-size=4096']`). Default: none. */
  execArgv?: readonly string[];
  /** Arguments the child sees in `process.argv.slice(2)` and in `context.args` of `setup`. */
  args?: readonly string[];
  /** The child's working directory, and the base of a relative `module`. Default: `process.cwd()`. */
  cwd?: string;
  /**
   * Milliseconds the child has to import its module, run `setup` and answer; then it is killed and
   * `spawn` rejects with `ConnectionTimeoutError`. Default 10 000.
   */
  timeout?: number;
  /** Default timeout (ms) of every call made through the client. Default 30 000. */
  callTimeout?: number;
  /** Milliseconds {@link ProcessSpawner.stop} waits for the child to exit before it kills it. Default 5000. */
  stopTimeout?: number;
  /** Which members of the published objects clients may reach. Default: safe (see AccessPolicy). */
  policy?: AccessPolicy | AccessPolicyOptions;
  /** A shared secret every client (the parent too) must know; useful with `address`. */
  authKey?: string;
  /** Module specifiers clients may `import()`. Default: none. */
  importable?: readonly string[];
  /** The largest frame either side accepts. Default 64 MiB. */
  maxFrameBytes?: number;
  /** Where the child's stdout lines go, prefixed with `[name] `; `null` drops them. Default `process.stdout`. */
  stdout?: Writable | null;
  /** Where the child's stderr lines go, prefixed with `[name] `; `null` drops them. Default `process.stderr`. */
  stderr?: Writable | null;
  /**
   * Receives this side's debug records: the child started (pid), its connection and handshake, every
   * call (name, id, duration, error class), how it exited. Never argument values or keys. The child logs
   * to its stderr with `NODE_DEBUG=farcall:rpc` (inherited through `env`). Default none.
   */
  logger?: Logger;
  /**
   * Receives each log record the child logs with `childLogger()` (pyacq's log server): level, time, pid,
   * name, source, message and fields, from the child's first line of code on, also while `spawn` is
   * still waiting for it. A throw is reported on `stderr` and the next records still come. `null` drops
   * the records. Default: each record is printed to `stderr` as a line,
   * `[name] info source: message {fields}`.
   *
   * @example
   * ```ts
   * const worker = await ProcessSpawner.spawn({
   *   module: './worker.js',
   *   onLog: (record) => myLogger.log(record.level, `${record.name}/${record.source}: ${record.message}`, record.fields),
   * });
   * ```
   */
  onLog?: ((record: ChildLogRecord) => void) | null;
  /**
   * Log records per second the parent takes from this child, at most (a burst of one second's worth at
   * once). A faster child's records wait in its queue, and beyond that queue's bound (1 MiB) are dropped
   * and counted in a `warn` record. Default 1000.
   */
  maxLogRate?: number;
}

/** How a child process ended. */
export interface ProcessExit {
  /** The exit code, or null if a signal ended the process. */
  code: number | null;
  /** The signal that ended the process, or null. */
  signal: NodeJS.Signals | null;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** The child's fd of its log pipe (fd 3 is the rpc pipe). */
const LOG_FD = 4;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/** After the child exits, how long to wait for the rest of its output before reporting. */
const OUTPUT_GRACE_MS = 500;

/**
 * A child Node.js process hosting an RPCServer, and the client connected to it.
 *
 * - {@link ProcessSpawner.spawn} resolves once the child has imported its module, run its `setup` and
 *   answered; it rejects at once with {@link ProcessStartError} (carrying the child's stderr) if the child
 *   fails before that, and with `ConnectionTimeoutError` (after killing it) if it is not ready in time.
 * - The child's stdout and stderr reach ours line by line, prefixed with its name: `[worker] ready`.
 * - What the child logs with `childLogger()` reaches the `onLog` option as records (bounded in size and
 *   rate), from the child's first line of code on.
 * - The child exits when the parent dies or closes the pipe: it never outlives its owner.
 * - {@link stop} shuts it down gracefully; {@link kill} ends it at once. Pending calls reject with
 *   `ConnectionClosedError` the moment the child is gone.
 *
 * @example
 * ```ts
 * // worker.js
 * export function setup(server) {
 *   server.set('calc', { add: (a, b) => a + b });
 * }
 *
 * // main.js
 * await using worker = await ProcessSpawner.spawn({ module: './worker.js' });
 * const calc = worker.get<{ add(a: number, b: number): number }>('calc');
 * console.log(await calc.add(1, 2)); // 3
 * ```
 */
export class ProcessSpawner implements AsyncDisposable {
  /** The child's name (the prefix of its output lines). */
  readonly name: string;
  /** The child's process id. */
  readonly pid: number;
  /** The client connected to the child's RPCServer over the private pipe. */
  readonly client: RPCClient;
  /** Where the child also listens for other processes (the `address` option, real port), or null. */
  readonly address: string | null;
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  readonly #stopTimeout: number;
  /** Resolves when the child's log pipe has ended and its records were delivered. */
  readonly #logsDone: Promise<void>;
  #exit: ProcessExit | undefined;
  #stopping: Promise<ProcessExit> | undefined;

  private constructor(
    name: string,
    child: ChildProcess,
    client: RPCClient,
    exited: Promise<ProcessExit>,
    stopTimeout: number,
    logsDone: Promise<void>,
  ) {
    this.name = name;
    this.#child = child;
    this.pid = child.pid as number;
    this.client = client;
    this.address = client.connection.peerAddress;
    this.exited = exited;
    this.#stopTimeout = stopTimeout;
    this.#logsDone = logsDone;
    void exited.then((exit) => {
      this.#exit = exit;
    });
  }

  /**
   * Starts a child process hosting an RPCServer that publishes what `options.module` provides, and
   * connects to it.
   *
   * @throws {@link ProcessStartError} at once when the child fails before it is ready (the module cannot
   *   be imported, `setup` throws, the process exits), with the child's stderr in the message;
   *   `ConnectionTimeoutError` when it is not ready within `options.timeout` (the child is killed).
   * @example
   * ```ts
   * const worker = await ProcessSpawner.spawn({ name: 'daq', module: './daq.js', timeout: 5000 });
   * console.log(`daq runs as pid ${worker.pid}`);
   * await worker.stop();
   * ```
   */
  static async spawn(options: ProcessSpawnerOptions): Promise<ProcessSpawner> {
    const cwd = options.cwd ?? process.cwd();
    const moduleSpecifier = resolveModule(options.module, cwd);
    const name = options.name ?? defaultName(options.module);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    const config: SpawnerChildConfig = {
      name,
      module: moduleSpecifier,
      address: options.address,
      policy: options.policy === undefined ? undefined : policyOptions(options.policy),
      authKey: options.authKey,
      importable: options.importable,
      maxFrameBytes: options.maxFrameBytes,
      callTimeout: options.callTimeout,
      args: options.args ?? [],
      logFd: LOG_FD,
    };
    const entry = resolveBuiltModule(import.meta.url, './spawner-main.js');
    const startedAt = performance.now();
    // stdin is the child's lifeline until its rpc pipe is served: it exits when stdin ends (we died).
    const child = spawn(process.execPath, [...(options.execArgv ?? []), entry, ...(options.args ?? [])], {
      cwd,
      env: { ...process.env, ...options.env, [SPAWNER_CONFIG_VARIABLE]: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const log = partLog('rpc', options.logger);
    if (log.debugEnabled) {
      log.debug(`spawned child '${name}' (pid ${child.pid ?? 'none'}, module ${moduleSpecifier})`);
      child.once('exit', (code, signal) =>
        log.debug(`child '${name}' (pid ${child.pid}) exited (${signal ?? `code ${code}`})`),
      );
    }
    // Without these, an EPIPE on the lifeline or a second 'error' event would crash the parent.
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    const prefix = `[${name}] `;
    const stderrTarget = options.stderr === undefined ? process.stderr : options.stderr;
    const stderrTail = new OutputTail(child.stderr as NonNullable<ChildProcess['stderr']>);
    const logsDone = readChildLogs(child.stdio[LOG_FD] as Readable, {
      name,
      pid: child.pid ?? 0,
      rate: options.maxLogRate ?? DEFAULT_LOG_RATE,
      deliver: logDelivery(options.onLog, stderrTarget, prefix),
    });
    const outputDone = Promise.all([
      logsDone,
      forwardLines(
        child.stdout as NonNullable<ChildProcess['stdout']>,
        options.stdout === undefined ? process.stdout : options.stdout,
        prefix,
      ),
      forwardLines(child.stderr as NonNullable<ChildProcess['stderr']>, stderrTarget, prefix),
    ]);
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => {
        if (child.pid === undefined) resolve({ code: null, signal: null });
      });
    });
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

    const describe = `the child process '${name}' (module ${String(options.module)})`;
    const startFailure = async (exit: ProcessExit): Promise<ProcessStartError> => {
      await Promise.race([outputDone, delay(OUTPUT_GRACE_MS)]);
      const stderr = stderrTail.text.trimEnd();
      const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      return new ProcessStartError(
        `${capitalize(describe)} ${how} before it was ready` +
          (stderr.length > 0 ? `. Its stderr:\n${stderr}` : ' (it wrote nothing to stderr)'),
        { exitCode: exit.code, signal: exit.signal, stderr },
      );
    };

    let connecting: Promise<RPCClient>;
    try {
      connecting = RPCClient.fromStream(childChannel(child, 3), `${name} (pid ${child.pid})`, {
        // Our own deadline below decides; the handshake's is only a backstop.
        connectTimeout: timeout + 5_000,
        timeout: options.callTimeout,
        authKey: options.authKey,
        maxFrameBytes: options.maxFrameBytes,
        logger: options.logger,
      });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    let timer: NodeJS.Timeout | undefined;
    type Outcome =
      | { kind: 'ready'; client: RPCClient }
      | { kind: 'failed'; error: unknown }
      | { kind: 'exited'; exit: ProcessExit }
      | { kind: 'spawn-error'; error: Error }
      | { kind: 'timeout' };
    const outcome = await Promise.race<Outcome>([
      connecting.then(
        (client) => ({ kind: 'ready', client }),
        (error: unknown) => ({ kind: 'failed', error }),
      ),
      exited.then((exit) => ({ kind: 'exited', exit })),
      spawnError.then((error) => ({ kind: 'spawn-error', error })),
      new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), timeout);
      }),
    ]);
    clearTimeout(timer);
    switch (outcome.kind) {
      case 'ready':
        return new ProcessSpawner(
          name,
          child,
          outcome.client,
          exited,
          options.stopTimeout ?? DEFAULT_STOP_TIMEOUT_MS,
          logsDone,
        );
      case 'exited':
        void connecting.then(
          (client) => client.close(),
          () => {},
        );
        throw await startFailure(outcome.exit);
      case 'spawn-error':
        throw new ProcessStartError(`Could not start ${describe}: ${outcome.error.message}`, {
          exitCode: null,
          signal: null,
          stderr: '',
        });
      case 'failed': {
        // The pipe closed first: the child is dying; report how it ended, with its stderr.
        const exit = await Promise.race([exited, delay(OUTPUT_GRACE_MS).then(() => undefined)]);
        if (exit !== undefined) throw await startFailure(exit);
        // Still running but its pipe failed (a handshake it got wrong): the same situation for the caller.
        child.kill('SIGKILL');
        const stderr = stderrTail.text.trimEnd();
        throw new ProcessStartError(
          `${capitalize(describe)} failed before it was ready: ${errorMessage(outcome.error)}. It was killed` +
            (stderr.length > 0 ? `. Its stderr:\n${stderr}` : ''),
          { exitCode: null, signal: null, stderr },
          { cause: outcome.error },
        );
      }
      case 'timeout': {
        void connecting.then(
          (client) => client.close(),
          () => {},
        );
        child.kill('SIGKILL');
        await exited;
        const elapsed = Math.round(performance.now() - startedAt);
        const stderr = stderrTail.text.trimEnd();
        throw new ConnectionTimeoutError(
          `${capitalize(describe)} was not ready within ${timeout} ms (${elapsed} ms passed), so it was killed: ` +
            'its module or setup() may be waiting for something; raise the spawner timeout if it needs longer' +
            (stderr.length > 0 ? `. Its stderr:\n${stderr}` : ''),
          timeout,
        );
      }
    }
  }

  /** True until the child has exited. */
  get running(): boolean {
    return this.#exit === undefined;
  }

  /**
   * A proxy of the object the child published under `name` (the same as `spawner.client.get(name)`).
   * @example
   * ```ts
   * const sum = await worker.get<Calculator>('calc').add(1, 2);
   * ```
   */
  get<T = unknown, F extends boolean = false>(name: string): Remote<T, F> {
    return this.client.get<T, F>(name);
  }

  /**
   * Stops the child gracefully (idempotent): closes the pipe, on which the child runs the cleanup its
   * `setup` returned, closes its server (telling its other clients) and exits; if it has not exited after
   * `timeout` ms (default the `stopTimeout` option), it is killed. Resolves with how it exited, once the
   * records the child logged have reached `onLog` (waiting at most half a second for them).
   */
  stop(timeout = this.#stopTimeout): Promise<ProcessExit> {
    this.#stopping ??= (async () => {
      if (this.#exit !== undefined) return this.#exit;
      await this.client.close();
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        this.exited,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeout);
        }),
      ]);
      clearTimeout(timer);
      if (exit === undefined) return this.kill();
      // What the child logged before it exited reaches onLog before stop() resolves (within a grace).
      await Promise.race([this.#logsDone, delay(OUTPUT_GRACE_MS)]);
      return exit;
    })();
    return this.#stopping;
  }

  /**
   * Ends the child at once with `signal` (default SIGKILL); pending calls reject with
   * ConnectionClosedError. Resolves with how it exited.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ProcessExit> {
    if (this.#exit === undefined) this.#child.kill(signal);
    const exit = await this.exited;
    await this.client.close();
    return exit;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Where a child's log records go: `onLog`, or printed as lines on `stderr` when there is none. */
function logDelivery(
  onLog: ((record: ChildLogRecord) => void) | null | undefined,
  stderr: Writable | null,
  prefix: string,
): (record: ChildLogRecord) => void {
  const print = (text: string): void => {
    if (stderr !== null && !stderr.destroyed && !stderr.writableEnded) stderr.write(text);
  };
  if (onLog === null) return () => {};
  if (onLog === undefined) return (record) => print(prefix + formatRecord(record));
  return (record) => {
    try {
      onLog(record);
    } catch (error) {
      print(
        `${prefix}onLog threw on a log record: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
  };
}

function resolveModule(module: string | URL, cwd: string): string {
  if (module instanceof URL) return module.href;
  if (/^(file|data|node):/.test(module)) return module;
  if (isAbsolute(module) || module.startsWith('.')) return pathToFileURL(resolvePath(cwd, module)).href;
  return module; // a package name: the child resolves it
}

function defaultName(module: string | URL): string {
  const text = module instanceof URL ? module.pathname : module;
  const file = basename(text);
  return file.slice(0, file.length - extname(file).length) || 'child';
}

function policyOptions(policy: AccessPolicy | AccessPolicyOptions): AccessPolicyOptions {
  if (!(policy instanceof AccessPolicy)) return policy;
  return {
    exposedPrefix: policy.exposedPrefix,
    allowPublicAttrs: policy.allowPublicAttrs,
    allowSetAttr: policy.allowSetAttr,
    allowDelAttr: policy.allowDelAttr,
    allowAll: policy.allowAll,
    allowBuiltinMethods: policy.allowBuiltinMethods,
    includeRemoteStack: policy.includeRemoteStack,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
