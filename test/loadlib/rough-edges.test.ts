// What a user porting an msl-loadlib wrapper runs into (issue 9 §2): every mistake gets a message that
// says what the class must look like, start-up errors keep their class and place, and request32 reaches
// exactly the members of the user's classes. Run against the real 32-bit server and in mocked mode.
import { describe, expect, it } from 'vitest';
import type { Client64Options } from '../../src/loadlib/client64.js';
import { builtFarcall, fixture, MODES } from './helpers.js';

const { Client64, ConnectionTimeoutError, Server32Error } = await builtFarcall();
type ConnectionTimeoutError = InstanceType<typeof ConnectionTimeoutError>;

describe.each(MODES)('%s', (_mode, modeOptions) => {
  const options = (more: Client64Options = {}): Client64Options => ({ ...modeOptions, ...more });

  const startFailure = async (module32: string): Promise<ConnectionTimeoutError> => {
    const failing = new Client64(module32, options({ timeout: 15_000 }));
    const error = await failing.ready.catch((e: unknown) => e);
    await failing.shutdownServer32();
    expect(error).toBeInstanceOf(ConnectionTimeoutError);
    return error as ConnectionTimeoutError;
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
    expect(error).toBeInstanceOf(ConnectionTimeoutError);
    expect(error.message).toMatch(/Importing the server module .*newer-syntax\.mjs failed: SyntaxError: /);
    expect(error.message).toMatch(/newer-syntax\.mjs:6/);
    expect(error.message).toMatch(/runs on the 32-bit runtime's Node\.js 18\.\d+\.\d+/);
    expect(error.message).toMatch(/write the server module for Node\.js 18/);
  });
});
