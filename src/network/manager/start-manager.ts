/**
 * Starting a Network Manager: checks the options, loads (or creates) the TLS credentials and the
 * database, logs what msl-network's Manager logs before its ready line, and listens.
 *
 * @example
 * ```ts
 * import { readyLine, startManager } from 'farcall/network';
 *
 * await using manager = await startManager({ port: 0, disableTls: true, home: '/tmp/farcall' });
 * console.log(readyLine(manager));
 * ```
 * @module
 */
import { mkdirSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { ManagerStartError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { stringifyJson } from '../protocol/json.js';
import { DEFAULT_PORT, errorMessage } from '../protocol/messages.js';
import {
  loadOrCreateManagerCredentials,
  type ManagerCredentials,
  TLS_CIPHERS,
} from '../shared/certificates.js';
import { databasePath } from '../shared/home.js';
import { ManagerDatabase } from './database.js';
import type { AuthenticationMode } from './handshake.js';
import {
  DEFAULT_BACKLOG_LIMIT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_READ_LIMIT,
  DEFAULT_UNFINISHED_LINES_LIMIT,
} from './limits.js';
import { type LogLevel, ManagerLog } from './log.js';
import type { LoginLimits } from './login-throttle.js';
import { Manager } from './manager.js';
import { answerPlainPeers } from './plain-peer-answer.js';

/** Options of {@link startManager}. */
export interface ManagerOptions {
  /** The interface to listen on. Default: `'127.0.0.1'` (this computer only); `'0.0.0.0'` opens it. */
  host?: string;
  /** The port. Default: 1875; 0 picks a free port (see {@link Manager.port}). */
  port?: number;
  /** Require this Manager password from every peer. */
  authPassword?: string;
  /** Require a registered user's login (see `farcall user`). */
  authLogin?: boolean;
  /** Accept only peers from trusted hostnames (see `farcall hostname`), re-read for each connection. */
  authHostname?: boolean;
  /** The TLS certificate (PEM). Default: the self-signed one in FARCALL_HOME, created on first run. */
  certFile?: string;
  /** The TLS private key (PEM). Default: the one in FARCALL_HOME, created on first run. */
  keyFile?: string;
  /** The password of an encrypted `keyFile`. */
  keyFilePassword?: string;
  /**
   * Names the default key and certificate (`keys/<name>.key`, `certs/<name>.crt`) and the certificate's
   * subject. Default: this computer's host name. `farcall start --host H` sets it to H, as msl-network does.
   */
  credentialsName?: string;
  /** Plain TCP instead of TLS. */
  disableTls?: boolean;
  /** The SQLite database file. Default: `manager.sqlite3` in FARCALL_HOME. */
  database?: string;
  /** Default: `'warning'`. */
  logLevel?: LogLevel | Uppercase<LogLevel>;
  /** Append the log to this file instead of stderr. */
  logFile?: string;
  /**
   * Write `logFile` at this level and ALSO write stderr at `logLevel` (what `farcall start` does, with
   * `'debug'`, as msl-network's Manager keeps a complete file).
   */
  logFileLevel?: LogLevel;
  /** Where the console log goes (see `logFileLevel`). Default: `'stderr'`. */
  logConsole?: 'stderr' | 'stdout';
  /**
   * Also send every log record to this logger, debug included: connections (address), handshakes (ok, or
   * refused and why), each request routed (service, attribute, uid, size), replies and notifications
   * (size), disconnects. Never a password, a key or a message's arguments. `NODE_DEBUG=farcall:network`
   * writes the same records to stderr. Default none.
   */
  logger?: Logger;
  /**
   * @internal Whether the ready line is logged to the console too (default true). `farcall start` prints
   * it itself, once, and keeps it in the log file.
   */
  logReadyLineToConsole?: boolean;
  /** FARCALL_HOME for this Manager (default: `$FARCALL_HOME`, else `~/.farcall`). */
  home?: string;
  /** The largest message a peer may send, in bytes; a longer line is dropped and answered with an error. */
  readLimit?: number;
  /** The handshake deadline in milliseconds; a peer that has not finished by then is dropped. */
  handshakeTimeout?: number;
  /** Base delay in milliseconds before a failed login or password is answered. Default: 250. */
  failureDelay?: number;
  /**
   * The most bytes the Manager keeps unsent for one peer that does not read (its replies, errors and
   * notifications); past it the peer is disconnected. Default: 64 MiB, or twice `readLimit` if more.
   */
  backlogLimit?: number;
  /**
   * The most bytes of unfinished lines (no newline yet) the Manager holds for all peers together; the
   * peer whose line goes past it is disconnected. Default: 512 MiB, or twice `readLimit` if more.
   */
  unfinishedLinesLimit?: number;
  /** Limits on failed logins per address and per account. Default: {@link LOGIN_LIMITS}. */
  loginLimits?: Partial<LoginLimits>;
}

/**
 * The line `farcall start` prints (and logs) when the Manager is ready, worded as msl-network's:
 * `Network Manager running on <host>:<port> (TLS ENABLED)`, naming the `--host` given, else this
 * computer's host name.
 */
export function readyLine(manager: Manager): string {
  return `Network Manager running on ${manager.announcedHost}:${manager.port} (TLS ${manager.tlsEnabled ? 'ENABLED' : 'DISABLED'})`;
}

function authenticationNote(auth: AuthenticationMode): string {
  switch (auth.kind) {
    case 'password':
      return 'using a password for authentication';
    case 'login':
      return 'using a login for authentication';
    case 'hostname':
      return 'using trusted hosts for authentication';
    default:
      return 'not using authentication';
  }
}

/**
 * Starts a Network Manager and resolves once it listens. TLS is on unless `disableTls`; without a
 * `certFile`/`keyFile` the Manager creates (on first run) and uses a self-signed certificate in
 * FARCALL_HOME. At most one of `authPassword`, `authLogin`, `authHostname`.
 *
 * @throws {ManagerStartError} when the port is taken, the credentials cannot be loaded, or options clash
 * @example
 * ```ts
 * const manager = await startManager({ port: 0, authPassword: 'abc 123' });
 * // … clients and services connect to manager.port …
 * await manager.close();
 * ```
 */
export async function startManager(options: ManagerOptions = {}): Promise<Manager> {
  const modes = [
    options.authPassword !== undefined,
    Boolean(options.authLogin),
    Boolean(options.authHostname),
  ];
  if (modes.filter(Boolean).length > 1) {
    throw new ManagerStartError(
      'Choose one way to authenticate peers: authPassword, authLogin or authHostname (a Manager cannot use several).',
    );
  }
  if (options.authPassword === '') throw new ManagerStartError('authPassword must not be empty');
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ManagerStartError(`The port must be an integer from 0 to 65535, got ${options.port}`);
  }
  const readLimit = options.readLimit ?? DEFAULT_READ_LIMIT;
  if (!(readLimit > 0))
    throw new ManagerStartError(`readLimit must be a positive number of bytes, got ${readLimit}`);
  for (const name of ['backlogLimit', 'unfinishedLinesLimit'] as const) {
    const value = options[name];
    if (value !== undefined && !(value > 0))
      throw new ManagerStartError(`${name} must be a positive number of bytes, got ${value}`);
  }
  const handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (!(handshakeTimeout > 0))
    throw new ManagerStartError(`handshakeTimeout must be > 0 ms, got ${handshakeTimeout}`);

  const log = new ManagerLog({
    level: options.logLevel,
    file: options.logFile,
    fileLevel: options.logFileLevel,
    console: options.logConsole,
    logger: options.logger,
  });
  let credentials: ManagerCredentials | undefined;
  try {
    credentials = options.disableTls
      ? undefined
      : loadOrCreateManagerCredentials({
          certFile: options.certFile,
          keyFile: options.keyFile,
          keyFilePassword: options.keyFilePassword,
          host: options.credentialsName,
          home: options.home,
        });
  } catch (error) {
    log.error(describe(error));
    await log.close();
    throw error;
  }
  // What msl-network's Manager logs before its ready line, in its order (its tests read the file).
  if (credentials !== undefined) {
    log.info(`loaded certificate ${credentials.certFile}`);
    log.info(
      credentials.keyFile === credentials.certFile
        ? 'loaded the private key from the certificate file'
        : `loaded the private key ${credentials.keyFile}`,
    );
    for (const note of credentials.created) log.info(note);
  }
  let database: ManagerDatabase;
  try {
    // A database in a folder that does not exist yet: make the folder (as msl-network does).
    if (options.database !== undefined && options.database !== ':memory:') {
      mkdirSync(dirname(resolve(options.database)), { recursive: true });
    }
    database = new ManagerDatabase(options.database ?? databasePath(options.home, { create: true }));
  } catch (error) {
    await log.close();
    throw new ManagerStartError(`Cannot open the Manager's database: ${describe(error)}`, { cause: error });
  }
  log.info(`loaded the database ${database.path}`);
  const auth: AuthenticationMode =
    options.authPassword !== undefined
      ? { kind: 'password', password: options.authPassword }
      : options.authLogin
        ? { kind: 'login', database }
        : options.authHostname
          ? { kind: 'hostname', database }
          : { kind: 'none' };

  let manager: Manager | undefined;
  const onSocket = (socket: Socket) => {
    if (manager === undefined) socket.destroy();
    else manager.accept(socket);
  };
  const server: Server =
    credentials === undefined
      ? createNetServer({ noDelay: true }, (socket) => {
          // A TLS client on a plain Manager: its first bytes are a TLS handshake record. Drop it at
          // once (the client reports the mismatch) rather than wait for the handshake deadline.
          socket.once('data', (chunk: Buffer) => {
            if (chunk.length >= 2 && chunk[0] === 0x16 && chunk[1] === 0x03) socket.destroy();
          });
          onSocket(socket);
        })
      : createTlsServer(
          {
            cert: credentials.cert,
            key: credentials.key,
            passphrase: credentials.passphrase,
            ciphers: TLS_CIPHERS,
            honorCipherOrder: true,
            minVersion: 'TLSv1.2',
            noDelay: true,
            handshakeTimeout,
          },
          onSocket,
        );
  if (credentials !== undefined) {
    // A plain peer meeting this TLS Manager: see plain-peer-answer.ts for who is told what, and when.
    answerPlainPeers(server, {
      silentMs: Math.min(250, handshakeTimeout / 2),
      answer: () =>
        stringifyJson(
          errorMessage({
            message:
              'ConnectionError: this Network Manager uses TLS; connect with TLS (the default), ' +
              'or start the Manager with TLS disabled (--disable-tls)',
            requester: manager?.name ?? 'Manager',
            uid: '',
          }),
        ),
    });
  }
  // Where each TCP peer connects from, read while its socket is open: a TLS handshake that fails because
  // the peer hung up is reported after its address is gone from the TLS socket.
  const peerAddresses = new WeakMap<Socket, string>();
  server.on('connection', (raw: Socket) => {
    if (raw.remoteAddress !== undefined) peerAddresses.set(raw, `${raw.remoteAddress}:${raw.remotePort}`);
    if (manager === undefined) raw.destroy();
    else manager.track(raw);
  });
  server.on('tlsClientError', (error: Error, socket: Socket) => {
    log.info(`TLS handshake with ${tlsPeerAddress(socket, peerAddresses)} failed: ${error.message}`);
  });

  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    database.close();
    await log.close();
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EADDRINUSE'
        ? `port ${port} is in use (is another Manager running? choose another port with --port)`
        : code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this computer`
          : describe(error);
    throw new ManagerStartError(`The Network Manager cannot listen on ${host}:${port}: ${hint}`, {
      cause: error,
    });
  }
  server.on('error', (error) => log.error(`server error: ${describe(error)}`));
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  manager = new Manager({
    server,
    host,
    announcedHost: options.host,
    port: boundPort,
    tlsEnabled: credentials !== undefined,
    certFile: credentials?.certFile,
    database,
    log,
    auth,
    readLimit,
    handshakeTimeout,
    failureDelay: options.failureDelay ?? 250,
    backlogLimit: options.backlogLimit ?? Math.max(DEFAULT_BACKLOG_LIMIT, 2 * readLimit),
    unfinishedLinesLimit:
      options.unfinishedLinesLimit ?? Math.max(DEFAULT_UNFINISHED_LINES_LIMIT, 2 * readLimit),
    loginLimits: options.loginLimits,
  });
  log.info(authenticationNote(auth));
  if (options.host === undefined) {
    log.info(
      `listening on ${host}:${boundPort}: this computer only (--host 0.0.0.0 accepts other computers)`,
    );
  }
  if (options.logReadyLineToConsole === false) log.fileOnly('info', readyLine(manager));
  else log.info(readyLine(manager));
  return manager;
}

/** `127.0.0.1:53422` for a TLS socket, or `an unknown address (…)` when neither it nor its TCP socket has one. */
function tlsPeerAddress(socket: Socket, known: WeakMap<Socket, string>): string {
  if (socket.remoteAddress !== undefined) return `${socket.remoteAddress}:${socket.remotePort}`;
  // Node's TLS socket keeps the TCP socket it wraps as `_parent` (not public API: only read, and guarded).
  const parent = (socket as Socket & { _parent?: unknown })._parent;
  const address = parent instanceof Object ? known.get(parent as Socket) : undefined;
  // A peer that resets at once is gone before Node reads its address: say so rather than print undefined.
  return address ?? 'an unknown address (it closed before its address could be read)';
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
