// The floors farcall's rpc and loadlib benchmarks are measured against, in the same run: a bare
// length-prefixed echo between the same two processes over the same transport, and bare streaming
// throughput. No farcall code is used on either side of a floor: just sockets (or a child's pipe) and
// 4-byte length headers. Each side is the minimal echo: a frame is written in one `write` as soon as it is
// complete (no cork, no extra tick), so the floor is what the transport costs, not what a framing costs.
//
// The bare server understands three requests, told apart by the first byte of the body:
//   'A' (0x41)             ack: replies with an empty body (the floor of "send a big argument")
//   'G' (0x47) + uint32 n  get: replies with n bytes it holds ready (the floor of "receive a big result")
//   anything else          echo: replies with the body itself
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, nowUs } from './lib.mjs';

const ACK = 0x41;
const GET = 0x47;

/** A fresh address of the given kind ('unix' or 'tcp') for a server in another process. */
export function freshAddress(kind) {
  if (kind === 'unix') return `unix://${join(mkdtempSync(join(tmpdir(), 'farcall-bench-')), 's.sock')}`;
  return 'tcp://127.0.0.1:0';
}

/** Starts the bare echo server (bench/floor-server.mjs) alone in a child process; resolves { address, child, stop }. */
export async function startBareEchoServer(kind) {
  const child = fork(fileURLToPath(new URL('./floor-server.mjs', import.meta.url)), [freshAddress(kind)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [address] = await once(child, 'message');
  return { address, child, stop: () => child.kill() };
}

/** Listens on a `tcp://` or `unix://` address with the bare echo; resolves the real address. */
export async function listenBareEcho(address) {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    serveBareEcho(socket);
  });
  if (address.startsWith('unix://')) {
    await new Promise((resolve) => server.listen(address.slice(7), resolve));
    return address;
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `tcp://127.0.0.1:${server.address().port}`;
}

/**
 * Writes one frame (4-byte length, then `parts`) to `stream` the way a minimal echo does: at once, with no
 * cork and no waiting for a later tick, in one `write` of one buffer. Only a body over
 * {@link ONE_WRITE_BYTES} is written as header then body instead, because copying megabytes behind a
 * header would cost the floor more than the second system call does.
 */
export function writeFrame(stream, parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length <= ONE_WRITE_BYTES) {
    const frame = Buffer.allocUnsafe(4 + length);
    frame.writeUInt32BE(length, 0);
    let offset = 4;
    for (const part of parts) {
      frame.set(part, offset);
      offset += part.length;
    }
    stream.write(frame);
    return;
  }
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(length, 0);
  stream.write(header);
  for (const part of parts) if (part.length > 0) stream.write(part);
}

/** Bodies up to this size are written behind their header in one buffer, one `write`. */
export const ONE_WRITE_BYTES = 64 * 1024;

/**
 * Answers the bare requests on one stream (a socket, or a child's pipe): each reply is written in one
 * `write` as soon as its request is complete. Runs on the 32-bit Node 18 too (bench/floor-pipe-child.mjs):
 * nothing newer than Node 18 here.
 */
export function serveBareEcho(stream) {
  let ready = Buffer.alloc(0);
  const empty = Buffer.alloc(0);
  readFrames(stream, (body) => {
    let reply = body;
    if (body.length > 0 && body[0] === ACK) reply = empty;
    else if (body.length === 5 && body[0] === GET) {
      const size = body.readUInt32BE(1);
      if (ready.length !== size) ready = Buffer.alloc(size, 7);
      reply = ready;
    }
    writeFrame(stream, [reply]);
  });
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

/**
 * A minimal framed reader for the floor: calls onFrame(body) per length-prefixed frame. Like farcall's
 * decoder it copies a body once when it spans chunks, and hands out a view when it does not.
 */
export function readFrames(stream, onFrame) {
  let chunks = [];
  let buffered = 0;
  let need = -1;
  stream.on('data', (chunk) => {
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

/**
 * A client of the bare server over `stream`: `request(parts)` writes the frame at once (header and body in
 * one `write`, no cork) and resolves with the reply body; requests may overlap (the server answers in order).
 */
export function bareClient(stream) {
  const waiting = [];
  readFrames(stream, (body) => waiting.shift()(body));
  return {
    stream,
    /** Sends one frame made of `parts` and resolves with the reply. */
    request(parts) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        writeFrame(stream, parts);
      });
    },
    close: () => stream.destroy(),
  };
}

/** Median round trip (µs) of a small frame echoed by the bare server. */
export async function bareRoundTripUs(address, iterations = 5000, bodyBytes = 16) {
  const client = bareClient(await connectRaw(address));
  const body = Buffer.alloc(bodyBytes);
  for (let i = 0; i < 300; i++) await client.request([body]);
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = nowUs();
    await client.request([body]);
    samples.push(nowUs() - t0);
  }
  client.close();
  return median(samples);
}

/**
 * Requests per second when `total` small frames are echoed with `inFlight` outstanding at any time (each
 * reply lets the next request go), the pattern of `Promise.all` over `inFlight` workers.
 */
export async function bareInFlightRate(address, total = 10_000, inFlight = 100, bodyBytes = 16) {
  const client = bareClient(await connectRaw(address));
  const body = Buffer.alloc(bodyBytes);
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      await client.request([body]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker)); // warm-up
  sent = 0;
  const t0 = nowUs();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const rate = total / ((nowUs() - t0) / 1e6);
  client.close();
  return rate;
}

/**
 * One bare transfer of `bytes`, like farcall's big-array benchmark: 'echo' sends them and gets them back,
 * 'argument' sends them and gets an empty reply, 'result' sends a small request and gets them back. Over
 * an open connection (`client` from {@link bareClient}). The bytes are allocated once, here, so that timing
 * a transfer does not leave garbage for the next measurement to collect. Returns `() => Promise<µs>`.
 */
export function bareStream(client, bytes, mode) {
  const body = Buffer.alloc(bytes, 7);
  const get = Buffer.alloc(5);
  get[0] = GET;
  get.writeUInt32BE(bytes, 1);
  const parts = mode === 'echo' ? [body] : mode === 'argument' ? [Buffer.from([ACK]), body] : [get];
  return async () => {
    const t0 = nowUs();
    const reply = await client.request(parts);
    const elapsed = nowUs() - t0;
    if (mode !== 'argument' && reply.length !== bytes) throw new Error('the bare server lost bytes');
    return elapsed;
  };
}

/** Median time (µs) from starting to connect to the first echoed reply, over a fresh connection each time. */
export async function bareConnectUs(address, iterations = 200, warmup = 20) {
  const body = Buffer.alloc(16);
  const samples = [];
  for (let i = 0; i < iterations + warmup; i++) {
    const t0 = nowUs();
    const client = bareClient(await connectRaw(address));
    await client.request([body]);
    const elapsed = nowUs() - t0;
    client.close();
    if (i >= warmup) samples.push(elapsed);
  }
  return median(samples);
}
