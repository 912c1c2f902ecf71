// farcall/rpc call latency and calls per second between two processes, against the bare length-prefixed
// echo between the same two processes over the same transport (bench/floor.mjs):
// - `await calc.add(1, 2)` one at a time, Unix socket and TCP. Target: median ≤ 1.5 × the floor.
// - 10 000 calls with 100 in flight. Target: ≥ 50 000 calls/s (the floor: the same pattern, bare).
// Floor and farcall alternate call by call, so a noisy neighbour on this shared machine hits both alike.
import { RPCClient } from '../dist/rpc/index.js';
import { bareClient, bareInFlightRate, connectRaw } from './floor.mjs';
import { median, nowUs, report } from './lib.mjs';
import { startServerProcess } from './rpc-processes.mjs';

const SAMPLES = 5000;
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

    // Warm up, then alternate call by call: each floor sample is taken next to a farcall sample.
    for (let i = 0; i < 1000; i++) {
      await echo();
      await add();
    }
    const floorSamples = [];
    const addSamples = [];
    for (let i = 0; i < SAMPLES; i++) {
      let t0 = nowUs();
      await echo();
      floorSamples.push(nowUs() - t0);
      t0 = nowUs();
      await add();
      addSamples.push(nowUs() - t0);
    }
    const floorUs = median(floorSamples);
    const addUs = median(addSamples);
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
      target: '≥ 50 000 calls/s',
      better: 'higher',
      pass: callsPerSecond >= 50_000,
    });
    bare.close();
    await client.close();
  } finally {
    server.stop();
  }
}
process.exit(0);
