// farcall/rpc: an object in a child process that farcall starts, stops and never leaves behind.
// Run: node examples/rpc-spawner.mjs   (after npm install)
import { ProcessSpawner } from 'farcall/rpc';

// Starts `node` with examples/rpc-workers/sensor.mjs; resolves once its setup() has run and it answers.
const child = await ProcessSpawner.spawn({
  name: 'sensor',
  module: new URL('./rpc-workers/sensor.mjs', import.meta.url),
});
try {
  const sensor = child.get('sensor');
  console.log(`the sensor lives in ${await sensor.whereAmI()}, this is pid ${process.pid}`);
  console.log(`reading: ${(await sensor.read()).toFixed(3)}`);
  const count = await sensor.stream(3, (value) => console.log(`sample ${value.toFixed(3)}`));
  console.log(`streamed ${count} samples`);
} finally {
  // Graceful: the child runs the cleanup its setup() returned, closes its server and exits.
  // (In TypeScript, `await using child = await ProcessSpawner.spawn(…)` does this at the end of the block.)
  console.log(await child.stop()); // { code: 0, signal: null }
}
