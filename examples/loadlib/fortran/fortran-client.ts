// The 64-bit side of the Fortran example: a Client64 with one typed method per procedure of the library
// that fortran-server.mjs loads in the 32-bit server. Every method returns a promise.
import { Client64, type Client64Options } from 'farcall/loadlib';

/** The integer kinds of the library's sum_int<bits> functions. */
export type IntegerBits = 8 | 16 | 32 | 64;
/** What an integer argument of `Bits` may be: a bigint (or a safe integer) for 64 bits. */
export type IntegerArgument<Bits extends IntegerBits> = Bits extends 64 ? bigint | number : number;
/** What an integer result of `Bits` is. */
export type IntegerResult<Bits extends IntegerBits> = Bits extends 64 ? bigint : number;

/**
 * Calls the example Fortran library (native/fortran/farcall_fortran.f90) loaded by a 32-bit server.
 *
 * @example
 * ```ts
 * import { FortranClient } from './fortran-client.js';
 *
 * await using fortran = new FortranClient();
 * await fortran.sumInt(64, 2n ** 62n, 1n); // 4611686018427387905n
 * await fortran.matrixProduct([[1, 2]], [[3], [4]]); // [[11]]
 * ```
 */
export class FortranClient extends Client64 {
  /**
   * Starts the 32-bit server on fortran-server.mjs (the module next to this one).
   * @param options - Client64 options, e.g. `{ host: null }` for mocked mode (the 64-bit build, in this process)
   */
  constructor(options: Client64Options = {}) {
    super(new URL('./fortran-server.mjs', import.meta.url), options);
  }

  /**
   * `sum_int8` … `sum_int64` (`bind(c)`, `integer(c_int<bits>_t), value`): `a + b` in that kind,
   * wrapping around on overflow as gfortran's code does.
   * @param bits - the integer kind: 8, 16, 32 or 64
   * @param a - first operand (a bigint or a safe integer for 64)
   * @param b - second operand
   * @returns the sum; a bigint for 64 bits
   * @throws Server32Error (remoteName `RangeError`) when an argument does not fit the kind
   * @example
   * ```ts
   * await fortran.sumInt(8, -128, 1); // -127
   * await fortran.sumInt(64, -(2n ** 63n), 1n); // -9223372036854775807n
   * ```
   */
  sumInt<Bits extends IntegerBits>(
    bits: Bits,
    a: IntegerArgument<Bits>,
    b: IntegerArgument<Bits>,
  ): Promise<IntegerResult<Bits>> {
    return this.request32('sum_int', bits, a, b);
  }

  /**
   * `sum_real32` (`real(c_float)`): `a + b` rounded to single precision.
   * @param a - first operand
   * @param b - second operand
   * @returns the float32 sum
   * @example
   * ```ts
   * await fortran.sumReal32(0.1, 0.2); // 0.30000001192092896
   * ```
   */
  sumReal32(a: number, b: number): Promise<number> {
    return this.request32('sum_real32', a, b);
  }

  /**
   * `sum_real64` (`real(c_double)`): `a + b` in double precision.
   * @param a - first operand
   * @param b - second operand
   * @returns the sum
   * @example
   * ```ts
   * await fortran.sumReal64(1.1e100, 2.1e100); // 3.2e100
   * ```
   */
  sumReal64(a: number, b: number): Promise<number> {
    return this.request32('sum_real64', a, b);
  }

  /**
   * `add_or_subtract_(a, b, add)` (plain Fortran): integers and a default `logical` (4 bytes), all
   * by reference.
   * @param a - first integer (32-bit)
   * @param b - second integer
   * @param add - true for `a + b`, false for `a - b`
   * @returns the result
   * @example
   * ```ts
   * await fortran.addOrSubtract(1000, 2000, false); // -1000
   * ```
   */
  addOrSubtract(a: number, b: number, add: boolean): Promise<number> {
    return this.request32('add_or_subtract', a, b, add);
  }

  /**
   * `is_positive_(x)` (plain Fortran): a default `logical` result.
   * @param x - the number
   * @returns whether `x > 0`
   * @example
   * ```ts
   * await fortran.isPositive(1e-100); // true
   * ```
   */
  isPositive(x: number): Promise<boolean> {
    return this.request32('is_positive', x);
  }

  /**
   * `factorial_(n)` (plain Fortran): n! as a double (exact up to 22!, Infinity from 171!).
   * @param n - a 32-bit integer, 0 or more
   * @returns n!
   * @throws Server32Error (remoteName `RangeError`) for a negative `n`
   * @example
   * ```ts
   * await fortran.factorial(5); // 120
   * ```
   */
  factorial(n: number): Promise<number> {
    return this.request32('factorial', n);
  }

  /**
   * `standard_deviation_(values, n)` (plain Fortran): the sample standard deviation.
   * @param values - the data
   * @returns the standard deviation with n - 1 in the denominator; 0 for fewer than two values
   * @example
   * ```ts
   * await fortran.standardDeviation([1, 2, 3, 4, 5, 6, 7, 8, 9]); // 2.7386127875258306
   * ```
   */
  standardDeviation(values: readonly number[] | Float64Array): Promise<number> {
    return this.request32('standard_deviation', values);
  }

  /**
   * `besselj0_(x)` (plain Fortran): the Bessel function of the first kind of order 0 (`bessel_j0`).
   * @param x - the argument
   * @returns J0(x)
   * @example
   * ```ts
   * await fortran.besselJ0(8); // 0.1716508071375539
   * ```
   */
  besselJ0(x: number): Promise<number> {
    return this.request32('besselj0', x);
  }

  /**
   * `reverse_string_(original, reversed)` (plain Fortran, two `character(len=*)` arguments whose
   * lengths travel as hidden arguments).
   * @param text - Latin-1 text (a Fortran default character is one byte)
   * @returns the text reversed
   * @throws Server32Error (remoteName `RangeError`) for text outside Latin-1
   * @example
   * ```ts
   * await fortran.reverseString('hello world!'); // '!dlrow olleh'
   * ```
   */
  reverseString(text: string): Promise<string> {
    return this.request32('reverse_string', text);
  }

  /**
   * `add_arrays(a, b, out, n)` (`bind(c)`): the element-wise sum of two 1-D arrays.
   * @param a - first array
   * @param b - second array, as long as `a`
   * @returns `a + b` element by element, as a Float64Array
   * @throws Server32Error (remoteName `RangeError`) when the lengths differ
   * @example
   * ```ts
   * await fortran.addArrays([1, 2], [10, 20]); // Float64Array [11, 22]
   * ```
   */
  addArrays(a: readonly number[] | Float64Array, b: readonly number[] | Float64Array): Promise<Float64Array> {
    return this.request32('add_arrays', a, b);
  }

  /**
   * `matrix_product(a, ra, ca, b, rb, cb, out, status)` (`bind(c)`): `a . b`. The matrices here are
   * row-major (arrays of rows); the server reorders them for Fortran's column-major layout and back.
   * @param a - an r x n matrix
   * @param b - an n x c matrix
   * @returns the r x c product
   * @throws Server32Error (remoteName `RangeError`) when the columns of `a` differ from the rows of `b`
   *   (the library's status 1; the message names both shapes) or a matrix is ragged
   * @example
   * ```ts
   * await fortran.matrixProduct([[1, 2, 3], [4, 5, 6]], [[1, 2], [3, 4], [5, 6]]); // [[22, 28], [49, 64]]
   * ```
   */
  matrixProduct(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): Promise<number[][]> {
    return this.request32('matrix_product', a, b);
  }
}
