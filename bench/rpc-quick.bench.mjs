// A quick check of the rpc hot path against the floors of the same run (bench/floor.mjs), between two
// processes: `await calc.add(1, 2)` latency over a Unix socket and TCP, 10 000 calls with 100 in flight,
// and a 10 MB Float64Array sent as an argument and returned as a result.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { RPCClient } from '../dist/rpc/index.js';
import { bareRoundTripUs, bareStreamUs, freshAddress, startBareEchoServer } from './floor.mjs';
import { median, nowUs, report, timeEach } from './lib.mjs';

async function startRpcServer(kind) {
  const child = fork(
    fileURLToPath(new URL('./rpc-quick-server.mjs', import.meta.url)),
    [freshAddress(kind)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const [address] = await once(child, 'message');
  return { address, stop: () => child.kill() };
}

for (const kind of ['unix', 'tcp']) {
  const bare = await startBareEchoServer(kind);
  const rpc = await startRpcServer(kind);
  try {
    const client = await RPCClient.connect(rpc.address);
    const calc = client.get('calc');
    // Floor and rpc measured in alternating rounds, so a noisy neighbour on this shared machine hits both.
    const floorRounds = [];
    const addRounds = [];
    for (let round = 0; round < 8; round++) {
      floorRounds.push(await bareRoundTripUs(bare.address, 1000));
      addRounds.push(median(await timeEach(() => calc.add(1, 2), 1000, 300)));
    }
    const floorUs = median(floorRounds);
    const addUs = median(addRounds);
    report({
      bench: 'rpc-quick',
      metric: `await proxy.add(1, 2), ${kind}`,
      unit: 'µs',
      value: addUs,
      floor: floorUs,
      floorLabel: `bare framed echo, ${kind}`,
      target: '≤ 1.5 × floor',
      better: 'lower',
      pass: addUs <= 1.5 * floorUs,
    });

    if (kind === 'unix') {
      // 10 000 calls, 100 in flight at any time.
      const rates = [];
      for (let run = 0; run < 5; run++) {
        const total = 10_000;
        let sent = 0;
        const t0 = nowUs();
        const worker = async () => {
          while (sent < total) {
            sent++;
            await calc.add(sent, 1);
          }
        };
        await Promise.all(Array.from({ length: 100 }, worker));
        rates.push(total / ((nowUs() - t0) / 1e6));
      }
      const rate = median(rates);
      report({
        bench: 'rpc-quick',
        metric: '10 000 calls, 100 in flight, unix',
        unit: 'calls/s',
        value: rate,
        target: '≥ 50 000 calls/s',
        better: 'higher',
        pass: rate >= 50_000,
      });

      // A 10 MB Float64Array there and back (argument and result), against the bare echo of 10 MB.
      const bytes = 10 * 1024 * 1024;
      const array = new Float64Array(bytes / 8).fill(1.25);
      const floorSamples = [];
      const samples = [];
      for (let round = 0; round < 6; round++) {
        floorSamples.push(await bareStreamUs(bare.address, bytes, 3));
        for (let i = 0; i < 4; i++) {
          const t0 = nowUs();
          const back = await calc.echo(array);
          if (back.length !== array.length) throw new Error('the echoed array lost elements');
          if (i >= 1) samples.push(nowUs() - t0);
        }
      }
      const floorStreamUs = median(floorSamples);
      const echoUs = median(samples);
      const mbps = (2 * bytes) / echoUs; // bytes per µs = MB/s
      const floorMbps = (2 * bytes) / floorStreamUs;
      report({
        bench: 'rpc-quick',
        metric: '10 MB Float64Array as argument and result, unix',
        unit: 'MB/s',
        value: mbps,
        floor: floorMbps,
        floorLabel: 'bare 10 MB echo, unix',
        target: '≥ 70 % of floor',
        better: 'higher',
        pass: mbps >= 0.7 * floorMbps,
      });
    }
    await client.close();
  } finally {
    bare.stop();
    rpc.stop();
  }
}
process.exit(0);
