// Client64's server lifecycle against the 32-bit runtime's own start and stop, measured in the same run:
//   - start to first reply (new Client64 → the first request32 answered): ≤ 1.2 × floor; floor = the bare
//     32-bit node started on a tiny echo script, to its first echo over the same kind of channel (an fd-3
//     pipe); the two alternate, in turns, the medians of 20 rounds
//   - shutdownServer32(): ≤ 50 ms; floor = closing the bare echo's pipe until that node has exited
//   - N start/shutdown cycles (`--cycles N`, default 100; the figure is `--cycles 1000`, a few
//     minutes) leave no process, file descriptor, socket or temporary folder behind. Cycles alternate the
//     private pipe and a Unix socket in a private temporary folder.
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Client64 } from '../dist/loadlib/index.js';
import { median, report } from './lib.mjs';
import { exampleServer, startBareFloor } from './loadlib-common.mjs';

const cyclesArg = process.argv.indexOf('--cycles');
const cycles = cyclesArg >= 0 ? Number(process.argv[cyclesArg + 1]) : 100;

const childPids = () =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    });
const openFds = () => readdirSync('/proc/self/fd').length;
const tempDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('farcall-server32-')).length;

// --- start to first reply, and shutdown, alternating with the floor ------------------------------------------
const startFloor = [];
const stopFloor = [];
const startSamples = [];
const stopSamples = [];
const bareRound = async () => {
  const bare = await startBareFloor();
  startFloor.push(bare.startMs);
  stopFloor.push(await bare.close());
};
const farcallRound = async () => {
  const t0 = performance.now();
  const client = new Client64(exampleServer);
  if ((await client.request32('add', 1, 2)) !== 3) throw new Error('add(1, 2) is not 3');
  startSamples.push(performance.now() - t0);
  const t1 = performance.now();
  await client.shutdownServer32();
  stopSamples.push(performance.now() - t1);
};
// One untimed start of each first: the client's own first start loads its process code.
await (await startBareFloor()).close();
const warmUp = new Client64(exampleServer);
await warmUp.request32('add', 0, 0);
await warmUp.shutdownServer32();
for (let round = 0; round < 20; round++) {
  // Which goes first alternates: a neighbour's burst lands on both alike.
  for (const run of round % 2 === 0 ? [bareRound, farcallRound] : [farcallRound, bareRound]) await run();
}
const startMs = median(startSamples);
const stopMs = median(stopSamples);
report({
  bench: 'loadlib-lifecycle',
  metric: 'start to first reply (new Client64 → request32 answered)',
  unit: 'ms',
  value: startMs,
  floor: median(startFloor),
  floorLabel: 'bare 32-bit node to first echo',
  target: '≤ 1.2 × floor',
  better: 'lower',
  pass: startMs <= 1.2 * median(startFloor),
});
report({
  bench: 'loadlib-lifecycle',
  metric: 'shutdownServer32()',
  unit: 'ms',
  value: stopMs,
  floor: median(stopFloor),
  floorLabel: 'bare 32-bit node: close pipe → exited',
  target: '≤ 50 ms',
  better: 'lower',
  pass: stopMs <= 50,
});

// --- cycles ------------------------------------------------------------------------------------------------
const fdsBefore = openFds();
const dirsBefore = tempDirs();
const t0 = performance.now();
for (let i = 0; i < cycles; i++) {
  const client = new Client64(exampleServer, { transport: i % 2 === 0 ? 'pipe' : 'unix' });
  if ((await client.request32('add', i, 1)) !== i + 1) throw new Error(`cycle ${i}: wrong sum`);
  await client.shutdownServer32();
  if ((i + 1) % 100 === 0) process.stderr.write(`  ${i + 1}/${cycles} cycles\n`);
}
const seconds = (performance.now() - t0) / 1000;
// Handles of exited children close on the next turns of the event loop.
await new Promise((resolve) => setTimeout(resolve, 200));
const leftover = {
  processes: childPids().length,
  fds: openFds() - fdsBefore,
  tempDirs: tempDirs() - dirsBefore,
};
process.stderr.write(`  after ${cycles} cycles: ${JSON.stringify(leftover)}\n`);
report({
  bench: 'loadlib-lifecycle',
  metric: `${cycles} start/shutdown cycles: processes + fds + temp folders left behind`,
  unit: 'left',
  value: leftover.processes + Math.max(0, leftover.fds) + leftover.tempDirs,
  target: '0',
  better: 'lower',
  pass: leftover.processes === 0 && leftover.fds <= 0 && leftover.tempDirs === 0,
});
report({
  bench: 'loadlib-lifecycle',
  metric: `${cycles} start/shutdown cycles`,
  unit: 'cycles/s',
  value: cycles / seconds,
  target: '(information)',
  better: 'higher',
});
process.exit(0);
