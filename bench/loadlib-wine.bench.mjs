// Client64 → Server32 in 32-bit Windows Node.js under Wine (runtime: 'wine'), against the floor measured
// in the same run: a bare length-prefixed echo (bench/floor-wine-child.mjs, one write per frame) between
// this 64-bit Linux node and the same 32-bit Windows node under Wine, over the same transport (TCP on
// loopback).
//   - a trivial call, request32('add', 1, 2): median ≤ 2 × floor; floor and farcall alternate in blocks
//     of 200 calls, so a noisy neighbour hits both alike
//   - start to first reply: Client64 with runtime 'wine', beside a bare node.exe start under the same
//     Wine (spawn → its first byte back over TCP); for information
// Needs: bash scripts/setup-wine.sh --mingw (and bash scripts/build-windows-dlls.sh).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client64, findWineServer32Runtime, toWinePath } from '../dist/loadlib/index.js';
import { bareClient } from './floor.mjs';
import { median, nowUs, report } from './lib.mjs';

const server = fileURLToPath(new URL('../test/loadlib/fixtures/windows-server.mjs', import.meta.url));
const runtime = findWineServer32Runtime();
const BLOCK = 200;
const ROUNDS = 25;

/** Starts `script` in the Wine node with a TCP port to connect back to; resolves the socket and the child. */
async function startWineChild(script, args = []) {
  const t0 = performance.now();
  const listener = net.createServer();
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address();
  // Output to /dev/null: a Linux pipe makes a Windows program's stdout fail under Wine.
  const devnull = openSync('/dev/null', 'w');
  const child = spawn(runtime.command, [...runtime.args, toWinePath(script), String(port), ...args], {
    env: runtime.env,
    stdio: ['ignore', devnull, devnull],
  });
  closeSync(devnull);
  const [socket] = await once(listener, 'connection');
  listener.close();
  socket.setNoDelay(true);
  return { socket, child, connectMs: performance.now() - t0 };
}

// --- start to first reply -----------------------------------------------------------------------------------
const bareStarts = [];
const clientStarts = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const bare = await startWineChild(fileURLToPath(new URL('./floor-wine-child.mjs', import.meta.url)));
  const echo = bareClient(bare.socket);
  await echo.request([Buffer.from('hello')]);
  bareStarts.push(performance.now() - t0);
  const exited = once(bare.child, 'exit');
  bare.socket.end();
  await exited;

  const t1 = performance.now();
  const client = new Client64(server, { runtime: 'wine', timeout: 120_000 });
  await client.request32('add', 1, 2);
  clientStarts.push(performance.now() - t1);
  await client.shutdownServer32();
}
report({
  bench: 'loadlib-wine',
  metric: "start to first reply, Client64 runtime: 'wine'",
  unit: 'ms',
  value: median(clientStarts),
  floor: median(bareStarts),
  floorLabel: 'bare node.exe under the same Wine: spawn → first echo over TCP',
  target: '(information)',
  better: 'lower',
});

// --- a trivial call against the floor ------------------------------------------------------------------------
const bare = await startWineChild(fileURLToPath(new URL('./floor-wine-child.mjs', import.meta.url)));
const floor = bareClient(bare.socket);
const client = new Client64(server, { runtime: 'wine', timeout: 120_000 });
await client.ready;
try {
  const small = Buffer.from('add(1, 2)');
  for (let i = 0; i < 1000; i++) {
    await floor.request([small]);
    await client.request32('add', 1, 2);
  }
  const floorSamples = [];
  const addSamples = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < BLOCK; i++) {
      const t0 = nowUs();
      await floor.request([small]);
      floorSamples.push(nowUs() - t0);
    }
    for (let i = 0; i < BLOCK; i++) {
      const t0 = nowUs();
      await client.request32('add', 1, 2);
      addSamples.push(nowUs() - t0);
    }
  }
  const floorUs = median(floorSamples);
  const addUs = median(addSamples);
  report({
    bench: 'loadlib-wine',
    metric: "request32('add', 1, 2) under Wine",
    unit: 'µs',
    value: addUs,
    floor: floorUs,
    floorLabel: 'bare echo 64-bit Linux node ⇄ 32-bit Windows node under Wine, TCP loopback',
    target: '≤ 2 × floor',
    better: 'lower',
    pass: addUs <= 2 * floorUs,
  });
} finally {
  await client.shutdownServer32();
  const exited = once(bare.child, 'exit');
  bare.socket.end();
  await exited;
}
