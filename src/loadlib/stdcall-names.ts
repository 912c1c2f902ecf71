/**
 * Finds a `__stdcall` function of a 32-bit Windows DLL under its decorated name. Compilers export
 * stdcall functions as `name@N` (MinGW) or `_name@N` (MSVC), N being the bytes of the arguments, unless
 * the DLL was linked with a .def file or `--kill-at`; ctypes (and so msl-loadlib's `WinDLL`) finds them
 * by the plain name. farcall does the same: when koffi cannot find `name`, it tries the decorated names.
 *
 * Runs inside the 32-bit server: Node 18 APIs only.
 * @module
 */
import * as koffi from 'koffi';

type Declared = ReturnType<koffi.LibraryHandle['func']>;
type TypeSpec = Parameters<koffi.LibraryHandle['func']>[2];

interface ProtoInfo {
  proto?: {
    result: TypeSpec;
    arguments: { type: TypeSpec & { size?: number }; direction: string }[];
  };
}

let probeCount = 0;

/** True when a koffi error says the symbol is not in the library. */
export function isMissingSymbol(error: unknown): boolean {
  return error instanceof Error && /Cannot find function/i.test(error.message);
}

/** Whether decorated names apply here: only 32-bit Windows decorates stdcall names. */
export function decoratesStdcall(): boolean {
  return process.platform === 'win32' && process.arch === 'ia32';
}

/**
 * Declares the stdcall function of a C prototype under its decorated name; `undefined` when neither
 * `name@N` nor `_name@N` is exported. Returns the names tried in `tried`.
 */
export function declareDecoratedPrototype(
  lib: koffi.LibraryHandle,
  prototype: string,
  tried: string[],
): Declared | undefined {
  const match = /([A-Za-z_]\w*)\s*\(/.exec(prototype);
  if (match === null) return undefined;
  const name = match[1];
  // koffi's parser takes no '@' in a name: parse the prototype under a unique name, then declare the
  // decorated name with the types it found (the classic form takes any name).
  const probe = prototype.replace(/([A-Za-z_]\w*)\s*\(/, `farcall_stdcall_probe_${++probeCount}(`);
  const info = koffi.type(koffi.proto(probe)) as unknown as ProtoInfo;
  if (info.proto === undefined) return undefined;
  const args = info.proto.arguments.map((arg) =>
    arg.direction === 'Output'
      ? koffi.out(arg.type)
      : arg.direction === 'InOut'
        ? koffi.inout(arg.type)
        : arg.type,
  );
  const bytes = info.proto.arguments.reduce((sum, arg) => sum + stackBytes(arg.type.size ?? 4), 0);
  return declareAs(lib, name, bytes, info.proto.result, args as TypeSpec[], tried);
}

/** {@link declareDecoratedPrototype} for koffi's classic form (name, result, argument types). */
export function declareDecoratedClassic(
  lib: koffi.LibraryHandle,
  name: string,
  result: TypeSpec,
  args: TypeSpec[],
  tried: string[],
): Declared | undefined {
  const bytes = args.reduce<number>((sum, arg) => sum + stackBytes(sizeOf(arg)), 0);
  return declareAs(lib, name, bytes, result, args, tried);
}

function declareAs(
  lib: koffi.LibraryHandle,
  name: string,
  bytes: number,
  result: TypeSpec,
  args: TypeSpec[],
  tried: string[],
): Declared | undefined {
  for (const decorated of [`${name}@${bytes}`, `_${name}@${bytes}`]) {
    tried.push(decorated);
    try {
      return lib.func('__stdcall', decorated, result, args);
    } catch (error) {
      if (!isMissingSymbol(error)) throw error;
    }
  }
  return undefined;
}

/** Each stdcall argument takes a multiple of 4 bytes on the stack. */
function stackBytes(size: number): number {
  return Math.ceil(size / 4) * 4;
}

function sizeOf(type: TypeSpec): number {
  try {
    return koffi.sizeof(type as Parameters<typeof koffi.sizeof>[0]);
  } catch {
    // an out/inout marker: a pointer
    return 4;
  }
}
