// Client64 ⇄ Server32 behaviour, run twice: against a real 32-bit server process (Debian's i386 node,
// made by scripts/setup-server32.sh, on the BUILT farcall) and in mocked mode (host: null, the same
// server class in this process with the 64-bit library). Both must give the same results and errors.
//
// This file drives the BUILT farcall (dist/), like a user's program: in mocked mode the server module's
// `import 'farcall/loadlib'` loads dist/ into this process, and one process must not hold two copies of
// farcall's codec (msgpackr's extensions are process-wide).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client64Options } from '../../src/loadlib/client64-options.js';
import { builtFarcall, fixture, isAlive, MODES } from './helpers.js';

const {
  Client64,
  ConnectionClosedError,
  ConnectionTimeoutError,
  ProcessStartError,
  RemoteError,
  ResponseTimeoutError,
  Server32Error,
} = await builtFarcall();
type Client64 = InstanceType<typeof Client64>;
type ProcessStartError = InstanceType<typeof ProcessStartError>;
type RemoteError = InstanceType<typeof RemoteError>;
type ResponseTimeoutError = InstanceType<typeof ResponseTimeoutError>;
type Server32Error = InstanceType<typeof Server32Error>;

/** The test server's interface, for the typed proxy. */
interface ExampleServer {
  add(a: number, b: number): number;
  subtract(a: number, b: number): number;
  echo(...args: unknown[]): unknown[];
  kwargs: Record<string, unknown>;
  processInfo(): { arch: string; pid: number; interpreter: boolean; version: string };
}

/** One of every value type the rpc codec carries by value. */
function everyValueType(): Record<string, unknown> {
  return {
    nothing: null,
    undef: undefined,
    yes: true,
    no: false,
    int: -42,
    big: 2 ** 53 - 1,
    float: -1.5e-300,
    nan: Number.NaN,
    inf: Number.NEGATIVE_INFINITY,
    bigint: 2n ** 64n - 1n,
    negativeBigint: -(2n ** 63n),
    text: 'unicode: µ ✓ 𝄞 "quotes" = ; & \n newline',
    empty: '',
    date: new Date('2024-02-29T12:34:56.789Z'),
    bytes: Buffer.from([0, 1, 2, 253, 254, 255]),
    int8: new Int8Array([-128, 0, 127]),
    clamped: new Uint8ClampedArray([0, 128, 255]),
    int16: new Int16Array([-32768, 32767]),
    uint16: new Uint16Array([0, 65535]),
    int32: new Int32Array([-2147483648, 2147483647]),
    uint32: new Uint32Array([0, 4294967295]),
    float32: new Float32Array([1.5, -0.25]),
    float64: new Float64Array([Math.PI, -Number.MAX_VALUE]),
    bigint64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    biguint64: new BigUint64Array([0n, 2n ** 64n - 1n]),
    array: [1, 'two', [3, [4]], { five: 5 }],
    nested: { a: { b: { c: [null, true] } } },
    map: new Map<unknown, unknown>([
      [1, 'one'],
      ['two', 2],
    ]),
    set: new Set([1, 'a', 2]),
  };
}

/** The value as it comes back: `undefined` in an object survives as `undefined`. */
function expectRoundTrip(back: Record<string, unknown>, sent: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(sent)) {
    const got = back[key];
    if (typeof value === 'number' && Number.isNaN(value)) expect(got, key).toBeNaN();
    else if (value instanceof Uint8Array && !(value instanceof Uint8ClampedArray)) {
      expect(Buffer.from(got as Uint8Array).equals(Buffer.from(value)), key).toBe(true);
    } else expect(got, key).toEqual(value);
    if (ArrayBuffer.isView(value)) expect((got as object).constructor.name, key).toBe(value.constructor.name);
  }
}

describe.each(MODES)('Client64 and Server32 through %s', (_mode, modeOptions) => {
  const real = modeOptions.host !== null;
  const options = (more: Client64Options = {}): Client64Options => ({ ...modeOptions, ...more });
  let client: Client64;
  const kwargs = everyValueType();

  beforeAll(async () => {
    client = new Client64(fixture('example-server.mjs'), options({ serverOptions: kwargs }));
    await client.ready;
  });
  afterAll(async () => {
    await client?.shutdownServer32();
  });

  describe("the example library's contract", () => {
    it('runs the library of the expected bitness', async () => {
      const info = (await client.request32('processInfo')) as { arch: string; interpreter: boolean };
      expect(info.arch).toBe(real ? 'ia32' : process.arch);
      expect(info.interpreter).toBe(real);
      expect(await client.request32('pointer_size')).toBe(real ? 4 : 8);
      expect(client.lib32Path).toMatch(real ? /libfarcall_example-32\.so$/ : /libfarcall_example-64\.so$/);
      expect(client.serverRuntime?.arch).toBe(real ? 'ia32' : process.arch);
    });

    it('adds int32 numbers, wrapping around on overflow', async () => {
      expect(await client.request32('add', 1, 2)).toBe(3);
      expect(await client.request32('add', -7, 3)).toBe(-4);
      expect(await client.request32('add', 2147483647, 1)).toBe(-2147483648);
    });

    it('subtracts in float32 precision', async () => {
      const expected = Math.fround(Math.fround(44.2) - Math.fround(4.4));
      const got = await client.request32('subtract', 44.2, 4.4);
      expect(got).toBe(expected);
      expect(got).not.toBe(44.2 - 4.4);
    });

    it('adds or subtracts doubles depending on a bool', async () => {
      expect(await client.request32('add_or_subtract', 1.5, 2.25, true)).toBe(3.75);
      expect(await client.request32('add_or_subtract', 1.5, 2.25, false)).toBe(-0.75);
    });

    it('multiplies a double array by a scalar into an output array', async () => {
      expect(await client.request32('scalar_multiply', 2, [1, 2, 3, 4.5])).toEqual([2, 4, 6, 9]);
    });

    it("reverses a string into the caller's buffer and into one allocated by C", async () => {
      expect(await client.request32('reverse_string_v1', 'uncertainty')).toBe('ytniatrecnu');
      expect(await client.request32('reverse_string_v2', 'Hello, 32-bit world')).toBe('dlrow tib-23 ,olleH');
    });

    it('passes a struct of four points by value: the unit square has perimeter 4.0', async () => {
      const square = [
        { x: 0, y: 0 },
        { x: 0, y: 1 },
        { x: 1, y: 1 },
        { x: 1, y: 0 },
      ];
      expect(await client.request32('distance_4_points', square)).toBe(4);
    });

    it('passes a struct holding a pointer built on the server: circumference(0.5, 65536) ≈ π', async () => {
      const circumference = (await client.request32('circumference', 0.5, 65536)) as number;
      expect(Math.abs(circumference - Math.PI)).toBeLessThan(1e-8);
    });
  });

  describe('values', () => {
    it('round-trips every value type of the rpc codec as arguments', async () => {
      const sent = everyValueType();
      const [back] = (await client.request32('echo', sent)) as [Record<string, unknown>];
      expectRoundTrip(back, sent);
    });

    it('round-trips an Error value as a RemoteError with its name and message', async () => {
      const [back] = (await client.request32('echo', new RangeError('out of range'))) as [RemoteError];
      expect(back).toBeInstanceOf(RemoteError);
      expect(back.remoteName).toBe('RangeError');
      expect(back.message).toContain('out of range');
    });

    it("passes every other option to the server's constructor with its type intact (no string mangling)", async () => {
      const back = (await client.request32('kwargs')) as Record<string, unknown>;
      expectRoundTrip(back, everyValueType());
      // msl-loadlib would have turned these into strings and broken the ones holding '=' and ';'.
      expect(typeof back.int).toBe('number');
      expect(back.text).toContain('= ; &');
      expect(back).not.toHaveProperty('rpcTimeout');
      expect(back).not.toHaveProperty('host');
    });

    it('echoes a 16 MiB payload intact', async () => {
      const payload = Buffer.alloc(16 * 1024 * 1024);
      for (let i = 0; i < payload.length; i += 4093) payload[i] = i % 251;
      const [back] = (await client.request32('echo', payload)) as [Buffer];
      expect(back.length).toBe(payload.length);
      expect(Buffer.from(back).equals(payload)).toBe(true);
    });
  });

  describe('errors', () => {
    it("turns a throw in a server method into a Server32Error with the server-side stack of the user's method", async () => {
      const error = await client.request32('fail', 'the instrument is offline').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Server32Error);
      expect(error).toBeInstanceOf(RemoteError);
      const server32Error = error as Server32Error;
      expect(server32Error.remoteName).toBe('RangeError');
      expect(server32Error.message).toBe('RangeError: the instrument is offline');
      expect(server32Error.code).toBe('ERR_FARCALL_SERVER32');
      expect(server32Error.remoteStack).toMatch(/ExampleServer\.fail .*example-server\.mjs:\d+:\d+/);
      expect(await client.request32('add', 2, 3)).toBe(5);
    });

    it('turns a rejection of an async server method into a Server32Error', async () => {
      const error = (await client.request32('failLater', 'later').catch((e: unknown) => e)) as Server32Error;
      expect(error).toBeInstanceOf(Server32Error);
      expect(error.remoteName).toBe('TypeError');
      expect(error.remoteStack).toContain('example-server.mjs');
    });

    it('rejects an unknown member at once, listing what the server has', async () => {
      const error = (await client.request32('no_such_function', 1).catch((e: unknown) => e)) as Server32Error;
      expect(error).toBeInstanceOf(Server32Error);
      expect(error.message).toMatch(/ExampleServer has no method or property 'no_such_function'/);
      expect(error.message).toContain('add_or_subtract');
      expect(await client.request32('add', 1, 1)).toBe(2);
    });

    it("refuses private members (names starting with '_') and constructor", async () => {
      await expect(client.request32('_secret')).rejects.toThrow(/private/);
      await expect(client.request32('constructor')).rejects.toBeInstanceOf(Server32Error);
    });

    it('returns a property value, and refuses arguments for a property', async () => {
      expect(await client.request32('port')).toBe(0);
      await expect(client.request32('kwargs', 1)).rejects.toThrow(/is a property, not a method/);
    });
  });

  describe('concurrency', () => {
    it('answers 50 concurrent calls with correct, unmixed results', async () => {
      const calls = Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0 ? client.request32('add', i, 1000) : client.request32('echo', `call ${i}`),
      );
      const results = await Promise.all(calls);
      results.forEach((result, i) => {
        expect(result).toEqual(i % 2 === 0 ? i + 1000 : [`call ${i}`]);
      });
    });

    it('serves other calls while an async native call sleeps', async () => {
      const order: string[] = [];
      const slow = client.request32('sleep', 400).then((value) => {
        order.push('sleep');
        return value;
      });
      const quick = client.request32('add', 4, 5).then((value) => {
        order.push('add');
        return value;
      });
      expect(await Promise.all([slow, quick])).toEqual([400, 9]);
      expect(order).toEqual(['add', 'sleep']);
    });
  });

  describe('the typed proxy', () => {
    it('calls server methods and reads properties with one line per server, not one method per call', async () => {
      await using server = await Client64.proxy<ExampleServer>(
        fixture('example-server.mjs'),
        options({ serverOptions: { tag: 7 } }),
      );
      expect(await server.add(20, 22)).toBe(42);
      expect(await server.echo('a', 1)).toEqual(['a', 1]);
      // A property is awaited, as with an rpc proxy (one request32 per await).
      expect((await server.kwargs).tag).toBe(7);
      // msl-loadlib's form, request32('kwargs'), works at run time too, but is not typed.
      // @ts-expect-error a property is read with await, not called
      expect((await server.kwargs()).tag).toBe(7);
      expect(server.$client).toBeInstanceOf(Client64);
      expect(await server.processInfo()).toMatchObject({ arch: real ? 'ia32' : process.arch });
    });

    it('is not mistaken for a promise', async () => {
      await using server = await Client64.proxy<ExampleServer>(fixture('example-server.mjs'), options());
      const same = await server;
      expect(same).toBe(server);
    });
  });

  describe('a subclass of Client64', () => {
    class MyClient extends Client64 {
      constructor(more: Client64Options = {}) {
        super(new URL('./fixtures/example-server.mjs', import.meta.url), options(more));
      }
      add(a: number, b: number): Promise<number> {
        return this.request32('add', a, b);
      }
    }

    it('calls through its own methods without awaiting ready first', async () => {
      await using mine = new MyClient();
      expect(await mine.add(40, 2)).toBe(42);
    });

    /** The documented pattern for a client that needs a value from the server at construction. */
    class Instrument extends Client64 {
      pointerSize = 0;

      private constructor(module32: string | URL, more: Client64Options) {
        super(module32, options(more));
      }

      static async create(
        more: Client64Options = {},
        module32: string | URL = new URL('./fixtures/example-server.mjs', import.meta.url),
      ): Promise<Instrument> {
        const client = new Instrument(module32, more);
        try {
          await client.ready;
          client.pointerSize = await client.request32<number>('pointer_size');
          return client;
        } catch (error) {
          await client.shutdownServer32();
          throw error;
        }
      }
    }

    it('a static async create() gets a value from the server before the client is handed out', async () => {
      await using instrument = await Instrument.create();
      expect(instrument.pointerSize).toBe(real ? 4 : 8);
      expect(instrument.state).toBe('ready');
    });

    it('a static async create() that fails shuts its server down and rejects', async () => {
      const error = await Instrument.create({}, fixture('empty-module.mjs')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProcessStartError);
      expect((error as Error).message).toMatch(/has no Server32 subclass/);
    });
  });

  describe('rpcTimeout', () => {
    it('rejects a slow call with ResponseTimeoutError; the next call works, and so does shutdown', async () => {
      const slowClient = new Client64(fixture('example-server.mjs'), options({ rpcTimeout: 300 }));
      try {
        // The clock starts once the server is up: only the call is timed, not the start.
        await slowClient.ready;
        const t0 = performance.now();
        const error = await slowClient.request32('sleep', 1500).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ResponseTimeoutError);
        expect((error as ResponseTimeoutError).message).toMatch(/rpcTimeout/);
        expect(performance.now() - t0).toBeLessThan(1400);
        expect(await slowClient.request32('add', 1, 2)).toBe(3);
      } finally {
        const t0 = performance.now();
        await slowClient.shutdownServer32();
        expect(performance.now() - t0).toBeLessThan(5000);
      }
    });
  });

  describe('call32: request32 with options of its own', () => {
    it('takes a timeout of its own, after which the client keeps working', async () => {
      const error = await client.call32('sleep', [1000], { timeout: 100 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResponseTimeoutError);
      expect((error as ResponseTimeoutError).timeoutMs).toBe(100);
      expect(await client.call32('add', [2, 3])).toBe(5);
    });

    it('is cancelled by an AbortSignal, after which the client keeps working', async () => {
      const controller = new AbortController();
      const call = client.call32('sleep', [1000], { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const t0 = performance.now();
      const error = (await call.catch((e: unknown) => e)) as Error;
      expect(performance.now() - t0).toBeLessThan(800);
      expect(error.name).toBe('AbortError');
      expect(await client.call32('add', [1, 1])).toBe(2);
    });
  });

  describe('shutdown', () => {
    it('is idempotent, returns the same output, and fails later calls with ConnectionClosedError', async () => {
      const shortLived = new Client64(fixture('lifecycle-server.mjs'), options());
      expect(await shortLived.request32('say', 'hello')).toBe(5);
      const pid = shortLived.serverPid as number;
      const first = await shortLived.shutdownServer32();
      const second = await shortLived.shutdownServer32();
      expect(second).toEqual(first);
      if (real) {
        expect(first.stdout).toContain('LifecycleServer constructed');
        expect(first.stdout).toContain('stdout: hello');
        expect(first.stderr).toContain('stderr: hello');
        expect(first.stdout).toContain('shutdownHandler ran');
        expect(isAlive(pid)).toBe(false);
      } else expect(first).toEqual({ stdout: '', stderr: '' });
      await expect(shortLived.request32('say', 'again')).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    it('shuts down through await using', async () => {
      let pid = 0;
      {
        await using scoped = new Client64(fixture('example-server.mjs'), options());
        await scoped.ready;
        pid = scoped.serverPid as number;
      }
      if (real) expect(isAlive(pid)).toBe(false);
    });
  });

  describe('start-up failures reject with ProcessStartError at once, with the diagnostics', () => {
    // A long timeout: every failure must be reported as soon as the server gives up, not at the deadline.
    const timeout = 15_000;
    const startFailure = async (module32: string, more: Client64Options = {}): Promise<ProcessStartError> => {
      const t0 = performance.now();
      const failing = new Client64(module32, options({ timeout, ...more }));
      const error = await failing.ready.catch((e: unknown) => e);
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(error).toBeInstanceOf(ProcessStartError);
      expect(error).not.toBeInstanceOf(ConnectionTimeoutError);
      expect((error as ProcessStartError).code).toBe('ERR_FARCALL_PROCESS_START');
      await failing.shutdownServer32();
      await expect(failing.request32('add', 1, 2)).rejects.toBeInstanceOf(ConnectionClosedError);
      return error as ProcessStartError;
    };

    it('an empty module', async () => {
      const error = await startFailure(fixture('empty-module.mjs'));
      expect(error.message).toMatch(/has no Server32 subclass: it exports nothing/);
      expect(error.message).toMatch(/extends Server32/);
    });

    it('a missing module, naming where it looked', async () => {
      const error = await startFailure('no-such-server-module', { appendSysPath: [fixture('')] });
      expect(error.message).toMatch(/Cannot find the server module 'no-such-server-module'/);
      expect(error.message).toContain(fixture('no-such-server-module.mjs'));
      expect(error.message).toMatch(/appendSysPath/);
    });

    it('a module without a Server32 subclass, naming what it exports', async () => {
      const error = await startFailure(fixture('no-subclass.mjs'));
      expect(error.message).toMatch(/'NotAServer', 'answer', none of them a subclass of Server32/);
    });

    it('a module with two candidate subclasses', async () => {
      const error = await startFailure(fixture('two-servers.mjs'));
      expect(error.message).toMatch(/2 Server32 subclasses \(FirstServer, SecondServer\)/);
      expect(error.message).toMatch(/default export/);
    });

    it('a constructor that throws, with its message and the signature it is called with', async () => {
      const error = await startFailure(fixture('constructor-throws.mjs'));
      expect(error.message).toMatch(
        /The constructor of ThrowingServer .* threw: Error: ThrowingServer needs a serial option/,
      );
      expect(error.message).toContain('new ThrowingServer(host, port, options)');
    });

    it('a constructor that does not call super(), showing the constructor it needs', async () => {
      const error = await startFailure(fixture('no-super.mjs'));
      expect(error.message).toMatch(/The constructor of ForgetfulServer .* does not call super\(\)/);
      expect(error.message).toContain("super('/path/to/lib32.so', 'cdll', host, port)");
    });

    it('a library that is not found', async () => {
      const error = await startFailure(fixture('library-not-found.mjs'));
      expect(error.message).toMatch(/MissingLibraryServer could not load its library/);
      expect(error.message).toMatch(/libvendor32\.so: the file was not found/);
    });

    it('a library of the wrong bitness, with the fix', async () => {
      const error = await startFailure(fixture('wrong-bitness.mjs'));
      expect(error.message).toMatch(real ? /64-bit library and this Node\.js is 32-bit/ : /32-bit library/);
    });

    it('a libtype that is not supported', async () => {
      const error = await startFailure(fixture('bad-libtype.mjs'));
      expect(error.message).toMatch(/libtype 'clr' is not supported/);
    });
  });
});
