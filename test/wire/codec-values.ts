// fast-check arbitraries of every value farcall's codec carries, and the comparison of what was sent with
// what arrived (shared by the property tests of the codec and of the rpc echo).
import fc from 'fast-check';
import { RemoteError } from '../../src/errors.js';
import { type CodecHooks, RemoteReference } from '../../src/wire/codec.js';

/** Objects that travel as references (class instances and functions). */
export class Thing {
  constructor(readonly id: number) {}
  hello(): number {
    return this.id;
  }
}

export const referencePool: object[] = [
  new Thing(0),
  new Thing(1),
  () => 2,
  function named(): number {
    return 3;
  },
  new Thing(4),
];

/** Codec hooks that turn the pool's objects into references and back, as an rpc connection does. */
export const poolHooks: CodecHooks = {
  encodeObject(value) {
    const id = referencePool.indexOf(value);
    if (id < 0) throw new TypeError('not a pool object');
    return new RemoteReference('pool', id, null, typeof value === 'function', 'Thing');
  },
  decodeReference(reference) {
    return referencePool[reference.objectId];
  },
};

const typedArrayClasses = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

/** Strings of every MessagePack length class: fixstr (< 32), str 8 (≥ 32), str 16 (≥ 256), str 32 (≥ 65 536). */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 31, unit: 'grapheme' }), weight: 4 },
  { arbitrary: fc.string({ minLength: 32, maxLength: 255, unit: 'binary-ascii' }), weight: 2 },
  { arbitrary: fc.string({ minLength: 32, maxLength: 200, unit: 'grapheme' }), weight: 1 },
  { arbitrary: fc.string({ minLength: 256, maxLength: 700, unit: 'grapheme-ascii' }), weight: 1 },
  {
    arbitrary: fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 3, unit: 'grapheme' }),
        fc.integer({ min: 65_536, max: 70_000 }),
      )
      .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length))),
    weight: 1,
  },
);

/** Fills `bytes` from `seed` (cheaper than generating a large binary byte by byte). */
function fill(bytes: Uint8Array, seed: number): Uint8Array {
  let x = seed | 1;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x;
  }
  return bytes;
}

/** Binaries and typed arrays of every kind: whole, as views into a larger buffer, from the pool, large. */
export const anyBinary: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ maxLength: 40 }),
  anyString.map((text) => Buffer.from(text.slice(0, 50))), // a view of Node's shared pool
  fc
    .tuple(fc.constantFrom(...typedArrayClasses), fc.nat(8), fc.nat(20), fc.integer())
    .map(([Class, offset, count, seed]) => {
      // A view in the middle of a larger buffer: only its own elements may travel.
      const parent = fill(new Uint8Array((offset + count + 4) * Class.BYTES_PER_ELEMENT), seed);
      return new Class(parent.buffer as ArrayBuffer, offset * Class.BYTES_PER_ELEMENT, count);
    }),
  fc.tuple(fc.nat(30), fc.integer()).map(([length, seed]) => fill(new Uint8Array(length), seed).buffer),
  fc
    .tuple(fc.nat(5), fc.nat(20), fc.integer())
    .map(
      ([offset, length, seed]) =>
        new DataView(fill(new Uint8Array(offset + length + 3), seed).buffer, offset, length),
    ),
  fc
    .tuple(
      fc.constantFrom(Uint8Array, Float64Array, Int16Array, Buffer),
      fc.integer({ min: 65_536, max: 70_000 }),
      fc.integer(),
    )
    .map(([Class, byteLength, seed]) => {
      const bytes = fill(new Uint8Array(byteLength - (byteLength % 8)), seed);
      if (Class === Buffer) return Buffer.from(bytes.buffer);
      return new (Class as typeof Float64Array)(bytes.buffer);
    }),
);

const anyError: fc.Arbitrary<Error> = fc
  .tuple(
    fc.constantFrom(Error, TypeError, RangeError, SyntaxError),
    anyString,
    fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  )
  .map(([Class, message, code]) => {
    const error = new Class(message);
    if (code !== undefined) (error as Error & { code: string }).code = code;
    return error;
  });

const anyScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    true,
    false,
    -0,
    0,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
  fc.date(),
  anyString,
);

const objectKey = fc.string({ maxLength: 40 }).filter((key) => key !== '__proto__');

/**
 * Random nested values mixing every by-value type and every extension type at random positions.
 * `references` adds objects that travel as references (the pool's, or raw RemoteReferences).
 */
export function anyValue(references: fc.Arbitrary<unknown> | undefined): fc.Arbitrary<unknown> {
  const leaves = [anyScalar, anyBinary, anyError, ...(references ? [references] : [])];
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      ...leaves,
      fc.array(tie('value'), { maxLength: 6 }),
      fc.dictionary(objectKey, tie('value'), { maxKeys: 6 }),
      fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
      fc.array(tie('value'), { maxLength: 5 }).map((values) => new Set(values)),
    ),
  })).value;
}

export const poolReference: fc.Arbitrary<unknown> = fc.constantFrom(...referencePool);

export const rawReference: fc.Arbitrary<unknown> = fc
  .tuple(anyString, fc.nat(), fc.option(anyString, { nil: null }), fc.boolean(), anyString)
  .map(
    ([owner, id, address, callable, typeName]) => new RemoteReference(owner, id, address, callable, typeName),
  );

/** The bytes of a view, as hex (one string compares much faster than an array of 70 000 numbers). */
function bytesOf(view: ArrayBufferView | ArrayBuffer): string {
  const bytes =
    view instanceof ArrayBuffer
      ? Buffer.from(view)
      : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return bytes.toString('hex');
}

/**
 * What a value must arrive as, in a form `toStrictEqual` compares exactly (-0, NaN, key sets, order of Map
 * and Set entries, the class of typed arrays): Uint8Array, DataView and ArrayBuffer arrive as Buffer, errors
 * as RemoteError, references as the receiver's object.
 */
export function canonical(value: unknown): unknown {
  if (typeof value === 'function') return { reference: referencePool.indexOf(value) };
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof RemoteReference)
    return { raw: [value.ownerId, value.objectId, value.address, value.callable, value.typeName] };
  if (value instanceof Thing) return { reference: referencePool.indexOf(value) };
  if (value instanceof RemoteError)
    return { error: [value.remoteName, value.message.slice(value.remoteName.length + 2), value.remoteCode] };
  if (value instanceof Error)
    return { error: [value.name, value.message, (value as { code?: string }).code] };
  if (value instanceof Date) return { date: value.getTime() };
  if (value instanceof ArrayBuffer || value instanceof DataView || value instanceof Uint8Array) {
    // Buffer and Uint8Array both travel as bin; Uint8ClampedArray is a typed array of its own.
    return { binary: bytesOf(value) };
  }
  if (ArrayBuffer.isView(value)) return { typed: value.constructor.name, bytes: bytesOf(value) };
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [canonical(k), canonical(v)]) };
  if (value instanceof Set) return { set: [...value].map(canonical) };
  if (Array.isArray(value)) return value.map(canonical);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = canonical(item);
  return out;
}

/** Every decoded binary is a Buffer; small ones own their memory (their `.buffer` shows nothing else). */
export function checkBinaries(value: unknown, seen = new Set<unknown>()): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    if (value.byteLength < 64 * 1024 && value.buffer.byteLength !== value.byteLength)
      throw new Error(
        `a decoded ${value.constructor.name} of ${value.byteLength} bytes shows ${value.buffer.byteLength}`,
      );
    if (value instanceof Uint8Array && !(value instanceof Uint8ClampedArray) && !Buffer.isBuffer(value))
      throw new Error('a decoded binary is not a Buffer');
    return;
  }
  if (value instanceof Map)
    for (const [k, v] of value) {
      checkBinaries(k, seen);
      checkBinaries(v, seen);
    }
  else if (value instanceof Set || Array.isArray(value)) for (const item of value) checkBinaries(item, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const item of Object.values(value)) checkBinaries(item, seen);
}
