// farcall/rpc moving a 10 MB Float64Array between two processes over a Unix socket, as an argument
// (`calc.size(array)`), as a result (`calc.make(n)`), and both ways (`calc.echo(array)`), against bare
// streaming between the same two processes over the same transport, moving the same bytes the same way
// (bench/floor.mjs: 'argument', 'result', 'echo'). Target: ≥ 70 % of the floor's throughput.
// Floor and farcall alternate call by call after a warm-up, so a noisy neighbour on this shared machine hits
// both alike. To profile: node --cpu-prof bench/rpc-throughput.bench.mjs, with
// FARCALL_BENCH_SERVER_FLAGS=--cpu-prof for the server process.
import { RPCClient } from '../dist/rpc/index.js';
import { bareClient, bareStream, connectRaw } from './floor.mjs';
import { median, nowUs, report } from './lib.mjs';
import { startServerProcess } from './rpc-processes.mjs';

const BYTES = 10 * 1024 * 1024;
const LENGTH = BYTES / 8;
const WARMUP = 15;
const SAMPLES = 60;

const server = await startServerProcess('unix');
try {
  const client = await RPCClient.connect(server.rpc);
  const calc = client.get('calc');
  const bare = bareClient(await connectRaw(server.bare));
  const array = new Float64Array(LENGTH).fill(1.25);

  const cases = {
    argument: async () => {
      if ((await calc.size(array)) !== LENGTH) throw new Error('the array lost elements');
    },
    result: async () => {
      if ((await calc.make(LENGTH)).length !== LENGTH) throw new Error('the array lost elements');
    },
    echo: async () => {
      if ((await calc.echo(array)).length !== LENGTH) throw new Error('the array lost elements');
    },
  };
  // Bytes crossing the socket per call, in either direction.
  const moved = { argument: BYTES, result: BYTES, echo: 2 * BYTES };
  const labels = {
    argument: '10 MB Float64Array as argument',
    result: '10 MB Float64Array as result',
    echo: '10 MB Float64Array as argument and result',
  };

  for (const mode of Object.keys(cases)) {
    const floorCase = bareStream(bare, BYTES, mode);
    // Warm up both paths (JIT, socket buffers, the allocator), then alternate call by call so that noise
    // from the neighbours of this shared machine hits both alike.
    for (let i = 0; i < WARMUP; i++) {
      await floorCase();
      await cases[mode]();
    }
    const floorSamples = [];
    const rpcSamples = [];
    for (let i = 0; i < SAMPLES; i++) {
      floorSamples.push(await floorCase());
      const t0 = nowUs();
      await cases[mode]();
      rpcSamples.push(nowUs() - t0);
    }
    const mbps = moved[mode] / median(rpcSamples); // bytes per µs = MB/s
    const floorMbps = moved[mode] / median(floorSamples);
    report({
      bench: 'rpc-throughput',
      metric: `${labels[mode]}, unix`,
      unit: 'MB/s',
      value: mbps,
      floor: floorMbps,
      floorLabel: `bare 10 MB ${mode}, unix`,
      target: '≥ 70 % of floor',
      better: 'higher',
      pass: mbps >= 0.7 * floorMbps,
    });
  }
  bare.close();
  await client.close();
} finally {
  server.stop();
}
process.exit(0);
