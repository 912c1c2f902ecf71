import type { ChildProcess } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { Duplex, type Readable, type Writable } from 'node:stream';
import * as tls from 'node:tls';
import { ConnectError, ConnectionTimeoutError } from '../errors.js';
import { type Logger, partLog } from '../log/logger.js';
import { type Address, formatAddress, toAddress } from './address.js';

/** Options of {@link connectTransport}. */
export interface ConnectOptions {
  /** Give up after this many milliseconds with a {@link ConnectionTimeoutError}. Default 10 000. */
  timeoutMs?: number;
  /** Cancels the attempt. */
  signal?: AbortSignal;
  /** TLS options for `tls://` addresses (certificate authorities, `servername`, `checkServerIdentity`…). */
  tls?: tls.ConnectionOptions;
  /**
   * Receives debug records (connected from which local port, or why not). `NODE_DEBUG=farcall:wire`
   * writes them to stderr. Default none.
   */
  logger?: Logger;
}

/** A listening server; `address` is the real address (port 0 replaced by the port the system chose). */
export interface Listener extends AsyncDisposable {
  /** The address clients connect to, e.g. `tcp://127.0.0.1:40123`. */
  readonly address: string;
  /** Stops accepting connections and destroys the open ones (idempotent). */
  close(): Promise<void>;
}

/** Options of {@link listenTransport}. */
export interface ListenOptions {
  /** Key and certificate (and any other TLS server option) for `tls://` addresses. */
  tls?: tls.TlsOptions;
  /**
   * Receives debug records (listening, each accepted connection's remote address, TLS handshakes that
   * failed, closed). `NODE_DEBUG=farcall:wire` writes them to stderr. Default none.
   */
  logger?: Logger;
}

/**
 * Opens a byte stream to `address`: a TCP, TLS or Unix socket (a named pipe on Windows), with Nagle's
 * algorithm off.
 *
 * @throws {@link ConnectionTimeoutError} when the connection is not made within `timeoutMs`;
 *   {@link ConnectError} when it is refused or fails, with a message that names the address and the likely fix.
 * @example
 * ```ts
 * const socket = await connectTransport('tcp://127.0.0.1:9000', { timeoutMs: 2000 });
 * ```
 */
export function connectTransport(address: string | Address, options: ConnectOptions = {}): Promise<Duplex> {
  const target = toAddress(address);
  const text = formatAddress(target);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = partLog('wire', options.logger);
  return new Promise<Duplex>((res, rej) => {
    const resolve = (socket: net.Socket): void => {
      if (log.debugEnabled) log.debug(`connected to ${text} from local port ${socket.localPort ?? '(none)'}`);
      res(socket);
    };
    const reject = (error: Error): void => {
      if (log.debugEnabled) log.debug(`connecting to ${text} failed: ${error.name}: ${error.message}`);
      rej(error);
    };
    if (options.signal?.aborted) {
      reject(new ConnectError(`Connecting to ${text} was aborted`, { cause: options.signal.reason }));
      return;
    }
    let socket: net.Socket;
    const connectEvent = target.kind === 'tls' ? 'secureConnect' : 'connect';
    if (target.kind === 'unix') socket = net.connect({ path: target.path });
    else if (target.kind === 'tcp') socket = net.connect({ host: target.host, port: target.port });
    else
      socket = tls.connect({
        host: target.host,
        port: target.port,
        servername: serverName(target.host),
        ...options.tls,
      });

    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off(connectEvent, onConnect);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = (): void => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      cleanup();
      socket.destroy();
      reject(describeConnectFailure(text, error));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(new ConnectError(`Connecting to ${text} was aborted`, { cause: options.signal?.reason }));
    };
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(
        new ConnectionTimeoutError(
          `Could not connect to ${text} within ${timeoutMs} ms: make sure the server is running and reachable, or raise the timeout`,
          timeoutMs,
        ),
      );
    }, timeoutMs);
    socket.once(connectEvent, onConnect);
    socket.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Listens on `address` (loopback unless the address names another host) and hands every accepted
 * stream to `onConnection`, with Nagle's algorithm off. A stale Unix socket file left by a dead server is
 * replaced; one that a live server still answers on is an error.
 *
 * @example
 * ```ts
 * await using listener = await listenTransport('tcp://127.0.0.1:0', (stream) => stream.pipe(stream));
 * console.log(listener.address); // tcp://127.0.0.1:40123
 * ```
 */
export async function listenTransport(
  address: string | Address,
  onConnection: (stream: Duplex) => void,
  options: ListenOptions = {},
): Promise<Listener> {
  const target = toAddress(address);
  const log = partLog('wire', options.logger);
  const open = new Set<net.Socket>();
  const accept = (socket: net.Socket): void => {
    open.add(socket);
    if (log.debugEnabled) {
      const from = target.kind === 'unix' ? 'a local socket' : remoteOf(socket);
      log.debug(`accepted a connection from ${from} on ${formatAddress(target)}`);
      socket.once('close', () => log.debug(`the connection from ${from} closed`));
    }
    socket.once('close', () => open.delete(socket));
    socket.setNoDelay?.(true);
    onConnection(socket);
  };
  let server: net.Server;
  if (target.kind === 'tls') {
    if (!options.tls)
      throw new ConnectError(
        `Listening on ${formatAddress(target)} needs a key and certificate (options.tls)`,
      );
    server = tls.createServer(options.tls, accept);
    if (log.debugEnabled) {
      server.on('tlsClientError', (error, socket) =>
        log.debug(`TLS handshake with ${remoteOf(socket)} failed: ${error.message}`),
      );
    }
  } else {
    server = net.createServer(accept);
  }
  if (target.kind === 'unix') await listenUnix(server, target.path);
  else await listenOn(server, { host: target.host, port: target.port }, formatAddress(target));

  const real: Address =
    target.kind === 'unix'
      ? target
      : { kind: target.kind, host: target.host, port: (server.address() as net.AddressInfo).port };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closing === undefined && log.debugEnabled) log.debug(`stopped listening at ${formatAddress(real)}`);
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of open) socket.destroy();
    });
    return closing;
  };
  if (log.debugEnabled) log.debug(`listening at ${formatAddress(real)}`);
  return { address: formatAddress(real), close, [Symbol.asyncDispose]: close };
}

/**
 * The parent's end of an extra pipe to a child process, spawned with `stdio[fd] = 'pipe'` (fd 3 by
 * default). On every platform Node makes such a pipe a two-way stream.
 * @example
 * ```ts
 * const child = spawn(process.execPath, ['server.js'], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
 * const stream = childChannel(child);
 * ```
 */
export function childChannel(child: ChildProcess, fd = 3): Duplex {
  const stream = child.stdio[fd];
  if (!(stream instanceof Duplex)) {
    throw new ConnectError(
      `The child process has no two-way pipe on fd ${fd}: spawn it with stdio[${fd}] = 'pipe'`,
    );
  }
  return stream;
}

/** The child's end of the pipe made by {@link childChannel} (fd 3 by default). */
export function parentChannel(fd = 3): Duplex {
  return new net.Socket({ fd, readable: true, writable: true });
}

/**
 * One two-way stream from a readable and a writable, e.g. a child's stdout and stdin, or this process's
 * stdin and stdout.
 * @example
 * ```ts
 * const stream = stdioChannel(child.stdout, child.stdin);
 * ```
 */
export function stdioChannel(input: Readable, output: Writable): Duplex {
  return Duplex.from({ readable: input, writable: output });
}

function listenOn(server: net.Server, options: net.ListenOptions, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new ConnectError(
          error.code === 'EADDRINUSE'
            ? `Cannot listen on ${text}: the address is already in use. Choose another port, or port 0 for any free one`
            : `Cannot listen on ${text}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function listenUnix(server: net.Server, path: string): Promise<void> {
  const text = formatAddress({ kind: 'unix', path });
  try {
    await listenOn(server, { path }, text);
  } catch (error) {
    const cause = (error as ConnectError).cause as NodeJS.ErrnoException | undefined;
    if (cause?.code !== 'EADDRINUSE' || process.platform === 'win32') throw error;
    // A socket file exists: replace it only if nobody answers on it (a server that died without cleaning up).
    const alive = await new Promise<boolean>((resolve) => {
      const probe = net.connect({ path });
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (alive)
      throw new ConnectError(`Cannot listen on ${text}: another server is listening there`, { cause });
    unlinkSync(path);
    await listenOn(server, { path }, text);
  }
}

/**
 * `127.0.0.1:53422` or `[::1]:53422`: where a peer connects from, for messages; `an unknown address` when
 * the socket has none (a Unix socket or named pipe, or one already closed).
 */
export function remoteOf(socket: net.Socket): string {
  const host = socket.remoteAddress;
  if (host === undefined) return 'an unknown address';
  return `${socket.remoteFamily === 'IPv6' ? `[${host}]` : host}:${socket.remotePort ?? '?'}`;
}

function serverName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

function describeConnectFailure(text: string, error: NodeJS.ErrnoException): ConnectError {
  switch (error.code) {
    case 'ECONNREFUSED':
      return new ConnectError(
        `Connection refused by ${text}: nothing is listening there. Start the server first, or check the address`,
        {
          cause: error,
        },
      );
    case 'ENOENT':
      return new ConnectError(
        `Cannot connect to ${text}: the socket does not exist. Start the server first, or check the path`,
        {
          cause: error,
        },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectError(`Cannot connect to ${text}: the host name does not resolve`, { cause: error });
    default:
      return new ConnectError(`Cannot connect to ${text}: ${error.message}`, { cause: error });
  }
}
