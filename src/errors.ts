/**
 * Every error class farcall throws, shared by all layers.
 *
 * Each error has a stable, machine-readable `code` (like Node's `ERR_*` codes) and a message a person
 * understands: what happened, why, and — where we know it — what to do about it.
 *
 * @example
 * ```ts
 * import { ConnectionClosedError, RemoteError } from 'farcall';
 * try {
 *   await remote.scan.start(10);
 * } catch (err) {
 *   if (err instanceof RemoteError) console.error(err.remoteStack);
 *   else if (err instanceof ConnectionClosedError) reconnect();
 * }
 * ```
 * @module
 */

/**
 * Every `code` a farcall error carries, with the class that carries it. The doc comment of each entry says
 * what happened and what to do; `docs/errors.md` is generated from them (`node scripts/generate-errors-doc.mjs`).
 *
 * @example
 * ```ts
 * import { ERROR_CODES, type ErrorCode } from 'farcall';
 * const code: ErrorCode = 'ERR_FARCALL_CONNECT';
 * ERROR_CODES[code]; // 'ConnectError'
 * ```
 */
export const ERROR_CODES = {
  /** A farcall error that no finer code names. Fix: read the message, which says what happened. */
  ERR_FARCALL: 'FarcallError',

  // wire
  /**
   * The peer broke the protocol in a way no finer code names (also: a request the peer reported as
   * malformed). Fix: check both sides run the same farcall version and speak the same protocol.
   */
  ERR_FARCALL_PROTOCOL: 'ProtocolError',
  /**
   * A message that does not decode, or decodes to the wrong shape. The connection is closed. Fix: check that
   * the peer is a farcall peer of the same version (and not, say, an HTTP client on the port).
   */
  ERR_FARCALL_MALFORMED: 'ProtocolError',
  /**
   * A message nested deeper than `maxDepth`: refused before decoding. Fix: send flatter data, or raise
   * `maxDepth` on the receiving side if such messages are intended.
   */
  ERR_FARCALL_TOO_DEEP: 'ProtocolError',
  /**
   * msl-network JSON nested deeper than 1000 levels, read or written: refused rather than risk a stack
   * overflow. The request is answered with its uid. Fix: send flatter data.
   */
  ERR_FARCALL_JSON_DEPTH: 'JsonDepthError',
  /**
   * A frame header announced a body over the receiver's `maxFrameBytes`. The connection is closed. Fix: send
   * smaller messages (stream large data in parts), or raise `maxFrameBytes` on the receiving side.
   */
  ERR_FARCALL_FRAME_TOO_LARGE: 'ProtocolError',
  /**
   * The peer sent part of a frame and then nothing for the stalled-frame timeout. The connection is closed.
   * Fix: a peer that hung or a network that drops data; reconnect.
   */
  ERR_FARCALL_STALLED_FRAME: 'ProtocolError',
  /** The peer closed the connection in the middle of a frame. Fix: the peer crashed or was killed; reconnect. */
  ERR_FARCALL_TRUNCATED_FRAME: 'ProtocolError',
  /** The peer speaks another version of the rpc protocol. Fix: use the same farcall version on both sides. */
  ERR_FARCALL_VERSION: 'ProtocolError',
  /**
   * The peer sent back a reference to one of our objects that is no longer lent (it was released). Fix: keep
   * the proxy (do not `release()` it) while the peer may still use it.
   */
  ERR_FARCALL_UNKNOWN_OBJECT: 'ProtocolError',
  /**
   * The peer sent a proxy of an object whose owner does not listen for connections, so this process cannot
   * reach it. Fix: start the owner with an address (`RPCServer.listen`) or pass the value instead.
   */
  ERR_FARCALL_UNREACHABLE_OWNER: 'ProtocolError',
  /**
   * An address string that does not parse, or names a transport this platform lacks. Fix: use
   * `tcp://host:port`, `unix:///path` or `pipe://name` as the message shows.
   */
  ERR_FARCALL_ADDRESS: 'AddressError',
  /**
   * The connection closed (or was never open) while something still needed it; pending calls fail at once.
   * Fix: reconnect; the message says whether the peer closed it, this side did, or it never opened.
   */
  ERR_FARCALL_CONNECTION_CLOSED: 'ConnectionClosedError',
  /**
   * A connection could not be made, or a server could not listen: refused (nothing listens there, e.g. no
   * Manager running), no such socket, an unknown host name, address in use. Every part throws it for these:
   * rpc's `connect`, `connectTransport`, network's `connect()`. Fix: start the server (or the Manager)
   * first, check the address, or choose another port.
   */
  ERR_FARCALL_CONNECT: 'ConnectError',
  /** A deadline passed that no finer code names. Fix: raise the timeout the message names, or find the stall. */
  ERR_FARCALL_TIMEOUT: 'FarcallTimeoutError',
  /**
   * Connecting to, or starting, a server did not finish within the deadline: the peer accepted but did not
   * answer the handshake in time, or a child process (`ProcessSpawner`, `Client64`'s server) was not ready
   * within its start `timeout` and was killed. A server that fails instead is a `ProcessStartError`. Fix:
   * raise the timeout the message names, or find what the server waits for.
   */
  ERR_FARCALL_CONNECTION_TIMEOUT: 'ConnectionTimeoutError',
  /**
   * A request got no reply within its timeout. The connection stays usable; a late reply is dropped.
   * Fix: raise the call's `timeout` for slow calls, or find why the other side is slow.
   */
  ERR_FARCALL_RESPONSE_TIMEOUT: 'ResponseTimeoutError',
  /** The operation was cancelled through its `AbortSignal` (Node's own code for this). Fix: none needed. */
  ABORT_ERR: 'AbortError',

  // rpc
  /**
   * The remote side threw; `remoteName`, `message` and `remoteStack` are the remote error's. Fix: look at
   * `remoteStack` (where it was thrown) and at `stack` (where you called).
   */
  ERR_FARCALL_REMOTE: 'RemoteError',
  /**
   * The peer's access policy refused a member (`member` names it): private, not exposed, or the action is
   * off. Fix: call a public method, or open the policy on the server (`AccessPolicy`).
   */
  ERR_FARCALL_ACCESS_DENIED: 'AccessDeniedError',
  /** A ping reply carried other data than was sent. Fix: the peer is not a faithful farcall peer; reconnect. */
  ERR_FARCALL_PING: 'PingError',
  /**
   * Authentication failed: a wrong `authKey`, password or login, or an untrusted host. Fix: use the same
   * `authKey` on both sides, or the right username and password; trust the host on the Manager.
   */
  ERR_FARCALL_AUTHENTICATION: 'AuthenticationError',
  /**
   * A child process failed before it was ready: one started by `ProcessSpawner` (a module that does not
   * import, a `setup()` that throws, an early exit), or `Client64`'s 32-bit server (no Server32 subclass, a
   * constructor that throws, a library that does not load, an exit or crash). Reported at once, not at the
   * timeout; the message ends with the process's output. Fix: what that output says.
   */
  ERR_FARCALL_PROCESS_START: 'ProcessStartError',

  // loadlib
  /**
   * A method of a `Server32` threw, or the 32-bit server failed; `remoteStack` shows where. Fix: look at
   * `remoteStack`, which names the file and line of your Server32 method.
   */
  ERR_FARCALL_SERVER32: 'Server32Error',
  /**
   * A shared library could not be loaded: not found, the wrong bitness, a missing dependency. Fix: what the
   * message says (it names the file, where it looked, and the command or option that helps).
   */
  ERR_FARCALL_LIBRARY_LOAD: 'LibraryLoadError',
  /**
   * The 32-bit Node.js runtime (or its koffi ia32 build) is not where farcall looked. Fix: run
   * `bash node_modules/farcall/scripts/setup-server32.sh`, or point `server32Dir` at the runtime.
   */
  ERR_FARCALL_SERVER32_RUNTIME_NOT_FOUND: 'Server32RuntimeNotFoundError',
  /**
   * An `'oledll'` function returned a failing HRESULT; `hresult` holds it and the message gives its system
   * text. Fix: what the text says (a wrong argument, a missing COM registration, a device not ready).
   */
  ERR_FARCALL_HRESULT: 'HResultError',

  // network
  /**
   * A Manager or Service answered with an error (msl-network's `error: true`); `traceback` has its lines.
   * Fix: what the message says; it comes from the other side.
   */
  ERR_FARCALL_NETWORK: 'MSLNetworkError',
  /**
   * A TLS problem: plain/TLS mismatch, a changed or untrusted certificate, a host name mismatch. Fix: match
   * `disableTls` on both sides; if the Manager's certificate changed on purpose, delete the saved one.
   */
  ERR_FARCALL_TLS: 'TLSError',
  /**
   * A change to the Manager's database that cannot be made (an unknown or duplicate user, an empty name), or
   * a database written by an unknown version. Fix: what the message says (`farcall user list` shows users).
   */
  ERR_FARCALL_DATABASE: 'ManagerDatabaseError',
  /**
   * This Node.js has no SQLite driver for the Manager's database: neither `node:sqlite` nor `better-sqlite3`.
   * Fix: `npm install better-sqlite3` (needs a C/C++ compiler where no prebuilt binary downloads), or use
   * Node.js 22.13 or later.
   */
  ERR_FARCALL_SQLITE_UNAVAILABLE: 'SQLiteUnavailableError',
  /**
   * The Network Manager could not start: its port is taken, its certificate or key does not load, or its
   * options contradict each other. Fix: what the message says (another port, the key's password, …).
   */
  ERR_FARCALL_MANAGER_START: 'ManagerStartError',
} as const;

/** A `code` of a farcall error: a key of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Whether `value` is one of farcall's error codes.
 * @example
 * ```ts
 * isErrorCode('ERR_FARCALL_TLS'); // true
 * ```
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Options accepted by every farcall error. */
export interface FarcallErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
}

/** Base class of every error farcall throws. */
export class FarcallError extends Error {
  /** A stable, machine-readable identifier, e.g. `'ERR_FARCALL_PROTOCOL'`. */
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode = 'ERR_FARCALL', options?: FarcallErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------------------
// wire
// ---------------------------------------------------------------------------------------------------------

/**
 * The peer sent bytes that break the protocol: a frame over the size limit, a body that does not
 * decode, a message of the wrong shape. The connection that carried them is closed; nothing else is.
 */
export class ProtocolError extends FarcallError {
  constructor(message: string, code: ErrorCode = 'ERR_FARCALL_PROTOCOL', options?: FarcallErrorOptions) {
    super(message, code, options);
  }
}

/** An address string that cannot be parsed, or names a transport this platform lacks. */
export class AddressError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_ADDRESS', options);
  }
}

/**
 * The connection closed (or was never open) while something still needed it. Every call pending on a
 * connection rejects with this error the moment the connection goes away, not at its timeout.
 */
export class ConnectionClosedError extends FarcallError {
  constructor(message = 'The connection is closed', options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_CONNECTION_CLOSED', options);
  }
}

/**
 * A connection could not be made, or a server could not listen: refused (nothing listens, e.g. no Manager
 * running), no such socket, an unknown host name, address in use. The same class in every part: rpc's
 * `connect`/`RPCClient.connect`, `connectTransport`, and network's `connect()`.
 */
export class ConnectError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_CONNECT', options);
  }
}

/** Base class of the errors raised when a deadline passes. */
export class FarcallTimeoutError extends FarcallError {
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(
    message: string,
    timeoutMs: number,
    code: ErrorCode = 'ERR_FARCALL_TIMEOUT',
    options?: FarcallErrorOptions,
  ) {
    super(message, code, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Connecting to (or starting) a server did not finish within the deadline: the peer accepted the
 * connection but did not answer in time, or a child process was not ready within its start timeout (it is
 * killed). A process that fails while starting rejects with {@link ProcessStartError} instead.
 */
export class ConnectionTimeoutError extends FarcallTimeoutError {
  constructor(message: string, timeoutMs: number, options?: FarcallErrorOptions) {
    super(message, timeoutMs, 'ERR_FARCALL_CONNECTION_TIMEOUT', options);
  }
}

/**
 * A request got no reply within its timeout. The connection stays usable; a reply that arrives later
 * is dropped.
 */
export class ResponseTimeoutError extends FarcallTimeoutError {
  constructor(message: string, timeoutMs: number, options?: FarcallErrorOptions) {
    super(message, timeoutMs, 'ERR_FARCALL_RESPONSE_TIMEOUT', options);
  }
}

/** The operation was cancelled through an `AbortSignal`. */
export class AbortError extends FarcallError {
  constructor(message = 'The operation was aborted', options?: FarcallErrorOptions) {
    super(message, 'ABORT_ERR', options);
  }
}

// ---------------------------------------------------------------------------------------------------------
// rpc
// ---------------------------------------------------------------------------------------------------------

/** Fields of an error thrown on the other side of a connection. */
export interface RemoteErrorInit {
  /** The remote error's class name, e.g. `'TypeError'`. */
  name: string;
  /** The remote error's message. */
  message: string;
  /** The remote stack trace, or `undefined` if the remote policy withholds it. */
  remoteStack?: string | undefined;
  /** The remote error's `code`, if it had one. */
  remoteCode?: string | undefined;
  /** The remote error's own enumerable data fields (`code`, `channel`, …), bounded by the sender. */
  remoteFields?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The remote side threw. `remoteName`/`message` are the remote error's; `remoteStack` is the stack
 * where it was thrown (unless the remote policy withholds it); `stack` is where the call was made here.
 */
export class RemoteError extends FarcallError {
  /** The remote error's class name, e.g. `'TypeError'`. */
  readonly remoteName: string;
  /** The remote stack trace, or `undefined` if the remote policy withholds it. */
  readonly remoteStack: string | undefined;
  /** The remote error's own `code`, if it had one. */
  readonly remoteCode: string | undefined;
  /** The remote error's own enumerable data fields (`{ code: 'E_RANGE', channel: 3 }`); empty if none. */
  readonly remoteFields: Readonly<Record<string, unknown>>;

  constructor(init: RemoteErrorInit, code: ErrorCode = 'ERR_FARCALL_REMOTE') {
    super(`${init.name}: ${init.message}`, code);
    this.remoteName = init.name;
    this.remoteStack = init.remoteStack;
    this.remoteCode = init.remoteCode;
    this.remoteFields = init.remoteFields ?? Object.freeze({});
  }
}

/** The peer refused access to a member: it is private, not exposed, or the policy forbids the action. */
export class AccessDeniedError extends FarcallError {
  /** The member that was refused. */
  readonly member: string;

  constructor(member: string, message?: string) {
    super(
      message ?? `Access to '${member}' is denied by the remote access policy`,
      'ERR_FARCALL_ACCESS_DENIED',
    );
    this.member = member;
  }
}

/** A ping came back with data other than what was sent. */
export class PingError extends FarcallError {
  constructor(message = 'The ping reply did not match the data sent') {
    super(message, 'ERR_FARCALL_PING');
  }
}

/** Authentication failed: a wrong `authKey`, password or login, or an untrusted host. */
export class AuthenticationError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_AUTHENTICATION', options);
  }
}

/**
 * A child process failed before it was ready, reported at once (not at the start timeout): a
 * `ProcessSpawner` child whose module could not be imported, whose `setup()` threw, or that exited; or
 * `Client64`'s 32-bit server that exited, crashed or could not load its module, class or library. The
 * message ends with what the process wrote (for Client64: its stdout and stderr).
 */
export class ProcessStartError extends FarcallError {
  /** The child's exit code, or null if a signal ended it (or it never started). */
  readonly exitCode: number | null;
  /** The signal that ended the child, or null. */
  readonly signal: string | null;
  /** The last part of what the child wrote to stderr (up to 8 KiB). */
  readonly stderr: string;

  constructor(
    message: string,
    details: { exitCode: number | null; signal: string | null; stderr: string },
    options?: FarcallErrorOptions,
  ) {
    super(message, 'ERR_FARCALL_PROCESS_START', options);
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderr = details.stderr;
  }
}

// ---------------------------------------------------------------------------------------------------------
// loadlib
// ---------------------------------------------------------------------------------------------------------

/** A method of a `Server32` threw, or the 32-bit server process failed; carries the server-side stack. */
export class Server32Error extends RemoteError {
  constructor(init: RemoteErrorInit) {
    super(init, 'ERR_FARCALL_SERVER32');
  }
}

/** A shared library could not be loaded: says which file, why, and how to fix it. */
export class LibraryLoadError extends FarcallError {
  /** The path that failed to load. */
  readonly path: string;

  constructor(path: string, message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_LIBRARY_LOAD', options);
    this.path = path;
  }
}

/**
 * The 32-bit Node.js runtime that `Server32` runs in (or its koffi ia32 build) is not where farcall looked.
 * The message says where it looked and the command that sets the runtime up.
 */
export class Server32RuntimeNotFoundError extends FarcallError {
  /** The runtime directory that was searched. */
  readonly dir: string;
  /** The files that were looked for. */
  readonly looked: readonly string[];

  constructor(dir: string, looked: readonly string[], message: string) {
    super(message, 'ERR_FARCALL_SERVER32_RUNTIME_NOT_FOUND');
    this.dir = dir;
    this.looked = looked;
  }
}

/**
 * A function of an `'oledll'` library returned a failure HRESULT (msl-loadlib's OleDLL raises `OSError`).
 * `hresult` is the code as an unsigned 32-bit number (`0x80004005` for E_FAIL); the message gives it in hex
 * with the system's text for it.
 */
export class HResultError extends FarcallError {
  /** The HRESULT, unsigned (e.g. 0x80004005). */
  readonly hresult: number;
  /** The function that returned it. */
  readonly functionName: string;

  constructor(functionName: string, hresult: number, message: string) {
    super(message, 'ERR_FARCALL_HRESULT');
    this.hresult = hresult;
    this.functionName = functionName;
  }
}

// ---------------------------------------------------------------------------------------------------------
// network
// ---------------------------------------------------------------------------------------------------------

/** A Manager or Service answered a request with an error (msl-network's `error: true` reply). */
export class MSLNetworkError extends FarcallError {
  /** The remote traceback lines, as the peer sent them. */
  readonly traceback: string[];

  constructor(message: string, traceback: string[] = [], code: ErrorCode = 'ERR_FARCALL_NETWORK') {
    super(message, code);
    this.traceback = traceback;
  }
}

/** A TLS problem: a plain/TLS mismatch, a changed or untrusted certificate, a hostname mismatch. */
export class TLSError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_TLS', options);
  }
}

/**
 * JSON nested deeper than the limit (1000 levels for msl-network's JSON), read or
 * written. Deeper values are refused rather than risk a stack overflow in whoever handles them next.
 */
export class JsonDepthError extends ProtocolError {
  /** The limit that was passed. */
  readonly limit: number;
  constructor(message: string, limit: number) {
    super(message, 'ERR_FARCALL_JSON_DEPTH');
    this.limit = limit;
  }
}

/** A change to the Manager's database that cannot be made: an unknown or duplicate user, an empty name. */
export class ManagerDatabaseError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_DATABASE', options);
  }
}

/**
 * The Manager's users/hostnames database cannot open because this Node.js has no SQLite driver: neither
 * the built-in `node:sqlite` (Node.js 22.13+) nor the optional dependency `better-sqlite3` loads. Install
 * one: `npm install better-sqlite3` (needs a C/C++ compiler where no prebuilt binary can be downloaded), or
 * run a newer Node.js. Only the Manager and the `farcall user|hostname` commands need it.
 */
export class SQLiteUnavailableError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_SQLITE_UNAVAILABLE', options);
  }
}

/**
 * The Network Manager could not start: its port is taken, its certificate or key cannot be loaded (a
 * wrong key password, a missing file), or its options contradict each other.
 */
export class ManagerStartError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_MANAGER_START', options);
  }
}
