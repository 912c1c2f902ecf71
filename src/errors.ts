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

/** Options accepted by every farcall error. */
export interface FarcallErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
}

/** Base class of every error farcall throws. */
export class FarcallError extends Error {
  /** A stable, machine-readable identifier, e.g. `'ERR_FARCALL_PROTOCOL'`. */
  readonly code: string;

  constructor(message: string, code = 'ERR_FARCALL', options?: FarcallErrorOptions) {
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
  constructor(message: string, code = 'ERR_FARCALL_PROTOCOL', options?: FarcallErrorOptions) {
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

/** A connection could not be made, or a server could not listen: refused, no such socket, address in use. */
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
    code = 'ERR_FARCALL_TIMEOUT',
    options?: FarcallErrorOptions,
  ) {
    super(message, code, options);
    this.timeoutMs = timeoutMs;
  }
}

/** Connecting to (or starting) a server did not succeed within the deadline, or failed while starting. */
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

  constructor(init: RemoteErrorInit, code = 'ERR_FARCALL_REMOTE') {
    super(`${init.name}: ${init.message}`, code);
    this.remoteName = init.name;
    this.remoteStack = init.remoteStack;
    this.remoteCode = init.remoteCode;
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
 * A child process started by `ProcessSpawner` failed before it was ready: its module could not be
 * imported, its `setup()` threw, or it exited. The message ends with what the child wrote to stderr.
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

  constructor(message: string, traceback: string[] = [], code = 'ERR_FARCALL_NETWORK') {
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

/** A change to the Manager's database that cannot be made: an unknown or duplicate user, an empty name. */
export class ManagerDatabaseError extends FarcallError {
  constructor(message: string, options?: FarcallErrorOptions) {
    super(message, 'ERR_FARCALL_DATABASE', options);
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
