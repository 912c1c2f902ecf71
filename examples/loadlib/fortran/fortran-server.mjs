// The 32-bit side of the Fortran example: a Server32 that loads native/fortran/farcall_fortran.f90's
// library and offers each of its procedures to the Client64 in fortran-client.ts.
//
// This module runs in the 32-bit Node.js (Debian's i386 node, version 18; on Windows node-win-x86, 22):
// plain JavaScript, Node 18 syntax, no TypeScript.
//
// What a Fortran wrapper must get right, and where this file does it:
//   * bind(c) procedures are declared like C functions (symbol = the bind name, `value` arguments);
//   * plain procedures are `name_` (gfortran lower-cases and appends an underscore) and take EVERY
//     argument by reference: this file passes one-element typed arrays;
//   * a default `logical` is 4 bytes (int32_t, 0 = .false.), not C's 1-byte bool;
//   * `character(len=*)` arguments add hidden lengths (size_t, by value) after all the other arguments;
//   * matrices are column-major: a(i, j) is element (i - 1) + (j - 1) * rows.
//
// To wrap your own library: copy this folder, change LIBRARY below, and declare your procedures.
import { join } from 'node:path';
import { processBits, Server32 } from 'farcall/loadlib';

/**
 * The library to load: farcall's build of the example. On Linux `bash scripts/build-native.sh` or
 * `gfortran -m32 -shared -fPIC -O2 -Wno-attributes -o native/build/libfarcall_fortran-32.so native/fortran/farcall_fortran.f90`;
 * for Windows `bash scripts/build-windows-dlls.sh` or
 * `i686-w64-mingw32-gfortran -shared -O2 -Wno-attributes -static -o native/build/libfarcall_fortran-32.dll native/fortran/farcall_fortran.f90`.
 * The server runs on Windows (also under Wine: Client64 option `runtime: 'wine'`) with the DLL, elsewhere
 * with the .so. processBits() is 32 in the 32-bit server and 64 in mocked mode (Client64 option `host: null`).
 */
const EXTENSION = process.platform === 'win32' ? '.dll' : '.so';
const LIBRARY = join(Server32.examplesDir(), `libfarcall_fortran-${processBits()}${EXTENSION}`);

/** The integer kinds of sum_int<bits>: [bits, C type]. */
const INTEGER_KINDS = { 8: 'int8_t', 16: 'int16_t', 32: 'int32_t', 64: 'int64_t' };

/** matrix_product's status codes, as the Fortran source defines them. */
const MATRIX_STATUS = { ok: 0, shapeMismatch: 1, negativeDimension: 2 };

export class FortranServer extends Server32 {
  // Private (#): the client reaches the methods below, not these koffi functions.
  #fn;

  /** Client64 constructs the class with (host, port, options): pass host and port on to Server32. */
  constructor(host, port) {
    super(LIBRARY, 'cdll', host, port);
    const lib = this.lib;
    const sums = {};
    for (const [bits, ctype] of Object.entries(INTEGER_KINDS)) {
      sums[bits] = lib.func(`${ctype} sum_int${bits}(${ctype} a, ${ctype} b)`);
    }
    this.#fn = {
      // bind(c): like C.
      sums,
      sumReal32: lib.func('float sum_real32(float a, float b)'),
      sumReal64: lib.func('double sum_real64(double a, double b)'),
      addArrays: lib.func('void add_arrays(const double *a, const double *b, _Out_ double *out, int32_t n)'),
      matrixProduct: lib.func(
        'void matrix_product(const double *a, int32_t ra, int32_t ca, const double *b, int32_t rb, ' +
          'int32_t cb, _Inout_ double *out, _Out_ int32_t *status)',
      ),
      // Plain Fortran: trailing underscore, every argument a pointer, logical = int32_t.
      addOrSubtract: lib.func(
        'int32_t add_or_subtract_(const int32_t *a, const int32_t *b, const int32_t *add)',
      ),
      isPositive: lib.func('int32_t is_positive_(const double *x)'),
      factorial: lib.func('double factorial_(const int32_t *n)'),
      standardDeviation: lib.func('double standard_deviation_(const double *values, const int32_t *n)'),
      besselJ0: lib.func('double besselj0_(const double *x)'),
      // Two character(len=*) arguments: their two hidden lengths come last, as size_t by value.
      reverseString: lib.func(
        'void reverse_string_(const uint8_t *original, _Out_ uint8_t *reversed, size_t original_len, ' +
          'size_t reversed_len)',
      ),
    };
  }

  /**
   * `sum_int<bits>(a, b)` (bind(c), by value). 64-bit results are bigints; others wrap around as in
   * Fortran compiled by gfortran (no overflow check): sum_int(8, 127, 1) is -128.
   */
  sum_int(bits, a, b) {
    const fn = Object.hasOwn(this.#fn.sums, bits) ? this.#fn.sums[bits] : undefined;
    if (fn === undefined) throw new TypeError(`sum_int: bits must be 8, 16, 32 or 64, got ${bits}`);
    checkInteger(`sum_int${bits}`, 'a', a, Number(bits));
    checkInteger(`sum_int${bits}`, 'b', b, Number(bits));
    const result = fn(a, b);
    // koffi returns an int64 as a number when it is safe, else as a bigint: always a bigint here.
    return Number(bits) === 64 ? BigInt(result) : result;
  }

  /** real(c_float): on i386 the result comes back in x87 extended precision; Math.fround makes it a float. */
  sum_real32(a, b) {
    return Math.fround(this.#fn.sumReal32(a, b));
  }

  sum_real64(a, b) {
    return this.#fn.sumReal64(a, b);
  }

  /** Element-wise sum of two equally long arrays (a Float64Array). */
  add_arrays(a, b) {
    if (a.length !== b.length) {
      throw new RangeError(`add_arrays needs arrays of one length, got ${a.length} and ${b.length}`);
    }
    const out = new Float64Array(a.length);
    this.#fn.addArrays(Float64Array.from(a), Float64Array.from(b), out, a.length);
    return out;
  }

  /**
   * `a . b` for row-major matrices (arrays of rows). The library checks the shapes and returns a status;
   * a mismatch becomes a RangeError that names both shapes.
   */
  matrix_product(a, b) {
    const [ra, ca] = shape('a', a);
    const [rb, cb] = shape('b', b);
    const out = new Float64Array(ra * cb);
    const status = [-1];
    this.#fn.matrixProduct(toColumnMajor(a, ra, ca), ra, ca, toColumnMajor(b, rb, cb), rb, cb, out, status);
    if (status[0] === MATRIX_STATUS.shapeMismatch) {
      throw new RangeError(
        `matrix_product: cannot multiply a ${ra}x${ca} matrix by a ${rb}x${cb} matrix: the first's ` +
          `columns (${ca}) must equal the second's rows (${rb})`,
      );
    }
    if (status[0] !== MATRIX_STATUS.ok) throw new Error(`matrix_product failed with status ${status[0]}`);
    return Array.from({ length: ra }, (_, i) => Array.from({ length: cb }, (_, j) => out[i + j * ra]));
  }

  /** The logical goes by reference as a 4-byte integer: 1 for .true., 0 for .false. */
  add_or_subtract(a, b, add) {
    if (typeof add !== 'boolean') throw new TypeError(`add must be a boolean, got ${typeof add}`);
    checkInteger('add_or_subtract', 'a', a, 32);
    checkInteger('add_or_subtract', 'b', b, 32);
    return this.#fn.addOrSubtract([a], [b], [add ? 1 : 0]);
  }

  /** A logical result: any non-zero int32 is .true. */
  is_positive(x) {
    return this.#fn.isPositive([x]) !== 0;
  }

  /** n! as a double; the library's -1 for a negative n becomes a RangeError. */
  factorial(n) {
    checkInteger('factorial', 'n', n, 32);
    const value = this.#fn.factorial([n]);
    if (value < 0) throw new RangeError(`factorial: n must be 0 or more, got ${n}`);
    return value;
  }

  /** The sample standard deviation (n - 1 in the denominator); 0 for fewer than two values. */
  standard_deviation(values) {
    return this.#fn.standardDeviation(Float64Array.from(values), [values.length]);
  }

  besselj0(x) {
    return this.#fn.besselJ0([x]);
  }

  /**
   * Reverses `text` in Fortran. A default Fortran character is one byte: the text must be Latin-1
   * (each character one byte), else the reversal would tear UTF-8 sequences apart.
   */
  reverse_string(text) {
    const original = Buffer.from(text, 'latin1');
    if (original.toString('latin1') !== text) {
      throw new RangeError('reverse_string takes Latin-1 text (a Fortran character is one byte)');
    }
    const reversed = Buffer.alloc(original.length);
    this.#fn.reverseString(original, reversed, original.length, reversed.length);
    return reversed.toString('latin1');
  }
}

/** Refuses what the Fortran integer kind would silently truncate. */
function checkInteger(fn, name, value, bits) {
  if (typeof value !== 'bigint' && !Number.isInteger(value)) {
    throw new TypeError(`${fn}: argument ${name} must be an integer, got ${String(value)}`);
  }
  const max = (1n << BigInt(bits - 1)) - 1n;
  if (BigInt(value) < -max - 1n || BigInt(value) > max) {
    throw new RangeError(`${fn}: argument ${name} = ${value} does not fit in integer(int${bits})`);
  }
}

/** [rows, columns] of an array of equally long rows. */
function shape(name, matrix) {
  if (!Array.isArray(matrix) || matrix.length === 0 || !Array.isArray(matrix[0])) {
    throw new TypeError(`matrix_product: ${name} must be a non-empty array of rows`);
  }
  const columns = matrix[0].length;
  const ragged = matrix.findIndex((row) => !Array.isArray(row) || row.length !== columns);
  if (ragged >= 0) {
    throw new RangeError(
      `matrix_product: row ${ragged} of ${name} does not have ${columns} columns like row 0`,
    );
  }
  return [matrix.length, columns];
}

/** Row-major rows to Fortran's column-major order. */
function toColumnMajor(matrix, rows, columns) {
  const out = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) out[i + j * rows] = matrix[i][j];
  return out;
}
