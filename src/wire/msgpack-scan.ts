import { ProtocolError } from '../errors.js';

/**
 * Checks, without decoding and without recursion, that `bytes` hold exactly one MessagePack value whose
 * nesting of arrays, maps and container extensions is at most `maxDepth` deep.
 *
 * This runs before msgpackr sees a received message, so a hostile peer cannot exhaust our stack with a
 * message nested 10 000 deep (capnweb checks the same before parsing). It reads only headers: strings,
 * binaries and typed arrays are skipped whole, so its cost is one step per value, not per byte.
 *
 * @throws {@link ProtocolError} `ERR_FARCALL_TOO_DEEP` when the value nests too deeply,
 *   `ERR_FARCALL_MALFORMED` when it is truncated, has trailing bytes or uses a reserved byte.
 */
export function checkDepth(bytes: Uint8Array, maxDepth: number): void {
  scanMessagePack(bytes, maxDepth);
}

/**
 * Does what {@link checkDepth} does, and returns the length of the longest `bin` or typed array extension
 * (type 3) payload in the message (0 if there is none): how the decoder decides whether binaries may be
 * views of the message or must be copied.
 */
export function checkDepthAndBinaries(bytes: Uint8Array, maxDepth: number): number {
  return scanMessagePack(bytes, maxDepth);
}

/**
 * The scanner's stacks, shared by every call (a scan never runs inside another: it calls out only to
 * `onFixExt4`, which does not scan), so a scan allocates nothing. They grow to the deepest scan seen.
 * remaining[d] = values still to read in the container at depth d (depth 0: the one top-level value);
 * ends[d] = the offset where level d must end (a container extension's payload), or -1 for no check.
 */
let remaining = new Float64Array(64);
let ends = new Float64Array(64);

function uint16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function uint32(bytes: Uint8Array, at: number): number {
  return bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
}

/**
 * Walks the structure of one MessagePack value as {@link checkDepth} does and calls `onFixExt4` with the
 * offset of every fixext 4 (`d6 <type> <4 bytes>`) it meets — how the encoder finds the placeholders it
 * left for large binaries. Returns the length of the longest `bin` or typed array payload (0 if none).
 */
export function scanMessagePack(
  bytes: Uint8Array,
  maxDepth: number,
  onFixExt4?: (type: number, offset: number) => void,
): number {
  let longestBinary = 0;
  const end = bytes.byteLength;
  let depth = 0;
  remaining[0] = 1;
  ends[0] = -1;
  let position = 0;
  while (depth >= 0) {
    if (remaining[depth] === 0) {
      const mustEnd = ends[depth];
      depth--;
      if (mustEnd >= 0 && position !== mustEnd)
        throw malformed('an extension payload does not hold exactly one value');
      continue;
    }
    remaining[depth]--;
    if (position >= end) throw truncated();
    const byte = bytes[position++];
    let children = 0;
    let childEnd = -1;
    if (byte <= 0x7f || byte >= 0xe0) {
      // positive and negative fixint
    } else if (byte >= 0xa0 && byte <= 0xbf) {
      position += byte & 0x1f; // fixstr
    } else if (byte >= 0x90 && byte <= 0x9f) {
      children = byte & 0x0f; // fixarray
    } else if (byte >= 0x80 && byte <= 0x8f) {
      children = (byte & 0x0f) * 2; // fixmap
    } else {
      // Every header below is at most 5 bytes after its lead byte: check them all at once (a value that
      // needs fewer but sits at the very end is checked again precisely in the slow path).
      if (position + 5 > end && byte !== 0xc0 && byte !== 0xc2 && byte !== 0xc3) {
        const need = headerBytes(byte);
        if (position + need > end) throw truncated();
      }
      let length: number;
      let type: number;
      switch (byte) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          break;
        case 0xc1:
          throw malformed(`reserved byte 0xc1 at offset ${position - 1}`);
        case 0xc4: // bin 8
          length = bytes[position];
          if (length > longestBinary) longestBinary = length;
          position += 1 + length;
          break;
        case 0xd9: // str 8
          position += 1 + bytes[position];
          break;
        case 0xc5: // bin 16
          length = uint16(bytes, position);
          if (length > longestBinary) longestBinary = length;
          position += 2 + length;
          break;
        case 0xda: // str 16
          position += 2 + uint16(bytes, position);
          break;
        case 0xc6: // bin 32
          length = uint32(bytes, position);
          if (length > longestBinary) longestBinary = length;
          position += 4 + length;
          break;
        case 0xdb: // str 32
          position += 4 + uint32(bytes, position);
          break;
        case 0xc7: // ext 8
        case 0xc8: // ext 16
        case 0xc9: {
          // ext 32
          if (byte === 0xc7) {
            length = bytes[position];
            type = bytes[position + 1];
            position += 2;
          } else if (byte === 0xc8) {
            length = uint16(bytes, position);
            type = bytes[position + 2];
            position += 3;
          } else {
            length = uint32(bytes, position);
            type = bytes[position + 4];
            position += 5;
          }
          // Container extensions (references, errors, maps, sets) hold one nested value, which is
          // scanned; any other payload is skipped.
          if (type === 1 || type === 2 || type === 4 || type === 5) {
            if (position + length > end) throw truncated();
            if (length === 0) throw malformed(`empty extension payload of type ${type}`);
            childEnd = position + length;
            children = 1;
          } else {
            if (type === 3 && length > longestBinary) longestBinary = length;
            position += length;
          }
          break;
        }
        case 0xca: // float 32
        case 0xce: // uint 32
        case 0xd2: // int 32
          position += 4;
          break;
        case 0xcb: // float 64
        case 0xcf: // uint 64
        case 0xd3: // int 64
          position += 8;
          break;
        case 0xcc: // uint 8
        case 0xd0: // int 8
          position += 1;
          break;
        case 0xcd: // uint 16
        case 0xd1: // int 16
          position += 2;
          break;
        case 0xd4: // fixext 1
          position += 2;
          break;
        case 0xd5: // fixext 2
          position += 3;
          break;
        case 0xd6: // fixext 4
          if (position + 5 > end) throw truncated();
          onFixExt4?.(bytes[position], position - 1);
          position += 5;
          break;
        case 0xd7: // fixext 8
          position += 9;
          break;
        case 0xd8: // fixext 16
          position += 17;
          break;
        case 0xdc: // array 16
          children = uint16(bytes, position);
          position += 2;
          break;
        case 0xdd: // array 32
          children = uint32(bytes, position);
          position += 4;
          break;
        case 0xde: // map 16
          children = uint16(bytes, position) * 2;
          position += 2;
          break;
        case 0xdf: // map 32
          children = uint32(bytes, position) * 2;
          position += 4;
          break;
        default:
          throw malformed(`unexpected byte 0x${byte.toString(16)} at offset ${position - 1}`);
      }
    }
    if (position > end) throw truncated();
    if (children > 0) {
      // Every value takes at least one byte: a count larger than what is left is a lie.
      if (children > end - position) throw truncated();
      if (depth + 1 > maxDepth) {
        throw new ProtocolError(
          `Message nested more than ${maxDepth} levels deep: refused before decoding (raise maxDepth if this is intended)`,
          'ERR_FARCALL_TOO_DEEP',
        );
      }
      depth++;
      if (depth >= remaining.length) {
        const grownRemaining = new Float64Array(remaining.length * 2);
        grownRemaining.set(remaining);
        remaining = grownRemaining;
        const grownEnds = new Float64Array(ends.length * 2);
        grownEnds.set(ends);
        ends = grownEnds;
      }
      remaining[depth] = children;
      ends[depth] = childEnd;
    }
  }
  if (position !== end) throw malformed(`${end - position} bytes after the end of the message`);
  return longestBinary;
}

/** Bytes a header needs after its lead byte (for the truncation check at the end of a message). */
function headerBytes(byte: number): number {
  switch (byte) {
    case 0xc4:
    case 0xd9:
    case 0xc7:
      return byte === 0xc7 ? 2 : 1;
    case 0xc5:
    case 0xda:
    case 0xdc:
    case 0xde:
      return 2;
    case 0xc8:
      return 3;
    case 0xc6:
    case 0xdb:
    case 0xdd:
    case 0xdf:
      return 4;
    case 0xc9:
      return 5;
    default:
      return 0; // fixed-size values: `position > end` afterwards catches them
  }
}

function truncated(): ProtocolError {
  return new ProtocolError('Malformed message: it ends in the middle of a value', 'ERR_FARCALL_MALFORMED');
}

function malformed(detail: string): ProtocolError {
  return new ProtocolError(`Malformed message: ${detail}`, 'ERR_FARCALL_MALFORMED');
}
