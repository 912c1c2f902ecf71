// The 64-bit side of the C++ example: a Client64 with one typed method per function of the library that
// cpp-server.mjs loads in the 32-bit server. Every method returns a promise: the call crosses a process.
import { Client64, type Client64Options } from 'farcall/loadlib';

/** The integer widths of the library's add_/subtract_ functions. */
export type IntegerType = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';
/** Every width of the library's add_/subtract_ functions. */
export type NumberType = IntegerType | 'float' | 'double';
/** The widths whose values go as a bigint (a number is accepted while it is a safe integer). */
export type BigIntType = 'int64' | 'uint64';
/** What an argument of type `T` may be. */
export type ArgumentOf<T extends NumberType> = T extends BigIntType ? bigint | number : number;
/** What a result of type `T` is. */
export type ResultOf<T extends NumberType> = T extends BigIntType ? bigint : number;

/** `struct Vec2 { double x; double y; }`. */
export interface Vec2 {
  x: number;
  y: number;
}

/** `struct Box { char label[12]; Vec2 origin; Vec2 size; int32_t tags[3]; }`. */
export interface Box {
  /** At most 11 bytes of UTF-8 (the 12th is the NUL). */
  label: string;
  origin: Vec2;
  size: Vec2;
  tags: number[];
}

/**
 * Calls the example C++ library (native/cpp/farcall_cpp.cpp) loaded by a 32-bit server.
 *
 * @example
 * ```ts
 * import { CppClient } from './cpp-client.js';
 *
 * await using cpp = new CppClient();
 * await cpp.add('int32', 1, 2); // 3
 * await cpp.add('uint64', 2n ** 63n, 1n); // 9223372036854775809n
 * await cpp.reverseNew('stressed'); // 'desserts'
 * ```
 */
export class CppClient extends Client64 {
  /**
   * Starts the 32-bit server on cpp-server.mjs (the module next to this one).
   * @param options - Client64 options, e.g. `{ host: null }` to run the server in this process with the
   *   64-bit build of the library (mocked mode)
   */
  constructor(options: Client64Options = {}) {
    super(new URL('./cpp-server.mjs', import.meta.url), options);
  }

  /**
   * `a + b` in the C type `type` (`add_int8` … `add_double`). Integers wrap around as in C
   * (`add('int8', 127, 1)` is -128); an argument outside the type's range is refused.
   * @param type - the C width, e.g. `'int16'`, `'uint64'`, `'float'`
   * @param a - first operand (a bigint or a safe integer for the 64-bit types)
   * @param b - second operand
   * @returns the sum; a bigint for `'int64'` and `'uint64'`, a float32-rounded number for `'float'`
   * @throws Server32Error (remoteName `RangeError`) when an integer does not fit the type
   * @example
   * ```ts
   * await cpp.add('int64', 2n ** 62n, 2n ** 62n - 1n); // 9223372036854775807n
   * ```
   */
  add<T extends NumberType>(type: T, a: ArgumentOf<T>, b: ArgumentOf<T>): Promise<ResultOf<T>> {
    return this.request32('add', type, a, b);
  }

  /**
   * `a - b` in the C type `type` (`subtract_int8` … `subtract_double`), converted as {@link CppClient.add}.
   * @param type - the C width
   * @param a - the minuend
   * @param b - the subtrahend
   * @returns the difference (unsigned types wrap: `subtract('uint8', 0, 1)` is 255)
   * @example
   * ```ts
   * await cpp.subtract('float', 44.2, 4.4); // 39.79999923706055
   * ```
   */
  subtract<T extends NumberType>(type: T, a: ArgumentOf<T>, b: ArgumentOf<T>): Promise<ResultOf<T>> {
    return this.request32('subtract', type, a, b);
  }

  /**
   * `add_or_subtract(a, b, add)`: a C `bool` argument picks the operation.
   * @param a - first operand (double)
   * @param b - second operand (double)
   * @param add - true for `a + b`, false for `a - b`
   * @returns the double result
   * @example
   * ```ts
   * await cpp.addOrSubtract(1.5, 2.25, false); // -0.75
   * ```
   */
  addOrSubtract(a: number, b: number, add: boolean): Promise<number> {
    return this.request32('add_or_subtract', a, b, add);
  }

  /**
   * `scale_in_place(factor, values, n)`: the library multiplies a caller's array in place; the server
   * passes it a copy of `values` and returns that array once changed (`values` here is untouched: the
   * two processes share no memory).
   * @param factor - the scalar
   * @param values - the numbers to scale
   * @returns `values` times `factor`, as a Float64Array
   * @example
   * ```ts
   * await cpp.scaleInPlace(2, [1, 2, 3]); // Float64Array [2, 4, 6]
   * ```
   */
  scaleInPlace(factor: number, values: readonly number[] | Float64Array): Promise<Float64Array> {
    return this.request32('scale_in_place', factor, values);
  }

  /**
   * `reverse_into(text, out, capacity)`: the library writes into a buffer the caller (the server)
   * allocated, and returns -1 when it is too small.
   * @param text - the string to reverse (by Unicode code point, so `'añb'` gives `'bña'`)
   * @param capacity - the buffer's size in bytes; default: just enough
   * @returns the reversed string
   * @throws Server32Error (remoteName `RangeError`) when `capacity` is too small; the message says how
   *   many bytes it needs
   * @example
   * ```ts
   * await cpp.reverseInto('uncertainty'); // 'ytniatrecnu'
   * ```
   */
  reverseInto(text: string, capacity?: number): Promise<string> {
    return capacity === undefined
      ? this.request32('reverse_into', text)
      : this.request32('reverse_into', text, capacity);
  }

  /**
   * `reverse_new(text)`: the library returns a new heap string; the server copies it and frees it with
   * the library's `free_reversed`.
   * @param text - the string to reverse
   * @returns the reversed string
   * @example
   * ```ts
   * await cpp.reverseNew('stressed'); // 'desserts'
   * ```
   */
  reverseNew(text: string): Promise<string> {
    return this.request32('reverse_new', text);
  }

  /**
   * `vec2_distance(a, b)`: two structs passed by value.
   * @param a - one point
   * @param b - the other point
   * @returns the Euclidean distance
   * @example
   * ```ts
   * await cpp.distance({ x: 0, y: 0 }, { x: 3, y: 4 }); // 5
   * ```
   */
  distance(a: Vec2, b: Vec2): Promise<number> {
    return this.request32('vec2_distance', a, b);
  }

  /**
   * `vec2_translate(&p, dx, dy)`: a struct passed by pointer and changed by the library.
   * @param point - the point to move (not changed here: the moved copy is returned)
   * @param dx - added to x
   * @param dy - added to y
   * @returns the moved point
   * @example
   * ```ts
   * await cpp.translate({ x: 1, y: 1 }, 2, 3); // { x: 3, y: 4 }
   * ```
   */
  translate(point: Vec2, dx: number, dy: number): Promise<Vec2> {
    return this.request32('vec2_translate', point, dx, dy);
  }

  /**
   * `box_area(box)`: a struct with a char array, nested structs and an int array, by value.
   * @param box - the box
   * @returns `size.x * size.y`
   * @throws Server32Error (remoteName `RangeError`) when the label exceeds 11 bytes
   * @example
   * ```ts
   * await cpp.boxArea({ label: 'a', origin: { x: 0, y: 0 }, size: { x: 2, y: 3 }, tags: [0, 0, 0] }); // 6
   * ```
   */
  boxArea(box: Box): Promise<number> {
    return this.request32('box_area', box);
  }

  /**
   * `box_tag_sum(&box)`: the same struct by pointer.
   * @param box - the box
   * @returns the sum of its three tags
   * @example
   * ```ts
   * await cpp.boxTagSum({ label: 'a', origin: { x: 0, y: 0 }, size: { x: 1, y: 1 }, tags: [1, 2, 3] }); // 6
   * ```
   */
  boxTagSum(box: Box): Promise<number> {
    return this.request32('box_tag_sum', box);
  }

  /**
   * `perimeter_4(points)`: an array of four structs.
   * @param points - exactly four points, in order around the shape
   * @returns the length of the closed path through them
   * @throws Server32Error (remoteName `RangeError`) unless there are exactly four points
   * @example
   * ```ts
   * await cpp.perimeter4([{ x: 0, y: 0 }, { x: 0, y: 1 }, { x: 1, y: 1 }, { x: 1, y: 0 }]); // 4
   * ```
   */
  perimeter4(points: readonly Vec2[]): Promise<number> {
    return this.request32('perimeter_4', points);
  }

  /**
   * `bounding_box(points, n, &out)`: the library fills an out-struct.
   * @param points - one or more points
   * @returns the smallest box holding them, labelled `'bounds'`, with `tags[0]` the number of points
   * @throws Server32Error (remoteName `RangeError`) for an empty list
   * @example
   * ```ts
   * await cpp.boundingBox([{ x: 1, y: 2 }, { x: -1, y: 5 }]);
   * // { label: 'bounds', origin: { x: -1, y: 2 }, size: { x: 2, y: 3 }, tags: [2, 0, 0] }
   * ```
   */
  boundingBox(points: readonly Vec2[]): Promise<Box> {
    return this.request32('bounding_box', points);
  }
}
