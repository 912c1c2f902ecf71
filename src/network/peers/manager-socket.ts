/**
 * The connection a Client or a Service keeps to a Network Manager: opening it (TCP or TLS with the
 * certificate pinned), turning its failures into errors that say what to do, reading JSON lines from it
 * and writing JSON lines to it.
 *
 * The first write of a tick leaves at once; the writes after it in the same tick are joined into one
 * string written when the tick ends, so 2000 requests issued in a loop leave as two socket writes
 * instead of 2000 small ones.
 * @module
 */
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { hostname } from 'node:os';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  AbortError,
  ConnectError,
  ConnectionClosedError,
  ConnectionTimeoutError,
  type FarcallError,
  TLSError,
} from '../../errors.js';
import { type Logger, partLog } from '../../log/logger.js';
import { parseJson, stringifyJson } from '../protocol/json.js';
import { DEFAULT_PORT } from '../protocol/messages.js';
import { TLS_CIPHERS } from '../shared/certificates.js';
import { certsDir } from '../shared/home.js';
import {
  type CertificatePrompt,
  certificateCacheFile,
  loadPinnedCertificate,
  presentedCertificate,
  saveCertificate,
  terminalPrompt,
  trustQuestion,
  verifyPresentedCertificate,
} from './certificate-cache.js';
import type { CredentialPrompt } from './credential-prompt.js';
import { parseEnvelope } from './envelope-parse.js';
import { LineReader } from './line-reader.js';

export { DEFAULT_PORT } from '../protocol/messages.js';
/** Default deadline to connect and finish the handshake, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** Default largest line read from the Manager, in bytes (Python's default is unlimited). */
export const DEFAULT_READ_LIMIT = 256 * 1024 * 1024;

/** How to reach a Manager (shared by `connect()` and `Service.start()`). */
export interface ManagerAddressOptions {
  /** Host name or IP address of the Manager. Default `'localhost'`. */
  host?: string;
  /** Port of the Manager. Default 1875. */
  port?: number;
  /** Milliseconds to connect and finish the handshake. Default 10 000. */
  timeout?: number;
  /** Login name, if the Manager was started with `--auth-login`. */
  username?: string;
  /** Login password, if the Manager was started with `--auth-login`. */
  password?: string;
  /** The Manager's password, if it was started with `--auth-password`. */
  passwordManager?: string;
  /** Largest line accepted from the Manager, in bytes. Default 256 MiB. */
  readLimit?: number;
  /** Connect without TLS (the Manager must have been started with `--disable-tls`). Default false. */
  disableTls?: boolean;
  /** A certificate (PEM) to trust instead of the certificate cache. */
  certFile?: string;
  /** Check that the Manager's certificate was issued for `host`. Default true. */
  assertHostname?: boolean;
  /** Save the Manager's certificate to the cache the first time without asking. Default false. */
  autoSave?: boolean;
  /** The farcall home folder holding the certificate cache. Default `$FARCALL_HOME` or `~/.farcall`. */
  home?: string;
  /** Cancels connecting. */
  signal?: AbortSignal;
  /**
   * Asks whether to trust a new certificate. Default: a yes/no question on the terminal when stdin is
   * a TTY; without a terminal, an unknown certificate is an error unless `autoSave` is set.
   */
  certificatePrompt?: CertificatePrompt;
  /**
   * Asks for a username or password the Manager wants and the options did not give. Default: a
   * question on the terminal when stdin is a TTY; without a terminal a missing credential is an error.
   */
  credentialPrompt?: CredentialPrompt;
  /**
   * Receives debug records: connected (TLS or plain, local port) or why not, the handshake (ok, or failed
   * and why), each request (service, attribute, uid, size, duration, error class), closed. Never a
   * password or a request's arguments. `NODE_DEBUG=farcall:network` writes the same lines to stderr.
   * Default none.
   */
  logger?: Logger;
}

/** The names that mean "this computer". */
const LOCALHOST_ALIASES = new Set([
  'localhost',
  '127.0.0.1',
  '::1',
  hostname(),
  `${hostname()}.local`,
  '0.0.0.0',
]);

/** Whether `host` is this computer. */
export function isLocalhost(host: string): boolean {
  return LOCALHOST_ALIASES.has(host) || host.startsWith('127.');
}

/** An open socket to a Manager, before the handshake. */
export interface OpenedSocket {
  socket: Socket;
  tls: boolean;
}

/**
 * Opens a TCP or TLS connection to a Manager, pinning its certificate. Rejects with an error that says
 * what went wrong and which option fixes it.
 */
export async function openManagerSocket(
  options: ManagerAddressOptions,
  deadline: Deadline,
): Promise<OpenedSocket> {
  const log = partLog('network', options.logger);
  if (!log.debugEnabled) return openSocket(options, deadline);
  const where = `${options.host ?? 'localhost'}:${options.port ?? DEFAULT_PORT}`;
  try {
    const opened = await openSocket(options, deadline);
    log.debug(
      `connected to ${where} (${opened.tls ? 'TLS' : 'plain TCP'}) from local port ${opened.socket.localPort}`,
    );
    return opened;
  } catch (error) {
    log.debug(`connecting to ${where} failed: ${describeFailure(error)}`);
    throw error;
  }
}

/** `ConnectError: Cannot connect to …`: an error for a log line. */
export function describeFailure(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function openSocket(options: ManagerAddressOptions, deadline: Deadline): Promise<OpenedSocket> {
  const host = options.host ?? 'localhost';
  const port = options.port ?? DEFAULT_PORT;
  if (options.disableTls) {
    return { socket: await openTcp(host, port, deadline), tls: false };
  }
  const dir = certsDir(options.home);
  for (;;) {
    const pinned = loadPinnedCertificate(dir, host, options.certFile);
    const socket = await openTls(host, port, pinned?.pem, deadline);
    let presented: ReturnType<typeof presentedCertificate>;
    try {
      presented = presentedCertificate(socket);
      if (pinned !== undefined) {
        verifyPresentedCertificate(
          socket,
          presented,
          pinned,
          { host, port },
          options.assertHostname !== false,
        );
        return { socket, tls: true };
      }
    } catch (error) {
      socket.destroy();
      throw error;
    }
    // First meeting: ask (or auto-save), then connect again with the certificate pinned, so the
    // Manager's handshake deadline never runs while a person reads the question.
    socket.destroy();
    const file = certificateCacheFile(dir, host);
    if (!options.autoSave) {
      const prompt = options.certificatePrompt ?? terminalPrompt();
      if (prompt === undefined) {
        throw new TLSError(
          `The Manager at ${host}:${port} presented a certificate that is not trusted yet ` +
            `(SHA-256 fingerprint ${presented.fingerprint}) and there is no terminal to ask whether to trust it.\n` +
            `Connect with autoSave: true to trust and save it to ${file}, or pass certFile.`,
        );
      }
      deadline.pause();
      const trusted = await prompt(trustQuestion({ host, port }, presented, file));
      deadline.resume();
      if (!trusted) {
        throw new TLSError(
          `The certificate of the Manager at ${host}:${port} was not trusted; not connecting.`,
        );
      }
    }
    saveCertificate(file, presented.pem);
  }
}

function openTcp(host: string, port: number, deadline: Deadline): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port, noDelay: true });
    const stop = deadline.onExpire((error) => {
      socket.destroy();
      reject(error);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      stop();
      reject(connectError(error, host, port, false));
    };
    socket.once('connect', () => {
      stop();
      socket.setNoDelay(true);
      socket.off('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}

function openTls(host: string, port: number, ca: string | undefined, deadline: Deadline): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // The certificate is checked by verifyPresentedCertificate (pinning), so OpenSSL's own verdict is
    // only read (socket.authorized), never enforced here.
    const socket = tlsConnect({
      host,
      port,
      rejectUnauthorized: false,
      ca,
      servername: isIP(host) ? undefined : host,
      ciphers: TLS_CIPHERS,
      minVersion: 'TLSv1.2',
    });
    socket.setNoDelay(true);
    const stop = deadline.onExpire((error) => {
      socket.destroy();
      reject(error);
    });
    const onError = (error: NodeJS.ErrnoException) => {
      stop();
      socket.destroy();
      reject(connectError(error, host, port, true));
    };
    socket.once('secureConnect', () => {
      stop();
      socket.off('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}

const TLS_ON_PLAIN_CODES = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_RECORD_LAYER_FAILURE',
  'ERR_SSL_HTTP_REQUEST',
]);

/** Turns a socket error into the error a user can act on. */
export function connectError(
  error: NodeJS.ErrnoException,
  host: string,
  port: number,
  tls: boolean,
): FarcallError {
  const code = error.code ?? '';
  const where = `${host}:${port}`;
  if (
    tls &&
    (TLS_ON_PLAIN_CODES.has(code) ||
      /wrong version number|packet length too long|unknown protocol/i.test(error.message))
  ) {
    return new TLSError(
      `Cannot start a TLS connection with the Manager at ${where}: it does not speak TLS ` +
        `(${error.message}).\nThe Manager was probably started with --disable-tls: connect with disableTls: true.`,
      { cause: error },
    );
  }
  if (code === 'ECONNREFUSED') {
    const hint = isLocalhost(host)
      ? 'Make sure a Manager is running on this computer (farcall start).'
      : `Make sure a Manager is running on ${host} and that port ${port} is reachable from here.`;
    return new ConnectError(`Cannot connect to ${where}: the connection was refused.\n${hint}`, {
      cause: error,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConnectError(`Cannot connect to ${where}: the host name '${host}' is unknown.`, {
      cause: error,
    });
  }
  if (code === 'ECONNRESET' && tls) {
    return new TLSError(
      `The Manager at ${where} closed the connection during the TLS handshake (${error.message}).\n` +
        'If the Manager was started with --disable-tls, connect with disableTls: true.',
      { cause: error },
    );
  }
  return new ConnectError(`Cannot connect to ${where}: ${error.message}`, { cause: error });
}

/**
 * One deadline shared by the steps of connecting (it can pause while a person answers a question).
 * @internal
 */
export class Deadline {
  readonly timeoutMs: number;
  readonly #what: string;
  #remaining: number;
  #started = Date.now();
  #paused = false;
  #listeners = new Set<(error: Error) => void>();
  #timer: NodeJS.Timeout | undefined;
  #expired: Error | undefined;
  #signal: AbortSignal | undefined;
  #onAbort = () => this.#expire(new AbortError('Connecting to the Manager was aborted'));

  constructor(timeoutMs: number, what: string, signal?: AbortSignal) {
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`timeout must be a positive number of milliseconds, got ${timeoutMs}`);
    }
    this.timeoutMs = timeoutMs;
    this.#remaining = timeoutMs;
    this.#what = what;
    this.#signal = signal;
    if (signal?.aborted) this.#expired = new AbortError('Connecting to the Manager was aborted');
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#arm();
  }

  /** Calls `listener` when the deadline passes (at once if it has); returns a function that cancels. */
  onExpire(listener: (error: Error) => void): () => void {
    if (this.#expired) {
      const error = this.#expired;
      queueMicrotask(() => listener(error));
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Rejects if the deadline has passed. */
  check(): void {
    if (this.#expired) throw this.#expired;
  }

  pause(): void {
    if (this.#paused || this.#expired) return;
    this.#paused = true;
    clearTimeout(this.#timer);
    this.#remaining -= Date.now() - this.#started;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#started = Date.now();
    this.#arm();
  }

  /** Stops the timer (connecting finished). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#listeners.clear();
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  #arm(): void {
    if (this.#expired) return;
    this.#timer = setTimeout(
      () =>
        this.#expire(new ConnectionTimeoutError(`${this.#what} within ${this.timeoutMs} ms`, this.timeoutMs)),
      Math.max(0, this.#remaining),
    );
  }

  #expire(error: Error): void {
    if (this.#expired) return;
    this.#expired = error;
    clearTimeout(this.#timer);
    for (const listener of [...this.#listeners]) listener(error);
    this.#listeners.clear();
  }
}

const TICK_IDLE = 0;
const TICK_WROTE = 1;
/**
 * Above this many characters the gathered text of a tick is written out at once: the Manager starts on
 * the first requests of a burst while the rest are being made. 64 KiB is what the Manager reads at a
 * time (Node's read size): smaller pieces cost it a write per piece and destination, larger ones hold
 * the start of a burst back (measured at 2000 in flight: 16 KiB and 1 MiB were both slower).
 */
const GATHER_LIMIT = 64 * 1024;

/** Callbacks of a {@link ManagerSocket}. */
export interface ManagerSocketHandlers {
  /** A parsed JSON message. */
  onMessage(message: unknown): void;
  /** A line that is not JSON (its text, shortened) and the parse error. */
  onInvalidLine?(text: string, error: Error): void;
  /** A line longer than the read limit was dropped. */
  onOversize?(bytes: number): void;
  /** The connection closed; `error` is set when it closed because of a socket error. */
  onClose(error: Error | undefined): void;
}

/**
 * A socket carrying msl-network JSON lines.
 * @internal
 */
export class ManagerSocket {
  readonly socket: Socket;
  readonly tls: boolean;
  readonly readLimit: number;
  handlers: ManagerSocketHandlers;
  #reader: LineReader;
  #tickState = TICK_IDLE;
  /** Lines written after the first of this tick, joined; written as one chunk when the tick ends. */
  #gathered = '';
  #closed = false;
  #closeError: Error | undefined;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(opened: OpenedSocket, readLimit: number, handlers: ManagerSocketHandlers) {
    this.socket = opened.socket;
    this.tls = opened.tls;
    this.readLimit = readLimit;
    this.handlers = handlers;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#reader = new LineReader({
      maxLineBytes: readLimit,
      onText: (text) => this.#line(text),
      onOversize: (bytes) => this.handlers.onOversize?.(bytes),
    });
    this.socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    this.socket.on('error', (error) => {
      this.#closeError ??= error;
    });
    this.socket.on('end', () => {
      this.#reader.end();
      // Half-open connections are of no use here: the Manager is gone once it stops writing.
      this.socket.end();
    });
    this.socket.on('close', () => this.#finish());
  }

  /** Whether the socket is still open. */
  get isOpen(): boolean {
    return !this.#closed;
  }

  /** The local port of the connection. */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Writes one message as a JSON line (Python formatting). */
  send(message: unknown): void {
    this.write(`${stringifyJson(message)}\r\n`);
  }

  /** Writes text that already ends with `\r\n`. */
  write(text: string): void {
    if (this.#closed) throw new ConnectionClosedError('The connection to the Manager is closed');
    // The first write of a tick goes out at once (lowest latency for one request at a time); later
    // writes of the same tick are joined into one string and leave as one chunk when the tick ends: one
    // UTF-8 encode and one syscall for a burst of 2000 requests, instead of a write request per line.
    if (this.#tickState === TICK_IDLE) {
      this.#tickState = TICK_WROTE;
      process.nextTick(this.#endTick);
      this.socket.write(text);
      return;
    }
    if (this.#gathered.length + text.length > GATHER_LIMIT) {
      this.#flush();
      if (text.length > GATHER_LIMIT) {
        this.socket.write(text);
        return;
      }
    }
    this.#gathered += text;
  }

  readonly #endTick = (): void => {
    this.#flush();
    this.#tickState = TICK_IDLE;
  };

  #flush(): void {
    if (this.#gathered === '') return;
    const text = this.#gathered;
    this.#gathered = '';
    if (this.socket.writable) this.socket.write(text);
  }

  /** Half-closes after pending writes, then waits (at most `graceMs`) for the Manager to close. */
  async end(graceMs = 1000): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  /** Closes at once. */
  destroy(): void {
    this.socket.destroy();
  }

  #line(text: string): void {
    let message: unknown;
    try {
      // The envelope fast path for the common reply and request; every other line is parsed in full.
      message = parseEnvelope(text) ?? parseJson(text);
    } catch (error) {
      this.handlers.onInvalidLine?.(text.length > 200 ? `${text.slice(0, 200)}…` : text, error as Error);
      return;
    }
    this.handlers.onMessage(message);
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.reset();
    this.handlers.onClose(this.#closeError);
    this.#resolveClosed();
  }
}
