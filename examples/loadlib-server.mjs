// The 32-bit side of examples/loadlib-client.mjs: a Server32 that loads farcall's example library
// (native/farcall_example.c, msl-loadlib's cpp_lib contract) and offers its functions to a Client64.
// Client64 runs this module in a 32-bit Node.js; nothing here runs in your 64-bit program.
import { join } from 'node:path';
// farcall's own koffi: the very build Server32 loads the library with (write this module for Node.js 18,
// the 32-bit runtime's).
import { koffi, processBits, Server32 } from 'farcall/loadlib';

const Point = koffi.struct('Point', { x: 'double', y: 'double' });
const FourPoints = koffi.struct('FourPoints', { points: koffi.array(Point, 4) });
const NPoints = koffi.struct('NPoints', { n: 'int', points: koffi.pointer(Point) });

export class ExampleServer extends Server32 {
  /**
   * Client64 calls this with the host, the port and the options it was given.
   * processBits() is 32 in the 32-bit server and 64 in mocked mode (Client64 option host: null).
   */
  constructor(host, port, options) {
    super(join(Server32.examplesDir(), `libfarcall_example-${processBits()}.so`), 'cdll', host, port);
    this.greeting = options.greeting ?? 'hello';
    const lib = this.library;
    this._add = lib.func('int add(int a, int b)');
    this._subtract = lib.func('float subtract(float a, float b)');
    this._addOrSubtract = lib.func('double add_or_subtract(double a, double b, bool do_addition)');
    this._scalarMultiply = lib.func(
      'void scalar_multiply(double a, const double *xin, int n, _Out_ double *xout)',
    );
    this._reverseV1 = lib.func('void reverse_string_v1(const char *original, int n, _Out_ char *reversed)');
    const freeString = lib.func('void free_string(void *s)');
    this._reverseV2 = lib.func('reverse_string_v2', koffi.disposable('str', freeString), ['str', 'int']);
    this._distance4 = lib.func('distance_4_points', 'double', [FourPoints]);
    this._distanceN = lib.func('distance_n_points', 'double', [NPoints]);
    this._sleepMs = lib.func('int sleep_ms(int ms)');
  }

  add(a, b) {
    return this._add(a, b);
  }

  subtract(a, b) {
    return this._subtract(a, b);
  }

  add_or_subtract(a, b, doAddition) {
    return this._addOrSubtract(a, b, doAddition);
  }

  scalar_multiply(a, xin) {
    const xout = new Float64Array(xin.length);
    this._scalarMultiply(a, Float64Array.from(xin), xin.length, xout);
    return xout;
  }

  reverse_string_v1(original) {
    const reversed = Buffer.alloc(original.length);
    this._reverseV1(original, original.length, reversed);
    return reversed.toString('latin1');
  }

  reverse_string_v2(original) {
    return this._reverseV2(original, original.length);
  }

  distance_4_points(points) {
    return this._distance4({ points });
  }

  /** The struct holding a pointer is built here, on the server: only numbers cross the process boundary. */
  circumference(radius, n) {
    const points = Array.from({ length: n }, (_, i) => ({
      x: radius * Math.cos((2 * Math.PI * i) / n),
      y: radius * Math.sin((2 * Math.PI * i) / n),
    }));
    return this._distanceN({ n, points });
  }

  /** A slow native call on koffi's thread pool: the server answers other calls meanwhile. */
  sleep(ms) {
    return new Promise((resolve, reject) => {
      this._sleepMs.async(ms, (error, value) => (error ? reject(error) : resolve(value)));
    });
  }

  echo(value) {
    return value;
  }

  shutdownHandler() {
    console.log(`${this.greeting}: ExampleServer is shutting down`);
  }
}
