// Call a 32-bit library from 64-bit Node.js: run `node examples/loadlib-client.mjs` (after
// `npm run build`, `bash scripts/build-native.sh` and, once, `bash scripts/setup-server32.sh`).
import { fileURLToPath } from 'node:url';
import { Client64 } from 'farcall/loadlib';

const serverModule = fileURLToPath(new URL('./loadlib-server.mjs', import.meta.url));

// 1. msl-loadlib's way: a Client64 subclass with one method per server method.
class ExampleClient extends Client64 {
  constructor() {
    // serverOptions go to the server's constructor, types intact.
    super(serverModule, { rpcTimeout: 5000, serverOptions: { greeting: 'bye' } });
  }
  add(a, b) {
    return this.request32('add', a, b);
  }
  circumference(radius, n) {
    return this.request32('circumference', radius, n);
  }
}

const client = new ExampleClient();
try {
  console.log('add(1, 2) =', await client.add(1, 2));
  console.log('circumference(0.5, 65536) =', await client.circumference(0.5, 65536));
  console.log('the library the 32-bit server loaded:', client.lib32Path);
  console.log('the server runs Node.js', client.serverRuntime);
} finally {
  // Idempotent; returns what the server printed. (In TypeScript: `await using client = ...`.)
  const { stdout } = await client.shutdownServer32();
  console.log('the server printed:', stdout.trim());
}

// 2. No method per call: a typed proxy (in TypeScript: Client64.proxy<ExampleServer>(...)).
const server = await Client64.proxy(serverModule);
try {
  console.log('subtract(44.2, 4.4) =', await server.subtract(44.2, 4.4), '(float32)');
  console.log('add_or_subtract(1.5, 2.25, false) =', await server.add_or_subtract(1.5, 2.25, false));
  console.log('scalar_multiply(2, [1, 2, 3]) =', await server.scalar_multiply(2, [1, 2, 3]));
  console.log('reverse_string_v1 =', await server.reverse_string_v1('uncertainty'));
  console.log('reverse_string_v2 =', await server.reverse_string_v2('uncertainty'));
  const square = [
    { x: 0, y: 0 },
    { x: 0, y: 1 },
    { x: 1, y: 1 },
    { x: 1, y: 0 },
  ];
  console.log('distance_4_points(unit square) =', await server.distance_4_points(square));
  // Calls overlap: four 200 ms native sleeps take about 200 ms, not 800.
  const t0 = performance.now();
  await Promise.all([1, 2, 3, 4].map(() => server.sleep(200)));
  console.log(`4 concurrent sleep(200) took ${Math.round(performance.now() - t0)} ms`);
} finally {
  await server.$shutdown();
}
