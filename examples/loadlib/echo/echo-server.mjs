// The 32-bit side of the echo example: a Server32 that calls no library function. It sends back what it
// receives, and says what it received, to show that every value type farcall carries arrives in the
// 32-bit process as the same type, and comes back unchanged (msl-loadlib's Echo32).
//
// This module runs in the 32-bit Node.js (Debian's i386 node, version 18; on Windows node-win-x86, 22):
// plain JavaScript, Node 18 syntax.
import { join } from 'node:path';
import { processBits, Server32 } from 'farcall/loadlib';

/**
 * A Server32 loads a library, even one it never calls: any library of the server's bitness will do.
 * This is farcall's C example: on Linux the .so (`bash scripts/build-native.sh`), on Windows (also under
 * Wine: Client64 option `runtime: 'wine'`) the DLL (`bash scripts/build-windows-dlls.sh`).
 */
const EXTENSION = process.platform === 'win32' ? '.dll' : '.so';
const LIBRARY = join(Server32.examplesDir(), `libfarcall_example-${processBits()}${EXTENSION}`);

export class EchoServer extends Server32 {
  /** Client64 constructs the class with (host, port, options): the options come back from `options()`. */
  constructor(host, port, options) {
    super(LIBRARY, 'cdll', host, port);
    this.received = options;
  }

  /** Returns its arguments, as an array. */
  echo(...args) {
    return args;
  }

  /** The options the client passed to the constructor (Client64's unknown keys). */
  options() {
    return this.received;
  }

  /** What each argument is here, in the 32-bit process: `kindOf` of each. */
  kinds(...args) {
    return args.map(kindOf);
  }
}

/**
 * A value's kind as this process sees it: 'null', 'undefined', 'number', '-0', 'NaN', 'bigint',
 * 'string', 'boolean', or the class name of an object ('Date', 'Map', 'Float64Array', 'Array', ...).
 */
function kindOf(value) {
  if (value === null) return 'null';
  if (Object.is(value, -0)) return '-0';
  if (Number.isNaN(value)) return 'NaN';
  if (typeof value !== 'object') return typeof value;
  return Object.getPrototypeOf(value) === null ? 'null-prototype' : value.constructor.name;
}
