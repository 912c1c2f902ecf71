import { ProtocolError } from '../errors.js';

/** What the reader asks its caller for: farcall's own extensions, and the policy for binaries. */
export interface PayloadReaderHooks {
  /** Decodes an extension of a farcall type (1–5) found inside the payload; `data` is its payload. */
  unpackExtension(type: number, data: Uint8Array): unknown;
  /** Returns what a `bin` value of the payload becomes (a copy of its own, or a view for large ones). */
  binary(bytes: Uint8Array): Uint8Array;
}

const textDecoder = new TextDecoder();

/**
 * Reads the one MessagePack value `data` holds — the value inside one of farcall's container extensions
 * (reference, error, Map, Set) — on its own, without msgpackr's reader.
 *
 * Why not msgpackr's nested reader: with msgpackr-extract installed, msgpackr decodes the strings of a
 * whole message ahead of time in one native call that skips extension payloads; a nested read inside a
 * payload then takes the outer message's next pre-decoded strings instead of its own (garbage error names,
 * references with garbage addresses). And a nested `unpack()` copies the whole outer message each time,
 * which a message of many small extensions turns quadratic. This reader shares no state with msgpackr, so
 * msgpackr's reader simply skips the payload, as its native string scan does.
 *
 * The payload has already been checked by `checkDepth` (one value, nesting bounded); the reader still
 * checks every length against the end, so it never reads outside `data`. The codec also reads a whole
 * message with it when the message holds a binary of 64 KiB or more (see `Codec.decode`).
 *
 * @example
 * ```ts
 * const value = readPayloadValue(payload, {
 *   unpackExtension: (type, bytes) => decodeFarcallExtension(type, bytes),
 *   binary: (bytes) => Buffer.from(bytes),
 * });
 * ```
 */
export function readPayloadValue(data: Uint8Array, hooks: PayloadReaderHooks): unknown {
  const reader = new PayloadReader(data, hooks);
  const value = reader.read();
  if (reader.position !== data.byteLength)
    throw malformed('an extension payload does not hold exactly one value');
  return value;
}

class PayloadReader {
  position = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #hooks: PayloadReaderHooks;

  constructor(bytes: Uint8Array, hooks: PayloadReaderHooks) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#hooks = hooks;
  }

  /** Advances past `count` bytes and returns where they start. */
  #take(count: number): number {
    const start = this.position;
    if (count > this.#bytes.byteLength - start) throw truncated();
    this.position = start + count;
    return start;
  }

  read(): unknown {
    const bytes = this.#bytes;
    const view = this.#view;
    const token = bytes[this.#take(1)];
    if (token <= 0x7f) return token;
    if (token >= 0xe0) return token - 0x100;
    if (token <= 0x8f) return this.#map(token & 0x0f);
    if (token <= 0x9f) return this.#array(token & 0x0f);
    if (token <= 0xbf) return this.#string(token & 0x1f);
    switch (token) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.#binary(bytes[this.#take(1)]);
      case 0xc5:
        return this.#binary(view.getUint16(this.#take(2)));
      case 0xc6:
        return this.#binary(view.getUint32(this.#take(4)));
      case 0xc7: {
        const length = bytes[this.#take(1)];
        return this.#extension(length);
      }
      case 0xc8:
        return this.#extension(view.getUint16(this.#take(2)));
      case 0xc9:
        return this.#extension(view.getUint32(this.#take(4)));
      case 0xca:
        return view.getFloat32(this.#take(4));
      case 0xcb:
        return view.getFloat64(this.#take(8));
      case 0xcc:
        return bytes[this.#take(1)];
      case 0xcd:
        return view.getUint16(this.#take(2));
      case 0xce:
        return view.getUint32(this.#take(4));
      case 0xcf:
        return view.getBigUint64(this.#take(8));
      case 0xd0:
        return view.getInt8(this.#take(1));
      case 0xd1:
        return view.getInt16(this.#take(2));
      case 0xd2:
        return view.getInt32(this.#take(4));
      case 0xd3:
        return view.getBigInt64(this.#take(8));
      case 0xd4:
        return this.#extension(1);
      case 0xd5:
        return this.#extension(2);
      case 0xd6:
        return this.#extension(4);
      case 0xd7:
        return this.#extension(8);
      case 0xd8:
        return this.#extension(16);
      case 0xd9:
        return this.#string(bytes[this.#take(1)]);
      case 0xda:
        return this.#string(view.getUint16(this.#take(2)));
      case 0xdb:
        return this.#string(view.getUint32(this.#take(4)));
      case 0xdc:
        return this.#array(view.getUint16(this.#take(2)));
      case 0xdd:
        return this.#array(view.getUint32(this.#take(4)));
      case 0xde:
        return this.#map(view.getUint16(this.#take(2)));
      case 0xdf:
        return this.#map(view.getUint32(this.#take(4)));
      default:
        throw malformed(`unexpected byte 0x${token.toString(16)}`);
    }
  }

  #array(count: number): unknown[] {
    // Every value takes at least one byte: a count larger than what is left is a lie.
    if (count > this.#bytes.byteLength - this.position) throw truncated();
    const array = new Array(count);
    for (let i = 0; i < count; i++) array[i] = this.read();
    return array;
  }

  #map(count: number): Record<string, unknown> {
    if (count * 2 > this.#bytes.byteLength - this.position) throw truncated();
    const record: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      let key = propertyName(this.read());
      // As msgpackr does for the outer message: never assign to the prototype.
      if (key === '__proto__') key = '__proto_';
      record[key] = this.read();
    }
    return record;
  }

  #string(length: number): string {
    const start = this.#take(length);
    const bytes = this.#bytes;
    if (length < 32) {
      let ascii = '';
      for (let i = start; i < start + length; i++) {
        const byte = bytes[i];
        if (byte >= 0x80) return textDecoder.decode(bytes.subarray(start, start + length));
        ascii += String.fromCharCode(byte);
      }
      return ascii;
    }
    return textDecoder.decode(bytes.subarray(start, start + length));
  }

  #binary(length: number): Uint8Array {
    const start = this.#take(length);
    return this.#hooks.binary(this.#bytes.subarray(start, start + length));
  }

  #extension(length: number): unknown {
    const type = this.#bytes[this.#take(1)];
    const start = this.#take(length);
    const data = this.#bytes.subarray(start, start + length);
    switch (type) {
      case 0x00:
        return undefined; // msgpackr's and notepack's undefined
      case 0xff:
        return readTimestamp(data);
      case 0x42:
        return readBigInt(data);
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        return this.#hooks.unpackExtension(type, data);
      default:
        throw malformed(`unknown extension type ${type > 127 ? type - 256 : type} inside an extension`);
    }
  }
}

/** A map key as msgpackr makes it for the outer message (its `asSafeString`). */
function propertyName(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'boolean' || typeof key === 'bigint') return key.toString();
  if (key === null || key === undefined) return String(key);
  throw malformed(`a map key of type ${typeof key}`);
}

/** The MessagePack timestamp extension (type -1), in its 32-, 64- and 96-bit forms. */
export function readTimestamp(data: Uint8Array): Date {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength === 4) return new Date(view.getUint32(0) * 1000);
  if (data.byteLength === 8) {
    const high = view.getUint32(0);
    const nanoseconds = high >>> 2;
    const seconds = (high & 0x3) * 0x1_0000_0000 + view.getUint32(4);
    return new Date(seconds * 1000 + nanoseconds / 1e6);
  }
  if (data.byteLength === 12) {
    const nanoseconds = view.getUint32(0);
    const seconds = Number(view.getBigInt64(4));
    if (nanoseconds >= 1e9) return new Date(Number.NaN);
    return new Date(seconds * 1000 + nanoseconds / 1e6);
  }
  return new Date(Number.NaN);
}

/** msgpackr's extension 0x42: a bigint beyond 64 bits, as big-endian two's complement bytes. */
function readBigInt(data: Uint8Array): bigint {
  if (data.byteLength === 0) return 0n;
  let hex = '';
  for (const byte of data) hex += byte.toString(16).padStart(2, '0');
  return BigInt.asIntN(data.byteLength * 8, BigInt(`0x${hex}`));
}

function truncated(): ProtocolError {
  return new ProtocolError(
    'Malformed message: an extension payload ends in the middle of a value',
    'ERR_FARCALL_MALFORMED',
  );
}

function malformed(detail: string): ProtocolError {
  return new ProtocolError(`Malformed message: ${detail}`, 'ERR_FARCALL_MALFORMED');
}
