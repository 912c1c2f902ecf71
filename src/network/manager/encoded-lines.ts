/**
 * Log lines encoded as UTF-8 into buffers as they are logged, taken out when the log file is written,
 * and given back once written, to hold later lines. A busy Manager logs two lines per message:
 * - held as strings, those lines would live through the young generation's collections and be copied
 *   by each; encoded at once, each string dies young (or is never made) and the bytes wait outside the
 *   JS heap;
 * - written into fresh memory, every line would miss the cache (and a new buffer's pages fault in on
 *   first touch); a few reused buffers stay in the cache. A full buffer is written at once (see
 *   {@link EncodedLines.hasFull}), so it comes back soon.
 *
 * Internal to the Manager's log.
 * @module
 */

/** Bytes of a buffer (a line longer than that gets a buffer of its own size, never reused). */
export const CHUNK_BYTES = 64 * 1024;
/** Written buffers kept for reuse (1 MiB); more are made while the file is behind, and dropped after. */
const POOLED_CHUNKS = 16;

/**
 * Encoded lines waiting to be written.
 * @example
 * ```ts
 * const lines = new EncodedLines();
 * lines.append('2026-12-01T10:00:00.000Z DEBUG   one\n');
 * for (const part of lines.take()) stream.write(part, () => lines.release(part));
 * ```
 */
export class EncodedLines {
  /** The buffer being filled, and where its bytes end. */
  #chunk: Buffer | undefined;
  #end = 0;
  /** Filled buffers (their used bytes) not yet taken. */
  #full: Buffer[] = [];
  #bytes = 0;
  /** Written buffers, for the next ones. */
  readonly #pool: Buffer[] = [];

  /** Bytes appended and not yet taken. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether a buffer is full and waits to be written ({@link EncodedLines.takeFull}). */
  get hasFull(): boolean {
    return this.#full.length > 0;
  }

  /** Encodes `text` after what is waiting; returns its size in bytes. */
  append(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    const most = text.length * 3;
    let chunk = this.#chunk;
    if (chunk === undefined || this.#end + most > chunk.length) chunk = this.#newChunk(most);
    const written = chunk.write(text, this.#end, 'utf8');
    this.#end += written;
    this.#bytes += written;
    return written;
  }

  /**
   * Writes the line `prefix`, `head`, `middle`, `tail` and a line end after what is waiting, when
   * `middle` is plain printable ASCII (U+0020 to U+007E, no quote, apostrophe or backslash: what shows
   * as itself between apostrophes, a uid as the log shows it). Returns false and writes nothing
   * otherwise (the caller writes the line as text). The encoded pieces are copied as they are.
   *
   * @example
   * ```ts
   * lines.appendParts(encode('time DEBUG '), encode("request 'Echo'.echo (uid '"), 'a1', encode("')"));
   * ```
   */
  appendParts(prefix: Uint8Array, head: Uint8Array, middle: string, tail: Uint8Array): boolean {
    const most = prefix.length + head.length + middle.length + tail.length + 1;
    let chunk = this.#chunk;
    if (chunk === undefined || this.#end + most > chunk.length) chunk = this.#newChunk(most);
    const start = this.#end;
    let at = start + prefix.length + head.length;
    for (let i = 0; i < middle.length; i++) {
      const c = middle.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x27 || c === 0x5c) return false;
      chunk[at++] = c;
    }
    chunk.set(prefix, start);
    chunk.set(head, start + prefix.length);
    chunk.set(tail, at);
    at += tail.length;
    chunk[at++] = 0x0a;
    this.#bytes += at - start;
    this.#end = at;
    return true;
  }

  // A buffer with room for `most` bytes (the filled one waits to be taken): a written one if any.
  #newChunk(most: number): Buffer {
    const old = this.#chunk;
    if (old !== undefined && this.#end > 0) this.#full.push(old.subarray(0, this.#end));
    const chunk =
      most <= CHUNK_BYTES
        ? (this.#pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES))
        : Buffer.allocUnsafeSlow(most);
    this.#chunk = chunk;
    this.#end = 0;
    return chunk;
  }

  /**
   * Takes every byte appended since the last take, in order. The buffers are never written to again
   * until given back ({@link EncodedLines.release}), so they may be handed to an asynchronous write as
   * they are.
   */
  take(): Buffer[] {
    const taken = this.takeFull();
    if (this.#chunk !== undefined && this.#end > 0) {
      taken.push(this.#chunk.subarray(0, this.#end));
      this.#chunk = undefined;
      this.#end = 0;
    }
    this.#bytes = 0;
    return taken;
  }

  /** Takes the full buffers only (the one being filled stays). */
  takeFull(): Buffer[] {
    const taken = this.#full;
    this.#full = [];
    for (const part of taken) this.#bytes -= part.length;
    return taken;
  }

  /**
   * Gives back a buffer that a take returned, once it is written (or will never be): its memory holds
   * later lines. Give each back at most once.
   */
  release(taken: Buffer): void {
    const memory = taken.buffer;
    if (memory.byteLength === CHUNK_BYTES && this.#pool.length < POOLED_CHUNKS)
      this.#pool.push(Buffer.from(memory, 0, CHUNK_BYTES));
  }
}
