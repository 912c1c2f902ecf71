#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles dist/loadlib/server32-bundle.js (all of farcall/loadlib and
// the 32-bit server's program, see src/loadlib/server32-bundle.ts) with rolldown, in place.
// Why: the 32-bit server's Node.js 18 loads each ES module file in several milliseconds (resolve, an
// asynchronous read, a compile without code cache); two files instead of about fifty take a third off a
// Client64's start. Everything the server loads at start goes into server32-bundle-initial.cjs, which
// server32-bundle.js (rewritten here) runs with a V8 code cache (src/loadlib/server32-code-cache.ts); what is
// imported only when asked (a socket listener, the Windows control channel, the client's process code)
// goes into server32-bundle-<name>.cjs files beside it, so that it and the Node.js modules it needs
// (node:tls, node:child_process, node:crypto) still load only when asked. `msgpackr` and `koffi` stay
// packages of their own.
//
// Deterministic: the same sources and the same rolldown give the same bytes (no hashes, no timestamps).
// Without rolldown (a build without dev dependencies) the tsc output stays: it works the same, only slower.
import { createHash } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = join(root, 'dist', 'loadlib');
const ENTRY = 'server32-bundle';
const CHUNK_PREFIX = `${ENTRY}-`;

let rolldown;
let parseAst;
try {
  ({ rolldown } = await import('rolldown'));
  ({ parseAst } = await import('rolldown/parseAst'));
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
  // CommonJS: the initial chunk runs through vm.Script with a V8 code cache (src/loadlib/server32-code-cache.ts;
  // Node 18 caches no ES module's code), and the lazily loaded chunks require() it.
  format: 'cjs',
  entryFileNames: '[name].cjs',
  chunkFileNames: `${CHUNK_PREFIX}[name].cjs`,
  // Without the TSDoc and other comments (a third of the bytes; Node 18 reads them at every start, and
  // dist/'s other files and the .d.ts keep them), legal notices kept.
  comments: { legal: true, annotation: false, jsdoc: false },
  // Every module the entry imports statically, in one chunk ('$initial'); the rest split as imported.
  codeSplitting: { groups: [{ name: 'initial', tags: ['$initial'] }] },
});
await bundle.close();

// An earlier build's chunks go first: a chunk no longer made must not stay behind in the package.
for (const name of readdirSync(dir)) if (name.startsWith(CHUNK_PREFIX)) rmSync(join(dir, name));
const INITIAL = `${CHUNK_PREFIX}initial.cjs`;
/**
 * The initial chunk's `import(…)` expressions become calls of `__farcallImport(…)`, a parameter of the function
 * vm.Script runs it in: Node 18 refuses a vm.Script's own import() without --experimental-vm-modules. Found
 * by parsing (no text match): only real import expressions change.
 */
function withImportFunction(code) {
  const starts = [];
  const visit = (node) => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node.type === 'ImportExpression') starts.push(node.start);
    for (const key of Object.keys(node)) if (key !== 'type') visit(node[key]);
  };
  visit(parseAst(code));
  let result = code;
  for (const start of starts.sort((a, b) => b - a)) {
    if (!result.startsWith('import', start)) throw new Error(`bundle-server32: no import() at ${start}`);
    result = `${result.slice(0, start)}__farcallImport${result.slice(start + 'import'.length)}`;
  }
  return result;
}
let entry;
let initial;
for (const file of output) {
  if (file.type !== 'chunk') throw new Error(`bundle-server32: unexpected asset ${file.fileName}`);
  if (file.isEntry) {
    entry = file;
    continue;
  }
  if (file.fileName === INITIAL) initial = { code: withImportFunction(file.code) };
  writeFileSync(join(dir, file.fileName), file.fileName === INITIAL ? initial.code : file.code);
}
if (entry === undefined || initial === undefined)
  throw new Error('bundle-server32: no entry or no initial chunk');
// The entry is an ES module again (what `farcall/loadlib` is under the condition farcall-server32): it runs the
// initial chunk with its code cache and exports the same names. The cache's key holds the chunk's hash.
const hash = createHash('sha256').update(initial.code).digest('hex').slice(0, 16);
const names = entry.exports.filter((name) => name !== 'runServer32Program');
if (names.length !== entry.exports.length - 1)
  throw new Error('bundle-server32: the entry has no runServer32Program');
writeFileSync(
  join(dir, `${ENTRY}.js`),
  `// Made by scripts/bundle-server32.mjs: farcall/loadlib inside the 32-bit server, run with a V8 code cache.
import { loadCachedBundle } from './server32-code-cache.js';
const bundle = loadCachedBundle(new URL('./${INITIAL}', import.meta.url), '${hash}', (specifier) => import(specifier));
export const { ${names.join(', ')} } = bundle.exports;
// What the cache did at this start, for the tests: { state, file }.
export const server32CodeCache = { state: bundle.state, file: bundle.file };
// Written once the start reply is out (it holds the functions the start ran).
export const runServer32Program = () => bundle.exports.runServer32Program(bundle.save);
`,
);
// On stderr: `npm pack --json` (which builds) keeps its stdout for the JSON.
process.stderr.write(
  `bundle-server32: ${ENTRY}.js, ${output
    .filter((file) => !file.isEntry)
    .map((file) => `${file.fileName} (${Math.ceil(file.code.length / 1024)} KiB)`)
    .join(', ')}\n`,
);
