#!/usr/bin/env node
// Runs every bench/*.bench.mjs (or the ones named on the command line, by substring) one after the other,
// each in its own process, and prints a table of their figures beside the floor measured in the same run.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);

// What `npm test` prepares first, so that `npm run bench` works on a fresh clone: the 32-bit runtime
// (scripts/pretest.mjs, idempotent), dist/ (the benchmarks import it; `npm run build`'s steps: tsc, then
// the 32-bit server's bundle) and the native example libraries (scripts/build-native.sh, as the tests'
// global setup runs it; it skips what is up to date) and the Windows DLLs the Wine benchmark loads.
for (const [command, args, what] of [
  [
    process.execPath,
    [join(root, 'scripts', 'pretest.mjs')],
    'setting up the 32-bit runtime (and Wine) failed: run `bash scripts/setup-server32.sh` (as root, or with sudo) and see its message',
  ],
  [
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
    'building dist/ failed',
  ],
  [process.execPath, [join(root, 'scripts', 'bundle-server32.mjs')], 'bundling the 32-bit server failed'],
  [
    'bash',
    [join(root, 'scripts', 'build-native.sh')],
    'building the native example libraries failed (g++-multilib and gfortran-multilib: bash scripts/setup-server32.sh installs them)',
  ],
  // The Wine benchmark's DLLs, as the Windows tests build them (it skips what is up to date).
  [
    'bash',
    [join(root, 'scripts', 'build-windows-dlls.sh')],
    'building the Windows test DLLs failed (MinGW: bash scripts/setup-wine.sh --mingw installs it)',
  ],
]) {
  const step = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (step.status !== 0) {
    process.stderr.write(
      `bench: ${what}\n  (${[command, ...args].join(' ')} exited ${step.status ?? step.error?.message})\n`,
    );
    process.exit(1);
  }
}

const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

// The loadlib benchmarks start the 32-bit runtime: say at once, and how to fix it, if it is not there.
if (files.some((f) => f.startsWith('loadlib-'))) {
  const { findServer32Runtime } = await import('../dist/loadlib/runtime.js');
  try {
    findServer32Runtime();
  } catch (error) {
    process.stderr.write(`bench: the loadlib benchmarks need the 32-bit runtime. ${error.message}\n`);
    process.exit(1);
  }
}

const rows = [];
let failed = 0;
for (const file of files) {
  process.stderr.write(`running ${file} …\n`);
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', join(here, file)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('BENCH ')) rows.push({ file, ...JSON.parse(line.slice(6)) });
        else process.stderr.write(`  ${line}\n`);
        nl = buffered.indexOf('\n');
      }
    });
    child.on('close', resolve);
  });
  if (code !== 0) {
    failed++;
    process.stderr.write(`${file} exited with ${code}\n`);
  }
}

const fmt = (n) =>
  n === undefined || n === null ? '' : Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3);
const table = rows.map((r) => ({
  benchmark: r.bench,
  metric: r.metric,
  value: `${fmt(r.value)} ${r.unit}`,
  floor: r.floor === undefined ? '' : `${fmt(r.floor)} ${r.unit} (${r.floorLabel ?? 'floor'})`,
  ratio: r.ratio === undefined ? '' : `${fmt(r.ratio)}×`,
  target: r.target ?? '',
  ok: r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
}));
const columns = ['benchmark', 'metric', 'value', 'floor', 'ratio', 'target', 'ok'];
const widths = columns.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
console.log(line(columns));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of table) console.log(line(columns.map((c) => r[c])));
process.exitCode = failed ? 1 : 0;
