// Each examples/loadlib/*/README.md gives the exact compiler command that builds its library: every such
// command compiles as written (into a temporary folder instead of native/build) and gives a library of
// the bitness it says, so a user who copies it gets what the example loads. The MinGW commands
// (i686-w64-mingw32-*, x86_64-w64-mingw32-*) give a 32- or 64-bit DLL that imports only system DLLs, so it
// runs on any Windows (and Wine).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readBinaryArch } from '../../src/loadlib/binary-arch.js';
import { readPeImports } from '../../src/loadlib/pe-imports.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const examples = join(root, 'examples', 'loadlib');

/** The examples that load a library of the system (kernel32.dll): nothing to build. */
const SYSTEM_LIBRARY_EXAMPLES = new Set(['kernel32']);

/** The DLLs every Windows has: what a DLL built with a statically linked runtime may import. */
const SYSTEM_DLLS = new Set(['kernel32.dll', 'msvcrt.dll', 'user32.dll', 'advapi32.dll']);

/**
 * [folder, command] for each `gcc|g++|gfortran -m32|-m64 ...` and `(i686|x86_64)-w64-mingw32-gcc|g++|gfortran
 * ...` line of the folders' READMEs.
 */
const commands: [string, string][] = readdirSync(examples, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((entry) =>
    readFileSync(join(examples, entry.name, 'README.md'), 'utf8')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) =>
        /^((gcc|g\+\+|gfortran) -m(32|64)|(i686|x86_64)-w64-mingw32-(gcc|g\+\+|gfortran)) /.test(line),
      )
      .map((line): [string, string] => [entry.name, line]),
  );

const out = mkdtempSync(join(tmpdir(), 'farcall-examples-build-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the build commands of examples/loadlib/*/README.md', () => {
  it('every example folder gives its 32-bit command, for Linux and for Windows', () => {
    const folders = readdirSync(examples, { withFileTypes: true }).filter(
      (e) => e.isDirectory() && !SYSTEM_LIBRARY_EXAMPLES.has(e.name),
    );
    for (const folder of folders) {
      expect(
        commands.some(([name, command]) => name === folder.name && command.includes(' -m32 ')),
        `${folder.name}/README.md should give its -m32 build command`,
      ).toBe(true);
      expect(
        commands.some(([name, command]) => name === folder.name && command.startsWith('i686-w64-mingw32-')),
        `${folder.name}/README.md should give its MinGW build command (the 32-bit DLL)`,
      ).toBe(true);
    }
  });

  it.each(commands)(
    '%s: %s',
    async (_folder, command) => {
      const [compiler, ...args] = command.split(/\s+/);
      const output = args.indexOf('-o');
      expect(output, 'the command names its output with -o').toBeGreaterThan(0);
      expect(args[output + 1]).toMatch(/^native\/build\//);
      const target = join(out, basename(args[output + 1]));
      args[output + 1] = target;
      const { stderr } = await run(compiler, args, { cwd: root, timeout: 60_000 });
      expect(stderr, 'the command compiles without warnings').toBe('');
      if (compiler.includes('-w64-mingw32-')) {
        const pe = compiler.startsWith('i686-') ? { arch: 'ia32', bits: 32 } : { arch: 'x64', bits: 64 };
        expect(readBinaryArch(target)).toEqual({ format: 'pe', ...pe });
        const imports = (readPeImports(target) ?? ['(no import table)']).map((name) => name.toLowerCase());
        expect(
          imports.filter((name) => !SYSTEM_DLLS.has(name)),
          'it imports only system DLLs',
        ).toEqual([]);
        return;
      }
      const bits = command.includes(' -m32 ') ? 32 : 64;
      expect(readBinaryArch(target)).toEqual({ format: 'elf', arch: bits === 32 ? 'ia32' : 'x64', bits });
    },
    90_000,
  );
});
