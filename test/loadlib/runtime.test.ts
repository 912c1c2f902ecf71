// The 32-bit runtime: finding it, and really running the 32-bit node (made by scripts/setup-server32.sh,
// which CI runs first) on the BUILT farcall (dist/, which `npm test` builds first).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server32RuntimeNotFoundError } from '../../src/errors.js';
import { resolveBuiltModule } from '../../src/internal/module-path.js';
import {
  defaultServer32Dir,
  farcallKoffiVersion,
  findServer32Runtime,
  probeServer32Version,
  type Server32Runtime,
  server32Version,
} from '../../src/loadlib/runtime.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const build = join(root, 'native', 'build');
const lib32 = join(build, 'libfarcall_example-32.so');
const lib64 = join(build, 'libfarcall_example-64.so');
const koffiUrl = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('koffi')), 'index.js'),
).href;
const libraryUrl = pathToFileURL(
  resolveBuiltModule(new URL('../../src/loadlib/', import.meta.url).href, './library.js'),
).href;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs an ES module given as text in the 32-bit node, with a deadline, and collects its output. */
function run32(
  runtime: Server32Runtime,
  source: string,
  args: string[] = [],
  timeoutMs = 15_000,
): Promise<Run> {
  return runNode(runtime, ['--input-type=module', '-e', source, ...args], timeoutMs);
}

function runNode(runtime: Server32Runtime, nodeArgs: string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(runtime.command, [...runtime.args, ...nodeArgs], {
      env: runtime.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the 32-bit node did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const loadAndPrint = (libraryPath: string, body: string): string => `
  import * as koffi from ${JSON.stringify(koffiUrl)};
  import { LoadLibrary } from ${JSON.stringify(libraryUrl)};
  try {
    const lib = new LoadLibrary(${JSON.stringify(libraryPath)});
    ${body}
  } catch (err) {
    console.log(err.name + ' ' + err.code + ': ' + err.message);
  }`;

describe('the real 32-bit runtime', () => {
  let runtime: Server32Runtime;
  beforeAll(() => {
    runtime = findServer32Runtime();
  });

  it('is found where the setup script put it, with its version recorded', () => {
    expect(runtime.dir).toBe(defaultServer32Dir());
    expect(statSync(runtime.command).isFile()).toBe(true);
    expect(runtime.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(runtime.koffiVersion).toBe(farcallKoffiVersion());
    expect(runtime.env.NODE_PATH?.split(':')[0]).toBe(
      join(runtime.dir, 'koffi', runtime.koffiVersion, 'node_modules'),
    );
  });

  it('starts a 32-bit node whose version is the recorded one', async () => {
    const probed = await probeServer32Version(runtime);
    expect(probed).toEqual({ version: runtime.version, arch: 'ia32' });
    expect(await server32Version()).toBe(probed.version);
  });

  it('loads the 32-bit library through the built LoadLibrary and koffi: add(1, 2) = 3', async () => {
    const result = await run32(
      runtime,
      loadAndPrint(
        lib32,
        `console.log(process.arch, koffi.version, lib.func('int add(int a, int b)')(1, 2));`,
      ),
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`ia32 ${runtime.koffiVersion} 3`);
  });

  it('calls every function of the example contract in 32-bit (structs by value, arrays, strings)', async () => {
    const script = fileURLToPath(new URL('./fixtures/example-contract.mjs', import.meta.url));
    const result = await runNode(runtime, [script, koffiUrl, libraryUrl, lib32]);
    expect(result.stderr).toBe('');
    const values = JSON.parse(result.stdout);
    expect(values).toMatchObject({
      arch: 'ia32',
      pointerSize: 4,
      add: 3,
      addOverflow: -2147483648,
      subtract: Math.fround(Math.fround(44.2) - Math.fround(4.4)),
      addition: 3.75,
      subtraction: -0.75,
      scalarMultiply: [2, 4, 6, 8],
      reverseV1: 'ytniatrecnu',
      reverseV2: 'ytniatrecnu',
      distance4: 4,
      addStdcall: 3,
    });
    expect(values.circumference).toBeCloseTo(Math.PI, 8);
  });

  it('refuses the 64-bit library in the 32-bit node with the bitness message', async () => {
    const result = await run32(runtime, loadAndPrint(lib64, `console.log('loaded');`));
    expect(result.stdout).toContain(
      `LibraryLoadError ERR_FARCALL_LIBRARY_LOAD: Cannot load ${lib64}: this is a 64-bit library and this Node.js is 32-bit`,
    );
  });

  it('finds a dependency through LD_LIBRARY_PATH of the env it was given, and names it when missing', async () => {
    const usesDep = join(build, 'libfarcall_uses_dep-32.so');
    const body = `console.log('answer', lib.func('int uses_dep_answer()')());`;
    const withDeps = findServer32Runtime({ env: { ...process.env, LD_LIBRARY_PATH: join(build, 'deps') } });
    expect((await run32(withDeps, loadAndPrint(usesDep, body))).stdout.trim()).toBe('answer 42');

    const without = findServer32Runtime({ env: { ...process.env, LD_LIBRARY_PATH: '' } });
    const missing = await run32(without, loadAndPrint(usesDep, body));
    expect(missing.stdout).toContain('it depends on libfarcall_dep-32.so, which was not found');
  });

  it('crash() in the 32-bit library kills the 32-bit node with SIGSEGV', async () => {
    const result = await run32(
      runtime,
      loadAndPrint(lib32, `lib.func('int crash()')(); console.log('alive');`),
    );
    expect(result.signal).toBe('SIGSEGV');
    expect(result.stdout).not.toContain('alive');
  });

  it("drops this process's NODE_OPTIONS and passes FARCALL_SERVER32_NODE_OPTIONS instead", async () => {
    const custom = findServer32Runtime({
      env: {
        ...process.env,
        NODE_OPTIONS: '--no-such-flag-for-node-18',
        FARCALL_SERVER32_NODE_OPTIONS: '--max-old-space-size=200',
      },
    });
    expect(custom.env.NODE_OPTIONS).toBe('--max-old-space-size=200');
    const result = await run32(custom, `console.log(process.env.NODE_OPTIONS, process.arch);`);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('--max-old-space-size=200 ia32');
  });

  it('needs no --experimental flag for ES modules, top-level await or Symbol.dispose on its Node', async () => {
    const result = await run32(
      runtime,
      `await Promise.resolve(); console.log(typeof Symbol.dispose, typeof Symbol.asyncDispose);`,
    );
    expect(result.stdout.trim()).toBe('symbol symbol');
  });
});

describe('findServer32Runtime when the runtime is missing', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'farcall-runtime-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  function notFound(find: () => unknown): Server32RuntimeNotFoundError {
    try {
      find();
    } catch (err) {
      expect(err).toBeInstanceOf(Server32RuntimeNotFoundError);
      return err as Server32RuntimeNotFoundError;
    }
    throw new Error('expected Server32RuntimeNotFoundError');
  }

  it('says where it looked and the command that fixes it (server32Dir option)', () => {
    const dir = join(scratch, 'empty');
    const err = notFound(() => findServer32Runtime({ server32Dir: dir }));
    expect(err.code).toBe('ERR_FARCALL_SERVER32_RUNTIME_NOT_FOUND');
    expect(err.dir).toBe(dir);
    expect(err.message).toContain(
      `The 32-bit Node.js runtime that Server32 runs in is not in ${dir} (the server32Dir option)`,
    );
    expect(err.message).toContain(`  ${join(dir, 'usr', 'bin', 'node')}`);
    expect(err.message).toContain(`  ${join(dir, 'bin', 'node')}`);
    expect(err.message).toContain(`Fix: bash node_modules/farcall/scripts/setup-server32.sh --dir '${dir}'`);
  });

  it('honours FARCALL_SERVER32_DIR, then FARCALL_HOME/server32', () => {
    const fromEnv = notFound(() =>
      findServer32Runtime({ env: { FARCALL_SERVER32_DIR: join(scratch, 'env') } }),
    );
    expect(fromEnv.dir).toBe(join(scratch, 'env'));
    expect(fromEnv.message).toContain('(FARCALL_SERVER32_DIR)');

    const fromHome = notFound(() => findServer32Runtime({ env: { FARCALL_HOME: join(scratch, 'home') } }));
    expect(fromHome.dir).toBe(join(scratch, 'home', 'server32'));
    expect(fromHome.message).toContain('(the default directory)');
    expect(fromHome.message).toMatch(/Fix: bash node_modules\/farcall\/scripts\/setup-server32\.sh {3}\(/);
    expect(defaultServer32Dir(undefined, { FARCALL_HOME: '/opt/farcall' })).toBe('/opt/farcall/server32');
  });

  it("says so when the node is there but koffi's ia32 build is not", () => {
    const real = findServer32Runtime().dir;
    const dir = join(scratch, 'no-koffi');
    mkdirSync(join(dir, 'usr', 'bin'), { recursive: true });
    symlinkSync(join(real, 'usr', 'bin', 'node'), join(dir, 'usr', 'bin', 'node'));
    symlinkSync(join(real, 'lib'), join(dir, 'lib'));
    const err = notFound(() => findServer32Runtime({ server32Dir: dir }));
    const version = farcallKoffiVersion();
    expect(err.message).toContain(`has no ia32 build of koffi ${version}`);
    expect(err.message).toContain(
      join(dir, 'koffi', version, 'node_modules', '@koromix', 'koffi-linux-ia32', 'package.json'),
    );
    expect(err.message).toContain('Fix: bash node_modules/farcall/scripts/setup-server32.sh');
  });
});

describe('scripts/setup-server32.sh', () => {
  it('changes nothing and finishes quickly when everything is in place', () => {
    const runtime = findServer32Runtime();
    const watched = [join(runtime.dir, 'usr', 'bin', 'node'), join(runtime.dir, 'farcall-server32.json')];
    const before = watched.map((file) => statSync(file).mtimeMs);
    const started = performance.now();
    const result = spawnSync('bash', [join(root, 'scripts', 'setup-server32.sh')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const elapsed = performance.now() - started;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('apt-get');
    const lines = result.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe(
      `farcall setup-server32: 32-bit runtime ready in ${runtime.dir}: Node.js v${runtime.version} (ia32) with koffi ${runtime.koffiVersion}`,
    );
    expect(watched.map((file) => statSync(file).mtimeMs)).toEqual(before);
    expect(elapsed).toBeLessThan(10_000);
  });
});
