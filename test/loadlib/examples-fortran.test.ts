// examples/loadlib/fortran: every procedure of the Fortran example library, called through FortranClient,
// in the real 32-bit server (the gfortran -m32 build) and in mocked mode (the -m64 build in this process).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FortranClient } from '../../examples/loadlib/fortran/fortran-client.js';
import { buildWindowsDlls, builtFarcall, MODES, WINE_HOOK_MS, WINE_MODE } from './helpers.js';

const { Server32Error } = await builtFarcall();

// The Windows DLL of the example (MinGW), for the run under Wine.
beforeAll(() => buildWindowsDlls(), 120_000);

describe.each([...MODES, WINE_MODE])('examples/loadlib/fortran in %s', (mode, options) => {
  let fortran: FortranClient;
  beforeAll(async () => {
    fortran = new FortranClient(options);
    await fortran.ready;
  }, WINE_HOOK_MS);
  afterAll(async () => {
    await fortran?.shutdownServer32();
  });

  it('loads the build of its bitness', () => {
    const bits = mode === 'mocked mode (host: null)' ? 64 : 32;
    // Under Wine the server module picks the DLL, and Windows sees it on Wine's Z: drive.
    const file =
      mode === WINE_MODE[0] ? `\\\\libfarcall_fortran-${bits}\\.dll` : `/libfarcall_fortran-${bits}\\.so`;
    expect(fortran.lib32Path).toMatch(new RegExp(`${file}$`));
  });

  it('sums every integer kind, wrapping as gfortran does', async () => {
    expect(await fortran.sumInt(8, -128, 1)).toBe(-127);
    expect(await fortran.sumInt(8, 127, 1)).toBe(-128);
    expect(await fortran.sumInt(16, 32767, -1)).toBe(32766);
    expect(await fortran.sumInt(16, 32767, 1)).toBe(-32768);
    expect(await fortran.sumInt(32, 123456788, 1)).toBe(123456789);
    expect(await fortran.sumInt(32, 2 ** 31 - 1, 1)).toBe(-(2 ** 31));
  });

  it('sums 64-bit integers as bigints, every bit intact', async () => {
    expect(await fortran.sumInt(64, -(2n ** 63n), 1n)).toBe(-9223372036854775807n);
    expect(await fortran.sumInt(64, 2n ** 62n, 2n ** 62n - 1n)).toBe(2n ** 63n - 1n);
    expect(await fortran.sumInt(64, 1, 2)).toBe(3n);
    expect(await fortran.sumInt(64, 2n ** 53n, 1n)).toBe(2n ** 53n + 1n);
  });

  it('refuses an integer that does not fit the kind, and an unknown kind', async () => {
    await expect(fortran.sumInt(8, 128, 0)).rejects.toThrow(Server32Error);
    await expect(fortran.sumInt(8, 128, 0)).rejects.toThrow(
      /sum_int8: argument a = 128 does not fit in integer\(int8\)/,
    );
    await expect(fortran.sumInt(64, 2n ** 63n, 0n)).rejects.toThrow(/does not fit in integer\(int64\)/);
    await expect(fortran.sumInt(12 as 8, 1, 2)).rejects.toThrow(/bits must be 8, 16, 32 or 64, got 12/);
  });

  it('sums real32 (rounded to float) and real64', async () => {
    expect(await fortran.sumReal32(0.1, 0.2)).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    expect(await fortran.sumReal32(40.874, -1284.131)).toBe(
      Math.fround(Math.fround(40.874) + Math.fround(-1284.131)),
    );
    expect(await fortran.sumReal64(0.1, 0.2)).toBe(0.1 + 0.2);
    expect(await fortran.sumReal64(1.1e300, 2.1e300)).toBe(1.1e300 + 2.1e300);
  });

  it('passes a 4-byte default logical by reference, and returns one', async () => {
    expect(await fortran.addOrSubtract(1000, 2000, true)).toBe(3000);
    expect(await fortran.addOrSubtract(1000, 2000, false)).toBe(-1000);
    expect(await fortran.isPositive(1e-100)).toBe(true);
    expect(await fortran.isPositive(-1e-100)).toBe(false);
    expect(await fortran.isPositive(0)).toBe(false);
  });

  it('computes factorials and refuses a negative n', async () => {
    expect(await fortran.factorial(0)).toBe(1);
    expect(await fortran.factorial(1)).toBe(1);
    expect(await fortran.factorial(5)).toBe(120);
    expect(await fortran.factorial(20)).toBe(2432902008176640000);
    expect(await fortran.factorial(171)).toBe(Number.POSITIVE_INFINITY);
    await expect(fortran.factorial(-3)).rejects.toThrow(/factorial: n must be 0 or more, got -3/);
  });

  it('computes a standard deviation and a Bessel function', async () => {
    expect(await fortran.standardDeviation([1, 2, 3, 4, 5, 6, 7, 8, 9])).toBeCloseTo(2.73861278752583, 13);
    expect(await fortran.standardDeviation(new Float64Array([5]))).toBe(0);
    expect(await fortran.standardDeviation([])).toBe(0);
    expect(await fortran.besselJ0(8)).toBeCloseTo(0.171650807137554, 13);
    expect(await fortran.besselJ0(0)).toBe(1);
  });

  it('reverses a string through its hidden length arguments', async () => {
    expect(await fortran.reverseString('hello world!')).toBe('!dlrow olleh');
    expect(await fortran.reverseString('Grüße')).toBe('eßürG');
    expect(await fortran.reverseString('')).toBe('');
    expect(await fortran.reverseString('x'.repeat(10_000))).toBe('x'.repeat(10_000));
    await expect(fortran.reverseString('✓')).rejects.toThrow(/takes Latin-1 text/);
  });

  it('adds 1-D arrays', async () => {
    const a = Array.from({ length: 999 }, (_, i) => i + 1);
    const b = a.map((v) => 3 * v);
    const sum = await fortran.addArrays(a, b);
    expect(sum).toBeInstanceOf(Float64Array);
    expect(Array.from(sum)).toEqual(a.map((v) => 4 * v));
    expect(await fortran.addArrays([], [])).toEqual(new Float64Array([]));
    await expect(fortran.addArrays([1, 2], [1])).rejects.toThrow(/arrays of one length, got 2 and 1/);
  });

  it('multiplies column-major matrices', async () => {
    expect(
      await fortran.matrixProduct(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      ),
    ).toEqual([
      [22, 28],
      [49, 64],
    ]);
    // Not symmetric: a transposed layout would give [[1, 3], [2, 4]] . [[0, 1], [1, 0]] = [[3, 1], [4, 2]].
    expect(
      await fortran.matrixProduct(
        [
          [1, 2],
          [3, 4],
        ],
        [
          [0, 1],
          [1, 0],
        ],
      ),
    ).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(await fortran.matrixProduct([[1, 2]], [[3], [4]])).toEqual([[11]]);
  });

  it("turns the library's shape-mismatch status into a RangeError that names both shapes", async () => {
    const error = await fortran
      .matrixProduct(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        [
          [1, 2],
          [3, 4],
        ],
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Server32Error);
    expect((error as InstanceType<typeof Server32Error>).remoteName).toBe('RangeError');
    expect((error as Error).message).toMatch(
      /cannot multiply a 2x3 matrix by a 2x2 matrix: the first's columns \(3\) must equal the second's rows \(2\)/,
    );
    await expect(fortran.matrixProduct([[1, 2], [3]], [[1], [2]])).rejects.toThrow(
      /row 1 of a does not have 2 columns like row 0/,
    );
    // The server is still there.
    expect(await fortran.sumInt(32, 1, 1)).toBe(2);
  });
});
