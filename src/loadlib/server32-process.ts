/**
 * The 32-bit server process of one `Client64`: spawning the 32-bit Node.js on `server32-main`, the
 * private pipe on fd 3, capturing its stdout and stderr, and knowing how and why it ended.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { delimiter } from 'node:path';
import type { Duplex } from 'node:stream';
import { resolveBuiltModule } from '../internal/module-path.js';
import { childChannel } from '../wire/transports.js';
import { findServer32Runtime } from './runtime.js';
import type { ExitStatus } from './server32-exit.js';
import { type OutputFiles, spawnWithSocketControl } from './server32-socket-control.js';
import { findWineServer32Runtime, toWinePath } from './wine.js';

export { describeExit, type ExitStatus } from './server32-exit.js';

/** Where the runtime is and what the server needs in its environment. */
export interface Server32ProcessOptions {
  server32Dir?: string | undefined;
  /** Folders added to PATH and to the library search path (LD_LIBRARY_PATH / the loader's --library-path). */
  appendEnvironPath: readonly string[];
  /** Windows DLL folders: added to PATH. */
  addDllDirectory: readonly string[];
  /** Module folders: added to NODE_PATH (CommonJS `require` in the server module). */
  appendSysPath: readonly string[];
  /**
   * `'native'` (default): the 32-bit Node.js of this platform. `'wine'`: 32-bit Windows Node.js under
   * Wine (Linux), see `./wine.ts`.
   */
  runtime?: 'native' | 'wine' | undefined;
  /** The Wine folder (`runtime: 'wine'`); default `$FARCALL_WINE_DIR`, else `~/.farcall/wine`. */
  wineDir?: string | undefined;
}

/**
 * The export condition the 32-bit server runs under: there, `farcall/loadlib` is `server32-bundle`, the
 * module the server program itself comes from, so the server module's import of it loads nothing more.
 */
export const SERVER32_CONDITION = 'farcall-server32';

/** What the 32-bit node runs: its flags and the server program. */
function serverProgram(main: string): string[] {
  return [`--conditions=${SERVER32_CONDITION}`, main];
}

/** The most output kept per stream: the newest bytes win. */
const MAX_OUTPUT_CHARS = 1024 * 1024;

/** Keeps the last {@link MAX_OUTPUT_CHARS} characters written to a stream. */
class OutputTail {
  #text = '';
  #dropped = 0;

  append(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > MAX_OUTPUT_CHARS) {
      this.#dropped += this.#text.length - MAX_OUTPUT_CHARS;
      this.#text = this.#text.slice(-MAX_OUTPUT_CHARS);
    }
  }

  get text(): string {
    return this.#dropped > 0 ? `[${this.#dropped} earlier characters dropped]\n${this.#text}` : this.#text;
  }
}

/**
 * A running (or ended) 32-bit server process. The client's event loop is kept alive by it only while
 * the client {@link Server32Process.ref}s it (a call is in flight): an idle server never keeps a
 * program from exiting, and the server exits when the program does (its pipe closes).
 */
export class Server32Process {
  readonly child: ChildProcess;
  /** The private two-way pipe on fd 3, or the socket control channel (Windows, Wine). */
  readonly channel: Duplex;
  /** The key the control channel's peer proves itself with; undefined for the pipe on fd 3. */
  readonly controlKey: string | undefined;
  /** Where the control channel was made: `pipe:fd3`, a named pipe (Windows) or `tcp://127.0.0.1:…` (Wine). */
  readonly controlAddress: string;
  readonly #files: OutputFiles | undefined;
  /** Resolves when the process has exited and its output has been read (never rejects). */
  readonly ended: Promise<ExitStatus>;
  readonly #stdout = new OutputTail();
  readonly #stderr = new OutputTail();
  #status: ExitStatus | undefined;
  #exited!: (status: ExitStatus) => void;
  readonly #exitSeen: Promise<ExitStatus>;
  #refs = 0;
  /** More streams to this server (a TCP or Unix socket) that keep the program alive only during calls. */
  readonly #extraStreams: Duplex[] = [];

  private constructor(
    child: ChildProcess,
    control?: { channel: Duplex; key: string; output: OutputFiles; address: string } | undefined,
  ) {
    this.child = child;
    this.channel = control?.channel ?? childChannel(child, 3);
    this.controlKey = control?.key;
    this.controlAddress = control?.address ?? 'pipe:fd3';
    this.#files = control?.output;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.#stdout.append(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.#stderr.append(chunk));
    this.#exitSeen = new Promise((resolve) => {
      this.#exited = resolve;
    });
    child.once('exit', (code, signal) => this.#exited({ code, signal }));
    child.once('error', (error) => this.#exited({ code: null, signal: null, error }));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.ended = this.#exitSeen.then(async (status) => {
      // 'close' follows 'exit' once stdout and stderr are drained; a grandchild holding them open must
      // not hold us up.
      await Promise.race([closed, delay(500)]);
      await this.#files?.finish();
      this.#status = status;
      this.unrefAll();
      return status;
    });
    this.unrefAll();
  }

  /**
   * Starts the 32-bit Node.js on the server program.
   * @throws Server32RuntimeNotFoundError when the runtime is not set up (the message gives the command)
   */
  static async spawn(options: Server32ProcessOptions): Promise<Server32Process> {
    if (options.runtime === 'wine') return Server32Process.#spawnWine(options);
    const env: NodeJS.ProcessEnv = { ...process.env };
    const add = (name: string, dirs: readonly string[]): void => {
      if (dirs.length === 0) return;
      const separator = name === 'PATH' || name === 'NODE_PATH' ? delimiter : ':';
      env[name] = [env[name], ...dirs].filter((part) => part !== undefined && part !== '').join(separator);
    };
    add('PATH', [...options.appendEnvironPath, ...options.addDllDirectory]);
    if (process.platform !== 'win32') add('LD_LIBRARY_PATH', options.appendEnvironPath);
    add('NODE_PATH', options.appendSysPath);
    // koffi runs `fn.async` calls on libuv's pool: more threads let more slow native calls overlap.
    env.UV_THREADPOOL_SIZE ??= '16';
    // msgpackr-extract has no ia32 build: without this, the server's msgpackr looks for it at every start.
    env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true';
    const runtime = findServer32Runtime({ server32Dir: options.server32Dir, env });
    const main = resolveBuiltModule(import.meta.url, './server32-main.js');
    if (process.platform === 'win32') {
      // Pipes between Windows processes hang under Wine; a named pipe and files work (see the control module).
      const spawned = await spawnWithSocketControl(
        runtime.command,
        [...runtime.args, ...serverProgram(main)],
        runtime.env,
        { kind: 'pipe' },
      );
      return new Server32Process(spawned.child, {
        channel: spawned.channel,
        key: spawned.controlKey,
        output: spawned.output,
        address: spawned.address,
      });
    }
    const child = spawn(runtime.command, [...runtime.args, ...serverProgram(main)], {
      env: runtime.env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    return new Server32Process(child);
  }

  /** Linux → 32-bit Windows Node.js under Wine: a TCP control channel on loopback, output to files. */
  static async #spawnWine(options: Server32ProcessOptions): Promise<Server32Process> {
    const runtime = findWineServer32Runtime({
      wineDir: options.wineDir,
      libraryPath: [...options.appendEnvironPath, ...options.addDllDirectory],
    });
    const env = runtime.env;
    if (options.appendSysPath.length > 0)
      env.NODE_PATH = [env.NODE_PATH, ...options.appendSysPath.map(toWinePath)].join(';');
    env.UV_THREADPOOL_SIZE ??= '16';
    const main = toWinePath(resolveBuiltModule(import.meta.url, './server32-main.js'));
    const spawned = await spawnWithSocketControl(
      runtime.command,
      [...runtime.args, ...serverProgram(main)],
      env,
      {
        kind: 'tcp',
      },
    );
    return new Server32Process(spawned.child, {
      channel: spawned.channel,
      key: spawned.controlKey,
      output: spawned.output,
      address: spawned.address,
    });
  }

  /** The process id (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How it ended, once it has. */
  get status(): ExitStatus | undefined {
    return this.#status;
  }

  /** Everything the server wrote on stdout (the last MiB). */
  get stdout(): string {
    if (this.#files !== undefined) return this.#files.stdout;
    return this.#stdout.text;
  }

  /** Everything the server wrote on stderr (the last MiB). */
  get stderr(): string {
    if (this.#files !== undefined) return this.#files.stderr;
    return this.#stderr.text;
  }

  /**
   * Waits up to `ms` for the process to end; resolves with its status, or undefined if it has not.
   * Keeps this program alive meanwhile: someone is waiting for the answer (a caller's `catch`).
   */
  async waitForEnd(ms: number): Promise<ExitStatus | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` (default SIGKILL) unless the process has already exited. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Adds a socket to this server to what {@link ref} and {@link unref} govern. */
  adopt(stream: Duplex): void {
    this.#extraStreams.push(stream);
    if (this.#refs === 0) (stream as Duplex & { unref?: () => void }).unref?.();
  }

  /** Keeps this program's event loop alive (a call is in flight); counted. */
  ref(): void {
    if (this.#refs++ === 0 && this.#status === undefined) {
      this.child.ref();
      for (const stream of [this.channel, ...this.#extraStreams])
        (stream as Duplex & { ref?: () => void }).ref?.();
    }
  }

  /** Undoes one {@link ref}. */
  unref(): void {
    if (this.#refs > 0 && --this.#refs === 0) this.unrefAll();
  }

  private unrefAll(): void {
    this.child.unref();
    for (const stream of [this.channel, this.child.stdout, this.child.stderr, ...this.#extraStreams]) {
      (stream as (Duplex & { unref?: () => void }) | null)?.unref?.();
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
  });
}
