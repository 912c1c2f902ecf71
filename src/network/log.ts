/**
 * The Manager's log: one line per event, to a file or to stderr, filtered by level. Callers never pass
 * passwords here; a peer's text is quoted, not interpreted.
 *
 * Internal to the Manager.
 * @module
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** Log levels, most verbose first (Python's logging names). */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical', 'silent'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of a {@link ManagerLog}. */
export interface ManagerLogOptions {
  /** Default: `'warning'`. */
  level?: LogLevel | Uppercase<LogLevel>;
  /** Append to this file instead of writing to stderr. */
  file?: string;
}

/** A leveled line logger. */
export class ManagerLog {
  readonly level: LogLevel;
  readonly #rank: number;
  readonly #stream: WriteStream | undefined;

  constructor(options: ManagerLogOptions = {}) {
    const level = (options.level ?? 'warning').toLowerCase() as LogLevel;
    if (!LOG_LEVELS.includes(level)) {
      throw new RangeError(`Unknown log level '${options.level}': use one of ${LOG_LEVELS.join(', ')}`);
    }
    this.level = level;
    this.#rank = LOG_LEVELS.indexOf(level);
    if (options.file !== undefined && this.level !== 'silent') {
      mkdirSync(dirname(options.file), { recursive: true });
      this.#stream = createWriteStream(options.file, { flags: 'a' });
    }
  }

  /** Whether messages of `level` are written (to skip building expensive messages). */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#rank && level !== 'silent';
  }

  debug(message: string): void {
    this.#write('debug', message);
  }

  info(message: string): void {
    this.#write('info', message);
  }

  warning(message: string): void {
    this.#write('warning', message);
  }

  error(message: string): void {
    this.#write('error', message);
  }

  #write(level: LogLevel, message: string): void {
    if (!this.enabled(level)) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(7)} ${message}\n`;
    if (this.#stream !== undefined) this.#stream.write(line);
    else process.stderr.write(line);
  }

  /** Flushes and closes the log file. */
  close(): Promise<void> {
    const stream = this.#stream;
    if (stream === undefined || stream.closed) return Promise.resolve();
    return new Promise((resolve) => stream.end(resolve));
  }
}
