import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ProtocolError, RemoteError } from '../../src/errors.js';
import { Codec, RemoteReference } from '../../src/wire/codec.js';
import { checkDepth } from '../../src/wire/msgpack-scan.js';

const codec = new Codec();
const roundTrip = <T>(value: T): T => codec.decode(codec.encode(value)) as T;

function nested(depth: number): unknown[] {
  const root: unknown[] = [];
  let current = root;
  for (let i = 0; i < depth; i++) {
    const next: unknown[] = [];
    current.push(next);
    current = next;
  }
  return root;
}

describe('Codec by-value types', () => {
  it('round-trips the scalar types', () => {
    const value = { n: null, t: true, f: false, i: -7, x: 1.25, big: 2n ** 62n, s: 'héllo', u: undefined };
    expect(roundTrip(value)).toEqual(value);
  });

  it('keeps large integers that are numbers as numbers and bigints as bigints', () => {
    expect(roundTrip([2 ** 53 - 1, 9007199254740993n, -(2n ** 63n)])).toEqual([
      2 ** 53 - 1,
      9007199254740993n,
      -(2n ** 63n),
    ]);
  });

  it('round-trips Dates to the millisecond, before and after 1970', () => {
    const dates = [new Date(1234567890123), new Date(-1234567890123), new Date(0)];
    expect(roundTrip(dates).map((d) => d.getTime())).toEqual(dates.map((d) => d.getTime()));
  });

  it('round-trips a Buffer as a Buffer', () => {
    const out = roundTrip({ data: Buffer.from('bytes') });
    expect(Buffer.isBuffer(out.data)).toBe(true);
    expect(out.data.toString()).toBe('bytes');
  });

  it('round-trips Map (with non-string keys) and Set, nested in each other', () => {
    const value = new Map<unknown, unknown>([
      [1, 'one'],
      ['set', new Set([1, 'a', new Map([[2n, null]])])],
    ]);
    const out = roundTrip({ value });
    expect(out.value).toBeInstanceOf(Map);
    expect(out.value.get(1)).toBe('one');
    const set = out.value.get('set') as Set<unknown>;
    expect(set).toBeInstanceOf(Set);
    expect([...set][2]).toEqual(new Map([[2n, null]]));
  });

  it('round-trips an Error as a RemoteError with name, message, stack and code', () => {
    const error = Object.assign(new RangeError('out of range'), { code: 'E_RANGE' });
    const out = roundTrip(error) as unknown as RemoteError;
    expect(out).toBeInstanceOf(RemoteError);
    expect(out.remoteName).toBe('RangeError');
    expect(out.message).toBe('RangeError: out of range');
    expect(out.remoteCode).toBe('E_RANGE');
    expect(out.remoteStack).toContain('codec.test.ts');
  });

  it('withholds error stacks when told to', () => {
    const quiet = new Codec({ includeErrorStacks: false });
    const out = quiet.decode(quiet.encode(new Error('x'))) as RemoteError;
    expect(out.remoteStack).toBeUndefined();
  });

  it('does not let a "__proto__" key pollute prototypes', () => {
    const bytes = pack(JSON.parse('{"__proto__": {"polluted": true}}'));
    const out = codec.decode(bytes) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

// Regression: msgpackr 2.1.3 copies non-Uint8Array typed arrays element-wise into a byte buffer and leaks
// heap bytes. farcall encodes their byte view itself.
describe('Codec typed arrays (msgpackr 2.1.3 regression)', () => {
  it('round-trips a Float64Array exactly', () => {
    const array = new Float64Array([Math.PI, -0, Number.MAX_VALUE, Number.MIN_VALUE, Number.NaN, -Infinity]);
    const out = roundTrip(array);
    expect(out).toBeInstanceOf(Float64Array);
    expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength)).toEqual(Buffer.from(array.buffer));
  });

  it('round-trips an Int16Array exactly', () => {
    const array = Int16Array.from([0, 1, -1, 32767, -32768, 12345]);
    const out = roundTrip(array);
    expect(out).toBeInstanceOf(Int16Array);
    expect([...out]).toEqual([...array]);
  });

  it('round-trips a BigInt64Array exactly', () => {
    const array = BigInt64Array.from([0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]);
    const out = roundTrip(array);
    expect(out).toBeInstanceOf(BigInt64Array);
    expect([...out]).toEqual([...array]);
  });

  it('sends only the view of a typed array over a larger buffer', () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const view = backing.subarray(1, 4);
    const bytes = codec.encode(view);
    expect(bytes.length).toBeLessThan(3 * 4 + 8);
    expect([...roundTrip(view)]).toEqual([1, 2, 3]);
  });

  it('round-trips every typed array class, aligned or not', () => {
    const classes = [
      Int8Array,
      Uint8ClampedArray,
      Int16Array,
      Uint16Array,
      Int32Array,
      Uint32Array,
      Float32Array,
      Float64Array,
    ];
    for (const Class of classes) {
      for (const prefix of ['', 'x', 'xyz']) {
        const out = roundTrip([prefix, Class.from([1, 2, 3])]);
        expect(out[1]).toBeInstanceOf(Class);
        expect([...(out[1] as Iterable<number>)]).toEqual([1, 2, 3]);
      }
    }
  });
});

describe('Codec references', () => {
  it('refuses functions and class instances without hooks, naming them', () => {
    class Scanner {}
    expect(() => codec.encode({ cb: function onData() {} })).toThrow(/function onData/);
    expect(() => codec.encode([new Scanner()])).toThrow(/an instance of Scanner/);
  });

  it('hands functions and class instances to the hooks and back', () => {
    class Scanner {}
    const scanner = new Scanner();
    const seen: object[] = [];
    const withHooks = new Codec({
      hooks: {
        encodeObject: (value) => {
          seen.push(value);
          return new RemoteReference(
            'peer-a',
            seen.length,
            'tcp://127.0.0.1:1',
            typeof value === 'function',
            'x',
          );
        },
        decodeReference: (reference) => ({ decoded: reference.objectId, callable: reference.callable }),
      },
    });
    const out = withHooks.decode(withHooks.encode({ s: scanner, f: () => 1, plain: { a: 1 } }));
    expect(seen).toEqual([scanner, expect.any(Function)]);
    expect(out).toEqual({
      s: { decoded: 1, callable: false },
      f: { decoded: 2, callable: true },
      plain: { a: 1 },
    });
  });
});

describe('Codec bad input', () => {
  it('rejects a message nested 10 000 deep before decoding it', () => {
    const bytes = Buffer.concat([Buffer.alloc(10_000, 0x91), Buffer.from([0xc0])]);
    const error = (() => {
      try {
        codec.decode(bytes);
      } catch (e) {
        return e as ProtocolError;
      }
    })();
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error?.code).toBe('ERR_FARCALL_TOO_DEEP');
  });

  it('refuses to encode a value nested 10 000 deep with a clear message', () => {
    expect(() => codec.encode(nested(10_000))).toThrow(/nested too deeply/);
  });

  it('accepts nesting up to the limit', () => {
    expect(() => codec.decode(codec.encode(nested(900)))).not.toThrow();
  });

  it('rejects truncated input, trailing bytes, garbage and unknown extensions as ProtocolError', () => {
    for (const bytes of [
      [0x92, 0x01],
      [0x01, 0x02],
      [0xc1],
      [0xc7, 0x01, 0x63, 0x00],
      [0xdd, 0xff, 0xff, 0xff, 0xff],
    ]) {
      expect(() => codec.decode(Buffer.from(bytes)), bytes.join(',')).toThrow(ProtocolError);
    }
  });

  it('rejects a container extension whose payload holds more than one value', () => {
    // ext 8, type 5 (Set), payload = two values: 0x90 0x90
    expect(() => checkDepth(Buffer.from([0xc7, 0x02, 0x05, 0x90, 0x90]), 10)).toThrow(ProtocolError);
  });

  it('rejects a malformed typed array', () => {
    // element type 8 (Float64), no padding, 3 bytes of data
    expect(() => codec.decode(Buffer.from([0xc7, 0x05, 0x03, 0x08, 0x00, 1, 2, 3]))).toThrow(
      /Malformed typed array/,
    );
  });
});

describe('Codec large binaries', () => {
  it('sends a large typed array from its own memory, without copying it into the message', () => {
    const array = new Float64Array(100_000).map((_, i) => i * 0.5);
    const parts = codec.encodeParts({ before: 'x', array, after: [1, 2] });
    const shared = parts.find((part) => part.buffer === array.buffer);
    expect(shared?.byteLength).toBe(array.byteLength);
  });

  it('aligns a large typed array so that the receiver views it in place', () => {
    for (const prefix of ['', 'a', 'abc', 'abcdefg']) {
      const array = new Float64Array(20_000).fill(1.25);
      const message = codec.encode([prefix, array]);
      // A receiver holds a large frame body in a buffer of its own, at offset 0.
      const received = Buffer.alloc(message.length);
      message.copy(received);
      const [, out] = codec.decode(received) as [string, Float64Array];
      expect(out.buffer).toBe(received.buffer);
      expect(out.every((x) => x === 1.25)).toBe(true);
    }
  });

  it('round-trips several large binaries of different kinds in one message', () => {
    const value = {
      a: Buffer.alloc(70_000, 1),
      b: Int16Array.from({ length: 40_000 }, (_, i) => i - 20_000),
      nested: [{ c: new BigInt64Array(10_000).fill(-3n) }],
    };
    const out = codec.decode(codec.encode(value)) as typeof value;
    expect(Buffer.isBuffer(out.a) && out.a.equals(value.a)).toBe(true);
    expect([...out.b]).toEqual([...value.b]);
    expect(out.nested[0].c.every((x) => x === -3n)).toBe(true);
  });

  it('copies a large binary held inside a Set or Map (nested extensions cannot hold parts)', () => {
    const bytes = Buffer.alloc(100_000, 9);
    const out = codec.decode(codec.encode(new Set([bytes]))) as Set<Buffer>;
    expect([...out][0].equals(bytes)).toBe(true);
  });
});
