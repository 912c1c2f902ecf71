/**
 * `LoadLibrary`: loads a shared library with koffi, the way msl-loadlib's `LoadLibrary` does with ctypes,
 * and explains a failure: which file, why (not found, wrong bitness, a missing dependency, not a
 * library), and what to do about it.
 *
 * This module also runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import { basename } from 'node:path';
import * as koffi from 'koffi';
import { LibraryLoadError } from '../errors.js';
import { processBits, readBinaryArch } from './binary-arch.js';
import { checkedFunction } from './checked-function.js';
import { defaultLibraryExtension, findLibraryFile, type LibrarySearchResult } from './library-path.js';
import { checkHResult } from './oledll.js';
import { missingPeImports } from './pe-imports.js';
import {
  declareDecoratedClassic,
  declareDecoratedPrototype,
  decoratesStdcall,
  isMissingSymbol,
} from './stdcall-names.js';

/**
 * How a library's functions are called: `'cdll'` (the C convention, `__cdecl`) or `'windll'`
 * (`__stdcall`, the Win32 API convention). `'windll'` only differs from `'cdll'` on 32-bit Windows;
 * elsewhere it behaves as `'cdll'`, as every other platform has one calling convention.
 */
export type LibType = 'cdll' | 'windll' | 'oledll';

/**
 * The libtypes `LoadLibrary` accepts. `'oledll'` is `'windll'` whose functions return an HRESULT: a
 * failure code throws an `HResultError` (see `./oledll.ts`).
 */
export const LIBTYPES: readonly LibType[] = ['cdll', 'windll', 'oledll'];

/** A koffi type: a type name (`'int'`, `'double *'`), a type object, or an `out`/`inout` marker. */
export type KoffiTypeSpec = string | koffi.TypeObject | ReturnType<typeof koffi.out>;

/** A function declared with `LoadLibrary.func()` (koffi's function object). */
export type KoffiFunction = ReturnType<koffi.LibraryHandle['func']>;

/** Options of `LoadLibrary`. */
export interface LoadLibraryOptions {
  /** Folders to search for a relative path, after the working directory and before `LD_LIBRARY_PATH`/`PATH`. */
  searchPaths?: readonly string[] | undefined;
  /** Resolve symbols when first called (`RTLD_LAZY`) instead of at load time. Default `false`. */
  lazy?: boolean | undefined;
  /** Make the library's symbols available to libraries loaded later (`RTLD_GLOBAL`). Default `false`. */
  global?: boolean | undefined;
  /** Prefer the library's own symbols over global ones (`RTLD_DEEPBIND`, Linux). Default `false`. */
  deep?: boolean | undefined;
}

const MSL_ONLY_LIBTYPES = ['net', 'clr', 'java', 'com', 'activex'];

/**
 * Loads a shared library (`.so`, `.dll`, `.dylib`) into this process with koffi.
 *
 * The path may be absolute, relative to the working directory, or a name found on `searchPaths`,
 * `LD_LIBRARY_PATH` (Linux), `DYLD_LIBRARY_PATH` (macOS) or `PATH`; the platform's extension is added
 * when missing. A bare name found nowhere (`'libm.so.6'`) is handed to the system loader, which knows
 * the system's folders. Only a library of this process's bitness can be loaded: for a 32-bit library in
 * a 64-bit Node.js, use `Client64`/`Server32` from `farcall/loadlib`.
 *
 * @example
 * ```ts
 * import { LoadLibrary } from 'farcall/loadlib';
 *
 * using lib = new LoadLibrary('./native/build/libfarcall_example-64');
 * const add = lib.func('int add(int a, int b)');
 * add(1, 2); // 3
 * ```
 */
export class LoadLibrary {
  /** The absolute path of the loaded file (or the name the system loader resolved). */
  readonly path: string;
  /** The libtype the library was loaded with. */
  readonly libtype: LibType;
  /** The calling convention `func()` declares functions with: `'__stdcall'` for windll on Windows, else `''`. */
  readonly callingConvention: '' | '__stdcall';
  #lib: koffi.LibraryHandle | undefined;
  #checkedLib: koffi.LibraryHandle | undefined;

  /**
   * @param path - the library: a path, or a name on the search paths; the extension may be left out
   * @param libtype - `'cdll'` (default), `'windll'` or `'oledll'`; the name is case-insensitive, as in msl-loadlib
   * @param options - search folders and koffi's load flags
   * @throws LibraryLoadError when the file is not found, has the wrong bitness, lacks a dependency, is
   *   not a shared library, or `libtype` is not one of {@link LIBTYPES}
   */
  constructor(path: string, libtype: LibType = 'cdll', options: LoadLibraryOptions = {}) {
    if (typeof path !== 'string' || path === '') {
      throw new LibraryLoadError(
        String(path),
        `The library path must be a non-empty string, got ${describe(path)}`,
      );
    }
    this.libtype = checkLibType(path, libtype);
    this.callingConvention = this.libtype !== 'cdll' && process.platform === 'win32' ? '__stdcall' : '';

    const search = findLibraryFile(path, { searchPaths: options.searchPaths });
    const found = search.found;
    if (found !== undefined) checkBitness(found);
    // A bare name found nowhere may still be known to the system loader (ld.so.cache, system folders).
    const target = found ?? (isBareName(path) ? path : undefined);
    if (target === undefined) throw notFound(path, search);

    const loadOptions = {
      lazy: options.lazy ?? false,
      global: options.global ?? false,
      deep: options.deep ?? false,
    };
    try {
      this.#lib = koffi.load(target, loadOptions);
    } catch (err) {
      if (found === undefined && isNoSuchFile(err, target)) throw notFound(path, search);
      throw explainLoadFailure(target, err, options.searchPaths ?? []);
    }
    this.path = target;
  }

  /**
   * The koffi library handle: declare functions with `lib.func(...)`. Functions declared through it are
   * checked as {@link LoadLibrary.func}'s are (extra arguments refused, a wrong argument named).
   * @throws LibraryLoadError after `close()`
   */
  get lib(): koffi.LibraryHandle {
    const handle = this.#lib;
    if (handle === undefined) {
      throw new LibraryLoadError(
        this.path,
        `The library ${this.path} has been closed; load it again to use it`,
      );
    }
    this.#checkedLib ??= checkedHandle(handle);
    return this.#checkedLib;
  }

  #rawLib(): koffi.LibraryHandle {
    this.lib; // throws after close()
    return this.#lib as koffi.LibraryHandle;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#lib === undefined;
  }

  /**
   * Declares a function of the library with the libtype's calling convention (`__stdcall` for windll on
   * Windows), from a C prototype or koffi's classic form. A convention written in the prototype wins.
   * The function refuses extra arguments (koffi would ignore them) and names a wrong one:
   * `add(int a, int b): argument 2 (b: int) cannot take 'x' (a string): Unexpected String value, expected number`.
   *
   * @example
   * ```ts
   * const add = lib.func('int add(int a, int b)');
   * const scale = lib.func('scalar_multiply', 'void', ['double', 'double *', 'int', koffi.out('double *')]);
   * ```
   */
  func(prototype: string): KoffiFunction;
  func(name: string, result: KoffiTypeSpec, args: KoffiTypeSpec[]): KoffiFunction;
  func(nameOrPrototype: string, result?: KoffiTypeSpec, args?: KoffiTypeSpec[]): KoffiFunction {
    const fn = this.#declare(nameOrPrototype, result, args);
    const variadic = result === undefined ? nameOrPrototype.includes('...') : (args ?? []).includes('...');
    const checked = checkedFunction(fn, nameOrPrototype, variadic);
    return this.libtype === 'oledll' ? checkHResult(functionName(nameOrPrototype, result), checked) : checked;
  }

  #declare(nameOrPrototype: string, result?: KoffiTypeSpec, args?: KoffiTypeSpec[]): KoffiFunction {
    try {
      return this.#declareAsGiven(nameOrPrototype, result, args);
    } catch (error) {
      const stdcall =
        this.callingConvention === '__stdcall' ||
        /\b__stdcall\b/.test(result === undefined ? nameOrPrototype : '');
      if (!isMissingSymbol(error) || !stdcall || !decoratesStdcall()) throw error;
      const tried: string[] = [];
      const lib = this.#rawLib();
      const fn =
        result === undefined
          ? declareDecoratedPrototype(lib, withConvention(nameOrPrototype, '__stdcall'), tried)
          : declareDecoratedClassic(lib, nameOrPrototype, result as never, (args ?? []) as never, tried);
      if (fn !== undefined) return fn;
      const name = functionName(nameOrPrototype, result);
      throw new LibraryLoadError(
        this.path,
        `Cannot find the function '${name}' in ${this.path}, nor its __stdcall decorated names ` +
          `${tried.map((t) => `'${t}'`).join(', ')}. Check the name and the arguments (the number after '@' is ` +
          "the arguments' bytes); 'objdump -p' or 'dumpbin /exports' lists what the DLL exports.",
        { cause: error },
      );
    }
  }

  #declareAsGiven(nameOrPrototype: string, result?: KoffiTypeSpec, args?: KoffiTypeSpec[]): KoffiFunction {
    const lib = this.#rawLib();
    if (result === undefined) return lib.func(withConvention(nameOrPrototype, this.callingConvention));
    if (this.callingConvention === '') return lib.func(nameOrPrototype, result, args ?? []);
    return lib.func(this.callingConvention, nameOrPrototype, result, args ?? []);
  }

  /**
   * Unloads the library. Functions declared from it must not be called afterwards (they would crash the
   * process: koffi cannot check). Idempotent.
   */
  close(): void {
    const lib = this.#lib;
    this.#lib = undefined;
    this.#checkedLib = undefined;
    lib?.unload();
  }

  /** msl-loadlib's name for {@link LoadLibrary.close}. */
  unload(): void {
    this.close();
  }

  /** Closes the library at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `LoadLibrary(libtype='${this.libtype}', path='${this.path}')`;
  }
}

/**
 * The koffi handle with a `func` that declares checked functions (see `checked-function`); every other
 * member is the handle's own.
 */
function checkedHandle(handle: koffi.LibraryHandle): koffi.LibraryHandle {
  const func = (...declaration: unknown[]): KoffiFunction => {
    const fn = (handle.func as (...args: unknown[]) => KoffiFunction)(...declaration);
    // koffi's forms: (prototype), (name, result, args), (convention, name, result, args).
    const name = declaration.length === 4 || declaration.length === 2 ? declaration[1] : declaration[0];
    const args = declaration[declaration.length - 1];
    const variadic =
      (typeof name === 'string' && name.includes('...')) || (Array.isArray(args) && args.includes('...'));
    return checkedFunction(fn, typeof name === 'string' ? name : String(name), variadic);
  };
  return new Proxy(handle, {
    get(target, key) {
      if (key === 'func') return func;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function checkLibType(path: string, libtype: unknown): LibType {
  const name = typeof libtype === 'string' ? libtype.toLowerCase() : libtype;
  if (name === 'cdll' || name === 'windll' || name === 'oledll') return name;
  const valid = LIBTYPES.map((t) => `'${t}'`).join(', ');
  const extra =
    typeof name === 'string' && MSL_ONLY_LIBTYPES.includes(name)
      ? ` ('${name}' is an msl-loadlib libtype for .NET, Java or COM, which farcall does not load)`
      : '';
  throw new LibraryLoadError(
    path,
    `Cannot load ${path}: libtype ${describe(libtype)} is not supported${extra}. Use one of ${valid}: ` +
      `'cdll' for the C calling convention, 'windll' for __stdcall (32-bit Windows), 'oledll' for __stdcall ` +
      'functions that return an HRESULT.',
  );
}

function checkBitness(path: string): void {
  const binary = readBinaryArch(path);
  if (binary === undefined || binary.arch === 'unknown') return;
  if (binary.format === 'pe' && process.platform !== 'win32') {
    throw new LibraryLoadError(
      path,
      `Cannot load ${path}: it is a Windows DLL (${binary.arch}, ${binary.bits}-bit, read from its PE header) and ` +
        `this is ${process.platform}, whose loader cannot load one. On Linux, call it through Wine: ` +
        "new Client64(module, { runtime: 'wine' }) runs the server in 32-bit Windows Node.js (set it up once " +
        'with: npx farcall server32 setup --wine).',
    );
  }
  const ours = processBits();
  if (binary.bits !== ours) {
    const header = `its ${binary.format === 'pe' ? 'PE' : binary.format === 'elf' ? 'ELF' : 'Mach-O'} header says ${binary.arch}, ${binary.bits}-bit`;
    throw new LibraryLoadError(path, `${bitnessMessage(path, binary.bits, ours)} (${header})`);
  }
  if (binary.arch !== process.arch) {
    throw new LibraryLoadError(
      path,
      `Cannot load ${path}: it is built for ${binary.arch} and this Node.js runs on ${process.arch}. ` +
        `Get a build of the library for ${process.arch}.`,
    );
  }
}

function bitnessMessage(path: string, libraryBits: number, processBitness: number): string {
  if (libraryBits === 32) {
    return (
      `Cannot load ${path}: this is a 32-bit library and this Node.js is 64-bit: ` +
      'use Client64/Server32 from farcall/loadlib, which load it in a 32-bit Node.js and call it from here ' +
      '(set up the 32-bit runtime once with: bash node_modules/farcall/scripts/setup-server32.sh).'
    );
  }
  return (
    `Cannot load ${path}: this is a ${libraryBits}-bit library and this Node.js is ${processBitness}-bit: ` +
    'a 32-bit process cannot load a 64-bit library. Load it from a 64-bit Node.js, or get a 32-bit build of it.'
  );
}

function notFound(path: string, search: LibrarySearchResult): LibraryLoadError {
  const names = search.names.join(', ');
  const where =
    search.dirs.length === 0
      ? `Looked for ${names}.`
      : `Looked for ${names} in:\n${search.dirs.map((dir) => `  ${dir}`).join('\n')}` +
        (isBareName(path) ? "\nand in the system loader's folders." : '');
  return new LibraryLoadError(
    path,
    `Cannot load ${path}: the file was not found. ${where}\n` +
      'Fix: pass the absolute path of the library, or add its folder to the searchPaths option ' +
      `(or to LD_LIBRARY_PATH/PATH). The default extension (${defaultLibraryExtension()}) is added when missing.` +
      (/libfarcall_/.test(path)
        ? "\nfarcall's example libraries are built on demand: npx farcall build-examples"
        : ''),
  );
}

function explainLoadFailure(path: string, err: unknown, searchPaths: readonly string[]): LibraryLoadError {
  const reason = errorMessage(err).replace(/^Failed to load shared library:\s*/, '');
  const name = basename(path);

  // glibc: "<file>: cannot open shared object file: No such file or directory" — naming a file other
  // than ours means one of its dependencies is missing.
  const missing = /(?:^|\s)([^\s:]+): cannot open shared object file/.exec(reason)?.[1];
  if (missing !== undefined && basename(missing) !== name) {
    return new LibraryLoadError(
      path,
      `Cannot load ${path}: it depends on ${missing}, which was not found (${reason}). ` +
        `Fix: install ${missing}, or add the folder that holds it to LD_LIBRARY_PATH before Node.js starts ` +
        "(with Client64, the appendEnvironPath option). 'ldd' lists a library's dependencies.",
      { cause: err },
    );
  }
  if (
    /wrong ELF class|not a valid Win32 application|incompatible architecture|wrong architecture/i.test(reason)
  ) {
    const ours = processBits();
    return new LibraryLoadError(path, `${bitnessMessage(path, ours === 64 ? 32 : 64, ours)} (${reason})`, {
      cause: err,
    });
  }
  // Windows says "The specified module could not be found" (Wine: "Module not found") both for the file
  // and for a dependency; the file exists (we found it), so it is a dependency: its import table names it.
  if (/specified module could not be found|module not found/i.test(reason)) {
    const missingDlls = missingPeImports(path, searchPaths);
    if (missingDlls !== undefined && missingDlls.length > 0) {
      const list = missingDlls.join(', ');
      return new LibraryLoadError(
        path,
        `Cannot load ${path}: it depends on ${list}, which ${missingDlls.length === 1 ? 'was' : 'were'} not found ` +
          `beside it, in the system folders or on PATH (${reason}). Fix: put ${list} beside the library or on ` +
          'PATH (with Client64, the appendEnvironPath or addDllDirectory options).',
        { cause: err },
      );
    }
    return new LibraryLoadError(
      path,
      `Cannot load ${path}: one of the DLLs it depends on was not found (${reason}). ` +
        'Fix: put the dependency beside the library or on PATH (with Client64, the appendEnvironPath or ' +
        "addDllDirectory options); the 'Dependencies' tool lists what a DLL needs.",
      { cause: err },
    );
  }
  if (/invalid ELF header|file too short|not a mach-o file|not a valid/i.test(reason)) {
    return new LibraryLoadError(
      path,
      `Cannot load ${path}: it is not a shared library (${reason}). Check that the path names the library ` +
        `(${defaultLibraryExtension()}) and not another file.`,
      { cause: err },
    );
  }
  return new LibraryLoadError(path, `Cannot load ${path}: ${reason}`, { cause: err });
}

function isNoSuchFile(err: unknown, target: string): boolean {
  const reason = errorMessage(err);
  return (
    reason.includes(`${target}: cannot open shared object file`) ||
    /image not found|no such file|specified module could not be found|module not found/i.test(reason)
  );
}

function isBareName(path: string): boolean {
  return !path.includes('/') && !path.includes('\\');
}

function withConvention(prototype: string, convention: string): string {
  if (convention === '' || /\b__(?:cdecl|stdcall|fastcall|thiscall)\b/.test(prototype)) return prototype;
  // "int add(int a, int b)" → "int __stdcall add(int a, int b)": the convention goes before the name.
  return prototype.replace(/([A-Za-z_]\w*)\s*\(/, `${convention} $1(`);
}

/** The function's name, from a prototype (`'HRESULT hr_fail(void)'` → `'hr_fail'`) or the classic form. */
function functionName(nameOrPrototype: string, result: KoffiTypeSpec | undefined): string {
  if (result !== undefined) return nameOrPrototype;
  return /([A-Za-z_][\w@]*)\s*\(/.exec(nameOrPrototype)?.[1] ?? nameOrPrototype;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}
