/**
 * The log every part of farcall writes to: debug lines for a person finding out what happened
 * (connections, handshakes, calls), to a `logger` you pass and/or to stderr when `NODE_DEBUG` names the
 * part. Off by default, and cheap when off: callers test {@link PartLog.debugEnabled} before they build
 * a line. Nothing logged is ever a password, key, token or an argument's value — sizes, names and ids only.
 * @module
 */
import { lineSafe } from './line-safe.js';
import { type LogPart, nodeDebugEnabled } from './node-debug.js';

export type { LogPart } from './node-debug.js';

/**
 * Where farcall sends its log records when you pass a `logger` option: any object with these four
 * methods — `console`, a pino or winston logger, or your own. Each record is one line of text starting
 * with its part (`farcall:rpc …`); the logger decides what to keep. farcall calls it at every level,
 * debug included; a logger that throws is reported once as a process warning and otherwise ignored.
 *
 * @example
 * ```ts
 * import { RPCClient } from 'farcall/rpc';
 * const lines: string[] = [];
 * const logger = {
 *   debug: (line: string) => lines.push(line),
 *   info: (line: string) => lines.push(line),
 *   warn: console.warn,
 *   error: console.error,
 * };
 * await using client = await RPCClient.connect('tcp://127.0.0.1:5000', { logger });
 * ```
 */
export interface Logger {
  /** Connections, handshakes and calls: what a person debugging needs. */
  debug(message: string): void;
  /** Events worth a line in a running service's log (a Manager's connections). */
  info(message: string): void;
  /** Something went wrong and farcall carried on (a refused peer, a dropped reply). */
  warn(message: string): void;
  /** Something failed. */
  error(message: string): void;
}

type Level = keyof Logger;

/**
 * The log of one part of farcall (`rpc`, `loadlib`, `network`, `wire`) for one object: writes to its
 * `logger` (if any) and, when `NODE_DEBUG` names the part, to stderr like `util.debuglog`
 * (`FARCALL:RPC 4711: …`).
 *
 * @example
 * ```ts
 * const log = partLog('rpc', options.logger);
 * if (log.debugEnabled) log.debug(`connection to ${address} opened`);
 * ```
 */
export class PartLog {
  /** The part, e.g. `'rpc'`. */
  readonly part: LogPart;
  /** True when debug lines go anywhere: test it before building one. */
  readonly debugEnabled: boolean;
  readonly #logger: Logger | undefined;
  readonly #stderr: boolean;
  readonly #prefix: string;
  #loggerFailed = false;

  constructor(part: LogPart, logger?: Logger, stderr = nodeDebugEnabled(part)) {
    this.part = part;
    this.#logger = logger;
    this.#stderr = stderr;
    this.#prefix = `farcall:${part}`;
    this.debugEnabled = logger !== undefined || stderr;
  }

  /** A debug line (connections, handshakes, calls). */
  debug(message: string): void {
    if (this.debugEnabled) this.#emit('debug', message);
  }

  /** An info line. */
  info(message: string): void {
    if (this.debugEnabled) this.#emit('info', message);
  }

  /** A warning line. */
  warn(message: string): void {
    if (this.debugEnabled) this.#emit('warn', message);
  }

  /** An error line. */
  error(message: string): void {
    if (this.debugEnabled) this.#emit('error', message);
  }

  #emit(level: Level, message: string): void {
    // A peer's text may carry newlines or escapes: one record stays one line.
    const line = lineSafe(message);
    if (this.#stderr) {
      const tag = level === 'debug' ? '' : `${level.toUpperCase()} `;
      process.stderr.write(`${this.#prefix.toUpperCase()} ${process.pid}: ${tag}${line}\n`);
    }
    const logger = this.#logger;
    if (logger === undefined || this.#loggerFailed) return;
    try {
      logger[level](`${this.#prefix} ${line}`);
    } catch (error) {
      this.#loggerFailed = true;
      process.emitWarning(
        `The logger passed to farcall (${this.#prefix}) threw, so it gets no more records: ` +
          (error instanceof Error ? error.message : String(error)),
        { code: 'FARCALL_LOGGER_FAILED' },
      );
    }
  }
}

const shared = new Map<LogPart, PartLog>();

/**
 * The log of `part` for an object given `logger` (or none: then one shared log per part, on only when
 * `NODE_DEBUG` names the part). Throws a TypeError for a `logger` that lacks one of the four methods.
 *
 * @example
 * ```ts
 * const log = partLog('loadlib', options.logger);
 * ```
 */
export function partLog(part: LogPart, logger?: Logger): PartLog {
  if (logger === undefined) {
    let log = shared.get(part);
    if (log === undefined) {
      log = new PartLog(part);
      shared.set(part, log);
    }
    return log;
  }
  checkLogger(logger);
  return new PartLog(part, logger);
}

/** Throws a TypeError unless `logger` has `debug`, `info`, `warn` and `error` methods. */
export function checkLogger(logger: unknown): asserts logger is Logger {
  const missing = (['debug', 'info', 'warn', 'error'] as const).filter(
    (level) => typeof (logger as Partial<Logger> | null)?.[level] !== 'function',
  );
  if (typeof logger !== 'object' || logger === null || missing.length > 0) {
    throw new TypeError(
      `The logger option must be an object with debug, info, warn and error methods (like console)` +
        (missing.length > 0 && typeof logger === 'object' && logger !== null
          ? `; it lacks ${missing.join(', ')}`
          : `, got ${logger === null ? 'null' : typeof logger}`),
    );
  }
}

/** Milliseconds since `start` (a `performance.now()`), for a log line: `1.25 ms`. */
export function elapsed(start: number): string {
  return `${(performance.now() - start).toFixed(2)} ms`;
}

/** The size of a message in bytes, for a log line: `17 B`, `2.0 KiB`, `3.1 MiB`. */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
