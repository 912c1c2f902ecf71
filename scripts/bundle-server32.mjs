#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles dist/loadlib/server32-bundle.js (all of farcall/loadlib and
// the 32-bit server's program, see src/loadlib/server32-bundle.ts) with rolldown, in place.
// Why: the 32-bit server's Node.js 18 loads each ES module file in several milliseconds (resolve, an
// asynchronous read, a compile without code cache); two files instead of about fifty take a third off a
// Client64's start. Everything the server loads at start goes into server32-bundle-initial.js; what is
// imported only when asked (a socket listener, the Windows control channel, the client's process code)
// goes into server32-bundle-<name>.js files beside it, so that it and the Node.js modules it needs
// (node:tls, node:child_process, node:crypto) still load only when asked. `msgpackr` and `koffi` stay
// packages of their own.
//
// Deterministic: the same sources and the same rolldown give the same bytes (no hashes, no timestamps).
// Without rolldown (a build without dev dependencies) the tsc output stays: it works the same, only slower.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = join(root, 'dist', 'loadlib');
const ENTRY = 'server32-bundle';
const CHUNK_PREFIX = `${ENTRY}-`;

let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch (error) {
  process.stderr.write(
    `bundle-server32: rolldown is not installed (${error.message}); the 32-bit server runs unbundled (slower to start)\n`,
  );
  process.exit(0);
}

const bundle = await rolldown({
  input: { [ENTRY]: join(dir, `${ENTRY}.js`) },
  platform: 'node',
  // Node's own modules, and the packages: koffi is native, and msgpackr is one package its users share.
  external: [/^node:/, 'koffi', 'msgpackr'],
  logLevel: 'warn',
});
const { output } = await bundle.generate({
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: `${CHUNK_PREFIX}[name].js`,
  // Without the TSDoc and other comments (a third of the bytes; Node 18 reads them at every start, and
  // dist/'s other files and the .d.ts keep them), legal notices kept.
  comments: { legal: true, annotation: false, jsdoc: false },
  // Every module the entry imports statically, in one chunk ('$initial'); the rest split as imported.
  codeSplitting: { groups: [{ name: 'initial', tags: ['$initial'] }] },
});
await bundle.close();

// An earlier build's chunks go first: a chunk no longer made must not stay behind in the package.
for (const name of readdirSync(dir)) if (name.startsWith(CHUNK_PREFIX)) rmSync(join(dir, name));
for (const file of output) {
  if (file.type !== 'chunk') throw new Error(`bundle-server32: unexpected asset ${file.fileName}`);
  writeFileSync(join(dir, file.fileName), file.code);
}
// On stderr: `npm pack --json` (which builds) keeps its stdout for the JSON.
process.stderr.write(
  `bundle-server32: ${output.map((file) => `${file.fileName} (${Math.ceil(file.code.length / 1024)} KiB)`).join(', ')}\n`,
);
