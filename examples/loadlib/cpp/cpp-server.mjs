// The 32-bit side of the C++ example: a Server32 that loads native/cpp/farcall_cpp.cpp's library and
// offers each of its functions to the Client64 in cpp-client.ts.
//
// This module runs in the 32-bit Node.js (Debian's i386 node, version 18; on Windows node-win-x86, 22):
// plain JavaScript, Node 18 syntax, no TypeScript. It only converts: JavaScript values in, C types to the
// library, JavaScript values out, so that the values crossing the process boundary are plain data (never
// pointers).
//
// To wrap your own library: copy this folder, change LIBRARY below, and declare your functions.
import { join } from 'node:path';
import { processBits, Server32 } from 'farcall/loadlib';
import koffi from 'koffi';

/**
 * The library to load: farcall's build of the example. On Linux `bash scripts/build-native.sh` or
 * `g++ -m32 -shared -fPIC -O2 -std=c++17 -o native/build/libfarcall_cpp-32.so native/cpp/farcall_cpp.cpp`;
 * for Windows `bash scripts/build-windows-dlls.sh` or
 * `i686-w64-mingw32-g++ -shared -O2 -std=c++17 -static-libgcc -static-libstdc++ -o native/build/libfarcall_cpp-32.dll native/cpp/farcall_cpp.cpp`.
 * The server runs on Windows (also under Wine: Client64 option `runtime: 'wine'`) with the DLL, elsewhere
 * with the .so. processBits() is 32 in the 32-bit server and 64 in mocked mode (Client64 option `host: null`).
 */
const EXTENSION = process.platform === 'win32' ? '.dll' : '.so';
const LIBRARY = join(Server32.examplesDir(), `libfarcall_cpp-${processBits()}${EXTENSION}`);

// The structs of farcall_cpp.h, field by field: koffi computes the same padding as the compiler (on
// i386 a double in a struct is 4-byte aligned, on x86-64 8-byte aligned, so `Box` is 56 or 64 bytes).
const Vec2 = koffi.struct('Vec2', { x: 'double', y: 'double' });
const Box = koffi.struct('Box', {
  label: koffi.array('char', 12), // a JavaScript string in and out (NUL-terminated, at most 11 bytes)
  origin: Vec2,
  size: Vec2,
  tags: koffi.array('int32_t', 3, 'Array'), // 'Array': a plain array out, not an Int32Array
});

/** The largest buffer reverse_into allocates for a caller (16 MiB). */
const MAX_CAPACITY = 16 * 1024 * 1024;

/** The integer widths of add_<type> / subtract_<type>: [bits, signed]. */
const INTEGER_TYPES = {
  int8: [8, true],
  int16: [16, true],
  int32: [32, true],
  int64: [64, true],
  uint8: [8, false],
  uint16: [16, false],
  uint32: [32, false],
  uint64: [64, false],
};
const C_TYPES = { float: 'float', double: 'double' };
for (const [name, [bits, signed]] of Object.entries(INTEGER_TYPES))
  C_TYPES[name] = `${signed ? '' : 'u'}int${bits}_t`;

export class CppServer extends Server32 {
  // Private (#): the client reaches the methods below, not these koffi functions.
  #ops = {};
  #fn;

  /** Client64 constructs the class with (host, port, options): pass host and port on to Server32. */
  constructor(host, port) {
    super(LIBRARY, 'cdll', host, port);
    const lib = this.lib;
    for (const [type, ctype] of Object.entries(C_TYPES)) {
      this.#ops[type] = {
        add: lib.func(`${ctype} add_${type}(${ctype} a, ${ctype} b)`),
        subtract: lib.func(`${ctype} subtract_${type}(${ctype} a, ${ctype} b)`),
      };
    }
    this.#fn = {
      addOrSubtract: lib.func('double add_or_subtract(double a, double b, bool add)'),
      // _Inout_: koffi copies the array in, and the library's changes back out into the same array.
      scaleInPlace: lib.func('void scale_in_place(double factor, _Inout_ double *values, int32_t n)'),
      reverseInto: lib.func('int32_t reverse_into(const char *text, _Out_ uint8_t *out, int32_t capacity)'),
      // A heap string the library owns: koffi.disposable copies it into a JavaScript string, then calls
      // free_reversed on the pointer, so nothing leaks.
      reverseNew: lib.func(
        'reverse_new',
        koffi.disposable('str', lib.func('void free_reversed(char *text)')),
        ['const char *'],
      ),
      distance: lib.func('vec2_distance', 'double', [Vec2, Vec2]),
      translate: lib.func('vec2_translate', 'void', [koffi.inout(koffi.pointer(Vec2)), 'double', 'double']),
      boxArea: lib.func('box_area', 'double', [Box]),
      boxTagSum: lib.func('box_tag_sum', 'int32_t', [koffi.pointer(Box)]),
      perimeter4: lib.func('perimeter_4', 'double', [koffi.pointer(Vec2)]),
      boundingBox: lib.func('bounding_box', 'bool', [
        koffi.pointer(Vec2),
        'int32_t',
        koffi.out(koffi.pointer(Box)),
      ]),
    };
  }

  /** `add_<type>(a, b)`: 64-bit results are bigints; other integers wrap around as in C (127 + 1 = -128). */
  add(type, a, b) {
    return this.#callArithmetic('add', type, a, b);
  }

  /** `subtract_<type>(a, b)`, converted as {@link CppServer.add}. */
  subtract(type, a, b) {
    return this.#callArithmetic('subtract', type, a, b);
  }

  add_or_subtract(a, b, add) {
    if (typeof add !== 'boolean') throw new TypeError(`add must be a boolean, got ${typeof add}`);
    return this.#fn.addOrSubtract(a, b, add);
  }

  /** Multiplies `values` in place in the library; returns the changed array (a Float64Array). */
  scale_in_place(factor, values) {
    const array = values instanceof Float64Array ? values : Float64Array.from(values);
    this.#fn.scaleInPlace(factor, array, array.length);
    return array;
  }

  /**
   * Reverses `text` into a buffer this server allocates (`capacity` bytes; default: just enough).
   * The library's -1 (buffer too small) becomes a RangeError that says how many bytes it needs.
   */
  reverse_into(text, capacity = Buffer.byteLength(text, 'utf8') + 1) {
    // The client chooses the size: bound it, so that a typo cannot exhaust a 32-bit process's memory.
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_CAPACITY) {
      throw new RangeError(
        `reverse_into: capacity must be an integer from 0 to ${MAX_CAPACITY}, got ${capacity}`,
      );
    }
    const out = Buffer.alloc(capacity);
    const written = this.#fn.reverseInto(text, out, capacity);
    if (written < 0) {
      throw new RangeError(
        `reverse_into needs ${Buffer.byteLength(text, 'utf8') + 1} bytes for a ${text.length}-character ` +
          `string, the buffer has ${capacity}: pass a larger capacity`,
      );
    }
    return out.toString('utf8', 0, written);
  }

  /** Reverses `text` into a string the library allocates (and koffi frees with free_reversed). */
  reverse_new(text) {
    return this.#fn.reverseNew(text);
  }

  vec2_distance(a, b) {
    return this.#fn.distance(a, b);
  }

  /** The library changes the struct through its pointer; the moved point is returned. */
  vec2_translate(point, dx, dy) {
    const moved = { x: point.x, y: point.y };
    this.#fn.translate(moved, dx, dy);
    return moved;
  }

  box_area(box) {
    return this.#fn.boxArea(checkBox(box));
  }

  box_tag_sum(box) {
    return this.#fn.boxTagSum(checkBox(box));
  }

  perimeter_4(points) {
    if (!Array.isArray(points) || points.length !== 4) {
      throw new RangeError(`perimeter_4 takes exactly 4 points, got ${describe(points)}`);
    }
    return this.#fn.perimeter4(points);
  }

  /** The library fills an out-struct; an empty list (the library returns false) throws a RangeError. */
  bounding_box(points) {
    const box = {};
    if (!this.#fn.boundingBox(points, points.length, box)) {
      throw new RangeError('bounding_box needs at least one point, got none');
    }
    return box;
  }

  #callArithmetic(op, type, a, b) {
    const fns = Object.hasOwn(this.#ops, type) ? this.#ops[type] : undefined;
    if (fns === undefined) {
      throw new TypeError(`Unknown type '${type}': use one of ${Object.keys(this.#ops).join(', ')}`);
    }
    const range = INTEGER_TYPES[type];
    if (range !== undefined) {
      checkInteger(`${op}_${type}`, 'a', a, ...range);
      checkInteger(`${op}_${type}`, 'b', b, ...range);
    }
    const result = fns[op](a, b);
    // On i386 a float comes back in the x87 register st(0), in extended precision, and g++ does not round
    // it to float on return (-fexcess-precision=fast): koffi then reads 0.1f + 0.2f as 0.30000000447...
    // Math.fround gives the float the C code means (0.30000001192...); on x86-64 it changes nothing.
    if (type === 'float') return Math.fround(result);
    // koffi returns a 64-bit integer as a number when it is safe, else as a bigint: always a bigint here.
    return range !== undefined && range[0] === 64 ? BigInt(result) : result;
  }
}

/** Refuses what C would silently truncate: a non-integer, or an integer outside the type's range. */
function checkInteger(fn, name, value, bits, signed) {
  if (typeof value !== 'bigint' && !Number.isInteger(value)) {
    throw new TypeError(
      `${fn}: argument ${name} must be an integer (a number or a bigint), got ${describe(value)}`,
    );
  }
  const big = BigInt(value);
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (big < min || big > max) {
    throw new RangeError(
      `${fn}: argument ${name} = ${value} does not fit in ${bits} bits (${min} to ${max})`,
    );
  }
}

/** A box's label must fit its char[12] (with the NUL); koffi would cut a longer one silently. */
function checkBox(box) {
  const bytes = Buffer.byteLength(String(box?.label ?? ''), 'utf8');
  if (bytes > 11)
    throw new RangeError(`A Box label holds at most 11 bytes of UTF-8, '${box.label}' has ${bytes}`);
  return box;
}

function describe(value) {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'string' ? `'${value}'` : String(value);
}
