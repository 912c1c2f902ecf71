// farcall/rpc call latency and calls per second between two processes, against the bare length-prefixed
// echo between the same two processes over the same transport (bench/floor.mjs):
// - `await calc.add(1, 2)` one at a time, Unix socket and TCP. Target: median ≤ 1.5 × the floor.
// - 10 000 calls with 100 in flight. Target: ≥ 60 % of the bare pipelined echo's rate in the same run.
// Floor and farcall are sampled in alternating blocks of 200 calls (25 blocks each); the figure is the
// median of the block medians, so each one's after-effects land on its own block, not on the other's.
// To profile: node --cpu-prof bench/rpc-latency.bench.mjs, with FARCALL_BENCH_SERVER_FLAGS=--cpu-prof.
import { RPCClient } from '../dist/rpc/index.js';
import { bareClient, bareInFlightRate, connectRaw } from './floor.mjs';
import { alternatingBlocks, median, nowUs, report } from './lib.mjs';
import { startServerProcess } from './rpc-processes.mjs';

const BLOCKS = 25;
const BLOCK_SIZE = 200;
const RATE_RUNS = 5;

/** 10 000 calls of `call`, at most `inFlight` outstanding; resolves with calls per second. */
async function rate(call, total = 10_000, inFlight = 100) {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await call();
    }
  };
  const t0 = nowUs();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return total / ((nowUs() - t0) / 1e6);
}

for (const kind of ['unix', 'tcp']) {
  const server = await startServerProcess(kind);
  try {
    const client = await RPCClient.connect(server.rpc);
    const calc = client.get('calc');
    const bare = bareClient(await connectRaw(server.bare));
    const body = Buffer.alloc(16);
    const add = () => calc.add(1, 2);
    const echo = () => bare.request([body]);

    for (let i = 0; i < 1000; i++) {
      await echo();
      await add();
    }
    const sampled = await alternatingBlocks(
      { floor: echo, farcall: add },
      { blocks: BLOCKS, blockSize: BLOCK_SIZE },
    );
    const floorUs = sampled.floor.median;
    const addUs = sampled.farcall.median;
    report({
      bench: 'rpc-latency',
      metric: `await proxy.add(1, 2), ${kind}`,
      unit: 'µs',
      value: addUs,
      floor: floorUs,
      floorLabel: `bare framed echo, ${kind}`,
      target: '≤ 1.5 × floor',
      better: 'lower',
      pass: addUs <= 1.5 * floorUs,
    });

    await rate(add); // warm-up
    const floorRates = [];
    const rpcRates = [];
    for (let run = 0; run < RATE_RUNS; run++) {
      floorRates.push(await bareInFlightRate(server.bare));
      rpcRates.push(await rate(add));
    }
    const callsPerSecond = median(rpcRates);
    report({
      bench: 'rpc-latency',
      metric: `10 000 calls, 100 in flight, ${kind}`,
      unit: 'calls/s',
      value: callsPerSecond,
      floor: median(floorRates),
      floorLabel: `bare echo, 100 in flight, ${kind}`,
      target: '≥ 60 % of floor',
      better: 'higher',
      pass: callsPerSecond >= 0.6 * median(floorRates),
    });
    bare.close();
    await client.close();
  } finally {
    server.stop();
  }
}
process.exit(0);
