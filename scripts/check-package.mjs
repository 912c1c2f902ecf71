#!/usr/bin/env node
// Checks the npm package as a user gets it (CI runs this from .ci/run; not shipped):
//   1. contents: `npm pack` holds exactly the files in scripts/package-files.txt, plus one .js and one
//      .d.ts in dist/ per src/**/*.ts (no source maps, no prebuilt libraries, no dev scripts, nothing stale);
//   2. install: the tarball installs into a fresh project with no C compiler (CC=/bin/false, CXX=/bin/false,
//      no Node.js headers), every entry point imports, `farcall --version` and `farcall --help` run, and the
//      Manager's database either opens (node:sqlite or better-sqlite3) or says what to install;
//   3. loadlib example: examples/loadlib-client.mjs from the installed package fails naming
//      `npx farcall build-examples` and works after it (needs gcc-multilib and the 32-bit runtime);
//   4. types: a consumer project type-checks against the installed .d.ts files with the strictest options
//      (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess, skipLibCheck: false).
//
// Usage: node scripts/check-package.mjs [--update]   (--update rewrites scripts/package-files.txt)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const listFile = join(root, 'scripts', 'package-files.txt');
const update = process.argv.includes('--update');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'farcall-package-'));
let failures = 0;

function step(name) {
  const started = Date.now();
  process.stdout.write(`check-package: ${name} …\n`);
  return () =>
    process.stdout.write(`check-package: ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

function fail(message) {
  failures++;
  process.stderr.write(`check-package: FAIL: ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}\n${result.stdout ?? ''}${result.stderr ?? ''}`,
    );
  }
  return result.stdout;
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

try {
  // 1. contents --------------------------------------------------------------------------------------
  let done = step('npm pack (builds dist first)');
  const packed = JSON.parse(
    run(npm, ['pack', '--json', '--pack-destination', work], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )[0];
  done();
  const tarball = join(work, packed.filename);
  const files = packed.files.map((file) => file.path).sort();
  const shipped = files.filter((path) => !path.startsWith('dist/'));
  const listed = readFileSync(listFile, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (update) {
    const header = readFileSync(listFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('#'));
    writeFileSync(listFile, `${[...header, ...shipped].join('\n')}\n`);
    process.stdout.write(`check-package: wrote ${shipped.length} files to ${relative(root, listFile)}\n`);
  } else {
    for (const path of listed) if (!shipped.includes(path)) fail(`the package lacks ${path}`);
    for (const path of shipped)
      if (!listed.includes(path))
        fail(`the package holds ${path}, which scripts/package-files.txt does not list (--update if meant)`);
  }
  const expectedDist = walk(join(root, 'src'))
    .filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))
    .flatMap((path) => {
      const base = relative(join(root, 'src'), path).split('\\').join('/').replace(/\.ts$/, '');
      return [`dist/${base}.js`, `dist/${base}.d.ts`];
    })
    .sort();
  // The 32-bit server's bundle (scripts/bundle-server32.mjs) adds its chunks beside server32-bundle.js.
  const bundleChunk = /^dist\/loadlib\/server32-bundle-[\w-]+\.c?js$/;
  expectedDist.push('dist/loadlib/server32-bundle-initial.cjs');
  const dist = files.filter((path) => path.startsWith('dist/'));
  for (const path of expectedDist) if (!dist.includes(path)) fail(`the package lacks ${path}`);
  for (const path of dist)
    if (!expectedDist.includes(path) && !bundleChunk.test(path))
      fail(`the package holds ${path}, built from no src file`);
  process.stdout.write(
    `check-package: ${packed.filename}: ${files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed, ` +
      `${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked\n`,
  );

  // 2. install with no compiler ---------------------------------------------------------------------
  const project = join(work, 'consumer');
  run('mkdir', ['-p', project]);
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'farcall-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  const env = {
    ...process.env,
    CC: '/bin/false',
    CXX: '/bin/false',
    npm_config_nodedir: join(work, 'no-node-headers'),
  };
  for (const key of Object.keys(env)) if (/^npm_(package|lifecycle)_/.test(key)) delete env[key];
  done = step('npm install <tarball> with CC=/bin/false CXX=/bin/false');
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: project,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  done();

  done = step('import every entry point');
  const entries = ['farcall', 'farcall/rpc', 'farcall/loadlib', 'farcall/network', 'farcall/wire'];
  const imported = run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `for (const name of ${JSON.stringify(entries)}) {
         const m = await import(name);
         console.log(name + ': ' + Object.keys(m).length + ' exports');
       }
       const { ManagerDatabase } = await import('farcall/network');
       try {
         const db = new ManagerDatabase(':memory:');
         db.addHostname('example');
         db.close();
         console.log('ManagerDatabase: opens');
       } catch (error) {
         if (error.code !== 'ERR_FARCALL_SQLITE_UNAVAILABLE') throw error;
         console.log('ManagerDatabase: ' + error.message);
       }`,
    ],
    { cwd: project, env },
  );
  process.stdout.write(imported);
  done();

  const bin = join(project, 'node_modules', '.bin', 'farcall');
  const version = run(bin, ['--version'], { cwd: project, env }).trim();
  const expectedVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  if (version !== expectedVersion)
    fail(`farcall --version printed '${version}', expected '${expectedVersion}'`);
  const help = run(bin, ['--help'], { cwd: project, env });
  if (!help.includes('Usage: farcall')) fail(`farcall --help printed no usage:\n${help}`);
  process.stdout.write(
    `check-package: farcall --version: ${version}; farcall --help: ${help.split('\n').length} lines\n`,
  );

  // 3. the README's loadlib example from the tarball (needs gcc-multilib and the 32-bit runtime, which
  // scripts/setup-server32.sh sets up): it names `farcall build-examples`, which makes it work.
  done = step("the README's loadlib example: fails naming build-examples, then runs after it");
  const example = join(project, 'node_modules', 'farcall', 'examples', 'loadlib-client.mjs');
  const before = spawnSync(process.execPath, [example], { cwd: project, encoding: 'utf8' });
  if (before.status === 0 || !`${before.stdout}${before.stderr}`.includes('npx farcall build-examples'))
    fail(
      `before build-examples, the example did not fail naming the command:\n${before.stdout}${before.stderr}`,
    );
  run(bin, ['build-examples'], { cwd: project });
  const after = spawnSync(process.execPath, [example], { cwd: project, encoding: 'utf8' });
  if (after.status !== 0) fail(`after build-examples, the example failed:\n${after.stdout}${after.stderr}`);
  // koffi in this (64-bit) process too: its prebuilt binary, not compiled at install.
  const direct = run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { LoadLibrary, Server32 } from 'farcall/loadlib';
       import { join } from 'node:path';
       const lib = new LoadLibrary(join(Server32.examplesDir(), 'libfarcall_example-64.so'));
       console.log('LoadLibrary add(1, 2) = ' + lib.func('int add(int a, int b)')(1, 2));`,
    ],
    { cwd: project },
  );
  if (!direct.includes('add(1, 2) = 3')) fail(`LoadLibrary in the installed package printed ${direct}`);
  done();

  // 5. the .d.ts files under the strictest options ---------------------------------------------------
  done = step('type-check a consumer project (exactOptionalPropertyTypes, skipLibCheck: false)');
  writeFileSync(
    join(project, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          noImplicitOverride: true,
          noPropertyAccessFromIndexSignature: true,
          skipLibCheck: false,
          noEmit: true,
        },
        files: ['consumer.ts'],
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    join(project, 'consumer.ts'),
    [
      "import * as root from 'farcall';",
      "import * as rpc from 'farcall/rpc';",
      "import * as loadlib from 'farcall/loadlib';",
      "import * as network from 'farcall/network';",
      "import * as wire from 'farcall/wire';",
      "import { ERROR_CODES, type ErrorCode } from 'farcall';",
      "import { callOptions } from 'farcall/network';",
      '',
      "const code: ErrorCode = 'ERR_FARCALL_CONNECTION_CLOSED';",
      'const className: string = ERROR_CODES[code];',
      'const options = callOptions({ timeout: 5000 });',
      'export const used = [root, rpc, loadlib, network, wire, className, options];',
      '',
    ].join('\n'),
  );
  // NodeNext (as Node.js resolves), then bundler resolution (as Vite, esbuild and webpack resolve).
  for (const resolution of [[], ['--module', 'preserve', '--moduleResolution', 'bundler']]) {
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, ...resolution],
      { encoding: 'utf8', cwd: project },
    );
    if (tsc.status !== 0)
      fail(
        `the consumer project does not type-check (${resolution.join(' ') || 'NodeNext'}):\n${tsc.stdout}${tsc.stderr}`,
      );
  }
  done();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failures > 0) {
  process.stderr.write(`check-package: ${failures} problem(s)\n`);
  process.exit(1);
}
process.stdout.write('check-package: ok\n');
