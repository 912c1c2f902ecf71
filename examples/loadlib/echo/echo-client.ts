// The 64-bit side of the echo example: sends values to echo-server.mjs in the 32-bit server and gets
// them back (msl-loadlib's Echo64).
import { Client64, type Client64Options } from 'farcall/loadlib';

/**
 * Sends values through the 32-bit server and back: every value type of farcall's codec — null,
 * undefined, booleans, numbers (-0, NaN, ±Infinity included), bigints (64-bit), strings, Dates, Buffers,
 * every typed array, arrays, plain objects, Maps and Sets, nested — arrives as the same type and value.
 *
 * @example
 * ```ts
 * import { EchoClient } from './echo-client.js';
 *
 * await using echo = new EchoClient();
 * await echo.echo(1n, new Map([['a', new Date(0)]])); // [1n, Map { 'a' => 1970-01-01T00:00:00.000Z }]
 * await echo.kinds(-0, new Float32Array(2)); // ['-0', 'Float32Array'], as the 32-bit process sees them
 * ```
 */
export class EchoClient extends Client64 {
  /**
   * Starts the 32-bit server on echo-server.mjs (the module next to this one).
   * @param options - Client64 options; every key Client64 does not know goes to the server's
   *   constructor, types intact, and comes back from {@link EchoClient.options}
   */
  constructor(options: Client64Options = {}) {
    super(new URL('./echo-server.mjs', import.meta.url), options);
  }

  /**
   * Sends `args` to the server, which returns them.
   * @param args - any values farcall carries
   * @returns the same values, after a round trip through the 32-bit process
   * @example
   * ```ts
   * const [when, samples] = await echo.echo(new Date(), new Float64Array([1, 2]));
   * ```
   */
  echo<T extends unknown[]>(...args: T): Promise<T> {
    return this.request32('echo', ...args);
  }

  /**
   * The options the server's constructor received: the keys of this client's options that Client64
   * does not know itself.
   * @returns those options, as the server got them
   * @example
   * ```ts
   * const echo = new EchoClient({ since: new Date(0), gain: 2n });
   * await echo.options(); // { since: 1970-01-01T00:00:00.000Z, gain: 2n }
   * ```
   */
  options(): Promise<Record<string, unknown>> {
    return this.request32('options');
  }

  /**
   * What each value is once it arrived in the 32-bit process.
   * @param args - the values
   * @returns one kind per value: `'number'`, `'-0'`, `'NaN'`, `'bigint'`, `'string'`, `'boolean'`,
   *   `'null'`, `'undefined'`, or the class name of an object (`'Date'`, `'Map'`, `'Buffer'`, ...)
   * @example
   * ```ts
   * await echo.kinds(1n, new Set()); // ['bigint', 'Set']
   * ```
   */
  kinds(...args: unknown[]): Promise<string[]> {
    return this.request32('kinds', ...args);
  }
}
