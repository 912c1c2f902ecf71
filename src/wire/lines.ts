/**
 * Newline-delimited framing: one message per line, as msl-network (and any "terminal" peer) writes it.
 *
 * The decoder keeps the bytes of an unfinished line as a list of chunks and joins them once, when the
 * newline arrives, so a 100 MB line that comes in 64 KiB pieces costs one copy, not a quadratic number.
 * The size limit is enforced while buffering: as soon as an unfinished line grows past `maxLineBytes`
 * its bytes are released and the rest of it, up to the next `\n`, is skipped. The peer is told through
 * `onOversize` and the next line is decoded normally, so one bad message never costs the connection.
 *
 * @example
 * ```ts
 * const decoder = new LineDecoder({
 *   maxLineBytes: 1 << 20,
 *   onLine: (line) => handle(line.toString('utf8')),
 *   onOversize: (bytes) => console.warn(`dropped a line of ${bytes} bytes`),
 * });
 * socket.on('data', (chunk) => decoder.push(chunk));
 * socket.write(encodeLine('{"result": 1}'));
 * ```
 * @module
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Options of a {@link LineDecoder}. */
export interface LineDecoderOptions {
  /**
   * Called with each complete line, without its `\n` (and without the `\r` of a `\r\n`). The buffer
   * may be a view into a chunk that was pushed: copy it if you keep it past the call.
   */
  onLine: (line: Buffer) => void;
  /**
   * Called once for each line that grew past `maxLineBytes`, when its end (`\n`) arrives, with the
   * number of bytes the line had (without the newline). The line itself is gone.
   */
  onOversize?: (bytes: number, sample?: LineSample) => void;
  /** The largest line accepted, in bytes, without its newline. Default: no limit (`Infinity`). */
  maxLineBytes?: number;
  /**
   * Keep this many bytes of the start and of the end of a dropped line and pass them to `onOversize`
   * (so a receiver can still find, say, the request id of the message it drops). Default: 0 (none).
   */
  sampleBytes?: number;
}

/** The first and last bytes of a line that was dropped for being over the limit. */
export interface LineSample {
  head: Buffer;
  tail: Buffer;
}

/**
 * Splits a byte stream into lines. Tolerates `\r\n`; never buffers more than `maxLineBytes` (plus one
 * chunk) of a line.
 */
export class LineDecoder {
  readonly #onLine: (line: Buffer) => void;
  readonly #onOversize: ((bytes: number, sample?: LineSample) => void) | undefined;
  #maxLineBytes: number;
  readonly #sampleBytes: number;
  #head: Buffer | undefined;
  #tail: Buffer | undefined;
  // The unfinished line, as the chunks (or chunk tails) it arrived in.
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  // True while skipping the rest of a line that went over the limit; #skippedBytes counts it.
  #skipping = false;
  #skippedBytes = 0;

  constructor(options: LineDecoderOptions) {
    this.#onLine = options.onLine;
    this.#onOversize = options.onOversize;
    this.#maxLineBytes = options.maxLineBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.#maxLineBytes > 0))
      throw new RangeError(`maxLineBytes must be > 0, got ${options.maxLineBytes}`);
    this.#sampleBytes = options.sampleBytes ?? 0;
  }

  /** The current line limit. Changing it applies to the line being read and every later one. */
  get maxLineBytes(): number {
    return this.#maxLineBytes;
  }

  set maxLineBytes(value: number) {
    if (!(value > 0)) throw new RangeError(`maxLineBytes must be > 0, got ${value}`);
    this.#maxLineBytes = value;
  }

  /** Bytes of the unfinished line held in memory. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Feeds a chunk; calls `onLine`/`onOversize` for every line it completes. */
  push(chunk: Buffer): void {
    let start = 0;
    const length = chunk.length;
    while (start < length) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        this.#keep(chunk, start, length);
        return;
      }
      this.#finish(chunk, start, end);
      start = end + 1;
    }
  }

  /**
   * Ends the stream: an unfinished last line (no trailing newline) is delivered like any other line,
   * because a peer that writes one message and closes still meant it.
   */
  end(): void {
    if (this.#skipping) {
      const bytes = this.#skippedBytes;
      this.#skipping = false;
      this.#skippedBytes = 0;
      this.#onOversize?.(bytes, this.#takeSample());
      return;
    }
    if (this.#pendingBytes === 0) return;
    const line = this.#take(undefined, 0, 0);
    this.#onLine(stripCarriageReturn(line));
  }

  /** Forgets any unfinished line (the connection is going away). */
  reset(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#skipping = false;
    this.#skippedBytes = 0;
    this.#head = undefined;
    this.#tail = undefined;
  }

  // Buffers chunk[start, end) as part of an unfinished line, or skips it if the line is over the limit.
  #keep(chunk: Buffer, start: number, end: number): void {
    const bytes = end - start;
    if (this.#skipping) {
      this.#skippedBytes += bytes;
      this.#sampleTail(chunk, start, end);
      return;
    }
    // A `\r` that may be followed by `\n` in the next chunk does not count against the limit.
    const counted = this.#pendingBytes + bytes - (chunk[end - 1] === CARRIAGE_RETURN ? 1 : 0);
    if (counted > this.#maxLineBytes) {
      this.#skipping = true;
      this.#skippedBytes = this.#pendingBytes + bytes;
      if (this.#sampleBytes > 0) {
        this.#head = Buffer.concat([
          ...this.#pending,
          chunk.subarray(start, Math.min(end, start + this.#sampleBytes)),
        ]).subarray(0, this.#sampleBytes);
        this.#tail = undefined;
        for (const part of this.#pending) this.#sampleTail(part, 0, part.length);
        this.#sampleTail(chunk, start, end);
      }
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    this.#pending.push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
    this.#pendingBytes += bytes;
  }

  // A newline at chunk[end]: completes the line made of the pending chunks plus chunk[start, end).
  #finish(chunk: Buffer, start: number, end: number): void {
    if (this.#skipping) {
      const total = this.#skippedBytes + (end - start);
      this.#skipping = false;
      this.#skippedBytes = 0;
      const carriageReturn = end > start && chunk[end - 1] === CARRIAGE_RETURN ? 1 : 0;
      this.#sampleTail(chunk, start, end - carriageReturn);
      this.#onOversize?.(total - carriageReturn, this.#takeSample());
      return;
    }
    const total = this.#pendingBytes + (end - start);
    const size = total - (this.#endsWithCarriageReturn(chunk, start, end) ? 1 : 0);
    if (size > this.#maxLineBytes) {
      let sample: LineSample | undefined;
      if (this.#sampleBytes > 0) {
        const whole = stripCarriageReturn(this.#take(chunk, start, end));
        sample = {
          head: Buffer.from(whole.subarray(0, this.#sampleBytes)),
          tail: Buffer.from(whole.subarray(Math.max(0, whole.length - this.#sampleBytes))),
        };
      }
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#onOversize?.(size, sample);
      return;
    }
    if (this.#pendingBytes === 0) {
      // The common line, whole in one chunk: one view, without its `\r`.
      this.#onLine(chunk.subarray(start, end > start && chunk[end - 1] === CARRIAGE_RETURN ? end - 1 : end));
      return;
    }
    this.#onLine(stripCarriageReturn(this.#take(chunk, start, end)));
  }

  // Keeps the last #sampleBytes bytes of a line being skipped.
  #sampleTail(chunk: Buffer, start: number, end: number): void {
    if (this.#sampleBytes === 0 || end <= start) return;
    const part = chunk.subarray(Math.max(start, end - this.#sampleBytes), end);
    const joined = this.#tail === undefined ? Buffer.from(part) : Buffer.concat([this.#tail, part]);
    this.#tail =
      joined.length > this.#sampleBytes
        ? Buffer.from(joined.subarray(joined.length - this.#sampleBytes))
        : joined;
  }

  #takeSample(): LineSample | undefined {
    if (this.#sampleBytes === 0) return undefined;
    const sample = { head: this.#head ?? Buffer.alloc(0), tail: this.#tail ?? Buffer.alloc(0) };
    this.#head = undefined;
    this.#tail = undefined;
    return sample;
  }

  // Whether the line ending just before chunk[end] ends with `\r` (possibly in the previous chunk).
  #endsWithCarriageReturn(chunk: Buffer, start: number, end: number): boolean {
    if (end > start) return chunk[end - 1] === CARRIAGE_RETURN;
    const last = this.#pending[this.#pending.length - 1];
    return last !== undefined && last[last.length - 1] === CARRIAGE_RETURN;
  }

  // Joins the pending chunks (and chunk[start, end), if given) into one buffer and clears them.
  #take(chunk: Buffer | undefined, start: number, end: number): Buffer {
    if (chunk !== undefined && end > start) this.#pending.push(chunk.subarray(start, end));
    const total = this.#pendingBytes + (end - start);
    const parts = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
  }
}

function stripCarriageReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN
    ? line.subarray(0, line.length - 1)
    : line;
}

/** The line terminator msl-network writes. */
export const LINE_TERMINATOR = '\r\n';

/**
 * Encodes one message as a line: the UTF-8 text followed by `\r\n` (what Python's msl-network writes).
 * The text must not contain a raw newline — JSON text never does.
 *
 * @example
 * ```ts
 * socket.write(encodeLine('{"result": true}'));
 * ```
 */
export function encodeLine(text: string): Buffer {
  return Buffer.from(text + LINE_TERMINATOR, 'utf8');
}

/** The minimal writable surface {@link writeLine} needs (a `net.Socket` or `tls.TLSSocket`). */
export interface LineSink {
  write(data: string | Uint8Array): boolean;
}

/**
 * Writes one message as a line to a socket (UTF-8 text + `\r\n`). Returns the socket's `write()`
 * result: `false` means the socket's buffer is full and the caller should wait for `'drain'`.
 */
export function writeLine(sink: LineSink, text: string): boolean {
  return sink.write(text + LINE_TERMINATOR);
}
