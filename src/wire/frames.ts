import { ProtocolError } from '../errors.js';

/** Bytes in a frame header: the body length as an unsigned 32-bit big-endian integer. */
export const FRAME_HEADER_BYTES = 4;

/** The default limit on one frame's body: 64 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** The largest limit a 4-byte header can express. */
const LARGEST_FRAME_BYTES = 0xffff_ffff;

/**
 * Writes the 4-byte header of a frame whose body is `length` bytes long.
 * @example
 * ```ts
 * socket.write(encodeFrameHeader(body.length));
 * socket.write(body);
 * ```
 */
export function encodeFrameHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  return header;
}

/**
 * Splits a byte stream into length-prefixed frames (4-byte big-endian length, then the body).
 *
 * A state machine over a list of received chunks, in the manner of ws's Receiver:
 * `HEADER` (waiting for 4 header bytes) → `BODY` (waiting for `length` body bytes) → `HEADER` …
 * A body that lies inside one chunk is returned as a view of that chunk (no copy); a body that spans
 * chunks is copied once, when its last byte arrives. The size limit is checked from the header, before a
 * byte of the body is buffered, so a peer cannot make us hold more than `maxFrameBytes` of one frame.
 *
 * After it throws, the decoder is unusable: the stream is out of step and its connection must be closed.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder(1024 * 1024);
 * socket.on('data', (chunk) => {
 *   for (const body of decoder.push(chunk)) handle(body);
 * });
 * ```
 */
export class FrameDecoder {
  /** The largest body this decoder accepts, in bytes. */
  readonly maxFrameBytes: number;
  /** The first this-many frames are held to {@link FrameDecoder.maxHandshakeFrameBytes} (a handshake). */
  readonly handshakeFrames: number;
  /** The largest body of one of the first {@link FrameDecoder.handshakeFrames} frames. */
  readonly maxHandshakeFrameBytes: number;
  /** Headers accepted so far (counts up to `handshakeFrames` only). */
  #framesStarted = 0;

  /** Received chunks not yet consumed; the first one is consumed from `offset`. */
  #chunks: Buffer[] = [];
  #offset = 0;
  /** Bytes buffered in `#chunks` beyond `#offset`. */
  #buffered = 0;
  /** The body length of the frame being read, or -1 while reading a header. */
  #bodyLength = -1;
  #failed: ProtocolError | undefined;

  /**
   * @param handshake - optionally, a smaller limit for the first `frames` frames: a peer that has not
   *   authenticated yet cannot make us buffer more than the handshake needs.
   */
  constructor(
    maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES,
    handshake: { frames: number; maxFrameBytes: number } = { frames: 0, maxFrameBytes: 0 },
  ) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > LARGEST_FRAME_BYTES) {
      throw new RangeError(
        `maxFrameBytes must be an integer from 0 to ${LARGEST_FRAME_BYTES}, not ${maxFrameBytes}`,
      );
    }
    this.maxFrameBytes = maxFrameBytes;
    this.handshakeFrames = Math.max(0, Math.floor(handshake.frames));
    this.maxHandshakeFrameBytes = Math.min(maxFrameBytes, Math.max(0, handshake.maxFrameBytes));
  }

  /** Bytes received but not yet returned as part of a complete frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** The error that made this decoder unusable (a frame over the limit), if any. */
  get error(): ProtocolError | undefined {
    return this.#failed;
  }

  /** True between frames: no partial header or body is buffered. */
  get idle(): boolean {
    return this.#buffered === 0 && this.#bodyLength < 0;
  }

  /**
   * Feeds received bytes; returns the bodies of the frames they complete, in order.
   * The caller must not modify `chunk` afterwards: returned bodies may be views of it.
   *
   * When a header announces a body over the limit, the frames completed before it in this chunk are still
   * returned; {@link FrameDecoder.error} then holds the error, and every later `push` throws it.
   *
   * @throws {@link ProtocolError} (`ERR_FARCALL_FRAME_TOO_LARGE`) when a header announces a body over the
   *   limit and no frame was completed before it in this chunk.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.#failed) throw this.#failed;
    // The common case, one whole frame in one chunk and nothing buffered: no bookkeeping at all.
    // (Not during the handshake: its frames are counted and held to their own limit below.)
    if (
      this.#buffered === 0 &&
      this.#bodyLength < 0 &&
      this.#framesStarted >= this.handshakeFrames &&
      chunk.length >= FRAME_HEADER_BYTES
    ) {
      const length = readLength(chunk, 0);
      if (chunk.length === FRAME_HEADER_BYTES + length && length <= this.maxFrameBytes)
        return [chunk.subarray(FRAME_HEADER_BYTES)];
    }
    const frames: Buffer[] = [];
    if (chunk.length === 0) return frames;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#bodyLength < 0) {
        if (this.#buffered < FRAME_HEADER_BYTES) break;
        const length = this.#readHeader();
        const inHandshake = this.#framesStarted < this.handshakeFrames;
        if (inHandshake) this.#framesStarted++;
        const limit = inHandshake ? this.maxHandshakeFrameBytes : this.maxFrameBytes;
        if (length > limit) {
          this.#failed = new ProtocolError(
            inHandshake
              ? `Frame of ${length} bytes exceeds the limit of ${limit} bytes for a handshake frame (the first ` +
                  `${this.handshakeFrames} frames, sent before the peer is authenticated); the connection is closed.`
              : `Frame of ${length} bytes exceeds the limit of ${limit} bytes (maxFrameBytes); ` +
                  'the connection is closed. Raise maxFrameBytes on the receiving side if such messages are expected.',
            'ERR_FARCALL_FRAME_TOO_LARGE',
          );
          this.#chunks = [];
          this.#buffered = 0;
          if (frames.length > 0) return frames;
          throw this.#failed;
        }
        this.#bodyLength = length;
      }
      if (this.#buffered < this.#bodyLength) break;
      frames.push(this.#take(this.#bodyLength));
      this.#bodyLength = -1;
    }
    return frames;
  }

  #readHeader(): number {
    const first = this.#chunks[0];
    let length: number;
    if (first.length - this.#offset >= FRAME_HEADER_BYTES) {
      length = readLength(first, this.#offset);
      this.#consume(FRAME_HEADER_BYTES);
    } else {
      length = readLength(this.#take(FRAME_HEADER_BYTES), 0);
    }
    return length;
  }

  /** Removes `n` bytes from the front of the buffered chunks (n ≤ #buffered) and returns them. */
  #take(n: number): Buffer {
    const first = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first.length - this.#offset >= n) {
      const view = first.subarray(this.#offset, this.#offset + n);
      this.#consume(n);
      return view;
    }
    // The body spans chunks: copy it once into a buffer of its own.
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0];
      const available = chunk.length - this.#offset;
      const count = Math.min(available, n - filled);
      chunk.copy(out, filled, this.#offset, this.#offset + count);
      filled += count;
      this.#consume(count);
    }
    return out;
  }

  /** Advances past `n` bytes of the first chunk (n ≤ its remaining length). */
  #consume(n: number): void {
    this.#offset += n;
    this.#buffered -= n;
    if (this.#offset === this.#chunks[0].length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}

/** The big-endian uint32 at `offset` (by hand: readUInt32BE checks its arguments on every call). */
function readLength(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset] * 0x1000000 + ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3])
  );
}
