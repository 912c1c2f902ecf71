/**
 * Turns the bytes a Manager sends into the text of its lines, for a Client or a Service.
 *
 * What it delivers is exactly what a {@link LineDecoder} followed by `toString('utf8')` of each line
 * delivers (a property test holds the two together), only cheaper: the lines that lie whole inside one
 * chunk (all but the first and last of a burst) are decoded from the chunk in one go and cut from the
 * decoded string, with no Buffer per line. The decoder keeps the rest: a line split across chunks and
 * the read limit's bookkeeping for it.
 *
 * Decoding many lines at once gives the text decoding them one by one gives, malformed UTF-8 included:
 * lines end at a newline byte, which is never part of a multi-byte sequence, so a decoder's replacement
 * of a malformed sequence never reaches across it.
 * @module
 */
import { LineDecoder } from '../../wire/lines.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** Options of a {@link LineReader}. */
export interface LineReaderOptions {
  /** The largest line accepted, in bytes (without its newline). */
  maxLineBytes: number;
  /** Called with the text of each line that is not empty, without its `\n` (or `\r\n`). */
  onText: (text: string) => void;
  /** Called with the size of each line that was over `maxLineBytes` (and dropped). */
  onOversize: (bytes: number) => void;
}

/** @internal Splits a byte stream into the text of its lines. */
export class LineReader {
  readonly #maxLineBytes: number;
  readonly #onText: (text: string) => void;
  readonly #decoder: LineDecoder;
  // Whether the decoder holds (or is skipping) a line that has not ended: the last byte it was given
  // was not a newline.
  #midLine = false;

  constructor(options: LineReaderOptions) {
    this.#maxLineBytes = options.maxLineBytes;
    this.#onText = options.onText;
    this.#decoder = new LineDecoder({
      maxLineBytes: options.maxLineBytes,
      onLine: (line) => {
        if (line.length > 0) this.#onText(line.toString('utf8'));
      },
      onOversize: (bytes) => options.onOversize(bytes),
    });
  }

  /** Feeds a chunk; delivers every line it completes. */
  push(chunk: Buffer): void {
    const length = chunk.length;
    let start = 0;
    if (this.#midLine) {
      // The first newline ends the decoder's unfinished line; from there on the chunk starts lines.
      const first = chunk.indexOf(NEWLINE);
      if (first === -1) {
        this.#decoder.push(chunk);
        return;
      }
      start = first + 1;
      this.#midLine = false;
      this.#decoder.push(start === length ? chunk : chunk.subarray(0, start));
    }
    const last = chunk.lastIndexOf(NEWLINE);
    // No whole line in the rest, or the rest may hold a line over the limit: the decoder judges it.
    if (last < start || last - start > this.#maxLineBytes) {
      this.#feed(chunk, start);
      return;
    }
    const text = chunk.toString('utf8', start, last);
    const onText = this.#onText;
    let from = 0;
    for (;;) {
      const newline = text.indexOf('\n', from);
      const end = newline === -1 ? text.length : newline;
      const lineEnd = end > from && text.charCodeAt(end - 1) === CARRIAGE_RETURN ? end - 1 : end;
      if (lineEnd > from) onText(text.slice(from, lineEnd));
      if (newline === -1) break;
      from = newline + 1;
    }
    this.#feed(chunk, last + 1);
  }

  /** Ends the stream: an unfinished last line is delivered like any other. */
  end(): void {
    this.#midLine = false;
    this.#decoder.end();
  }

  /** Forgets any unfinished line. */
  reset(): void {
    this.#midLine = false;
    this.#decoder.reset();
  }

  // Gives chunk[start…] to the decoder.
  #feed(chunk: Buffer, start: number): void {
    const length = chunk.length;
    if (start >= length) return;
    this.#decoder.push(start === 0 ? chunk : chunk.subarray(start));
    // Set after the push: a handler the push called may have reset the decoder, which then went on
    // buffering the chunk's unfinished tail all the same.
    this.#midLine = chunk[length - 1] !== NEWLINE;
  }
}
