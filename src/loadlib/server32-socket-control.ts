/**
 * The control channel of a 32-bit server that cannot be given a pipe on fd 3, and its output files.
 *
 * Windows Node.js under Wine cannot use a Linux pipe (its stdout to one fails with `EBADF`), and between
 * Windows processes under Wine a piped stdout hangs; files and sockets work everywhere. So such a server
 * is started with its stdout and stderr going to two files in a private temporary folder, and it
 * connects back to a listener of the client — a TCP port on loopback (Linux → Wine) or a named pipe
 * (Windows) — that accepts exactly one connection and then stops listening. The connection proves
 * itself with a random per-server key (the rpc handshake's HMAC challenge), which the server gets in its
 * environment (readable by this user only): another local process that connects first only makes the
 * start fail, it never drives the library. The server lives exactly as long as that connection, as it
 * does with the pipe.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { makeOutputFolder, removeOrphanedOutputFolders } from './output-folders.js';

/** The environment variable that tells the server where to connect (`tcp://127.0.0.1:40123` or a pipe path). */
export const CONTROL_ADDRESS_VARIABLE = 'FARCALL_SERVER32_CONTROL';
/** The environment variable that carries the per-server key of the control connection. */
export const CONTROL_KEY_VARIABLE = 'FARCALL_SERVER32_CONTROL_KEY';

/** The most output kept per stream: the newest bytes win (as for piped output). */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Where the client listens for its server: TCP on loopback, or a Windows named pipe. */
export type ControlListen = { kind: 'tcp' } | { kind: 'pipe' };

/** A server started with a socket control channel. */
export interface SocketControlledChild {
  child: ChildProcess;
  /** The control stream: writable at once, connected when the server connects. */
  channel: ControlChannel;
  /** The key the server proves itself with (the Connection's `authKey`). */
  controlKey: string;
  /** Where the client listened: `tcp://127.0.0.1:40123` or `\\.\pipe\farcall-server32-…`. */
  address: string;
  /** The server's stdout and stderr files. */
  output: OutputFiles;
}

/**
 * Listens, then starts `command args` with the control address and key in its environment and its
 * output going to files.
 */
export async function spawnWithSocketControl(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  listen: ControlListen,
): Promise<SocketControlledChild> {
  const controlKey = randomBytes(32).toString('hex');
  const channel = new ControlChannel();
  const server = net.createServer((socket) => {
    if (channel.attached) {
      socket.destroy();
      return;
    }
    channel.attach(socket);
    // One connection only: nobody else gets in once the server is here.
    server.close();
  });
  channel.listener = server;
  let address: string;
  if (listen.kind === 'pipe') {
    const path = `\\\\.\\pipe\\farcall-server32-${randomBytes(12).toString('hex')}`;
    await listenOn(server, { path });
    address = path;
  } else {
    await listenOn(server, { host: '127.0.0.1', port: 0 });
    address = `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }
  const output = new OutputFiles();
  let child: ChildProcess;
  try {
    child = spawn(command, [...args], {
      env: { ...env, [CONTROL_ADDRESS_VARIABLE]: address, [CONTROL_KEY_VARIABLE]: controlKey },
      stdio: ['ignore', output.stdoutFd, output.stderrFd],
      windowsHide: true,
    });
  } catch (error) {
    server.close();
    output.closeFds();
    await output.finish();
    throw error;
  } finally {
    output.closeFds();
  }
  child.once('exit', () => {
    // A server that never connected: the client's Connection sees the channel close.
    if (!channel.attached) channel.destroy();
    server.close();
  });
  child.once('error', () => {
    if (!channel.attached) channel.destroy();
    server.close();
  });
  return { child, channel, controlKey, address, output };
}

/**
 * The server's end: connects to the address in {@link CONTROL_ADDRESS_VARIABLE}, and returns the
 * stream and the key (both variables are removed from the environment, so the user's server module
 * and the processes it starts do not see them). `undefined` when the variable is not set (the pipe on fd 3).
 */
export async function connectControl(): Promise<{ stream: Duplex; key: string | undefined } | undefined> {
  const address = process.env[CONTROL_ADDRESS_VARIABLE];
  const key = process.env[CONTROL_KEY_VARIABLE];
  delete process.env[CONTROL_ADDRESS_VARIABLE];
  delete process.env[CONTROL_KEY_VARIABLE];
  if (address === undefined || address === '') return undefined;
  const tcp = /^tcp:\/\/([^:]+):(\d+)$/.exec(address);
  const socket = tcp ? net.connect({ host: tcp[1], port: Number(tcp[2]) }) : net.connect({ path: address });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve();
    });
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  return { stream: socket, key };
}

/**
 * A two-way stream whose far end arrives later: what is written before the server connects waits, and
 * everything flows once {@link ControlChannel.attach} is called.
 */
export class ControlChannel extends Duplex {
  #socket: net.Socket | undefined;
  #queue: { chunk: Buffer; callback: (error?: Error | null) => void }[] = [];
  #ended = false;
  #referenced = true;
  /** The listener waiting for the server; governed by ref/unref until the server connects. */
  listener: net.Server | undefined;

  /** Whether the server has connected. */
  get attached(): boolean {
    return this.#socket !== undefined;
  }

  /** Connects this stream to the server's socket. */
  attach(socket: net.Socket): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    if (!this.#referenced) socket.unref();
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.once('end', () => this.push(null));
    socket.once('error', (error) => this.destroy(error));
    socket.once('close', () => this.destroy());
    for (const { chunk, callback } of this.#queue.splice(0)) socket.write(chunk, callback);
    if (this.#ended) socket.end();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#socket !== undefined) this.#socket.write(chunk, callback);
    else this.#queue.push({ chunk, callback });
  }

  override _read(): void {
    this.#socket?.resume();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended = true;
    this.#socket?.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket?.destroy();
    this.listener?.close();
    const closed = error ?? new Error('the 32-bit server closed its control connection');
    for (const { callback: queued } of this.#queue.splice(0)) queued(closed);
    callback(error);
  }

  /** Keeps the event loop alive on this channel (a call is in flight). */
  ref(): this {
    this.#referenced = true;
    this.#socket?.ref();
    this.listener?.ref();
    return this;
  }

  /** Lets the event loop end although this channel is open. */
  unref(): this {
    this.#referenced = false;
    this.#socket?.unref();
    this.listener?.unref();
    return this;
  }
}

/**
 * The server's stdout and stderr files, in a private folder. Off Windows the folder is removed as soon
 * as the server has its file descriptors (this process reads through its own), so nothing is left on
 * disk even when this process is killed; on Windows, where an open file cannot be removed, once the
 * server has ended — and, when this process was killed first, by the next start of such a server on the
 * machine (see output-folders.ts).
 */
export class OutputFiles {
  readonly #dir: string;
  stdoutFd: number;
  stderrFd: number;
  /** This process's read descriptors, once the folder is gone (off Windows). */
  #readers: { stdout: number; stderr: number } | undefined;
  #final: { stdout: string; stderr: string } | undefined;

  constructor() {
    if (process.platform === 'win32') removeOrphanedOutputFolders(tmpdir());
    this.#dir = makeOutputFolder(tmpdir());
    this.stdoutFd = openSync(join(this.#dir, 'stdout.txt'), 'w');
    this.stderrFd = openSync(join(this.#dir, 'stderr.txt'), 'w');
  }

  /** Closes this process's copies of the write descriptors (the child has its own). */
  closeFds(): void {
    if (process.platform !== 'win32' && this.stdoutFd >= 0 && this.#readers === undefined) {
      try {
        this.#readers = {
          stdout: openSync(join(this.#dir, 'stdout.txt'), 'r'),
          stderr: openSync(join(this.#dir, 'stderr.txt'), 'r'),
        };
        rmSync(this.#dir, { recursive: true, force: true });
      } catch {
        // read by path, removed in finish()
      }
    }
    for (const fd of [this.stdoutFd, this.stderrFd]) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.stdoutFd = -1;
    this.stderrFd = -1;
  }

  /** What the server wrote on stdout so far (its last MiB). */
  get stdout(): string {
    return this.#final?.stdout ?? this.#read('stdout');
  }

  /** What the server wrote on stderr so far (its last MiB). */
  get stderr(): string {
    return this.#final?.stderr ?? this.#read('stderr');
  }

  #read(which: 'stdout' | 'stderr'): string {
    const fd = this.#readers?.[which];
    if (fd !== undefined) return readTail(fd);
    let opened: number;
    try {
      opened = openSync(join(this.#dir, `${which}.txt`), 'r');
    } catch {
      return '';
    }
    try {
      return readTail(opened);
    } finally {
      closeSync(opened);
    }
  }

  /**
   * Reads both files one last time and removes what is left (idempotent; never rejects). Windows cannot
   * remove a file another process still has open, and a crashed server's handles close a moment after
   * its exit is reported: it retries for up to two seconds.
   */
  async finish(): Promise<void> {
    if (this.#final === undefined) this.#final = { stdout: this.stdout, stderr: this.stderr };
    if (this.#readers !== undefined) {
      closeSync(this.#readers.stdout);
      closeSync(this.#readers.stderr);
      this.#readers = undefined;
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        rmSync(this.#dir, { recursive: true, force: true });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

function readTail(fd: number): string {
  try {
    const stats = fstatSync(fd);
    const length = Math.min(stats.size, MAX_OUTPUT_BYTES);
    const buffer = Buffer.alloc(length);
    const n = readSync(fd, buffer, 0, length, stats.size - length);
    const text = buffer.subarray(0, n).toString('utf8');
    return stats.size > length ? `[${stats.size - length} earlier bytes dropped]\n${text}` : text;
  } catch {
    return '';
  }
}

function listenOn(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
