/**
 * Log lines encoded as UTF-8 into large buffers as they are logged, and taken out as a few buffers
 * when the log file is written. A busy Manager logs two lines per message and writes its file every
 * 50 ms: held as strings, those lines would live through the young generation's collections and be
 * copied by each; encoded at once, each string dies young and the bytes wait outside the JS heap.
 *
 * Internal to the Manager's log.
 * @module
 */

/** Bytes of a new buffer (a line longer than that gets a buffer of its own size). */
const CHUNK_BYTES = 256 * 1024;

/**
 * Encoded lines waiting to be written.
 * @example
 * ```ts
 * const lines = new EncodedLines();
 * lines.append('2026-12-01T10:00:00.000Z DEBUG   one\n');
 * stream.write(Buffer.concat(lines.take()));
 * ```
 */
export class EncodedLines {
  #chunk: Buffer | undefined;
  /** Where the bytes not yet taken start in #chunk, and where they end. */
  #start = 0;
  #end = 0;
  /** Regions of earlier (full) chunks not yet taken. */
  #full: Buffer[] = [];
  #bytes = 0;

  /** Bytes appended and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Encodes `text` after what is waiting; returns its size in bytes. */
  append(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    const most = text.length * 3;
    let chunk = this.#chunk;
    if (chunk === undefined || this.#end + most > chunk.length) {
      if (chunk !== undefined && this.#end > this.#start)
        this.#full.push(chunk.subarray(this.#start, this.#end));
      chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, most));
      this.#chunk = chunk;
      this.#start = 0;
      this.#end = 0;
    }
    const written = chunk.write(text, this.#end, 'utf8');
    this.#end += written;
    this.#bytes += written;
    return written;
  }

  /**
   * Takes every byte appended since the last take, in order. The buffers are never written to again
   * (later lines go after them), so they may be handed to an asynchronous write as they are.
   */
  take(): Buffer[] {
    const taken = this.#full;
    this.#full = [];
    if (this.#chunk !== undefined && this.#end > this.#start) {
      taken.push(this.#chunk.subarray(this.#start, this.#end));
      this.#start = this.#end;
    }
    this.#bytes = 0;
    return taken;
  }
}
