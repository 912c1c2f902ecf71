// The README's "farcall/loadlib on Windows" example, word for word: its my-server.mjs and main.mjs are
// taken from the README, put in the folder layout it shows (with farcall's example DLL as my_lib.dll), and
// main.mjs runs in 64-bit Windows Node.js under Wine with the runtime `farcall server32 setup` installs.
// So does its try-cpp.mjs, on farcall's C++ example DLL (built by scripts/build-windows-dlls.sh with the
// README's MinGW command, which examples-build.test.ts compiles as written).
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findWineServer32Runtime } from '../../src/loadlib/wine.js';
import { buildWindowsDlls, dll, runWindowsNode } from './windows-helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The code block that follows "`<name>`:" in the README's Windows section. */
function readmeBlock(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### farcall/loadlib on Windows'));
  const at = section.indexOf(`\`${name}\`:`);
  expect(at, `the README's Windows section has no ${name}`).toBeGreaterThan(0);
  const block = /```js\n([\s\S]*?)```/.exec(section.slice(at));
  // The README indents the block inside a numbered list.
  return (block?.[1] ?? '').replace(/^ {3}/gm, '');
}

let project: string;
/** The 32-bit runtime in the layout `npx farcall server32 setup` gives on Windows (its npm install --prefix). */
let server32Dir: string;
beforeAll(() => {
  buildWindowsDlls();
  project = mkdtempSync(join(tmpdir(), 'farcall-readme-windows-'));
  // The README's folder layout: <dir>\node_modules\node-win-x86\bin\node.exe and
  // <dir>\node_modules\@koromix\koffi-win32-ia32 (the Wine set-up's own copies, linked).
  const runtime = findWineServer32Runtime();
  server32Dir = join(project, 'server32');
  mkdirSync(join(server32Dir, 'node_modules', '@koromix'), { recursive: true });
  symlinkSync(
    join(runtime.dir, 'node_modules', 'node-win-x86'),
    join(server32Dir, 'node_modules', 'node-win-x86'),
  );
  symlinkSync(
    join(runtime.dir, 'koffi', runtime.koffiVersion, 'node_modules', '@koromix', 'koffi-win32-ia32'),
    join(server32Dir, 'node_modules', '@koromix', 'koffi-win32-ia32'),
  );
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(root, join(project, 'node_modules', 'farcall'));
  mkdirSync(join(project, 'vendor', 'deps'), { recursive: true });
  copyFileSync(dll('farcall_example-32.dll'), join(project, 'vendor', 'my_lib.dll'));
  writeFileSync(join(project, 'my-server.mjs'), readmeBlock('my-server.mjs'));
  writeFileSync(join(project, 'main.mjs'), readmeBlock('main.mjs'));
  writeFileSync(join(project, 'try-cpp.mjs'), readmeBlock('try-cpp.mjs'));
}, 120_000);
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

describe("the README's Windows example", () => {
  it('main.mjs prints 3, computed by my_lib.dll in the 32-bit server', async () => {
    const run = await runWindowsNode(join(project, 'main.mjs'), [], { cwd: project, server32Dir });
    expect(run, run.output).toMatchObject({ code: 0, signal: null });
    expect(run.output.trim().split(/\r?\n/).at(-1)).toBe('3');
  }, 300_000);

  it("try-cpp.mjs runs farcall's C++ example DLL through the example's own server module", async () => {
    const run = await runWindowsNode(join(project, 'try-cpp.mjs'), [], { cwd: project, server32Dir });
    expect(run, run.output).toMatchObject({ code: 0, signal: null });
    expect(run.output.trim().split(/\r?\n/).slice(-2)).toEqual(['-128', 'desserts']);
  }, 300_000);

  it('`npx farcall server32 --version` prints the 32-bit Windows Node.js version, 22.x.y', async () => {
    const cli = join(project, 'node_modules', 'farcall', 'dist', 'cli', 'main.js');
    const run = await runWindowsNode(cli, ['server32', '--version'], { cwd: project, server32Dir });
    expect(run, run.output).toMatchObject({ code: 0, signal: null });
    expect(run.output.trim().split(/\r?\n/).at(-1)).toMatch(/^22\.\d+\.\d+$/);
  }, 300_000);

  it('gives the MinGW command that the C++ example README gives', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const cppReadme = readFileSync(join(root, 'examples', 'loadlib', 'cpp', 'README.md'), 'utf8');
    const command = /^ *(i686-w64-mingw32-g\+\+ .*)$/m.exec(
      readme.slice(readme.indexOf('### farcall/loadlib on Windows')),
    );
    expect(command?.[1]).toBeDefined();
    expect(cppReadme).toContain(command?.[1]);
  });
});
