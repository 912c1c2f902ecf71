// LoadLibrary in this (64-bit) process, against the real example library that test/global-setup.ts
// compiles from native/ (native/build/libfarcall_example-64.so and friends).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as koffi from 'koffi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LibraryLoadError } from '../../src/errors.js';
import { processBits, readBinaryArch } from '../../src/loadlib/binary-arch.js';
import { LIBTYPES, LoadLibrary } from '../../src/loadlib/library.js';
import { findLibraryFile } from '../../src/loadlib/library-path.js';

const build = fileURLToPath(new URL('../../native/build/', import.meta.url));
const lib64 = join(build, 'libfarcall_example-64.so');
const lib32 = join(build, 'libfarcall_example-32.so');
const usesDep64 = join(build, 'libfarcall_uses_dep-64.so');

/** The LoadLibrary error a function throws (failing the test if it throws nothing or something else). */
function loadError(load: () => unknown): LibraryLoadError {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(LibraryLoadError);
    return err as LibraryLoadError;
  }
  throw new Error('expected a LibraryLoadError, but nothing was thrown');
}

describe('LoadLibrary calls every function of the example contract (64-bit, in this process)', () => {
  let lib: LoadLibrary;
  const Point = koffi.struct({ x: 'double', y: 'double' });
  const FourPoints = koffi.struct({ points: koffi.array(Point, 4) });
  const NPoints = koffi.struct({ n: 'int', points: koffi.pointer(Point) });

  beforeAll(() => {
    lib = new LoadLibrary(lib64);
  });
  afterAll(() => lib.close());

  it('add: int32 arithmetic, wrapping at 2^31', () => {
    const add = lib.func('int add(int a, int b)');
    expect(add(1, 2)).toBe(3);
    expect(add(-5, 3)).toBe(-2);
    expect(add(2147483647, 1)).toBe(-2147483648);
  });

  it('subtract: float32 precision, not double', () => {
    const subtract = lib.func('float subtract(float a, float b)');
    const result = subtract(44.2, 4.4);
    expect(result).toBe(Math.fround(Math.fround(44.2) - Math.fround(4.4)));
    expect(result).not.toBe(44.2 - 4.4);
    expect(result).toBeCloseTo(39.8, 5);
  });

  it('add_or_subtract: doubles and a bool', () => {
    const addOrSubtract = lib.func('double add_or_subtract(double a, double b, bool do_addition)');
    expect(addOrSubtract(1.5, 2.25, true)).toBe(3.75);
    expect(addOrSubtract(1.5, 2.25, false)).toBe(-0.75);
  });

  it('scalar_multiply: a double array in, an array out', () => {
    const scalarMultiply = lib.func(
      'void scalar_multiply(double a, const double *xin, int n, _Out_ double *xout)',
    );
    const xin = new Float64Array([1, 2.5, -3, 1e300]);
    const xout = new Float64Array(xin.length);
    scalarMultiply(2, xin, xin.length, xout);
    expect(Array.from(xout)).toEqual([2, 5, -6, 2e300]);
  });

  it('reverse_string_v1: reverses into a buffer the caller owns', () => {
    const reverse = lib.func('void reverse_string_v1(const char *original, int n, _Out_ char *reversed)');
    const text = 'Hello, farcall!';
    const out = Buffer.alloc(text.length);
    reverse(text, text.length, out);
    expect(out.toString('latin1')).toBe('!llacraf ,olleH');
  });

  it('reverse_string_v2: returns a string C allocated, released with free_string', () => {
    const freeString = lib.func('void free_string(void *s)');
    const reverse = lib.func('reverse_string_v2', koffi.disposable('str', freeString), ['str', 'int']);
    expect(reverse('abc def', 7)).toBe('fed cba');
    // The raw pointer path: the same string, freed by hand.
    const reverseRaw = lib.func('void *reverse_string_v2(const char *original, int n)');
    const pointer = reverseRaw('xyz', 3);
    expect(koffi.decode(pointer, 'char', -1)).toBe('zyx');
    freeString(pointer);
  });

  it('distance_4_points: a struct of four points by value (unit square → 4.0)', () => {
    const distance = lib.func('distance_4_points', 'double', [FourPoints]);
    const square = [
      { x: 0, y: 0 },
      { x: 0, y: 1 },
      { x: 1, y: 1 },
      { x: 1, y: 0 },
    ];
    expect(distance({ points: square })).toBe(4);
  });

  it('distance_n_points: a struct holding a pointer to n points (circumference(0.5, 65536) ≈ π)', () => {
    const distance = lib.func('distance_n_points', 'double', [NPoints]);
    const n = 65536;
    const circle = Array.from({ length: n }, (_, i) => ({
      x: 0.5 * Math.cos((2 * Math.PI * i) / n),
      y: 0.5 * Math.sin((2 * Math.PI * i) / n),
    }));
    expect(distance({ n, points: circle })).toBeCloseTo(Math.PI, 8);
    expect(distance({ n: 1, points: circle.slice(0, 1) })).toBe(0);
  });

  it('sleep_ms blocks for the time asked and returns it', () => {
    const sleepMs = lib.func('int sleep_ms(int ms)');
    const started = performance.now();
    expect(sleepMs(30)).toBe(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('pointer_size is 8 in the 64-bit build', () => {
    expect(lib.func('int pointer_size()')()).toBe(8);
  });

  it('crash() kills its process with SIGSEGV (checked in a child process)', () => {
    const script = `
      const { LoadLibrary } = await import(${JSON.stringify(new URL('../../dist/loadlib/library.js', import.meta.url).href)});
      new LoadLibrary(${JSON.stringify(lib64)}).func('int crash()')();
      console.log('still alive');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGSEGV');
    expect(child.stdout).not.toContain('still alive');
  });
});

describe('LoadLibrary functions say which argument is wrong, and refuse extra ones', () => {
  let lib: LoadLibrary;
  beforeAll(() => {
    lib = new LoadLibrary(lib64);
  });
  afterAll(() => lib.close());

  it('names the function, its signature and the position of a wrong argument (prototype form)', () => {
    const add = lib.func('int add(int a, int b)');
    expect(() => add(1, 'two')).toThrow(TypeError);
    expect(() => add(1, 'two')).toThrow(
      "add(int a, int b): argument 2 (b: int) cannot take 'two' (a string): Unexpected String value, expected number",
    );
    expect(() => add('one', 2)).toThrow(/^int add\(int a, int b\): argument 1 \(a: int\)/);
  });

  it('names the position in the classic form too, with the types koffi knows', () => {
    const addOrSubtract = lib.func('add_or_subtract', 'double', ['double', 'double', 'bool']);
    expect(() => addOrSubtract(1, 2, 'yes')).toThrow(
      /^double add_or_subtract\(double, double, bool\): argument 3 \(bool\) cannot take 'yes' \(a string\)/,
    );
  });

  it('refuses more arguments than the function takes (koffi would ignore them)', () => {
    const add = lib.func('int add(int a, int b)');
    expect(() => add(1, 2, 3)).toThrow('add(int a, int b) takes 2 arguments, got 3');
    expect(add(1, 2)).toBe(3);
  });

  it('checks functions declared through the koffi handle (lib.func) and their async form', async () => {
    const add = lib.lib.func('int add(int a, int b)');
    expect(() => add(1, 2, 3)).toThrow(/takes 2 arguments, got 3/);
    expect(() => add.async(1, 2, 3, () => {})).toThrow(/takes 2 arguments, got 3/);
    const sleep = lib.lib.func('int sleep_ms(int ms)');
    expect(
      await new Promise((resolve, reject) =>
        sleep.async(5, (error: unknown, value: unknown) => (error ? reject(error) : resolve(value))),
      ),
    ).toBe(5);
    expect(add.info.name).toBe('add');
  });

  it('keeps variadic functions variadic', () => {
    const libc = new LoadLibrary('libc.so.6');
    try {
      const snprintf = libc.func('int snprintf(_Out_ char *buf, size_t n, const char *fmt, ...)');
      const buf = Buffer.alloc(16);
      expect(snprintf(buf, 16, '%d-%d', 'int', 4, 'int', 2)).toBe(3);
      expect(buf.toString('latin1', 0, 3)).toBe('4-2');
    } finally {
      libc.close();
    }
  });
});

describe('LoadLibrary libtypes', () => {
  it("accepts 'cdll', 'windll' and 'oledll', case-insensitively, and 'cdll' is the default", () => {
    expect(LIBTYPES).toEqual(['cdll', 'windll', 'oledll']);
    const cdll = new LoadLibrary(lib64);
    const windll = new LoadLibrary(lib64, 'WinDLL' as 'windll');
    try {
      expect(cdll.libtype).toBe('cdll');
      expect(windll.libtype).toBe('windll');
    } finally {
      cdll.close();
      windll.close();
    }
  });

  it("'windll' behaves as 'cdll' off Windows: add_stdcall is called with the default convention", () => {
    const lib = new LoadLibrary(lib64, 'windll');
    try {
      expect(lib.callingConvention).toBe(process.platform === 'win32' ? '__stdcall' : '');
      expect(lib.func('int add_stdcall(int a, int b)')(20, 22)).toBe(42);
      expect(lib.func('add_stdcall', 'int', ['int', 'int'])(1, 2)).toBe(3);
    } finally {
      lib.close();
    }
  });

  it('rejects any other libtype with an error that lists the valid ones', () => {
    const err = loadError(() => new LoadLibrary(lib64, 'stdcall' as 'cdll'));
    expect(err.code).toBe('ERR_FARCALL_LIBRARY_LOAD');
    expect(err.path).toBe(lib64);
    expect(err.message).toContain(`libtype 'stdcall' is not supported`);
    expect(err.message).toContain(`Use one of 'cdll', 'windll'`);
  });

  it("says that msl-loadlib's .NET/Java/COM libtypes are not loaded by farcall", () => {
    const err = loadError(() => new LoadLibrary(lib64, 'net' as 'cdll'));
    expect(err.message).toMatch(/'net' is an msl-loadlib libtype for \.NET, Java or COM/);
  });
});

describe('LoadLibrary path resolution', () => {
  const savedCwd = process.cwd();
  const savedLdPath = process.env.LD_LIBRARY_PATH;
  afterEach(() => {
    process.chdir(savedCwd);
    if (savedLdPath === undefined) delete process.env.LD_LIBRARY_PATH;
    else process.env.LD_LIBRARY_PATH = savedLdPath;
  });

  it('loads an absolute path and reports it in `path` and `toString()`', () => {
    const lib = new LoadLibrary(lib64);
    expect(lib.path).toBe(lib64);
    expect(String(lib)).toBe(`LoadLibrary(libtype='cdll', path='${lib64}')`);
    lib.close();
  });

  it('adds the default extension when it is missing', () => {
    const lib = new LoadLibrary(lib64.replace(/\.so$/, ''));
    expect(lib.path).toBe(lib64);
    lib.close();
  });

  it('resolves a relative path against the working directory', () => {
    process.chdir(join(build, '..'));
    const lib = new LoadLibrary(join(relative(process.cwd(), build), 'libfarcall_example-64'));
    expect(lib.path).toBe(lib64);
    lib.close();
  });

  it('finds a bare name on the searchPaths option', () => {
    const lib = new LoadLibrary('libfarcall_example-64', 'cdll', { searchPaths: [tmpdir(), build] });
    expect(lib.path).toBe(lib64);
    expect(lib.func('int add(int, int)')(2, 3)).toBe(5);
    lib.close();
  });

  it('finds a bare name on LD_LIBRARY_PATH', () => {
    process.env.LD_LIBRARY_PATH = ['/nonexistent-farcall', build].join(':');
    const lib = new LoadLibrary('libfarcall_example-64.so');
    expect(lib.path).toBe(lib64);
    lib.close();
  });

  it("hands a bare name found nowhere to the system loader (libm.so.6 from the system's folders)", () => {
    const lib = new LoadLibrary('libm.so.6');
    expect(lib.path).toBe('libm.so.6');
    expect(lib.func('double cos(double x)')(0)).toBe(1);
    lib.close();
  });

  it('lists every place it looked when the file is not found', () => {
    const err = loadError(() => new LoadLibrary('no_such_farcall_lib', 'cdll', { searchPaths: [build] }));
    expect(err.path).toBe('no_such_farcall_lib');
    expect(err.message).toContain(
      `Cannot load no_such_farcall_lib: the file was not found. Looked for no_such_farcall_lib, no_such_farcall_lib.so in:\n  ${process.cwd()}\n  ${build.replace(/\/$/, '')}\n`,
    );
    expect(err.message).toContain("and in the system loader's folders");
    expect(err.message).toContain('add its folder to the searchPaths option');
  });

  it('an absolute path that does not exist is not found, with and without the extension', () => {
    const missing = join(build, 'missing-farcall');
    const err = loadError(() => new LoadLibrary(missing));
    expect(err.message).toContain(`the file was not found. Looked for ${missing}, ${missing}.so.\n`);
    expect(err.message).not.toContain('system loader');
  });

  it('findLibraryFile reports the first match and what it tried before it', () => {
    const { found, looked } = findLibraryFile('libfarcall_example-64', {
      searchPaths: [build],
      cwd: '/',
      env: {},
    });
    expect(found).toBe(lib64);
    expect(looked).toEqual([
      '/libfarcall_example-64',
      '/libfarcall_example-64.so',
      join(build, 'libfarcall_example-64'),
      lib64,
    ]);
  });
});

describe('LoadLibrary errors say which file failed, why, and the fix', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'farcall-loadlib-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('refuses a 32-bit library in this 64-bit process and points to Client64/Server32', () => {
    expect(processBits()).toBe(64);
    const err = loadError(() => new LoadLibrary(lib32));
    expect(err.path).toBe(lib32);
    expect(err.message).toContain(
      `Cannot load ${lib32}: this is a 32-bit library and this Node.js is 64-bit: use Client64/Server32 from farcall/loadlib`,
    );
    expect(err.message).toContain('bash node_modules/farcall/scripts/setup-server32.sh');
  });

  it('recognises a 32-bit Windows DLL by its PE header, too', () => {
    const dll = join(scratch, 'vendor32.dll');
    writeFileSync(dll, fakePe(0x014c));
    expect(readBinaryArch(dll)).toEqual({ format: 'pe', arch: 'ia32', bits: 32 });
    const err = loadError(() => new LoadLibrary(dll));
    // Off Windows, no bitness helps: the way in is Wine.
    expect(err.message).toContain('it is a Windows DLL (ia32, 32-bit, read from its PE header)');
    expect(err.message).toContain("runtime: 'wine'");
  });

  it('names the missing dependency of a library that links one', () => {
    const err = loadError(() => new LoadLibrary(usesDep64));
    expect(err.path).toBe(usesDep64);
    expect(err.message).toContain(
      `Cannot load ${usesDep64}: it depends on libfarcall_dep-64.so, which was not found`,
    );
    expect(err.message).toContain('LD_LIBRARY_PATH');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('says a file that is not a shared library is not one', () => {
    const text = join(scratch, 'notes.so');
    writeFileSync(text, 'this is not an ELF file, just some text that is long enough to have a header\n');
    expect(readBinaryArch(text)).toBeUndefined();
    const err = loadError(() => new LoadLibrary(text));
    expect(err.message).toContain(`Cannot load ${text}: it is not a shared library`);
  });

  it('rejects an empty path', () => {
    const err = loadError(() => new LoadLibrary(''));
    expect(err.message).toContain('must be a non-empty string');
  });
});

describe('readBinaryArch reads the architecture from the header', () => {
  it('of the 32- and 64-bit ELF builds', () => {
    expect(readBinaryArch(lib32)).toEqual({ format: 'elf', arch: 'ia32', bits: 32 });
    expect(readBinaryArch(lib64)).toEqual({ format: 'elf', arch: 'x64', bits: 64 });
  });

  it('of a 64-bit PE file, and of a file that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'farcall-pe-'));
    try {
      const dll = join(dir, 'x.dll');
      writeFileSync(dll, fakePe(0x8664));
      expect(readBinaryArch(dll)).toEqual({ format: 'pe', arch: 'x64', bits: 64 });
      expect(readBinaryArch(join(dir, 'absent.dll'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('LoadLibrary close', () => {
  it('close() is idempotent, unload() and Symbol.dispose close too, and `lib` then throws', () => {
    const a = new LoadLibrary(lib64);
    expect(a.closed).toBe(false);
    a.close();
    a.close();
    expect(a.closed).toBe(true);
    expect(() => a.lib).toThrow(/has been closed/);

    const b = new LoadLibrary(lib64);
    b.unload();
    expect(b.closed).toBe(true);

    const c = new LoadLibrary(lib64);
    c[Symbol.dispose]();
    expect(c.closed).toBe(true);
    expect(() => c.func('int add(int, int)')).toThrow(LibraryLoadError);
    expect(basename(c.path)).toBe('libfarcall_example-64.so');
  });
});

/** The first bytes of a PE file whose COFF header names `machine` (what readBinaryArch reads). */
function fakePe(machine: number): Buffer {
  const buffer = Buffer.alloc(0x100);
  buffer.write('MZ', 0, 'latin1');
  buffer.writeUInt32LE(0x80, 0x3c);
  buffer.write('PE\0\0', 0x80, 'latin1');
  buffer.writeUInt16LE(machine, 0x84);
  return buffer;
}
