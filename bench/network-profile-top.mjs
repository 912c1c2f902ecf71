#!/usr/bin/env node
// Prints the functions with the most self time in a V8 CPU profile (what `node --cpu-prof` writes):
//   FARCALL_BENCH_PROFILE=/tmp/prof MSL_NETWORK_SRC=… npm run bench -- network-vs-msl
//   node bench/network-profile-top.mjs /tmp/prof/*.cpuprofile [count]
// (the benchmarks run the Manager under --cpu-prof when FARCALL_BENCH_PROFILE names a folder).
import { readFileSync } from 'node:fs';

const [file, countText = '15'] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/network-profile-top.mjs <file.cpuprofile> [count]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const hits = new Map();
// Samples are node ids; time deltas say how long each sample stood for.
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  hits.set(id, (hits.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 1));
}
const self = new Map();
let total = 0;
for (const [id, time] of hits) {
  const { callFrame } = byId.get(id);
  const where = callFrame.url
    ? `${callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${callFrame.lineNumber + 1}`
    : '';
  const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
  self.set(key, (self.get(key) ?? 0) + time);
  total += time;
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(countText));
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
for (const [key, time] of rows) {
  console.log(
    `${((100 * time) / total).toFixed(1).padStart(5)}%  ${(time / 1000).toFixed(1).padStart(8)} ms  ${key}`,
  );
}
