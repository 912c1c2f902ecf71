// examples/loadlib/echo: every value type farcall carries goes to the real 32-bit server and back
// unchanged, and arrives there as the same type (msl-loadlib's test_echo, for farcall's codec).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EchoClient } from '../../examples/loadlib/echo/echo-client.js';
import type { Client64Options } from '../../src/loadlib/client64-options.js';
import { buildWindowsDlls, builtFarcall, WINE_HOOK_MS, WINE_MODE } from './helpers.js';

const { RemoteError } = await builtFarcall();

/** A view into the middle of a larger buffer, at an offset that is no multiple of 8. */
function offsetView<T>(make: (buffer: ArrayBuffer, offset: number, length: number) => T, bytes: number): T {
  const buffer = new ArrayBuffer(64);
  new Uint8Array(buffer).forEach((_, i, all) => {
    all[i] = (i * 37) & 0xff;
  });
  return make(buffer, bytes, 3);
}

/** [name, value, the kind the 32-bit server sees]. */
const VALUES: [string, unknown, string][] = [
  ['null', null, 'null'],
  ['undefined', undefined, 'undefined'],
  ['true', true, 'boolean'],
  ['false', false, 'boolean'],
  ['0', 0, 'number'],
  ['-0', -0, '-0'],
  ['a small integer', 42, 'number'],
  ['a negative integer', -7, 'number'],
  ['an int32 edge', -(2 ** 31), 'number'],
  ['a uint32 edge', 2 ** 32 - 1, 'number'],
  ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER, 'number'],
  ['MIN_SAFE_INTEGER', Number.MIN_SAFE_INTEGER, 'number'],
  ['2 ** 53 + 2 (an unsafe integer number)', 2 ** 53 + 2, 'number'],
  ['2 ** 64 (a number beyond uint64)', 2 ** 64, 'number'],
  ['a fraction', 0.1, 'number'],
  ['MAX_VALUE', Number.MAX_VALUE, 'number'],
  ['MIN_VALUE (a subnormal)', Number.MIN_VALUE, 'number'],
  ['NaN', Number.NaN, 'NaN'],
  ['Infinity', Number.POSITIVE_INFINITY, 'number'],
  ['-Infinity', Number.NEGATIVE_INFINITY, 'number'],
  ['0n', 0n, 'bigint'],
  ['a small bigint', 5n, 'bigint'],
  ['a negative bigint', -5n, 'bigint'],
  ['int64 max', 2n ** 63n - 1n, 'bigint'],
  ['int64 min', -(2n ** 63n), 'bigint'],
  ['uint64 max', 2n ** 64n - 1n, 'bigint'],
  ['the empty string', '', 'string'],
  ['an ASCII string', 'abcd 1234 wxyz', 'string'],
  ['a unicode string', 'Grüße, 世界! 😀 é (e + combining accent)', 'string'],
  ['a string of control characters', '\u0000\u0001\n\t\u007f', 'string'],
  ['a long string', 'x'.repeat(200_000), 'string'],
  ['a Date', new Date('2026-12-01T10:00:00.123Z'), 'Date'],
  ['the epoch', new Date(0), 'Date'],
  ['a Date before the epoch', new Date(-1), 'Date'],
  ['the latest Date', new Date(8.64e15), 'Date'],
  ['the earliest Date', new Date(-8.64e15), 'Date'],
  ['an invalid Date', new Date(Number.NaN), 'Date'],
  ['a Buffer', Buffer.from([0, 1, 127, 128, 255]), 'Buffer'],
  ['an empty Buffer', Buffer.alloc(0), 'Buffer'],
  ['a large Buffer', Buffer.alloc(100_000, 0xab), 'Buffer'],
  ['an Int8Array', Int8Array.of(-128, 0, 127), 'Int8Array'],
  ['a Uint8ClampedArray', Uint8ClampedArray.of(0, 128, 255), 'Uint8ClampedArray'],
  ['an Int16Array', Int16Array.of(-32768, 0, 32767), 'Int16Array'],
  ['a Uint16Array', Uint16Array.of(0, 1, 65535), 'Uint16Array'],
  ['an Int32Array', Int32Array.of(-(2 ** 31), 0, 2 ** 31 - 1), 'Int32Array'],
  ['a Uint32Array', Uint32Array.of(0, 1, 2 ** 32 - 1), 'Uint32Array'],
  ['a Float32Array', Float32Array.of(-0, Number.NaN, Number.POSITIVE_INFINITY, 1.5, 3.4e38), 'Float32Array'],
  [
    'a Float64Array',
    Float64Array.of(-0, Number.NaN, Number.NEGATIVE_INFINITY, 0.1, Number.MIN_VALUE),
    'Float64Array',
  ],
  ['a BigInt64Array', BigInt64Array.of(-(2n ** 63n), 0n, 2n ** 63n - 1n), 'BigInt64Array'],
  ['a BigUint64Array', BigUint64Array.of(0n, 1n, 2n ** 64n - 1n), 'BigUint64Array'],
  ['an empty Float64Array', new Float64Array(0), 'Float64Array'],
  ['a large Float64Array', Float64Array.from({ length: 20_000 }, (_, i) => i / 7), 'Float64Array'],
  ['a large Int16Array', Int16Array.from({ length: 50_000 }, (_, i) => i - 25_000), 'Int16Array'],
  [
    'a Float64Array view at byte offset 8',
    offsetView((b, o, n) => new Float64Array(b, o, n), 8),
    'Float64Array',
  ],
  ['an Int16Array view at an odd offset', offsetView((b, o, n) => new Int16Array(b, o, n), 6), 'Int16Array'],
  ['a Uint32Array view at offset 4', offsetView((b, o, n) => new Uint32Array(b, o, n), 4), 'Uint32Array'],
  ['an empty array', [], 'Array'],
  ['a mixed array', [1, 'two', null, true, 3n, [4, [5]]], 'Array'],
  ['an array holding undefined', [undefined, 1, undefined], 'Array'],
  ['an empty object', {}, 'Object'],
  [
    'a nested object',
    { x: 1, text: 'abc', list: [1, 2, 3], inner: { deeper: { flag: false, none: null } } },
    'Object',
  ],
  ['an object with numeric and unicode keys', { 1: 'one', '': 'empty', ключ: 'value', '😀': 1 }, 'Object'],
  ['an empty Map', new Map(), 'Map'],
  [
    'a Map with keys of every kind',
    new Map<unknown, unknown>([
      ['text', 1],
      [2, 'two'],
      [3n, null],
      [true, [1]],
      [null, { a: 1 }],
    ]),
    'Map',
  ],
  [
    'a Map with object keys',
    new Map<unknown, unknown>([
      [{ id: 1 }, 'first'],
      [[1, 2], 'second'],
    ]),
    'Map',
  ],
  ['an empty Set', new Set(), 'Set'],
  ['a Set of mixed values', new Set<unknown>([1, 'a', 2n, null, false]), 'Set'],
  [
    'a deep mix',
    {
      when: new Date(1_700_000_000_000),
      samples: new Float32Array([1, 2, 3]),
      channels: new Map<string, unknown>([
        ['a', new Set([new Int32Array([1, -1])])],
        ['b', [new Map([[1n, Buffer.from('raw')]])]],
      ]),
      tags: new Set(['x', 'y']),
    },
    'Object',
  ],
];

// The Windows DLL the server loads under Wine (MinGW).
beforeAll(() => buildWindowsDlls(), 120_000);

/** The 32-bit server on Linux, and 32-bit Windows Node.js under Wine (Node.js 22 there, 18 here). */
const SERVERS: [string, Client64Options][] = [['the 32-bit server', {}], WINE_MODE];

describe.each(SERVERS)('examples/loadlib/echo in %s', (_mode, modeOptions) => {
  const options = {
    since: new Date(86_400_000),
    gain: 2n ** 60n,
    weights: new Float64Array([0.5, -0.25]),
    names: new Set(['a', 'b']),
    lookup: new Map([[1, 'one']]),
  };
  let echo: EchoClient;
  beforeAll(async () => {
    echo = new EchoClient({ ...modeOptions, serverOptions: options });
    await echo.ready;
  }, WINE_HOOK_MS);
  afterAll(async () => {
    await echo?.shutdownServer32();
  });

  it('runs in a 32-bit process', () => {
    expect(echo.serverRuntime?.arch).toBe('ia32');
  });

  it.each(VALUES)('%s comes back unchanged', async (_name, value) => {
    const [back] = await echo.echo(value);
    expect(back).toStrictEqual(value);
    if (typeof value === 'object' && value !== null) {
      expect(Object.getPrototypeOf(back)).toBe(Object.getPrototypeOf(value));
    }
  });

  it.each(VALUES)('%s arrives in the 32-bit process as the same kind', async (_name, value, kind) => {
    expect(await echo.kinds(value)).toEqual([kind]);
  });

  it('carries every value at once, in order', async () => {
    const all = VALUES.map(([, value]) => value);
    expect(await echo.echo(...all)).toStrictEqual(all);
  });

  it('carries no arguments', async () => {
    expect(await echo.echo()).toEqual([]);
  });

  it('a Uint8Array arrives as a Buffer (a Uint8Array subclass) with the same bytes', async () => {
    const bytes = Uint8Array.of(1, 2, 255);
    const [back] = await echo.echo(bytes);
    expect(back).toBeInstanceOf(Buffer);
    expect(new Uint8Array(back as Buffer)).toStrictEqual(bytes);
    expect(await echo.kinds(bytes)).toEqual(['Buffer']);
  });

  it('an Error arrives as a RemoteError that keeps its class name, message and code', async () => {
    const error = Object.assign(new TypeError('bad thing'), { code: 'E_BAD' });
    const [back] = await echo.echo(error);
    expect(back).toBeInstanceOf(RemoteError);
    expect(back).toMatchObject({
      remoteName: 'TypeError',
      message: 'TypeError: bad thing',
      remoteCode: 'E_BAD',
    });
    expect(await echo.kinds(error)).toEqual(['RemoteError']);
  });

  it('an Error inside an object leaves the keys after it intact', async () => {
    const [back] = await echo.echo({ error: new RangeError('r'), label: 'after', note: 'N'.repeat(150) });
    expect(back).toMatchObject({ label: 'after', note: 'N'.repeat(150) });
    expect((back as unknown as { error: InstanceType<typeof RemoteError> }).error.remoteName).toBe(
      'RangeError',
    );
  });

  // The codec's documented choices (README, farcall/wire): msgpackr renames an own `__proto__` key to
  // `__proto_` rather than risk a prototype change, and a lone surrogate is not valid UTF-8, so it arrives as
  // U+FFFD. Both are asserted here as documented, never polluting anything.
  it('an own "__proto__" key (as JSON.parse makes) pollutes nothing on the way', async () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const [back] = await echo.echo(value);
    expect((back as Record<string, unknown>).x).toBe(1);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a string with a lone surrogate arrives with U+FFFD in its place (it is not valid UTF-8)', async () => {
    const [back] = await echo.echo('a\ud800b');
    expect(typeof back).toBe('string');
    expect(back as string).toMatch(/^a\ufffd+b$/);
  });

  it("passes the constructor's options with their types", async () => {
    expect(await echo.options()).toStrictEqual(options);
  });
});
