// Shared pieces of the loadlib benchmarks: the bare floor (this 64-bit node ⇄ the 32-bit node over the
// fd-3 pipe, no farcall code on either side) and the Server32 module they call.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { findServer32Runtime } from '../dist/loadlib/runtime.js';

/** The Server32 the benchmarks start: farcall's example server (add, echo, sleep …). */
export const exampleServer = fileURLToPath(new URL('../examples/loadlib-server.mjs', import.meta.url));

/**
 * Starts the bare echo (bench/loadlib-floor-server.mjs) in the 32-bit node on an fd-3 pipe, as Client64
 * starts its server. Resolves when the first echo came back: `{ roundTrip(body), close(), startUs }`.
 */
export async function startBareFloor() {
  const t0 = performance.now();
  const runtime = findServer32Runtime();
  const child = spawn(
    runtime.command,
    [...runtime.args, fileURLToPath(new URL('./loadlib-floor-server.mjs', import.meta.url))],
    { env: runtime.env, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] },
  );
  const pipe = child.stdio[3];
  pipe.setNoDelay?.(true);
  const waiting = [];
  let chunks = [];
  let buffered = 0;
  let need = -1;
  pipe.on('data', (chunk) => {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (need < 0) {
        if (buffered < 4) return;
        need = take(4).readUInt32BE(0);
      }
      if (buffered < need) return;
      const body = take(need);
      need = -1;
      waiting.shift()(body);
    }
  });
  function take(n) {
    const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length > 0 ? [rest] : [];
    buffered -= n;
    return out;
  }
  const roundTrip = (body) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length, 0);
      pipe.cork();
      pipe.write(header);
      if (body.length > 0) pipe.write(body);
      process.nextTick(() => pipe.uncork());
    });
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
