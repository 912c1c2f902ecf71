// The floors farcall's benchmarks are measured against, in the same run: a bare length-prefixed echo
// between two processes over the same transport, and bare streaming throughput. No farcall code is used
// on either side of a floor: just sockets and 4-byte length headers.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, nowUs } from './lib.mjs';

/** A fresh address of the given kind ('unix' or 'tcp') for a server in another process. */
export function freshAddress(kind) {
  if (kind === 'unix') return `unix://${join(mkdtempSync(join(tmpdir(), 'farcall-bench-')), 's.sock')}`;
  return 'tcp://127.0.0.1:0';
}

/** Starts the bare echo server (bench/floor-server.mjs) in a child process; resolves { address, child, stop }. */
export async function startBareEchoServer(kind) {
  const child = fork(fileURLToPath(new URL('./floor-server.mjs', import.meta.url)), [freshAddress(kind)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [address] = await once(child, 'message');
  return { address, child, stop: () => child.kill() };
}

/** Opens a plain socket to a `tcp://` or `unix://` address. */
export async function connectRaw(address) {
  const url = address.startsWith('unix://') ? { path: address.slice(7) } : parseTcp(address);
  const socket = net.connect(url);
  await once(socket, 'connect');
  socket.setNoDelay(true);
  return socket;
}

function parseTcp(address) {
  const rest = address.slice(6);
  const colon = rest.lastIndexOf(':');
  return { host: rest.slice(0, colon), port: Number(rest.slice(colon + 1)) };
}

/** A minimal framed reader for the floor: calls onFrame(body) per length-prefixed frame. */
export function readFrames(socket, onFrame) {
  let chunks = [];
  let buffered = 0;
  let need = -1;
  socket.on('data', (chunk) => {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (need < 0) {
        if (buffered < 4) return;
        const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        need = all.readUInt32BE(0);
        chunks = [all.subarray(4)];
        buffered -= 4;
      }
      if (buffered < need) return;
      const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      onFrame(all.subarray(0, need));
      chunks = [all.subarray(need)];
      buffered -= need;
      need = -1;
    }
  });
}

/** Median round trip (µs) of a small frame echoed by the bare server. */
export async function bareRoundTripUs(address, iterations = 5000, bodyBytes = 16) {
  const socket = await connectRaw(address);
  const frame = Buffer.alloc(4 + bodyBytes);
  frame.writeUInt32BE(bodyBytes, 0);
  let resolveReply;
  readFrames(socket, () => resolveReply());
  const once = () =>
    new Promise((resolve) => {
      resolveReply = resolve;
      socket.write(frame);
    });
  for (let i = 0; i < 500; i++) await once();
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = nowUs();
    await once();
    samples.push(nowUs() - t0);
  }
  socket.destroy();
  return median(samples);
}

/** Median time (µs) to send `bytes` to the bare server and get it echoed back, whole. */
export async function bareStreamUs(address, bytes, iterations = 15) {
  const socket = await connectRaw(address);
  const body = Buffer.alloc(bytes, 7);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(bytes, 0);
  let resolveReply;
  readFrames(socket, () => resolveReply());
  const samples = [];
  for (let i = 0; i < iterations + 2; i++) {
    const t0 = nowUs();
    await new Promise((resolve) => {
      resolveReply = resolve;
      socket.cork();
      socket.write(header);
      socket.write(body);
      socket.uncork();
    });
    if (i >= 2) samples.push(nowUs() - t0);
  }
  socket.destroy();
  return median(samples);
}
