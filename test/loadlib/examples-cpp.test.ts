// examples/loadlib/cpp: every function of the C++ example library, called through CppClient, in the real
// 32-bit server (the -m32 build) and in mocked mode (the -m64 build in this process).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CppClient, type NumberType } from '../../examples/loadlib/cpp/cpp-client.js';
import { buildWindowsDlls, builtFarcall, MODES, WINE_HOOK_MS, WINE_MODE } from './helpers.js';

const { Server32Error } = await builtFarcall();

const square = [
  { x: 0, y: 0 },
  { x: 0, y: 1 },
  { x: 1, y: 1 },
  { x: 1, y: 0 },
];

// The Windows DLL of the example (MinGW), for the run under Wine.
beforeAll(() => buildWindowsDlls(), 120_000);

describe.each([...MODES, WINE_MODE])('examples/loadlib/cpp in %s', (mode, options) => {
  let cpp: CppClient;
  beforeAll(async () => {
    cpp = new CppClient(options);
    await cpp.ready;
  }, WINE_HOOK_MS);
  afterAll(async () => {
    await cpp?.shutdownServer32();
  });

  it('loads the build of its bitness', () => {
    const bits = mode === 'mocked mode (host: null)' ? 64 : 32;
    // Under Wine the server module picks the DLL, and Windows sees it on Wine's Z: drive.
    const file = mode === WINE_MODE[0] ? `\\\\libfarcall_cpp-${bits}\\.dll` : `/libfarcall_cpp-${bits}\\.so`;
    expect(cpp.lib32Path).toMatch(new RegExp(`${file}$`));
    if (bits === 32) expect(cpp.serverRuntime?.arch).toBe('ia32');
  });

  it.each([
    // type, a, b, a + b, the type's min and max
    ['int8', 100, 27, 127, -128, 127],
    ['int16', 32000, 767, 32767, -32768, 32767],
    ['int32', 2 ** 31 - 2, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31 - 1],
    ['uint8', 200, 55, 255, 0, 255],
    ['uint16', 65000, 535, 65535, 0, 65535],
    ['uint32', 2 ** 32 - 2, 1, 2 ** 32 - 1, 0, 2 ** 32 - 1],
  ] as const)('add_%s and its subtract wrap around as C does', async (type, a, b, sum, min, max) => {
    expect(await cpp.add(type, a, b)).toBe(sum);
    // max + 1 wraps to min, min - 1 wraps to max.
    expect(await cpp.add(type, max, 1)).toBe(min);
    expect(await cpp.subtract(type, min, 1)).toBe(max);
    expect(await cpp.subtract(type, sum, b)).toBe(a);
  });

  it('add_int64 and add_uint64 carry every bit as bigints', async () => {
    const max = 2n ** 63n - 1n;
    expect(await cpp.add('int64', 2n ** 62n, 2n ** 62n - 1n)).toBe(max);
    expect(await cpp.add('int64', max, 1n)).toBe(-(2n ** 63n));
    expect(await cpp.add('int64', 1, 2)).toBe(3n);
    expect(await cpp.subtract('int64', -(2n ** 63n) + 1n, 1n)).toBe(-(2n ** 63n));
    expect(await cpp.add('uint64', 2n ** 63n, 2n ** 63n - 1n)).toBe(2n ** 64n - 1n);
    expect(await cpp.add('uint64', 2n ** 64n - 1n, 1n)).toBe(0n);
    expect(await cpp.subtract('uint64', 0n, 1n)).toBe(2n ** 64n - 1n);
    expect(await cpp.subtract('uint64', 10, 3)).toBe(7n);
  });

  it('add_float rounds to float32, add_double does not', async () => {
    expect(await cpp.add('float', 0.1, 0.2)).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    expect(await cpp.subtract('float', 44.2, 4.4)).toBe(39.79999923706055);
    expect(await cpp.add('double', 0.1, 0.2)).toBe(0.1 + 0.2);
    expect(await cpp.subtract('double', 1e300, -1e300)).toBe(2e300);
    expect(await cpp.add('double', Number.POSITIVE_INFINITY, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(await cpp.add('double', Number.NaN, 1)).toBeNaN();
  });

  it('refuses an integer outside the type, a fraction and an unknown type', async () => {
    await expect(cpp.add('int8', 128, 0)).rejects.toThrow(Server32Error);
    await expect(cpp.add('int8', 128, 0)).rejects.toThrow(
      /add_int8: argument a = 128 does not fit in 8 bits \(-128 to 127\)/,
    );
    await expect(cpp.add('uint64', -1n, 0n)).rejects.toThrow(/does not fit in 64 bits/);
    await expect(cpp.subtract('int32', 1.5, 0)).rejects.toThrow(/argument a must be an integer/);
    await expect(cpp.add('int128' as NumberType, 1, 2)).rejects.toThrow(/Unknown type 'int128'/);
  });

  it('add_or_subtract takes a C bool', async () => {
    expect(await cpp.addOrSubtract(0.1234, -0.1234, true)).toBe(0);
    expect(await cpp.addOrSubtract(123.5, 23.25, false)).toBe(100.25);
    await expect(cpp.addOrSubtract(1, 2, 1 as unknown as boolean)).rejects.toThrow(/add must be a boolean/);
  });

  it('scale_in_place changes the array it is given', async () => {
    const values = Array.from({ length: 100 }, (_, i) => i);
    const scaled = await cpp.scaleInPlace(1.75, values);
    expect(scaled).toBeInstanceOf(Float64Array);
    expect(Array.from(scaled)).toEqual(values.map((v) => 1.75 * v));
    expect(values[1]).toBe(1);
    expect(await cpp.scaleInPlace(-2, new Float64Array([1.5, -4]))).toEqual(new Float64Array([-3, 8]));
    expect(await cpp.scaleInPlace(2, [])).toEqual(new Float64Array([]));
  });

  it("reverse_into writes into the caller's buffer and reports one that is too small", async () => {
    expect(await cpp.reverseInto('1234567890')).toBe('0987654321');
    expect(await cpp.reverseInto('añb ✓ 😀')).toBe('😀 ✓ bña');
    expect(await cpp.reverseInto('')).toBe('');
    expect(await cpp.reverseInto('abc', 4)).toBe('cba');
    await expect(cpp.reverseInto('abc', 3)).rejects.toThrow(/reverse_into needs 4 bytes .* the buffer has 3/);
    await expect(cpp.reverseInto('abc', 2 ** 31)).rejects.toThrow(
      /capacity must be an integer from 0 to 16777216/,
    );
    await expect(cpp.reverseInto('abc', -1)).rejects.toThrow(/capacity must be an integer/);
  });

  it('reverse_new returns a heap string that is freed after the copy', async () => {
    expect(await cpp.reverseNew('&* 1 j z|x cba[')).toBe('[abc x|z j 1 *&');
    expect(await cpp.reverseNew('stressed')).toBe('desserts');
    expect(await cpp.reverseNew('Grüße')).toBe('eßürG');
    // Many calls: a leak or a double free would show as a crash or a growing server, not a wrong string.
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => cpp.reverseNew(`n${i}`)));
    expect(many[199]).toBe('991n');
  });

  it('passes structs by value and by pointer', async () => {
    expect(await cpp.distance({ x: 0, y: 0 }, { x: 3, y: 4 })).toBe(5);
    expect(await cpp.distance({ x: -1, y: -1 }, { x: -1, y: -1 })).toBe(0);
    expect(await cpp.translate({ x: 1, y: 1 }, 2, 3)).toEqual({ x: 3, y: 4 });
    expect(await cpp.translate({ x: 0.5, y: -0.5 }, -0.5, 0.5)).toEqual({ x: 0, y: 0 });
  });

  it('passes a struct with a char array, nested structs and an int array', async () => {
    const box = { label: 'room 42', origin: { x: 1, y: 2 }, size: { x: 2.5, y: 4 }, tags: [7, -2, 30] };
    expect(await cpp.boxArea(box)).toBe(10);
    expect(await cpp.boxTagSum(box)).toBe(35);
    expect(await cpp.boxArea({ ...box, label: '12345678901' })).toBe(10);
    await expect(cpp.boxArea({ ...box, label: '123456789012' })).rejects.toThrow(
      /label holds at most 11 bytes of UTF-8, '123456789012' has 12/,
    );
  });

  it('passes an array of four structs', async () => {
    expect(await cpp.perimeter4(square)).toBe(4);
    expect(
      await cpp.perimeter4([
        { x: 0, y: 0 },
        { x: 3, y: 4 },
        { x: 3, y: 4 },
        { x: 0, y: 0 },
      ]),
    ).toBe(10);
    await expect(cpp.perimeter4(square.slice(0, 3))).rejects.toThrow(/exactly 4 points, got an array of 3/);
  });

  it('bounding_box fills an out-struct', async () => {
    expect(
      await cpp.boundingBox([
        { x: 1, y: 2 },
        { x: -1, y: 5 },
        { x: 0.5, y: 3 },
      ]),
    ).toEqual({ label: 'bounds', origin: { x: -1, y: 2 }, size: { x: 2, y: 3 }, tags: [3, 0, 0] });
    expect(await cpp.boundingBox([{ x: 7, y: 8 }])).toEqual({
      label: 'bounds',
      origin: { x: 7, y: 8 },
      size: { x: 0, y: 0 },
      tags: [1, 0, 0],
    });
    await expect(cpp.boundingBox([])).rejects.toThrow(/needs at least one point, got none/);
  });
});
