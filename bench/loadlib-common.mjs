// Shared pieces of the loadlib benchmarks: the bare floor (this 64-bit node ⇄ the 32-bit node over the
// fd-3 pipe, no farcall code on either side) and the Server32 module they call.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { findServer32Runtime } from '../dist/loadlib/runtime.js';
import { bareClient } from './floor.mjs';

/** The Server32 the benchmarks start: farcall's example server (add, echo, sleep …). */
export const exampleServer = fileURLToPath(new URL('../examples/loadlib-server.mjs', import.meta.url));

/**
 * Starts the bare echo (bench/floor-pipe-child.mjs, the rpc floor's) in the 32-bit node on an fd-3 pipe, as Client64
 * starts its server. Resolves when the first echo came back: `{ roundTrip(body), close(), startUs }`.
 */
export async function startBareFloor() {
  const t0 = performance.now();
  const runtime = findServer32Runtime();
  const child = spawn(
    runtime.command,
    [...runtime.args, fileURLToPath(new URL('./floor-pipe-child.mjs', import.meta.url))],
    { env: runtime.env, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] },
  );
  const pipe = child.stdio[3];
  pipe.setNoDelay?.(true);
  const client = bareClient(pipe);
  const roundTrip = (body) => client.request([body]);
  await roundTrip(Buffer.from('hello'));
  const startMs = performance.now() - t0;
  const close = async () => {
    const t1 = performance.now();
    const exited = once(child, 'exit');
    pipe.end();
    await exited;
    return performance.now() - t1;
  };
  return { roundTrip, close, startMs, child };
}
