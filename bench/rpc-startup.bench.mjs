// Start-up costs of farcall/rpc, against bare floors measured in the same run:
// - connecting to a server in another process and getting the first reply of `calc.add(1, 2)`, Unix socket
//   and TCP, against a bare connect + one echo to the same process. Target: ≤ 2 ms.
// - ProcessSpawner.spawn() to the first reply of the child, against spawning a bare Node.js child that
//   answers one echo over the same kind of pipe (fd 3). Target: ≤ 300 ms (pyacq: 1.3 s).
// - `await proxy.add(1, 2)` over the spawner's pipe, against the bare echo over a pipe. Target ≤ 1.5 × floor.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProcessSpawner, RPCClient } from '../dist/rpc/index.js';
import { bareClient, bareConnectUs } from './floor.mjs';
import { median, nowUs, report } from './lib.mjs';
import { startServerProcess } from './rpc-processes.mjs';

const CONNECTS = 200;
const SPAWNS = 7;
const PIPE_CALLS = 3000;

// Connect to first reply, over each transport: alternate bare and farcall connections.
for (const kind of ['unix', 'tcp']) {
  const server = await startServerProcess(kind);
  try {
    const connectOnce = async () => {
      const t0 = nowUs();
      const client = await RPCClient.connect(server.rpc);
      await client.get('calc').add(1, 2);
      const elapsed = nowUs() - t0;
      await client.close();
      return elapsed;
    };
    for (let i = 0; i < 20; i++) await connectOnce();
    const floorSamples = [];
    const samples = [];
    for (let i = 0; i < CONNECTS; i++) {
      floorSamples.push(await bareConnectUs(server.bare, 1, 0));
      samples.push(await connectOnce());
    }
    const ms = median(samples) / 1000;
    report({
      bench: 'rpc-startup',
      metric: `connect to first reply, ${kind}`,
      unit: 'ms',
      value: ms,
      floor: median(floorSamples) / 1000,
      floorLabel: `bare connect + echo, ${kind}`,
      target: '≤ 2 ms',
      better: 'lower',
      pass: ms <= 2,
    });
  } finally {
    server.stop();
  }
}

// ProcessSpawner to first reply, and calls over its pipe.
const worker = fileURLToPath(new URL('./rpc-spawner-worker.mjs', import.meta.url));
const pipeChild = fileURLToPath(new URL('./floor-pipe-child.mjs', import.meta.url));
const body = Buffer.alloc(16);

/** Spawns the bare pipe child; resolves { client, child, elapsedUs } after its first echo. */
async function spawnBare() {
  const t0 = nowUs();
  const child = spawn(process.execPath, [pipeChild], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  const client = bareClient(child.stdio[3]);
  await client.request([body]);
  return { client, child, elapsedUs: nowUs() - t0 };
}

const floorSpawns = [];
const spawns = [];
let pipeFloorUs;
let pipeAddUs;
for (let i = 0; i < SPAWNS + 1; i++) {
  const bare = await spawnBare();
  const t0 = nowUs();
  const spawned = await ProcessSpawner.spawn({ module: worker, name: 'bench-worker' });
  const calc = spawned.get('calc');
  await calc.add(1, 2);
  const elapsed = nowUs() - t0;
  if (i > 0) {
    floorSpawns.push(bare.elapsedUs);
    spawns.push(elapsed);
  }
  if (i === SPAWNS) {
    // Calls over the pipe, alternating with bare echoes over the bare child's pipe.
    const floorSamples = [];
    const samples = [];
    for (let j = 0; j < PIPE_CALLS + 500; j++) {
      let start = nowUs();
      await bare.client.request([body]);
      const floorUs = nowUs() - start;
      start = nowUs();
      await calc.add(1, 2);
      const addUs = nowUs() - start;
      if (j >= 500) {
        floorSamples.push(floorUs);
        samples.push(addUs);
      }
    }
    pipeAddUs = median(samples);
    pipeFloorUs = median(floorSamples);
  }
  bare.client.close();
  bare.child.kill();
  await spawned.stop();
}
const spawnMs = median(spawns) / 1000;
report({
  bench: 'rpc-startup',
  metric: 'ProcessSpawner.spawn() to first reply',
  unit: 'ms',
  value: spawnMs,
  floor: median(floorSpawns) / 1000,
  floorLabel: 'bare node child, first echo over fd 3',
  target: '≤ 300 ms',
  better: 'lower',
  pass: spawnMs <= 300,
});
report({
  bench: 'rpc-startup',
  metric: 'await proxy.add(1, 2), ProcessSpawner pipe',
  unit: 'µs',
  value: pipeAddUs,
  floor: pipeFloorUs,
  floorLabel: 'bare framed echo, fd 3 pipe',
  target: '≤ 1.5 × floor',
  better: 'lower',
  pass: pipeAddUs <= 1.5 * pipeFloorUs,
});
process.exit(0);
