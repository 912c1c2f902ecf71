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
 * Walks the structure of one MessagePack value as {@link checkDepth} does and calls `onFixExt4` with the
 * offset of every fixext 4 (`d6 <type> <4 bytes>`) it meets — how the encoder finds the placeholders it
 * left for large binaries.
 */
export function scanMessagePack(
  bytes: Uint8Array,
  maxDepth: number,
  onFixExt4?: (type: number, offset: number) => void,
): number {
  let longestBinary = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  // remaining[d] = values still to read in the container at depth d (depth 0: the one top-level value).
  const remaining: number[] = [1];
  // For each level: the offset where it must end (a container extension's payload), or -1 for no check.
  const ends: number[] = [-1];
  let position = 0;
  let nextEnd = -1;
  const need = (count: number): void => {
    if (position + count > end) throw truncated();
  };
  while (remaining.length > 0) {
    const depth = remaining.length - 1;
    if (remaining[depth] === 0) {
      remaining.pop();
      const mustEnd = ends.pop() as number;
      if (mustEnd >= 0 && position !== mustEnd)
        throw malformed('an extension payload does not hold exactly one value');
      continue;
    }
    remaining[depth]--;
    need(1);
    const byte = bytes[position++];
    let children = 0;
    nextEnd = -1;
    if (byte <= 0x7f || byte >= 0xe0 || (byte >= 0xc0 && byte <= 0xc3)) {
      // fixint, negative fixint, nil, (never used), false, true
      if (byte === 0xc1) throw malformed(`reserved byte 0xc1 at offset ${position - 1}`);
    } else if (byte >= 0xa0 && byte <= 0xbf) {
      position += byte & 0x1f; // fixstr
    } else if (byte >= 0x90 && byte <= 0x9f) {
      children = byte & 0x0f; // fixarray
    } else if (byte >= 0x80 && byte <= 0x8f) {
      children = (byte & 0x0f) * 2; // fixmap
    } else {
      switch (byte) {
        case 0xc4: // bin 8
          need(1);
          if (bytes[position] > longestBinary) longestBinary = bytes[position];
          position += 1 + bytes[position];
          break;
        case 0xd9: // str 8
          need(1);
          position += 1 + bytes[position];
          break;
        case 0xc5: // bin 16
          need(2);
          if (view.getUint16(position) > longestBinary) longestBinary = view.getUint16(position);
          position += 2 + view.getUint16(position);
          break;
        case 0xda: // str 16
          need(2);
          position += 2 + view.getUint16(position);
          break;
        case 0xc6: // bin 32
          need(4);
          if (view.getUint32(position) > longestBinary) longestBinary = view.getUint32(position);
          position += 4 + view.getUint32(position);
          break;
        case 0xdb: // str 32
          need(4);
          position += 4 + view.getUint32(position);
          break;
        case 0xc7: // ext 8
          need(2);
          children = ext(bytes[position + 1], bytes[position], 2);
          break;
        case 0xc8: // ext 16
          need(3);
          children = ext(bytes[position + 2], view.getUint16(position), 3);
          break;
        case 0xc9: // ext 32
          need(5);
          children = ext(bytes[position + 4], view.getUint32(position), 5);
          break;
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
          need(5);
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
          need(2);
          children = view.getUint16(position);
          position += 2;
          break;
        case 0xdd: // array 32
          need(4);
          children = view.getUint32(position);
          position += 4;
          break;
        case 0xde: // map 16
          need(2);
          children = view.getUint16(position) * 2;
          position += 2;
          break;
        case 0xdf: // map 32
          need(4);
          children = view.getUint32(position) * 2;
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
      if (remaining.length > maxDepth) {
        throw new ProtocolError(
          `Message nested more than ${maxDepth} levels deep: refused before decoding (raise maxDepth if this is intended)`,
          'ERR_FARCALL_TOO_DEEP',
        );
      }
      remaining.push(children);
      ends.push(nextEnd);
    }
  }
  if (position !== end) throw malformed(`${end - position} bytes after the end of the message`);
  return longestBinary;

  /**
   * Handles an ext header whose payload is `length` bytes of type `type`, header bytes after the lead
   * byte = `headerBytes`. Container extensions (references, errors, maps, sets) hold one nested value,
   * which is scanned; any other payload is skipped. Returns the number of children to scan.
   */
  function ext(type: number, length: number, headerBytes: number): number {
    position += headerBytes;
    if (type === 1 || type === 2 || type === 4 || type === 5) {
      need(length);
      if (length === 0) throw malformed(`empty extension payload of type ${type}`);
      nextEnd = position + length;
      return 1;
    }
    if (type === 3 && length > longestBinary) longestBinary = length;
    position += length;
    return 0;
  }
}

function truncated(): ProtocolError {
  return new ProtocolError('Malformed message: it ends in the middle of a value', 'ERR_FARCALL_MALFORMED');
}

function malformed(detail: string): ProtocolError {
  return new ProtocolError(`Malformed message: ${detail}`, 'ERR_FARCALL_MALFORMED');
}
