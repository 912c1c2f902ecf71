// One request at a time, Client → Manager → Service → back, each in its own process, TLS off and on,
// against the floor: the same JSON line through a bare relay process and a bare echo process.
// Target: median ≤ 1.5 × floor.
import { connect } from '../dist/network/index.js';
import { alternatingBlocks, report } from './lib.mjs';
import { floorClient, sampleRequestLine, startFarcall, startFloor, tempHome } from './network-floor.mjs';

// Blocks of 200 calls, alternating floor and farcall (see alternatingBlocks in lib.mjs).
const BLOCKS = 15;
const BLOCK_SIZE = 200;

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
    for (let i = 0; i < 300; i++) {
      await raw.request(line);
      await echo.echo(1);
    }
    const sampled = await alternatingBlocks(
      { floor: () => raw.request(line), farcall: () => echo.echo(1) },
      { blocks: BLOCKS, blockSize: BLOCK_SIZE },
    );
    const value = sampled.farcall.median;
    const floorValue = sampled.floor.median;
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
