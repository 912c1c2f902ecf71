/**
 * The child's side of structured logs across processes (pyacq's log sender): {@link childLogger} writes
 * log records to the parent's {@link ProcessSpawner} over a pipe of their own (fd 4 of the child, one JSON
 * record a line), open from the child's first line of code: records logged while the child imports its
 * module, before the rpc connection is up, arrive too. Outside a spawned child the records are printed
 * to stderr instead.
 *
 * Bounds: a record is at most {@link MAX_LOG_RECORD_BYTES} encoded (a longer message is cut, its fields
 * dropped, and `truncated: true` says so); at most {@link MAX_QUEUED_LOG_BYTES} wait in the child for the
 * parent to read them, and records beyond are dropped, counted, and reported in one `warn` record once the
 * queue drains: a chatty child never grows its own memory, and the parent reads at its own pace.
 * @module
 */
import * as net from 'node:net';
import { basename } from 'node:path';

/** The largest encoded log record (bytes of its JSON line, without the newline). */
export const MAX_LOG_RECORD_BYTES = 16 * 1024;
/** The most bytes of log records a child keeps waiting for the parent; records beyond are dropped. */
export const MAX_QUEUED_LOG_BYTES = 1024 * 1024;

/** How important a log record is. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The levels, in order of importance. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The fields of a record as it travels (one JSON line): the parent adds the child's pid and name. */
export interface LogLine {
  level: LogLevel;
  /** Milliseconds since the Unix epoch, on the child's clock. */
  time: number;
  source: string;
  message: string;
  fields?: Record<string, unknown>;
  truncated?: true;
}

/**
 * Logs records that reach the parent's `onLog` (see {@link ProcessSpawnerOptions.onLog}) as records:
 * level, time, the child's pid and name, this logger's `source`, the message and optional fields (JSON
 * values; a `bigint` travels as a string, what JSON cannot carry as its `String()`).
 */
export interface ChildLogger {
  /** Names where in the child the records come from, e.g. `'daq.scanner'`. */
  readonly source: string;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The pipe to the parent, shared by every copy of this module loaded in the process. */
const CHANNEL_KEY = Symbol.for('farcall.rpc.childLogChannel');

/** What the child holds of its log pipe: the socket, the child's name and what it had to drop. */
class LogChannel {
  readonly name: string;
  readonly #socket: net.Socket;
  #dropped = 0;
  #broken = false;

  constructor(fd: number, name: string) {
    this.name = name;
    this.#socket = new net.Socket({ fd, readable: false, writable: true });
    // The parent gone (EPIPE): records have nowhere to go; the child learns that from its rpc pipe.
    this.#socket.on('error', () => {
      this.#broken = true;
    });
    this.#socket.on('drain', () => this.#reportDropped());
    // The pipe alone never keeps the child alive; flush() waits for what is queued before exit.
    this.#socket.unref();
  }

  write(line: string): void {
    if (this.#broken) return;
    const bytes = Buffer.byteLength(line) + 1;
    if (this.#socket.writableLength + bytes > MAX_QUEUED_LOG_BYTES) {
      this.#dropped++;
      return;
    }
    this.#reportDropped();
    this.#socket.write(`${line}\n`);
  }

  /** Resolves once every queued record was handed to the pipe, or after `deadlineMs`. */
  flush(deadlineMs: number): Promise<void> {
    if (this.#broken || this.#socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, deadlineMs);
      this.#socket.write('', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #reportDropped(): void {
    if (this.#dropped === 0 || this.#broken) return;
    const count = this.#dropped;
    this.#dropped = 0;
    const line = encodeRecord(
      'warn',
      'farcall',
      `${count} log record${count === 1 ? ' was' : 's were'} dropped in the child: it logged faster than ` +
        `the parent reads (at most ${MAX_QUEUED_LOG_BYTES} bytes of records wait for it)`,
      { dropped: count },
    );
    this.#socket.write(`${line}\n`);
  }
}

/**
 * Opens the log pipe on `fd` for the whole process (spawner-main does, before importing the user's
 * module). @internal
 */
export function openChildLogChannel(fd: number, name: string): void {
  (globalThis as Record<symbol, unknown>)[CHANNEL_KEY] = new LogChannel(fd, name);
}

/** Waits (at most `deadlineMs`) for queued records to reach the pipe: before the child exits. @internal */
export function flushChildLogs(deadlineMs: number): Promise<void> {
  return channel()?.flush(deadlineMs) ?? Promise.resolve();
}

function channel(): LogChannel | undefined {
  return (globalThis as Record<symbol, unknown>)[CHANNEL_KEY] as LogChannel | undefined;
}

/**
 * A logger whose records reach the parent {@link ProcessSpawner}'s `onLog` as records, not as lines of
 * output. Use it anywhere in the child, also at the top of its module before `setup()` runs. Outside a
 * spawned child, records are printed to stderr as `level source: message {fields}`.
 *
 * @param source - where the records come from; default: the child's name (the spawner's `name`).
 * @example
 * ```ts
 * // worker.js, started with ProcessSpawner.spawn({ module: './worker.js', onLog: (r) => console.log(r) })
 * import { childLogger } from 'farcall/rpc';
 * const log = childLogger('daq');
 * log.info('loading calibration', { file: 'cal.json' });
 * export function setup(server) {
 *   server.set('daq', { scan: (n) => { log.debug('scan', { n }); return n; } });
 * }
 * ```
 */
export function childLogger(source?: string): ChildLogger {
  const make =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const pipe = channel();
      const from = source ?? pipe?.name ?? defaultSource();
      const line = encodeRecord(level, from, message, fields);
      if (pipe !== undefined) pipe.write(line);
      else process.stderr.write(formatRecord(JSON.parse(line) as LogLine));
    };
  return {
    get source() {
      return source ?? channel()?.name ?? defaultSource();
    },
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
  };
}

function defaultSource(): string {
  return process.argv[1] === undefined ? 'main' : basename(process.argv[1]);
}

/** One record as its JSON line, within {@link MAX_LOG_RECORD_BYTES}. */
function encodeRecord(
  level: LogLevel,
  source: string,
  message: unknown,
  fields: Record<string, unknown> | undefined,
): string {
  const record: LogLine = {
    level,
    time: performance.timeOrigin + performance.now(),
    source: String(source).slice(0, 200),
    message: typeof message === 'string' ? message : String(message),
  };
  if (fields !== undefined && fields !== null) record.fields = fields;
  let line = stringify(record);
  if (Buffer.byteLength(line) <= MAX_LOG_RECORD_BYTES) return line;
  // Too long: keep the start of the message, drop the fields. Cut by characters, then check the bytes.
  record.fields = undefined;
  record.truncated = true;
  let keep = Math.floor(MAX_LOG_RECORD_BYTES / 4);
  record.message = record.message.slice(0, keep);
  line = stringify(record);
  while (Buffer.byteLength(line) > MAX_LOG_RECORD_BYTES && keep > 0) {
    keep = Math.floor(keep / 2);
    record.message = record.message.slice(0, keep);
    line = stringify(record);
  }
  return line;
}

/** JSON of a record; a bigint as its decimal string, and fields JSON cannot carry replaced by a note. */
function stringify(record: LogLine): string {
  try {
    return JSON.stringify(record, bigintAsString);
  } catch (error) {
    const note = { unserializable: error instanceof Error ? error.message : String(error) };
    return JSON.stringify({ ...record, fields: note }, bigintAsString);
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A record as one line of text: `info daq: loading calibration {"file":"cal.json"}`. */
export function formatRecord(record: Pick<LogLine, 'level' | 'source' | 'message' | 'fields'>): string {
  let fields = '';
  if (record.fields !== undefined) {
    try {
      fields = ` ${JSON.stringify(record.fields, bigintAsString)}`;
    } catch {
      fields = ' {…}';
    }
  }
  return `${record.level} ${record.source}: ${record.message}${fields}\n`;
}
