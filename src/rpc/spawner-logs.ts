/**
 * The parent's side of a child's structured logs (pyacq's log server): reads the records a
 * {@link childLogger} writes on the child's log pipe and hands each to the spawner's `onLog`, at most
 * `rate` records a second. Beyond that rate the pipe is paused (the child then queues, and past its bound
 * drops and reports), so a chatty child costs the parent a bounded share of its time; the parent holds at
 * most one read of the pipe (64 KiB) and one partial line ({@link MAX_LOG_RECORD_BYTES}) at a time.
 * @module
 */
import type { Readable } from 'node:stream';
import { LOG_LEVELS, type LogLevel, MAX_LOG_RECORD_BYTES } from './child-log.js';

/** Records per second the parent takes from one child unless `maxLogRate` says otherwise. */
export const DEFAULT_LOG_RATE = 1000;

/** A log record of a child process, as the parent's `onLog` receives it. */
export interface ChildLogRecord {
  /** How important it is. */
  level: LogLevel;
  /** When it was logged: milliseconds since the Unix epoch, on the child's clock. */
  time: number;
  /** The child's process id (as the parent knows it). */
  pid: number;
  /** The child's name (the spawner's `name`). */
  name: string;
  /** Where in the child it comes from: the `source` of its {@link childLogger}; `'farcall'` for notes about dropped records. */
  source: string;
  message: string;
  /** The fields logged with it, if any (JSON values). */
  fields?: Record<string, unknown>;
  /** True if the child cut the record to {@link MAX_LOG_RECORD_BYTES}: the message is its start, the fields are gone. */
  truncated?: boolean;
}

/** What {@link readChildLogs} needs to know. */
export interface ChildLogReaderOptions {
  name: string;
  pid: number;
  /** Records per second at most (a burst of one second's worth is let through at once). */
  rate: number;
  deliver(record: ChildLogRecord): void;
}

/**
 * Reads log records from `source` (the child's log pipe) until it ends.
 * Resolves when the pipe has ended and every record read was delivered.
 */
export function readChildLogs(source: Readable, options: ChildLogReaderOptions): Promise<void> {
  return new Promise((resolve) => new ChildLogReader(source, options, resolve));
}

class ChildLogReader {
  readonly #source: Readable;
  readonly #options: ChildLogReaderOptions;
  readonly #done: () => void;
  readonly #rate: number;
  #tokens: number;
  #refilledAt = performance.now();
  /** Complete lines read and not yet delivered (at most one read's worth: the pipe is paused meanwhile). */
  #lines: string[] = [];
  #next = 0;
  #partial = '';
  /** Inside a line longer than the limit: its rest is skipped up to the next newline. */
  #skipping = false;
  /** Lines that were not records (too long, not JSON, not an object), not yet reported. */
  #rejected = 0;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  #finished = false;

  constructor(source: Readable, options: ChildLogReaderOptions, done: () => void) {
    this.#source = source;
    this.#options = options;
    this.#done = done;
    this.#rate = Number.isFinite(options.rate) && options.rate > 0 ? options.rate : DEFAULT_LOG_RATE;
    this.#tokens = this.#rate;
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => this.#onData(chunk));
    const end = (): void => {
      this.#ended = true;
      this.#drain();
    };
    source.once('end', end);
    source.once('close', end);
    source.on('error', end);
  }

  #onData(chunk: string): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf('\n', start);
      if (newline < 0) {
        if (!this.#skipping) this.#partial += chunk.slice(start);
        // Characters never outnumber bytes: more characters than the limit is more bytes than it.
        if (this.#partial.length > MAX_LOG_RECORD_BYTES) {
          this.#partial = '';
          this.#skipping = true;
          this.#rejected++;
        }
        break;
      }
      const piece = chunk.slice(start, newline);
      start = newline + 1;
      if (this.#skipping) {
        this.#skipping = false;
        continue;
      }
      const line = this.#partial + piece;
      this.#partial = '';
      if (line.length > 0) this.#lines.push(line);
    }
    this.#drain();
  }

  /** Delivers what the rate allows; pauses the pipe until the rest may go. */
  #drain(): void {
    if (this.#finished) return;
    this.#refill();
    while (this.#next < this.#lines.length && this.#tokens >= 1) {
      this.#tokens--;
      const line = this.#lines[this.#next];
      this.#lines[this.#next++] = '';
      const record = this.#parse(line);
      if (record === undefined) this.#rejected++;
      else this.#options.deliver(record);
    }
    if (this.#rejected > 0 && this.#tokens >= 1) {
      this.#tokens--;
      this.#reportRejected();
    }
    const waiting = this.#lines.length - this.#next + (this.#rejected > 0 ? 1 : 0);
    if (waiting > 0) {
      this.#source.pause();
      if (this.#timer === undefined) {
        // Wait for a tenth of a second's worth of records (or all that wait), not for each one.
        const batch = Math.min(waiting, Math.ceil(this.#rate / 10));
        const ms = Math.max(10, (1000 * (batch - this.#tokens)) / this.#rate);
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#drain();
        }, ms);
      }
      return;
    }
    this.#lines = [];
    this.#next = 0;
    if (!this.#ended) {
      this.#source.resume();
      return;
    }
    // The pipe ended: a last line without a newline is a record too.
    if (this.#partial.length > 0 && !this.#skipping) {
      this.#lines.push(this.#partial);
      this.#partial = '';
      this.#drain();
      return;
    }
    this.#finished = true;
    this.#done();
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#refilledAt) * this.#rate) / 1000);
    this.#refilledAt = now;
  }

  #reportRejected(): void {
    const count = this.#rejected;
    this.#rejected = 0;
    this.#options.deliver({
      level: 'warn',
      time: performance.timeOrigin + performance.now(),
      pid: this.#options.pid,
      name: this.#options.name,
      source: 'farcall',
      message:
        `${count} line${count === 1 ? '' : 's'} on the child's log pipe ${count === 1 ? 'was' : 'were'} not a log record ` +
        `(longer than ${MAX_LOG_RECORD_BYTES} bytes, or not a JSON record) and ${count === 1 ? 'was' : 'were'} dropped: ` +
        'log with childLogger() instead of writing to fd 4',
      fields: { rejected: count },
    });
  }

  /** The record a line holds, or undefined if it is not one. */
  #parse(line: string): ChildLogRecord | undefined {
    if (Buffer.byteLength(line) > MAX_LOG_RECORD_BYTES) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line, withoutProtoKeys);
    } catch {
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const raw = value as Record<string, unknown>;
    if (typeof raw.message !== 'string') return undefined;
    const record: ChildLogRecord = {
      level: LOG_LEVELS.includes(raw.level as LogLevel) ? (raw.level as LogLevel) : 'info',
      time:
        typeof raw.time === 'number' && Number.isFinite(raw.time)
          ? raw.time
          : performance.timeOrigin + performance.now(),
      pid: this.#options.pid,
      name: this.#options.name,
      source: typeof raw.source === 'string' ? raw.source : this.#options.name,
      message: raw.message,
    };
    const fields = raw.fields;
    if (fields !== null && typeof fields === 'object' && !Array.isArray(fields))
      record.fields = fields as Record<string, unknown>;
    if (raw.truncated === true) record.truncated = true;
    return record;
  }
}

/**
 * Leaves out `__proto__` keys: JSON.parse makes them own properties, which `Object.assign` or a merge in
 * the user's `onLog` would turn into a prototype.
 */
function withoutProtoKeys(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value;
}
