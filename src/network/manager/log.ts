/**
 * The Manager's log: one line per event, to a file and/or the console, filtered by level, and to the
 * `logger` option and `NODE_DEBUG=farcall:network` (every level). Callers never pass passwords here; a
 * peer's text is quoted, not interpreted, and its control characters are escaped.
 *
 * Internal to the Manager.
 * @module
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { lineSafe } from '../../log/line-safe.js';
import { type Logger, type PartLog, partLog } from '../../log/logger.js';
import { EncodedLines } from './encoded-lines.js';

/** Log levels, most verbose first (Python's logging names). */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical', 'silent'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Each level's place in {@link LOG_LEVELS}. */
const RANK = Object.fromEntries(LOG_LEVELS.map((l, i) => [l, i])) as Record<LogLevel, number>;

// Python's numeric logging levels (logging.DEBUG = 10 … logging.CRITICAL = 50), as msl-network accepts them.
const NUMERIC_LEVELS: ReadonlyArray<[number, LogLevel]> = [
  [50, 'critical'],
  [40, 'error'],
  [30, 'warning'],
  [20, 'info'],
  [0, 'debug'],
];
const ALIASES: Readonly<Record<string, LogLevel>> = { warn: 'warning', fatal: 'critical' };

/**
 * Reads a log level as msl-network's `--log-level` does: a name in any case (`INFO`, `info`, `warn`)
 * or Python's number (`20` = info; a number between two levels means the lower one). Throws a
 * RangeError that lists the choices.
 *
 * @example
 * ```ts
 * parseLogLevel('INFO'); // 'info'
 * parseLogLevel('20');   // 'info'
 * ```
 */
export function parseLogLevel(value: string | number): LogLevel {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    for (const [threshold, level] of NUMERIC_LEVELS) if (n >= threshold) return level;
  }
  const name = text.toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(name)) return name as LogLevel;
  if (Object.hasOwn(ALIASES, name)) return ALIASES[name];
  throw new RangeError(
    `Cannot set logging level to '${text}': use one of ${LOG_LEVELS.join(', ')} (any case) or a number ` +
      '(10 debug, 20 info, 30 warning, 40 error, 50 critical)',
  );
}

/** Options of a {@link ManagerLog}. */
export interface ManagerLogOptions {
  /** The level of the console (stderr) or, without `fileLevel`, of the file. Default: `'warning'`. */
  level?: LogLevel | Uppercase<LogLevel>;
  /** Append to this file instead of writing to stderr (unless `fileLevel` is given). */
  file?: string;
  /**
   * Write the file at this level and ALSO write the console (stderr) at `level`, as msl-network's
   * Manager does (its file is complete, its terminal shows what `--log-level` asks for).
   */
  fileLevel?: LogLevel;
  /** Where the console lines go. Default: `'stderr'` (`farcall start` uses stdout, as msl-network does). */
  console?: 'stderr' | 'stdout';
  /** Also send every record (debug included) to this logger. */
  logger?: Logger;
}

/** A leveled line logger: a file, stderr, or both, each with its own level. */
export class ManagerLog {
  /** The most verbose level written anywhere. */
  readonly level: LogLevel;
  readonly #consoleRank: number;
  readonly #fileRank: number;
  readonly #rank: number;
  #stream: WriteStream | undefined;
  /** Lines not written because the file could not keep up (see {@link LOG_FILE_MAX_QUEUED_BYTES}). */
  #dropped = 0;
  /** Lines for the file gathered since the last write (encoded at once): one write, not one per line. */
  readonly #pending = new EncodedLines();
  #flushSoon = false;
  #flushTimer: NodeJS.Timeout | undefined;
  /** The ISO time of the last line and its millisecond (a busy Manager logs many lines per millisecond). */
  #stampMs = -1;
  /** `<ISO time> <LEVEL> ` for each level, for the millisecond in #stampMs (built when first used). */
  #prefixes: string[] = [];
  /** The last whole second a prefix was made for (ms since the epoch) and its ISO text up to the `.`. */
  #second = -1;
  #secondText = '';
  readonly #console: NodeJS.WriteStream;
  /** Schedules the writing of held lines (see {@link ManagerLog.deferWith}); undefined: at once. */
  #defer: ((task: () => void) => void) | undefined;
  /**
   * Lines held for the deferred write, in order: a [level, message] pair (a {@link ManagerLog.fileOnly}
   * message wrapped in a FileOnlyText), or a debug line's format, its five parts and its time (see
   * {@link ManagerLog.debugFormat}). Flat, not an object per line: a busy Manager holds two lines per
   * request.
   */
  #held: unknown[] = [];
  /** How many slots of #held are in use (the array keeps its length between drains: no regrowth). */
  #heldCount = 0;
  /** The other array of the pair: a drain reads one while new lines go into the other. */
  #spareHeld: unknown[] = [];
  /** Whether held lines are being written (a drain inside it takes a fresh array, not the spare). */
  #drainingHeld = false;
  #drainScheduled = false;
  readonly #drain = (): void => this.#writeHeld();
  /** What a format's `parts` fill (one for every line: they are copied before the next). */
  readonly #parts: EncodedLineParts = { head: new Uint8Array(0), middle: '', tail: new Uint8Array(0) };
  /** The debug prefix of the last encoded line, and its bytes (the prefix is plain ASCII). */
  #prefixEncodedFor = '';
  #prefixEncoded: Uint8Array = new Uint8Array(0);
  /** Formatted debug lines held since the last drain (see {@link ManagerLog.debugFormat}). */
  #heldFormatted = 0;
  /**
   * The time (ms since the epoch) that the held lines' times count from: each holds its offset, a small
   * integer, rather than a number object of its own.
   */
  #heldSince = Date.now();
  /** The `logger` option and NODE_DEBUG=farcall:network, when either is on. */
  readonly #part: PartLog | undefined;

  constructor(options: ManagerLogOptions = {}) {
    this.#console = options.console === 'stdout' ? process.stdout : process.stderr;
    const level = parseLogLevel(options.level ?? 'warning');
    const silent = LOG_LEVELS.indexOf('silent');
    const both = options.file !== undefined && options.fileLevel !== undefined;
    const fileLevel = options.file === undefined ? 'silent' : (options.fileLevel ?? level);
    this.#fileRank = LOG_LEVELS.indexOf(fileLevel);
    // Without fileLevel a file replaces stderr (the library's behaviour); with it, both are written.
    this.#consoleRank = options.file === undefined || both ? LOG_LEVELS.indexOf(level) : silent;
    const part = partLog('network', options.logger);
    this.#part = part.debugEnabled ? part : undefined;
    this.#rank = this.#part === undefined ? Math.min(this.#fileRank, this.#consoleRank) : 0;
    this.level = LOG_LEVELS[this.#rank];
    if (options.file !== undefined && fileLevel !== 'silent') {
      mkdirSync(dirname(options.file), { recursive: true });
      const stream = createWriteStream(options.file, { flags: 'a' });
      // A full disk or a file that cannot be written must not take the Manager down: say so once on the
      // console and keep serving without the file.
      stream.on('error', (error) => {
        if (this.#stream === stream) this.#stream = undefined;
        this.#console.write(
          this.#line(
            'error',
            `the log file ${options.file} cannot be written (${error.message}); logging to it stopped`,
          ),
        );
      });
      stream.on('drain', () => {
        if (this.#dropped === 0 || this.#stream !== stream) return;
        const dropped = this.#dropped;
        this.#dropped = 0;
        this.#toFile(
          this.#line('warning', `${dropped} log line(s) were dropped: the log file could not keep up`),
          true,
        );
      });
      this.#stream = stream;
    }
  }

  /**
   * Queues one line for the file (written with the others of this turn of the event loop), or drops it
   * (counted) while the file is too far behind.
   */
  #toFile(line: string, urgent: boolean, lines = 1): void {
    if (!this.#fileTakes(lines)) return;
    this.#pending.append(line);
    if (this.#pending.hasFull) this.#writeParts(this.#pending.takeFull());
    if (urgent) {
      // A warning or an error reaches the file at the end of this turn (with what was gathered before it).
      if (!this.#flushSoon) {
        this.#flushSoon = true;
        setImmediate(() => this.#flush());
      }
    } else this.#flushLater();
  }

  // A held line as encoded pieces, logged at `now`, if its format makes them and its middle is plain
  // ASCII: false otherwise (the caller makes it into text).
  #appendParts(
    parts: (out: EncodedLineParts, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => boolean,
    held: unknown[],
    i: number,
    now: number,
  ): boolean {
    const out = this.#parts;
    try {
      if (!parts(out, held[i + 1], held[i + 2], held[i + 3], held[i + 4], held[i + 5])) return false;
    } catch {
      // A line that fails to build costs its own line, never the others.
      return true;
    }
    if (!this.#fileTakes(1)) return true;
    const prefix = this.#prefix(DEBUG_RANK, now);
    if (prefix !== this.#prefixEncodedFor) {
      this.#prefixEncodedFor = prefix;
      this.#prefixEncoded = Buffer.from(prefix, 'latin1');
    }
    const pending = this.#pending;
    if (!pending.appendParts(this.#prefixEncoded, out.head, out.middle, out.tail)) return false;
    // A full buffer is written at once: it comes back soon, still in the cache, for later lines.
    if (pending.hasFull) this.#writeParts(pending.takeFull());
    return true;
  }

  // Whether the file takes `lines` more lines now: there is one, and it is not too far behind (else they
  // are dropped, and counted).
  #fileTakes(lines: number): boolean {
    const stream = this.#stream;
    if (stream === undefined) return false;
    if (stream.writableLength + this.#pending.bytes > LOG_FILE_MAX_QUEUED_BYTES) {
      this.#dropped += lines;
      return false;
    }
    return true;
  }

  // Debug and info lines: at most 50 ms late, so a busy Manager writes its file a few times a second.
  #flushLater(): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => this.#flush(), LOG_FILE_FLUSH_MS);
    this.#flushTimer.unref();
  }

  #flush(): void {
    // Formatted lines waiting for this write become text first (they may arm the timer cleared below).
    if (this.#heldFormatted > 0 && !this.#drainScheduled) this.#writeHeld();
    this.#flushSoon = false;
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#pending.bytes > 0) this.#writeParts(this.#pending.take());
  }

  // Writes taken buffers to the file, each given back to #pending once written (to hold later lines).
  #writeParts(parts: Buffer[]): void {
    const stream = this.#stream;
    if (stream === undefined) return;
    const pending = this.#pending;
    const several = parts.length > 1;
    if (several) stream.cork();
    for (const part of parts) stream.write(part, () => pending.release(part));
    if (several) stream.uncork();
  }

  /** Whether messages of `level` are written anywhere (to skip building expensive messages). */
  enabled(level: LogLevel): boolean {
    return level !== 'silent' && RANK[level] >= this.#rank;
  }

  /**
   * Builds and writes every line through `defer`, which runs it when it sees fit, in order: the Manager
   * passes one that runs it once the writes for the chunk being handled are out, so that a line's time
   * stamp, text and filter work is off the path from a message in to the message out.
   */
  deferWith(defer: (task: () => void) => void): void {
    this.#defer = defer;
  }

  /** A debug line; a function builds it only when (and once) the line is written. */
  debug(message: string | (() => string)): void {
    this.#write('debug', message);
  }

  /**
   * A debug line that `format` makes of the five parts when (and once) it is written: a plain function,
   * not a closure per line, for the lines of every message the Manager forwards. The text `format`
   * returns must hold no control character (it is written as it is; see {@link lineSafe}).
   *
   * When only the log file takes debug lines (what `farcall start` does), the line keeps the time of this
   * call and goes into the file's buffer with the file's next write, with the others held since (at most
   * {@link LOG_FILE_FLUSH_MS} later, or once the chunk's writes are out when a few hundred are held): as
   * the encoded pieces `format.parts` gives (copied, no string made), else as text joined to the others.
   * Nothing of it runs between a message and the next, where the peer just written to may be waiting for
   * this process's core. A full buffer (64 KiB) is written at once.
   *
   * @example
   * ```ts
   * const forwarded: LineFormat<string, string, number, unknown, unknown> = (from, to, bytes) =>
   *   `${bytes} bytes from ${from} to ${to}`;
   * log.debugFormat(forwarded, 'A[host:1]', 'B[host:2]', 120, undefined, undefined);
   * ```
   */
  debugFormat<A, B, C, D, E>(format: LineFormat<A, B, C, D, E>, a: A, b: B, c: C, d: D, e: E): void {
    if (this.#rank > DEBUG_RANK) return;
    if (this.#defer === undefined) {
      this.#writeNow('debug', format(a, b, c, d, e));
      return;
    }
    // The time now; the line later, with the file's next write (or sooner, see below).
    const held = this.#held;
    const n = this.#heldCount;
    held[n] = format;
    held[n + 1] = a;
    held[n + 2] = b;
    held[n + 3] = c;
    held[n + 4] = d;
    held[n + 5] = e;
    held[n + 6] = Date.now() - this.#heldSince;
    this.#heldCount = n + 7;
    if (this.#drainScheduled) return;
    if (++this.#heldFormatted >= HELD_FORMATTED_LIMIT || !this.#fileOnlyDebug()) this.#scheduleDrain();
    else this.#flushLater();
  }

  // Whether debug lines go to the file alone (not the console, the logger or NODE_DEBUG): then they may
  // be written late, in bulk.
  #fileOnlyDebug(): boolean {
    return (
      this.#stream !== undefined &&
      DEBUG_RANK >= this.#fileRank &&
      DEBUG_RANK < this.#consoleRank &&
      this.#part === undefined
    );
  }

  info(message: string): void {
    this.#write('info', message);
  }

  warning(message: string): void {
    this.#write('warning', message);
  }

  /** The same as {@link ManagerLog.warning} (the name a `Logger` has). */
  warn(message: string): void {
    this.#write('warning', message);
  }

  error(message: string): void {
    this.#write('error', message);
  }

  /** Writes `message` to the file only (not the console, the logger or NODE_DEBUG). */
  fileOnly(level: LogLevel, message: string): void {
    if (this.#stream === undefined || level === 'silent' || RANK[level] < this.#fileRank) return;
    if (this.#defer === undefined) this.#fileNow(level, message);
    else this.#hold(level, new FileOnlyText(message));
  }

  #write(level: LogLevel, message: string | (() => string)): void {
    if (!this.enabled(level)) return;
    if (this.#defer === undefined) this.#writeNow(level, message);
    else this.#hold(level, message);
  }

  #hold(level: LogLevel, message: string | (() => string) | FileOnlyText): void {
    const n = this.#heldCount;
    this.#held[n] = level;
    this.#held[n + 1] = message;
    this.#heldCount = n + 2;
    this.#scheduleDrain();
  }

  #scheduleDrain(): void {
    if (!this.#drainScheduled) {
      this.#drainScheduled = true;
      // Outside a chunk the hook runs the drain at once (this line is written now).
      (this.#defer as (task: () => void) => void)(this.#drain);
    }
  }

  #writeHeld(): void {
    this.#drainScheduled = false;
    this.#heldFormatted = 0;
    const held = this.#held;
    const count = this.#heldCount;
    if (count === 0) return;
    // Lines logged while these are written go to the other array.
    const nested = this.#drainingHeld;
    this.#held = nested ? [] : this.#spareHeld;
    this.#heldCount = 0;
    this.#drainingHeld = true;
    try {
      this.#writeHeldLines(held, count);
    } finally {
      // Let go of the parts (peer states, uids), keep the room.
      held.fill(undefined, 0, count);
      if (!nested) {
        this.#spareHeld = held;
        this.#drainingHeld = false;
      }
    }
  }

  #writeHeldLines(held: unknown[], count: number): void {
    // Formatted debug lines that only the file takes are joined into one text per run of them (one
    // encode), in their place among the other lines.
    const fileOnlyDebug = this.#fileOnlyDebug();
    const since = this.#heldSince;
    this.#heldSince = Date.now();
    let joined = '';
    let joinedLines = 0;
    for (let i = 0; i < count; ) {
      const head = held[i];
      if (typeof head === 'function') {
        const format = head as LineFormat<unknown, unknown, unknown, unknown, unknown>;
        const parts = format.parts;
        if (fileOnlyDebug && parts !== undefined) {
          // As encoded pieces, after the text joined so far (which was logged before it).
          if (joinedLines > 0) {
            this.#toFile(joined, false, joinedLines);
            joined = '';
            joinedLines = 0;
          }
          if (this.#appendParts(parts, held, i, since + (held[i + 6] as number))) {
            i += 7;
            continue;
          }
        }
        try {
          const text = format(held[i + 1], held[i + 2], held[i + 3], held[i + 4], held[i + 5]);
          if (!fileOnlyDebug) this.#writeNow('debug', text);
          else {
            joined += `${this.#prefix(DEBUG_RANK, since + (held[i + 6] as number))}${text}\n`;
            joinedLines++;
            if (joined.length >= JOINED_CHARS) {
              this.#toFile(joined, false, joinedLines);
              joined = '';
              joinedLines = 0;
            }
          }
        } catch {
          // A line that fails to build costs its own line, never the others.
        }
        i += 7;
        continue;
      }
      if (joinedLines > 0) {
        this.#toFile(joined, false, joinedLines);
        joined = '';
        joinedLines = 0;
      }
      const level = head as LogLevel;
      const message = held[i + 1] as string | (() => string) | FileOnlyText;
      i += 2;
      try {
        if (message instanceof FileOnlyText) this.#fileNow(level, message.text);
        else this.#writeNow(level, message);
      } catch {
        // A message that fails to build costs its own line, never the others.
      }
    }
    if (joinedLines > 0) this.#toFile(joined, false, joinedLines);
  }

  #fileNow(level: LogLevel, message: string): void {
    this.#toFile(this.#line(level, message), RANK[level] >= URGENT_RANK);
  }

  #writeNow(level: LogLevel, built: string | (() => string)): void {
    const message = typeof built === 'string' ? built : built();
    const rank = RANK[level];
    if (rank >= this.#fileRank || rank >= this.#consoleRank) {
      const line = this.#line(level, message);
      if (this.#stream !== undefined && rank >= this.#fileRank) this.#toFile(line, rank >= URGENT_RANK);
      if (rank >= this.#consoleRank) this.#console.write(line);
    }
    const part = this.#part;
    if (part === undefined) return;
    if (level === 'debug') part.debug(message);
    else if (level === 'info') part.info(message);
    else if (level === 'warning') part.warn(message);
    else part.error(message);
  }

  #line(level: LogLevel, message: string): string {
    // A peer's text may carry newlines: one event stays one line.
    return `${this.#prefix(RANK[level])}${lineSafe(message)}\n`;
  }

  // `<ISO time> <LEVEL> ` for a level's rank, at `now` (ms since the epoch).
  #prefix(rank: number, now = Date.now()): string {
    if (now !== this.#stampMs) {
      this.#stampMs = now;
      this.#prefixes = [];
    }
    let prefix = this.#prefixes[rank];
    if (prefix === undefined) {
      // The ISO time up to its seconds is made once a second (a busy log spans many milliseconds).
      const ms = now % 1000;
      const second = now - ms;
      if (second !== this.#second) {
        this.#second = second;
        this.#secondText = new Date(second).toISOString().slice(0, 20);
      }
      prefix = `${this.#secondText}${MILLISECOND_TEXTS[ms]}Z ${LEVEL_LABELS[LOG_LEVELS[rank]]} `;
      this.#prefixes[rank] = prefix;
    }
    return prefix;
  }

  /** Flushes and closes the log file. */
  close(): Promise<void> {
    this.#writeHeld();
    this.#flush();
    const stream = this.#stream;
    // A line that comes later (a deferred one, say) finds no file rather than a stream already ended.
    this.#stream = undefined;
    if (stream === undefined || stream.closed) return Promise.resolve();
    return new Promise((resolve) => stream.end(resolve));
  }
}

/**
 * The most bytes of log lines that may wait for the log file (16 MiB). Beyond that lines are dropped and
 * counted, and the count is written once the file catches up: a slow disk never grows the Manager's memory.
 */
export const LOG_FILE_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** How late a debug or info line may reach the log file (milliseconds); warnings and errors go at once. */
export const LOG_FILE_FLUSH_MS = 50;
const URGENT_RANK = RANK.warning;
const DEBUG_RANK = RANK.debug;
/** `000` … `999`: the milliseconds of a time stamp. */
const MILLISECOND_TEXTS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'));
/**
 * Formatted debug lines held before they are made into text at once, after the writes of the chunk
 * being handled; fewer wait for the log file's next write (at most {@link LOG_FILE_FLUSH_MS} later).
 */
const HELD_FORMATTED_LIMIT = 512;
/** Joined debug lines are handed to the file's buffer in texts of about this many characters. */
const JOINED_CHARS = 32 * 1024;

/**
 * Makes a debug line of five parts (see {@link ManagerLog.debugFormat}); a part it does not need is
 * passed as `undefined`.
 */
export type LineFormat<A, B, C, D, E> = ((a: A, b: B, c: C, d: D, e: E) => string) & {
  /**
   * The same line as encoded pieces around one text (see {@link EncodedLineParts}), for the log file:
   * fills `out` and returns true, or returns false for a line it leaves to the text.
   */
  parts?: (out: EncodedLineParts, a: A, b: B, c: C, d: D, e: E) => boolean;
};

/**
 * A {@link LineFormat} made of its text and its encoded parts (each a plain function of the five parts).
 *
 * @example
 * ```ts
 * const head = Buffer.from('hello '), tail = Buffer.from('!');
 * const hello = lineFormat<string, undefined, undefined, undefined, undefined>(
 *   (name) => `hello ${name}!`,
 *   (out, name) => ((out.head = head), (out.middle = name), (out.tail = tail), true),
 * );
 * ```
 */
export function lineFormat<A, B, C, D, E>(
  text: (a: A, b: B, c: C, d: D, e: E) => string,
  parts: (out: EncodedLineParts, a: A, b: B, c: C, d: D, e: E) => boolean,
): LineFormat<A, B, C, D, E> {
  return Object.assign(text, { parts });
}

/**
 * A line as the log file takes it cheapest: `head`, `middle` and `tail`, the two ends already encoded
 * (UTF-8) and `middle` a text that is written as it is if it is plain printable ASCII (see
 * {@link EncodedLines.appendParts}); otherwise the line is made as text.
 */
export interface EncodedLineParts {
  head: Uint8Array;
  middle: string;
  tail: Uint8Array;
}

/** Each level's label as a line shows it (upper case, padded to 7). */
const LEVEL_LABELS = Object.fromEntries(LOG_LEVELS.map((l) => [l, l.toUpperCase().padEnd(7)])) as Record<
  LogLevel,
  string
>;

/** A held line for the file only (see {@link ManagerLog.fileOnly}). */
class FileOnlyText {
  constructor(readonly text: string) {}
}
