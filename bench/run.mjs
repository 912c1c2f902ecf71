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
// (scripts/pretest.mjs, idempotent), dist/ (the benchmarks import it), the native example libraries
// (scripts/build-native.sh, as the tests' global setup runs it; it skips what is up to date) and the
// Windows DLLs the Wine benchmark loads (scripts/build-windows-dlls.sh, as the Windows tests run it).
for (const [command, args] of [
  [process.execPath, [join(root, 'scripts', 'pretest.mjs')]],
  [
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
  ],
  ['bash', [join(root, 'scripts', 'build-native.sh')]],
  ['bash', [join(root, 'scripts', 'build-windows-dlls.sh')]],
]) {
  const step = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (step.status !== 0) {
    process.stderr.write(`bench: preparing failed: ${[command, ...args].join(' ')} exited ${step.status}\n`);
    process.exit(1);
  }
}

const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

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
