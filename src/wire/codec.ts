import { addExtension, Packr, Unpackr } from 'msgpackr';
import { ProtocolError, RemoteError } from '../errors.js';
import { checkDepthAndBinaries, scanMessagePack } from './msgpack-scan.js';
import { type PayloadReaderHooks, readPayloadValue } from './payload-reader.js';

// Brands of the values the extensions below recognise (see `shared`): the same in every copy of farcall.
const MAP_VALUE = Symbol.for('farcall.wire.MapValue');
const LARGE_BINARY = Symbol.for('farcall.wire.LargeBinary');
const REMOTE_REFERENCE = Symbol.for('farcall.wire.RemoteReference');
const NEGATIVE_ZERO = Symbol.for('farcall.wire.NegativeZero');

/**
 * MessagePack extension type codes farcall uses (application range 0–127). Python's `msgpack` reads them
 * as `ExtType(code, data)`; everything else farcall sends is standard MessagePack.
 */
export const ExtensionType = {
  /** A reference to an object another process owns: msgpack `[ownerId, objectId, address|nil, callable, typeName]`. */
  Reference: 1,
  /** An error, by value: msgpack `[name, message, stack|nil, code|nil]`. */
  Error: 2,
  /**
   * A typed array: one byte of element type ({@link TypedArrayCode}), one byte `p` (0–7), `p` zero bytes of
   * padding that align the elements to 8 bytes from the start of the message, then the elements' raw
   * little-endian bytes.
   */
  TypedArray: 3,
  /** A Map: msgpack `[key1, value1, key2, value2, …]`. */
  Map: 4,
  /** A Set: msgpack `[value1, value2, …]`. */
  Set: 5,
} as const;

/** Placeholder (fixext 4, uint32 index) for a large binary while a message is packed; never sent. */
const PLACEHOLDER_TYPE = 0x7f;

/** Binaries of at least this many bytes are sent from their own memory (no copy into the message buffer). */
const LARGE_BINARY_BYTES = 64 * 1024;

/** Element type codes of the {@link ExtensionType.TypedArray} extension. */
export const TypedArrayCode = {
  Int8Array: 0,
  Uint8ClampedArray: 2,
  Int16Array: 3,
  Uint16Array: 4,
  Int32Array: 5,
  Uint32Array: 6,
  Float32Array: 7,
  Float64Array: 8,
  BigInt64Array: 9,
  BigUint64Array: 10,
} as const;

type TypedArrayName = keyof typeof TypedArrayCode;
type TypedArrayClass = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView;
  BYTES_PER_ELEMENT: number;
};

const typedArrayClasses: Record<TypedArrayName, TypedArrayClass> = {
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
const typedArrayByCode: (TypedArrayClass | undefined)[] = [];
for (const [name, code] of Object.entries(TypedArrayCode))
  typedArrayByCode[code] = typedArrayClasses[name as TypedArrayName];

/**
 * A reference to an object that another process owns (it travels as extension type 1).
 *
 * `ownerId` names the owning peer, `objectId` the object in the owner's export table; `address` is where
 * the owner listens (so a third process can reach it directly), or `null` if it does not listen.
 */
export class RemoteReference {
  readonly [REMOTE_REFERENCE] = true;
  constructor(
    readonly ownerId: string,
    readonly objectId: number,
    readonly address: string | null,
    readonly callable: boolean,
    readonly typeName: string,
  ) {}
}

/** How a codec turns the values that do not travel by value into references, and back. */
export interface CodecHooks {
  /** Called for every value that does not travel by value (functions, class instances): returns its reference. */
  encodeObject(value: object): RemoteReference;
  /** Called for every reference decoded: returns what the receiver sees (a proxy, or its own object). */
  decodeReference(reference: RemoteReference): unknown;
}

/** Options of a {@link Codec}. */
export interface CodecOptions {
  /** Turns functions and class instances into references and back. Without hooks, encoding one throws. */
  hooks?: CodecHooks;
  /** The deepest nesting of arrays, maps and extensions accepted when decoding. Default 1000. */
  maxDepth?: number;
  /** Send the stack of Error values. Default true. */
  includeErrorStacks?: boolean;
}

/** What the extensions need to know about the encode or decode under way. */
interface ActiveCodec {
  hooks: CodecHooks | undefined;
  includeErrorStacks: boolean;
  large?: ArrayBufferView[];
  /**
   * While decoding: binaries and typed arrays of {@link LARGE_BINARY_BYTES} or more may be views of the
   * message (which then is memory of its own); smaller ones, and all of them when false, are copied.
   */
  binaryViews?: boolean;
}

/**
 * The codec that is encoding or decoding right now. msgpackr's extensions are global to the process, and
 * a process may hold two copies of farcall (say, its sources and its build, or two installed versions):
 * whichever copy's extension msgpackr calls must see the state of the copy that is encoding. So the state
 * lives in one slot per process, and the stand-in classes below are recognised by a brand, not by class.
 */
const SHARED_STATE = Symbol.for('farcall.wire.codec.state');
const processSlots = globalThis as Record<symbol, { active: ActiveCodec } | undefined>;
if (processSlots[SHARED_STATE] === undefined) {
  processSlots[SHARED_STATE] = { active: { hooks: undefined, includeErrorStacks: true } };
}
const shared: { active: ActiveCodec } = processSlots[SHARED_STATE];

function branded(value: object, brand: symbol): boolean {
  return (value as Record<symbol, unknown>)[brand] === true;
}

const innerPackr = new Packr({ useRecords: false, useBigIntExtension: true });

/**
 * The MessagePack codec of farcall's rpc messages: msgpackr with `useRecords: false` (standard
 * MessagePack, readable by Python's `msgpack`) and the extension types of {@link ExtensionType}.
 *
 * By value: `undefined` (msgpack ext 0, as msgpackr and notepack write it), `null`, booleans, numbers,
 * bigints (int64/uint64 when they fit), strings, Dates (the standard timestamp extension),
 * `Buffer`/`Uint8Array` (bin, decoded as `Buffer`), every other typed array (decoded as the same class),
 * plain arrays, plain objects, `Map`, `Set`, and errors (decoded as {@link RemoteError}). Everything else —
 * functions and class instances — becomes a {@link RemoteReference} through `hooks.encodeObject`.
 *
 * @example
 * ```ts
 * const codec = new Codec();
 * const bytes = codec.encode({ samples: new Float64Array([1, 2, 3]), when: new Date() });
 * const value = codec.decode(bytes);
 * ```
 */
export class Codec {
  readonly #hooks: CodecHooks | undefined;
  readonly #maxDepth: number;
  readonly #includeErrorStacks: boolean;

  // The state of an encode or decode under way, made once: a call allocates nothing for it (see `shared`).
  readonly #encodeState: ActiveCodec;
  readonly #decodeState: ActiveCodec;
  readonly #decodeViewsState: ActiveCodec;

  constructor(options: CodecOptions = {}) {
    this.#hooks = options.hooks;
    this.#maxDepth = options.maxDepth ?? 1000;
    this.#includeErrorStacks = options.includeErrorStacks ?? true;
    const base = { hooks: this.#hooks, includeErrorStacks: this.#includeErrorStacks };
    this.#encodeState = { ...base, large: [] };
    this.#decodeState = { ...base, binaryViews: false };
    this.#decodeViewsState = { ...base, binaryViews: true };
  }

  /**
   * Encodes a value into one buffer, which is the caller's.
   * @throws TypeError when the value cannot be encoded (a function without hooks, a value nested too deep).
   */
  encode(value: unknown): Buffer {
    const parts = this.encodeParts(value);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * Encodes a value as a list of buffers to be sent one after the other (e.g. with
   * {@link FramedSocket.send}). Binaries and typed arrays of 64 KiB or more are not copied: their parts
   * are views of the caller's memory, which must not change until the parts are written.
   * @throws TypeError when the value cannot be encoded (a function without hooks, a value nested too deep).
   */
  encodeParts(value: unknown): Buffer[] {
    const previous = shared.active;
    // A hook may encode with this codec while it encodes: that inner encode gets a state of its own.
    const state =
      previous === this.#encodeState
        ? { hooks: this.#hooks, includeErrorStacks: this.#includeErrorStacks, large: [] }
        : this.#encodeState;
    const large = state.large as ArrayBufferView[];
    shared.active = state;
    try {
      const packed: Uint8Array = packr.pack(prepare(value, this.#maxDepth));
      const bytes = Buffer.isBuffer(packed)
        ? packed
        : Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
      return large.length === 0 ? [bytes] : spliceLargeBinaries(bytes, large);
    } catch (error) {
      if (error instanceof RangeError && /call stack/i.test(error.message)) {
        throw new TypeError(
          `Cannot encode the value: it is nested too deeply (the receiving limit is ${this.#maxDepth} levels)`,
        );
      }
      throw error;
    } finally {
      if (large.length !== 0) large.length = 0; // do not keep the caller's binaries alive
      shared.active = previous;
    }
  }

  /**
   * Decodes one message.
   * @throws {@link ProtocolError} when the bytes are not one valid MessagePack value, use an unknown
   *   extension, or nest deeper than `maxDepth` (`ERR_FARCALL_TOO_DEEP`).
   */
  decode(bytes: Uint8Array): unknown {
    const longestBinary = checkDepthAndBinaries(bytes, this.#maxDepth);
    const binaryViews = longestBinary >= LARGE_BINARY_BYTES;
    let source = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // A received frame may be a view of a chunk (or of Node's shared Buffer pool) that holds other frames.
    // Small binaries are copied out of it (msgpackr's copyBuffers). A message with a large one is given
    // memory of its own and read by farcall's own reader, which copies the small binaries and leaves the
    // large ones as views: their `.buffer` shows this message and nothing else.
    if (binaryViews && (source.byteOffset !== 0 || source.byteLength !== source.buffer.byteLength)) {
      const own = Buffer.allocUnsafeSlow(source.byteLength);
      own.set(source);
      source = own;
    }
    const previous = shared.active;
    shared.active = binaryViews ? this.#decodeViewsState : this.#decodeState;
    try {
      return binaryViews ? readPayloadValue(source, payloadHooks) : copyingUnpackr.unpack(source);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(`Malformed message: ${(error as Error).message}`, 'ERR_FARCALL_MALFORMED', {
        cause: error,
      });
    } finally {
      shared.active = previous;
    }
  }
}

const packr = new Packr({ useRecords: false, useBigIntExtension: true });
const copyingUnpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'bigint',
  copyBuffers: true,
});

// --- encoding ----------------------------------------------------------------------------------------------
// msgpackr writes plain objects, arrays and Maps itself and hands every other object (and every function)
// to the first registered extension whose Class it is an instance of. One catch-all extension on Object
// decides for all of them, so no object msgpackr does not know can slip through as a plain map, and
// msgpackr's own typed-array encoding (which corrupts non-Uint8Array arrays in 2.1.3) is never used.

type AllocateForWrite = (size: number) => { target: Uint8Array; targetView: DataView; position: number };

// msgpackr's typings omit the second argument of `pack` (write straight into its buffer): hence the cast.
addExtension({
  Class: Object,
  type: ExtensionType.Reference,
  pack(value: object, allocateForWrite: AllocateForWrite): undefined {
    if (ArrayBuffer.isView(value)) {
      if (value instanceof Uint8Array) return writeBin(value, allocateForWrite);
      if (value instanceof DataView)
        return writeBin(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), allocateForWrite);
      return writeTypedArray(value, allocateForWrite);
    }
    if (branded(value, NEGATIVE_ZERO)) return writeNegativeZero(allocateForWrite);
    if (value instanceof Date) return writeTimestamp(value, allocateForWrite);
    if (value instanceof ArrayBuffer) return writeBin(new Uint8Array(value), allocateForWrite);
    if (branded(value, LARGE_BINARY)) return writePlaceholder((value as LargeBinary).index, allocateForWrite);
    if (branded(value, MAP_VALUE))
      return writeNested(ExtensionType.Map, mapToArray((value as MapValue).map), allocateForWrite);
    if (value instanceof Map) return writeNested(ExtensionType.Map, mapToArray(value), allocateForWrite);
    if (value instanceof Set) return writeNested(ExtensionType.Set, Array.from(value), allocateForWrite);
    if (value instanceof Error)
      return writeNested(ExtensionType.Error, errorToArray(value), allocateForWrite);
    if (branded(value, REMOTE_REFERENCE))
      return writeNested(
        ExtensionType.Reference,
        referenceToArray(value as RemoteReference),
        allocateForWrite,
      );
    const prototype = Object.getPrototypeOf(value);
    if (prototype === null || (prototype === Object.prototype && typeof value !== 'function')) {
      // A plain object whose `constructor` property was overwritten, or one with a null prototype.
      return writeNested(undefined, { ...value }, allocateForWrite);
    }
    const hooks = shared.active.hooks;
    if (!hooks) {
      throw new TypeError(
        `Cannot send ${describe(value)} by value: only plain data travels by value without an RPC connection`,
      );
    }
    return writeNested(
      ExtensionType.Reference,
      referenceToArray(hooks.encodeObject(value)),
      allocateForWrite,
    );
  },
} as unknown as Parameters<typeof addExtension>[0]);

function writeBin(bytes: Uint8Array, allocateForWrite: AllocateForWrite): undefined {
  const length = bytes.byteLength;
  const headerLength = length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  const { target, targetView, position } = allocateForWrite(headerLength + length);
  if (headerLength === 2) {
    target[position] = 0xc4;
    target[position + 1] = length;
  } else if (headerLength === 3) {
    target[position] = 0xc5;
    targetView.setUint16(position + 1, length);
  } else {
    target[position] = 0xc6;
    targetView.setUint32(position + 1, length);
  }
  target.set(bytes, position + headerLength);
  return undefined;
}

/** Writes the ext header for `payloadLength` bytes of type `type` at `position`; returns the header length. */
function writeExtHeader(
  target: Uint8Array,
  view: DataView,
  position: number,
  type: number,
  payloadLength: number,
): number {
  if (payloadLength < 0x100) {
    target[position] = 0xc7;
    target[position + 1] = payloadLength;
    target[position + 2] = type;
    return 3;
  }
  if (payloadLength < 0x10000) {
    target[position] = 0xc8;
    view.setUint16(position + 1, payloadLength);
    target[position + 3] = type;
    return 4;
  }
  target[position] = 0xc9;
  view.setUint32(position + 1, payloadLength);
  target[position + 5] = type;
  return 6;
}

function extHeaderLength(payloadLength: number): number {
  return payloadLength < 0x100 ? 3 : payloadLength < 0x10000 ? 4 : 6;
}

function typedArrayCode(array: ArrayBufferView): number {
  const code = TypedArrayCode[array.constructor.name as TypedArrayName];
  if (code === undefined) throw new TypeError(`Cannot send a ${array.constructor.name} by value`);
  return code;
}

/**
 * Writes a typed array extension. `messageOffset` is where the header starts, counted from the start of
 * the message: the padding makes the elements start at a multiple of 8 from there, so a receiver that holds
 * the message at an aligned address can view the elements in place.
 */
function typedArrayHeader(
  array: ArrayBufferView,
  messageOffset: number,
): { header: Uint8Array; length: number } {
  const byteLength = array.byteLength;
  // The header length depends on the payload length, which depends on the padding: try the wider header.
  const base = extHeaderLength(2 + 7 + byteLength);
  const padding = (8 - ((messageOffset + base + 2) % 8)) % 8;
  const payloadLength = 2 + padding + byteLength;
  const headerLength = extHeaderLength(payloadLength);
  const extra = headerLength === base ? padding : (8 - ((messageOffset + headerLength + 2) % 8)) % 8;
  const header = new Uint8Array(headerLength + 2 + extra);
  const view = new DataView(header.buffer);
  writeExtHeader(header, view, 0, ExtensionType.TypedArray, 2 + extra + byteLength);
  header[headerLength] = typedArrayCode(array);
  header[headerLength + 1] = extra;
  return { header, length: header.length };
}

function writeTypedArray(array: ArrayBufferView, allocateForWrite: AllocateForWrite): undefined {
  // A small array: no padding (msgpackr lets an extension allocate only once, so its offset in the message
  // is not known in time); the receiver copies it if it is misaligned. Large arrays are aligned exactly by
  // spliceLargeBinaries.
  const payloadLength = 2 + array.byteLength;
  const headerLength = extHeaderLength(payloadLength);
  const { target, targetView, position } = allocateForWrite(headerLength + payloadLength);
  writeExtHeader(target, targetView, position, ExtensionType.TypedArray, payloadLength);
  target[position + headerLength] = typedArrayCode(array);
  target[position + headerLength + 1] = 0;
  // Copy the byte view: never let msgpackr walk the elements (msgpackr 2.1.3 corrupts non-Uint8Array arrays).
  target.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), position + headerLength + 2);
  return undefined;
}

/** -0 as a float 64: msgpackr writes it as the integer 0, which decodes as +0. */
function writeNegativeZero(allocateForWrite: AllocateForWrite): undefined {
  const { target, targetView, position } = allocateForWrite(9);
  target[position] = 0xcb;
  targetView.setFloat64(position + 1, -0);
  return undefined;
}

function writePlaceholder(index: number, allocateForWrite: AllocateForWrite): undefined {
  const { target, targetView, position } = allocateForWrite(6);
  target[position] = 0xd6;
  target[position + 1] = PLACEHOLDER_TYPE;
  targetView.setUint32(position + 2, index);
  return undefined;
}

/**
 * Replaces each placeholder in `packed` by the header of its large binary, followed by the binary's own
 * memory (not copied), and returns the parts in order.
 */
function spliceLargeBinaries(packed: Buffer, large: ArrayBufferView[]): Buffer[] {
  const placeholders: number[] = [];
  scanMessagePack(packed, Number.POSITIVE_INFINITY, (type, offset) => {
    if (type === PLACEHOLDER_TYPE) placeholders.push(offset);
  });
  const parts: Buffer[] = [];
  let consumed = 0;
  let messageOffset = 0;
  for (const offset of placeholders) {
    const before = packed.subarray(consumed, offset);
    parts.push(before);
    messageOffset += before.length;
    const binary = large[packed.readUInt32BE(offset + 2)];
    const bytes = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength);
    const header =
      binary instanceof Uint8Array ? binHeader(bytes.length) : typedArrayHeader(binary, messageOffset).header;
    parts.push(Buffer.from(header.buffer, header.byteOffset, header.byteLength), bytes);
    messageOffset += header.length + bytes.length;
    consumed = offset + 6;
  }
  parts.push(packed.subarray(consumed));
  return parts;
}

function binHeader(length: number): Uint8Array {
  const header = Buffer.allocUnsafe(5);
  header[0] = 0xc6;
  header.writeUInt32BE(length, 1);
  return header;
}

/** The MessagePack timestamp extension (type -1), in its 96-bit form: exact for every Date. */
function writeTimestamp(date: Date, allocateForWrite: AllocateForWrite): undefined {
  const time = date.getTime();
  const { target, targetView, position } = allocateForWrite(15);
  target[position] = 0xc7;
  target[position + 1] = 12;
  target[position + 2] = 0xff;
  if (Number.isNaN(time)) {
    // An invalid Date: 2^48 - 1 seconds, beyond the range of a JavaScript Date, which every decoder of
    // ours (msgpackr's too, which reads only the low 48 bits of the seconds) reads as an invalid date.
    targetView.setUint32(position + 3, 0);
    targetView.setBigInt64(position + 7, 0xffff_ffff_ffffn);
    return undefined;
  }
  const seconds = Math.floor(time / 1000);
  targetView.setUint32(position + 3, (time - seconds * 1000) * 1_000_000);
  targetView.setBigInt64(position + 7, BigInt(seconds));
  return undefined;
}

function writeNested(
  type: number | undefined,
  value: unknown,
  allocateForWrite: AllocateForWrite,
): undefined {
  // msgpackr calls extensions re-entrantly safely: it parks its own buffer while an extension runs.
  const inner = innerPack(value);
  if (type === undefined) {
    const { target, position } = allocateForWrite(inner.length);
    target.set(inner, position);
    return undefined;
  }
  const header = extHeaderLength(inner.length);
  const { target, targetView, position } = allocateForWrite(header + inner.length);
  writeExtHeader(target, targetView, position, type, inner.length);
  target.set(inner, position + header);
  return undefined;
}

function innerPack(value: unknown): Uint8Array {
  // Inside a nested pack no placeholder can be located afterwards: large binaries are copied there.
  const active = shared.active;
  const large = active.large;
  active.large = undefined;
  try {
    return innerPackr.pack(prepare(value, DEFAULT_MAX_DEPTH));
  } finally {
    active.large = large;
  }
}

const DEFAULT_MAX_DEPTH = 1000;

/** Stands in for a Map while encoding: msgpackr writes a Map as a plain msgpack map, which decodes as an object. */
class MapValue {
  readonly [MAP_VALUE] = true;
  constructor(readonly map: Map<unknown, unknown>) {}
}

/** Stands in for -0 while encoding (see {@link writeNegativeZero}). */
class NegativeZero {
  readonly [NEGATIVE_ZERO] = true;
}
const negativeZero = new NegativeZero();

/** Stands in for a large binary while encoding; see {@link spliceLargeBinaries}. */
class LargeBinary {
  readonly [LARGE_BINARY] = true;
  constructor(readonly index: number) {}
}

/**
 * Returns `value` ready for msgpackr: every Map inside plain arrays and objects replaced by a
 * {@link MapValue}, and every binary of {@link LARGE_BINARY_BYTES} or more by a {@link LargeBinary}
 * (collected in `active.large`). A container is copied only when something inside it changes, so most
 * messages are returned as they are.
 * @throws TypeError when the value nests deeper than `depthLeft`.
 */
function prepare(value: unknown, depthLeft: number): unknown {
  if (typeof value !== 'object' || value === null) return value === 0 && 1 / value < 0 ? negativeZero : value;
  if (value instanceof Map) return new MapValue(value);
  if (ArrayBuffer.isView(value)) {
    const large = shared.active.large;
    if (!large || value.byteLength < LARGE_BINARY_BYTES || value instanceof DataView) return value;
    if (
      !(value instanceof Uint8Array) &&
      TypedArrayCode[value.constructor.name as TypedArrayName] === undefined
    )
      return value;
    return new LargeBinary(large.push(value) - 1);
  }
  if (depthLeft <= 0) {
    throw new TypeError(
      'Cannot encode the value: it is nested too deeply (more than the receiving limit of levels)',
    );
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Array.prototype) {
    const array = value as unknown[];
    let copy: unknown[] | undefined;
    for (let i = 0; i < array.length; i++) {
      const item = array[i];
      const replaced = prepare(item, depthLeft - 1);
      if (replaced !== item) {
        copy ??= array.slice();
        copy[i] = replaced;
      }
    }
    return copy ?? array;
  }
  if (prototype === Object.prototype || prototype === null) {
    const record = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const key in record) {
      const item = record[key];
      const replaced = prepare(item, depthLeft - 1);
      if (replaced !== item) {
        copy ??= { ...record };
        copy[key] = replaced;
      }
    }
    return copy ?? record;
  }
  return value;
}

function mapToArray(map: Map<unknown, unknown>): unknown[] {
  const flat = new Array(map.size * 2);
  let i = 0;
  for (const [key, value] of map) {
    flat[i++] = key;
    flat[i++] = value;
  }
  return flat;
}

function errorToArray(error: Error): unknown[] {
  const remote = error instanceof RemoteError;
  const name = remote ? error.remoteName : error.name;
  const message = remote ? error.message.slice(error.remoteName.length + 2) : error.message;
  const stack = shared.active.includeErrorStacks
    ? ((remote ? error.remoteStack : error.stack) ?? null)
    : null;
  const code = (remote ? error.remoteCode : (error as { code?: unknown }).code) ?? null;
  return [
    String(name),
    String(message),
    stack,
    typeof code === 'string' || typeof code === 'number' ? String(code) : null,
  ];
}

function referenceToArray(reference: RemoteReference): unknown[] {
  return [reference.ownerId, reference.objectId, reference.address, reference.callable, reference.typeName];
}

function describe(value: object): string {
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `an instance of ${name}` : 'this object';
}

// --- decoding ----------------------------------------------------------------------------------------------

/** How binaries inside container payloads are decoded: with the policy of the outer message. */
const payloadHooks: PayloadReaderHooks = {
  unpackExtension(type: number, data: Uint8Array): unknown {
    return (unpackers[type] as (data: Uint8Array) => unknown)(data);
  },
  binary(bytes: Uint8Array): Uint8Array {
    if (shared.active.binaryViews && bytes.byteLength >= LARGE_BINARY_BYTES)
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Not Buffer.from(bytes): that copies small ones into Node's shared pool.
    const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
    copy.set(bytes);
    return copy;
  },
};

/**
 * Decodes the one value inside a container extension's payload with farcall's own reader, never with
 * msgpackr's nested reader (see payload-reader.ts for why).
 */
function readPayload(data: Uint8Array): unknown {
  return readPayloadValue(data, payloadHooks);
}

function unpackReference(data: Uint8Array): unknown {
  const fields = readPayload(data) as unknown[];
  if (
    !Array.isArray(fields) ||
    typeof fields[0] !== 'string' ||
    typeof fields[1] !== 'number' ||
    !(typeof fields[2] === 'string' || fields[2] === null) ||
    typeof fields[3] !== 'boolean'
  ) {
    throw new ProtocolError('Malformed remote reference', 'ERR_FARCALL_MALFORMED');
  }
  const reference = new RemoteReference(fields[0], fields[1], fields[2], fields[3], String(fields[4] ?? ''));
  const hooks = shared.active.hooks;
  return hooks ? hooks.decodeReference(reference) : reference;
}

function unpackError(data: Uint8Array): RemoteError {
  const fields = readPayload(data) as unknown[];
  if (!Array.isArray(fields)) throw new ProtocolError('Malformed error value', 'ERR_FARCALL_MALFORMED');
  return new RemoteError({
    name: String(fields[0] ?? 'Error'),
    message: String(fields[1] ?? ''),
    remoteStack: typeof fields[2] === 'string' ? fields[2] : undefined,
    remoteCode: typeof fields[3] === 'string' ? fields[3] : undefined,
  });
}

function unpackTypedArray(data: Uint8Array): ArrayBufferView {
  const Class = typedArrayByCode[data[0]];
  const padding = data[1];
  const skip = 2 + padding;
  const byteLength = data.byteLength - skip;
  if (!Class || padding > 7 || byteLength < 0 || byteLength % Class.BYTES_PER_ELEMENT !== 0) {
    throw new ProtocolError(
      `Malformed typed array (element type ${data[0]}, ${data.byteLength} bytes)`,
      'ERR_FARCALL_MALFORMED',
    );
  }
  const byteOffset = data.byteOffset + skip;
  const count = byteLength / Class.BYTES_PER_ELEMENT;
  // A large array stays a view of its message (memory of its own, see decode) when aligned; anything else
  // gets a buffer of its own, so `.buffer` never shows other bytes of a received chunk.
  if (
    shared.active.binaryViews &&
    byteLength >= LARGE_BINARY_BYTES &&
    byteOffset % Class.BYTES_PER_ELEMENT === 0
  )
    return new Class(data.buffer, byteOffset, count);
  const copy = new ArrayBuffer(byteLength);
  new Uint8Array(copy).set(data.subarray(skip));
  return new Class(copy, 0, count);
}

function unpackMap(data: Uint8Array): Map<unknown, unknown> {
  const flat = readPayload(data) as unknown[];
  if (!Array.isArray(flat) || flat.length % 2 !== 0)
    throw new ProtocolError('Malformed Map', 'ERR_FARCALL_MALFORMED');
  const map = new Map();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

function unpackSet(data: Uint8Array): Set<unknown> {
  const values = readPayload(data) as unknown[];
  if (!Array.isArray(values)) throw new ProtocolError('Malformed Set', 'ERR_FARCALL_MALFORMED');
  return new Set(values);
}

/** The unpack function of each farcall extension type, by type code. */
const unpackers: ((data: Uint8Array) => unknown)[] = [];
unpackers[ExtensionType.Reference] = unpackReference;
unpackers[ExtensionType.Error] = unpackError;
unpackers[ExtensionType.TypedArray] = unpackTypedArray;
unpackers[ExtensionType.Map] = unpackMap;
unpackers[ExtensionType.Set] = unpackSet;

// msgpackr hands an extension's unpack a second argument (a nested reader) that must not be used: it
// shares msgpackr's pre-extracted strings with the outer message (see payload-reader.ts).
for (const [type, unpack] of unpackers.entries()) {
  if (unpack) addExtension({ type, unpack: (data: Uint8Array) => unpack(data) });
}
