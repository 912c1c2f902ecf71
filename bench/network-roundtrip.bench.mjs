// One request at a time, Client → Manager → Service → back, each in its own process, TLS off and on,
// against the floor: the same JSON line through a bare relay process and a bare echo process.
// Target: median ≤ 1.5 × floor.
import { connect } from '../dist/network/index.js';
import { median, nowUs, report } from './lib.mjs';
import { floorClient, sampleRequestLine, startFarcall, startFloor, tempHome } from './network-floor.mjs';

const PAIRS = 3000;

for (const useTls of [false, true]) {
  const { home, remove } = tempHome();
  const floor = await startFloor(useTls, home);
  const farcall = await startFarcall(useTls, home);
  try {
    const raw = await floorClient(floor.port, useTls);
    const client = await connect({
      host: '127.0.0.1',
      port: farcall.port,
      disableTls: !useTls,
      autoSave: true,
      home,
    });
    const echo = await client.link('Echo');
    const line = sampleRequestLine();
    // Warm both paths, then alternate request by request, so that whatever else the (shared) machine
    // is doing at a given moment weighs on both measurements alike.
    for (let i = 0; i < 300; i++) {
      await raw.request(line);
      await echo.echo(1);
    }
    const floorSamples = [];
    const ourSamples = [];
    for (let i = 0; i < PAIRS; i++) {
      let t0 = nowUs();
      await raw.request(line);
      floorSamples.push(nowUs() - t0);
      t0 = nowUs();
      await echo.echo(1);
      ourSamples.push(nowUs() - t0);
    }
    const value = median(ourSamples);
    const floorValue = median(floorSamples);
    report({
      bench: 'network-roundtrip',
      metric: `one at a time, TLS ${useTls ? 'on' : 'off'} (median)`,
      unit: 'µs',
      value,
      floor: floorValue,
      floorLabel: 'two bare hops',
      target: '≤ 1.5× floor',
      better: 'lower',
      pass: value <= 1.5 * floorValue,
    });
    raw.close();
    await client.disconnect();
  } finally {
    farcall.stop();
    floor.stop();
    remove();
  }
}
