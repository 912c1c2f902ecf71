// What a user porting an msl-loadlib wrapper runs into (issue 9 §2): every mistake gets a message that
// says what the class must look like, start-up errors keep their class and place, and request32 reaches
// exactly the members of the user's classes. Run against the real 32-bit server and in mocked mode.
import { describe, expect, it } from 'vitest';
import type { Client64Options } from '../../src/loadlib/client64-options.js';
import { builtFarcall, fixture, MODES } from './helpers.js';

const { Client64, ProcessStartError, Server32Error } = await builtFarcall();
type ProcessStartError = InstanceType<typeof ProcessStartError>;

describe.each(MODES)('%s', (_mode, modeOptions) => {
  const options = (more: Client64Options = {}): Client64Options => ({ ...modeOptions, ...more });

  const startFailure = async (module32: string): Promise<ProcessStartError> => {
    const failing = new Client64(module32, options({ timeout: 15_000 }));
    const error = await failing.ready.catch((e: unknown) => e);
    await failing.shutdownServer32();
    expect(error).toBeInstanceOf(ProcessStartError);
    return error as ProcessStartError;
  };

  describe('the shape of a Server32 subclass', () => {
    it('a subclass without a constructor of its own is told the constructor it needs', async () => {
      const error = await startFailure(fixture('no-constructor.mjs'));
      expect(error.message).toMatch(/BareServer has no constructor of its own/);
      expect(error.message).toContain('super(path, libtype, host, port)');
      expect(error.message).toContain("super('/path/to/lib32.so', 'cdll', host, port)");
      expect(error.message).not.toMatch(/libtype 0 is not supported/);
    });

    it('super() without the library path is told the call it needs', async () => {
      const error = await startFailure(fixture('super-without-path.mjs'));
      expect(error.message).toMatch(
        /PathlessServer called super\(\) without the library's path \(got undefined\)/,
      );
      expect(error.message).toContain("super('/path/to/lib32.so', 'cdll', host, port)");
    });
  });

  describe('start-up errors', () => {
    it('keep their class name and the file:line of the mistake, and are told once', async () => {
      const error = await startFailure(fixture('reference-error.mjs'));
      expect(error.message).toMatch(
        /threw: ReferenceError: libraryPathTypo is not defined \(at (file:\/\/)?\/.*reference-error\.mjs:6:\d+\)/,
      );
      expect(error.message.split('libraryPathTypo is not defined').length).toBe(2);
    });

    it('a constructor that throws an Error keeps its class name', async () => {
      const error = await startFailure(fixture('constructor-throws.mjs'));
      expect(error.message).toMatch(/threw: Error: ThrowingServer needs a serial option/);
      expect(error.message).toMatch(/constructor-throws\.mjs:\d+:\d+/);
    });

    it("koffi's 'Mismatched native Koffi modules' names the fix", async () => {
      const error = await startFailure(fixture('mismatched-koffi.mjs'));
      expect(error.message).toMatch(/Mismatched native Koffi modules/);
      expect(error.message).toContain("import { koffi } from 'farcall/loadlib'");
    });
  });

  describe('what request32 reaches', () => {
    it("reaches the subclass's static members, with the class as `this`", async () => {
      await using client = new Client64(fixture('members-server.mjs'), options());
      expect(await client.request32('describe', 'model')).toBe('model DAQ-32');
      expect(await client.request32('MODEL')).toBe('DAQ-32');
      expect(await client.request32('family')).toBe('base family');
    });

    it("reaches the subclass's own instance members, inherited ones, and its overrides of base members", async () => {
      await using client = new Client64(fixture('members-server.mjs'), options());
      expect(await client.request32('serial')).toBe('SN-1');
      expect(await client.request32('inherited')).toBe('from the intermediate class');
      expect(await client.request32('toString')).toBe('MembersServer!');
      expect(await client.request32('port')).toBe(0);
      expect(await client.request32('path')).toMatch(/libfarcall_example-(32|64)\.so$/);
    });

    it.each(['lib', 'library', 'shutdownHandler'])(
      "keeps the base class's internal '%s' out",
      async (name) => {
        await using client = new Client64(fixture('members-server.mjs'), options());
        const error = await client.request32(name).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Server32Error);
        expect((error as Error).message).toMatch(
          name === 'shutdownHandler'
            ? /runs when the server shuts down/
            : /belongs to the Server32 base class/,
        );
        expect(await client.request32('serial')).toBe('SN-1');
      },
    );

    it('a wrong argument to a native function names the function, its signature and the position', async () => {
      await using client = new Client64(fixture('members-server.mjs'), options());
      const error = (await client.request32('addRaw', 1, 'two').catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(Server32Error);
      expect(error.message).toContain(
        "TypeError: int add(int a, int b): argument 2 (b: int) cannot take 'two' (a string)",
      );
      const extra = (await client.request32('addRaw', 1, 2, 3).catch((e: unknown) => e)) as Error;
      expect(extra.message).toContain('int add(int a, int b) takes 2 arguments, got 3');
      expect(await client.request32('addRaw', 1, 2)).toBe(3);
    });

    it('lists the static members among what the server has', async () => {
      await using client = new Client64(fixture('members-server.mjs'), options());
      const error = (await client.request32('nope').catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/It has: .*describe/);
      expect(error.message).not.toMatch(/\blib\b|library|shutdownHandler/);
    });
  });
});

describe("the 32-bit runtime's Node.js", () => {
  it('syntax it lacks is a SyntaxError naming that Node.js, with the file:line', async () => {
    const failing = new Client64(fixture('newer-syntax.mjs'), { timeout: 15_000 });
    const error = (await failing.ready.catch((e: unknown) => e)) as Error;
    await failing.shutdownServer32();
    expect(error).toBeInstanceOf(ProcessStartError);
    expect(error.message).toMatch(/Importing the server module .*newer-syntax\.mjs failed: SyntaxError: /);
    expect(error.message).toMatch(/newer-syntax\.mjs:6/);
    expect(error.message).toMatch(/runs on the 32-bit runtime's Node\.js 18\.\d+\.\d+/);
    expect(error.message).toMatch(/write the server module for Node\.js 18/);
  });
});

describe('Client64 fails at once, in the client, on what it can check itself', () => {
  it.each([
    ['an empty module name', () => new Client64('')],
    ['a blank module name', () => new Client64('  ')],
    ['no module at all', () => new Client64(undefined as unknown as string)],
  ])('%s', (_what, make) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(/Client64 needs the server module.*new Client64\(new URL\('\.\/my-server\.mjs'/);
  });

  it('an empty server32Dir, instead of silently using the default runtime', () => {
    expect(() => new Client64(fixture('example-server.mjs'), { server32Dir: '' })).toThrow(
      /server32Dir must be the folder of the 32-bit runtime \(a non-empty string\), got ''/,
    );
  });

  it('an unknown option: a type error, and a TypeError naming the near one and serverOptions', () => {
    const make = () =>
      // @ts-expect-error a misspelt option is a type error
      new Client64(fixture('example-server.mjs'), { rpcTimout: 1 });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(/Client64 has no option 'rpcTimout' \(did you mean 'rpcTimeout'\?\)/);
    expect(make).toThrow(/serverOptions/);
  });

  it('a server option outside serverOptions', () => {
    // @ts-expect-error server options go in serverOptions
    expect(() => new Client64(fixture('example-server.mjs'), { serial: 'SN-1' })).toThrow(
      /new Client64\(module32, \{ serverOptions: \{ serial: … \} \}\)/,
    );
  });
});

describe.each(MODES)('what a client says about itself (%s)', (_mode, modeOptions) => {
  it('String(client) names the module, the pid and the state; after shutdown the state and connection are the truth', async () => {
    const client = new Client64(fixture('example-server.mjs'), modeOptions);
    expect(String(client)).toMatch(
      /^Client64\(module=.*example-server\.mjs, pid=(\d+|none), transport=\w+, state=starting\)$/,
    );
    await client.ready;
    expect(client.state).toBe('ready');
    expect(client.connection).toBeDefined();
    expect(String(client)).toMatch(
      new RegExp(
        `^Client64\\(module=.*example-server\\.mjs, pid=${client.serverPid}, transport=\\w+, state=ready\\)$`,
      ),
    );
    await client.shutdownServer32();
    expect(client.state).toBe('closed');
    expect(client.connection).toBeUndefined();
    expect(String(client)).toMatch(/state=closed\)$/);
  });

  it('a client whose server failed to start says so', async () => {
    const client = new Client64(fixture('empty-module.mjs'), modeOptions);
    await client.ready.catch(() => {});
    expect(client.state).toBe('failed');
    expect(client.connection).toBeUndefined();
    expect(String(client)).toMatch(/state=failed\)$/);
    await client.shutdownServer32();
  });
});

describe("farcall's koffi", () => {
  it("is re-exported, so a server module uses farcall's own build", async () => {
    const { koffi } = await builtFarcall();
    expect(typeof koffi.struct).toBe('function');
    expect(koffi.sizeof('int32_t')).toBe(4);
    await using client = new Client64(fixture('members-server.mjs'));
    // The server module declares a struct with `import { koffi } from 'farcall/loadlib'`.
    expect(await client.request32('pointBytes')).toBe(16);
  });
});

describe('the module graph', () => {
  it('client64 and server32-proxy do not import each other', async () => {
    const { readFileSync } = await import('node:fs');
    const proxy = readFileSync(new URL('../../src/loadlib/server32-proxy.ts', import.meta.url), 'utf8');
    expect(proxy).not.toMatch(/from '\.\/client64\.js'/);
  });
});
