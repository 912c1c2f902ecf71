/**
 * Reads the DLLs a Windows DLL imports, from its PE import table, and finds which of them the loader
 * cannot find — Windows only says "The specified module could not be found" (Wine: "Module not found"),
 * naming neither the dependency nor that it is one.
 *
 * Runs inside the 32-bit server too: Node 18 APIs only.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The names of the DLLs `path` imports (`['KERNEL32.dll', 'msvcrt.dll', 'vendor_core.dll']`), in the
 * order of its import table; `undefined` when it is no PE file or cannot be read.
 *
 * @example
 * ```ts
 * readPeImports('C:\\vendor\\daq.dll'); // ['KERNEL32.dll', 'daq_core.dll']
 * ```
 */
export function readPeImports(path: string): string[] | undefined {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return undefined;
  }
  try {
    if (file.length < 0x40 || file.readUInt16LE(0) !== 0x5a4d) return undefined;
    const pe = file.readUInt32LE(0x3c);
    if (file.readUInt32LE(pe) !== 0x00004550) return undefined;
    const sections = file.readUInt16LE(pe + 6);
    const optionalSize = file.readUInt16LE(pe + 20);
    const optional = pe + 24;
    const magic = file.readUInt16LE(optional);
    // The data directories follow the fixed fields: 96 bytes in PE32, 112 in PE32+; imports are entry 1.
    const directories = optional + (magic === 0x20b ? 112 : 96);
    const importRva = file.readUInt32LE(directories + 8);
    if (importRva === 0) return [];
    const table = optional + optionalSize;
    const toOffset = (rva: number): number | undefined => {
      for (let i = 0; i < sections; i++) {
        const s = table + i * 40;
        const virtualSize = file.readUInt32LE(s + 8);
        const virtualAddress = file.readUInt32LE(s + 12);
        const rawSize = file.readUInt32LE(s + 16);
        const rawPointer = file.readUInt32LE(s + 20);
        if (rva >= virtualAddress && rva < virtualAddress + Math.max(virtualSize, rawSize)) {
          return rva - virtualAddress + rawPointer;
        }
      }
      return undefined;
    };
    const names: string[] = [];
    let descriptor = toOffset(importRva);
    // 20-byte descriptors, ended by an all-zero one; the name RVA is at +12. Bounded: a broken file stops.
    while (descriptor !== undefined && descriptor + 20 <= file.length && names.length < 4096) {
      const nameRva = file.readUInt32LE(descriptor + 12);
      if (nameRva === 0) break;
      const at = toOffset(nameRva);
      if (at === undefined) break;
      const end = file.indexOf(0, at);
      names.push(file.toString('latin1', at, end < 0 ? Math.min(file.length, at + 260) : end));
      descriptor += 20;
    }
    return names;
  } catch {
    return undefined;
  }
}

/**
 * The imports of `path` that are in none of the folders the Windows loader searches: the DLL's own
 * folder, the system folders, the working directory, `PATH`, and `extraDirs`. API sets
 * (`api-ms-win-*`, `ext-ms-*`) are virtual and never missing. `undefined` when the imports cannot be read.
 */
export function missingPeImports(
  path: string,
  extraDirs: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): string[] | undefined {
  const imports = readPeImports(path);
  if (imports === undefined) return undefined;
  const windows = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows';
  const dirs = [
    dirname(path),
    ...extraDirs,
    join(windows, 'System32'),
    join(windows, 'System'),
    windows,
    process.cwd(),
    ...(env.PATH ?? env.Path ?? '').split(';'),
  ].filter((dir) => dir !== '');
  return imports.filter(
    (name) => !/^(api|ext)-ms-/i.test(name) && !dirs.some((dir) => existsSync(join(dir, name))),
  );
}
