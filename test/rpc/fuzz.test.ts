// Fuzzing the rpc server (issue 7 §1): random and mutated frames from fast-check, over real sockets, to a
// server in its own process run with --unhandled-rejections=strict. Bounded: at most 2000 frames and about
// 10 s. After every batch the server process is alive and a bystander client is still served.
// FARCALL_FUZZ_RUNS / FARCALL_FUZZ_SEED / FARCALL_FUZZ_MS run it longer or with another seed, by hand.
import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { resolveBuiltModule } from '../../src/internal/module-path.js';
import { Action, MessageKind, PROTOCOL_VERSION } from '../../src/rpc/messages.js';
import { Codec, RemoteReference } from '../../src/wire/codec.js';
import { connectClient, onCleanup } from './helpers.js';

const RUNS = Number(process.env.FARCALL_FUZZ_RUNS ?? 40);
const MAX_FRAMES_PER_RUN = 50; // RUNS × MAX_FRAMES_PER_RUN = 2000 frames at most
const TIME_LIMIT_MS = Number(process.env.FARCALL_FUZZ_MS ?? 10_000);
const SEED = Number(process.env.FARCALL_FUZZ_SEED ?? 0x5eed_7);

const codec = new Codec();

function frame(body: Uint8Array, length = body.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length >>> 0, 0);
  return Buffer.concat([header, body]);
}

function encodeOrNothing(message: unknown): Uint8Array | undefined {
  try {
    return codec.encode(message);
  } catch {
    return undefined; // fast-check made a value the codec does not send: skip it
  }
}

const hello = codec.encode([MessageKind.HELLO, PROTOCOL_VERSION, 'fuzzer', null, null]);
const validMessages = [
  [MessageKind.REQUEST, 1, Action.CALL, 'calc', ['add'], [1, 2]],
  [MessageKind.REQUEST, 2, Action.GET, 'calc', ['make'], []],
  [MessageKind.REQUEST, 3, Action.CALL, 'calc', ['echo'], [{ a: [1, 'x', null], b: new Uint8Array(3) }]],
  [MessageKind.REQUEST, null, Action.CALL, 'calc', ['fail'], []],
  [
    MessageKind.REQUEST,
    4,
    Action.CALL,
    'calc',
    ['callBack'],
    [new RemoteReference('fuzzer', 1, null, true, 'f')],
  ],
  [MessageKind.RELEASE, 12345, 1],
  [MessageKind.RETAIN, 12345, 3],
  [MessageKind.REPLY, 99, 'nobody asked'],
  [MessageKind.ERROR, 98, 'Error', 'nobody asked', null, null, null],
].map((message) => codec.encode(message));

const names = fc.oneof(
  fc.constantFrom('add', 'echo', 'make', 'fail', 'reject', 'callBack', 'bump', 'status', 'value'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '__lookupGetter__', 'call', 'buffer'),
  fc.string({ maxLength: 12 }),
);

const target = fc.oneof(
  fc.constant('calc'),
  fc.constant(0),
  fc.integer({ min: -2, max: 2 ** 53 }),
  fc.string({ maxLength: 8 }),
  fc.constant(null),
);

const reference = fc
  .record({
    owner: fc.oneof(fc.constant('fuzzer'), fc.string({ maxLength: 12 })),
    id: fc.integer({ min: 0, max: 2 ** 53 }),
    address: fc.oneof(fc.constant(null), fc.constant('tcp://127.0.0.1:9'), fc.string({ maxLength: 20 })),
    callable: fc.boolean(),
  })
  .map((r) => new RemoteReference(r.owner, r.id, r.address, r.callable, 'Fuzz'));

const argument = fc.oneof(
  fc.anything({
    maxDepth: 3,
    maxKeys: 4,
    withBigInt: true,
    withDate: true,
    withTypedArray: true,
    withMap: true,
    withSet: true,
  }),
  reference,
);

/** A structured message: the right outer shape, random kinds and fields. */
const structured = fc
  .tuple(
    fc.integer({ min: -1, max: 9 }),
    fc.oneof(fc.constant(null), fc.integer({ min: -1, max: 2 ** 32 + 1 }), fc.string({ maxLength: 4 })),
    fc.integer({ min: -1, max: 10 }),
    target,
    fc.oneof(fc.array(names, { maxLength: 4 }), fc.anything({ maxDepth: 1 })),
    fc.oneof(fc.array(argument, { maxLength: 3 }), fc.anything({ maxDepth: 1 })),
    fc.integer({ min: -1, max: 3 }),
  )
  .map((message) => encodeOrNothing(message));

/** A valid message with a few bytes flipped, cut short, or followed by junk. */
const mutated = fc
  .tuple(
    fc.constantFrom(...validMessages),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.option(fc.nat(), { nil: undefined }),
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([message, flips, cut, junk]) => {
    const bytes = Buffer.from(message);
    for (const [at, value] of flips) bytes[at % bytes.length] = value;
    const body = cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
    return Buffer.concat([body, junk]);
  });

/** One frame: mostly well framed; sometimes a header that lies about the body's length. */
const oneFrame = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: structured },
      { weight: 3, arbitrary: mutated },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      { weight: 1, arbitrary: fc.constant(hello) },
    ),
    fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat() }),
  )
  .filter(([body]) => body !== undefined)
  .map(([body, lie]) => frame(body as Uint8Array, lie === undefined ? (body as Uint8Array).length : lie));

const batch = fc.record({
  secured: fc.boolean(),
  sayHello: fc.boolean(),
  frames: fc.array(oneFrame, { minLength: 1, maxLength: MAX_FRAMES_PER_RUN, size: 'max' }),
});

async function startFuzzServer(): Promise<{ child: ChildProcess; plain: string; secured: string }> {
  const entry = resolveBuiltModule(import.meta.url, '../../src/rpc/index.js');
  const script = fileURLToPath(new URL('./fixtures/fuzz-server.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--unhandled-rejections=strict', script, entry], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  onCleanup(() => {
    child.kill();
  });
  const line = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const end = output.indexOf('\n');
      if (end >= 0) resolve(output.slice(0, end));
    });
    child.once('exit', (code) => reject(new Error(`the fuzz server exited with ${code}: ${stderr}`)));
  });
  child.once('exit', (code, signal) => {
    if (signal === null && code !== 0) process.stderr.write(`fuzz server died (${code}): ${stderr}\n`);
  });
  const [plain, secured] = line.split(' ');
  return { child, plain, secured };
}

/** Sends `frames` on a fresh connection, then waits until the server answered or hung up (≤ 300 ms). */
async function send(address: string, sayHello: boolean, frames: Buffer[]): Promise<void> {
  const url = new URL(address.replace('tcp:', 'http:'));
  const socket = net.connect(Number(url.port), url.hostname);
  socket.on('error', () => {});
  socket.resume();
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  if (!socket.destroyed) {
    socket.write(Buffer.concat([...(sayHello ? [frame(hello)] : []), ...frames]));
    await new Promise((resolve) => {
      socket.once('close', resolve);
      setTimeout(resolve, 300);
    });
  }
  socket.destroy();
}

test(`fuzz: ${RUNS} connections of up to ${MAX_FRAMES_PER_RUN} random or mutated frames never crash the server, and a bystander is served`, async () => {
  const server = await startFuzzServer();
  const bystander = await connectClient(server.plain);
  const calc = bystander.get<{ add(a: number, b: number): number }>('calc');
  let frames = 0;
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(batch, async ({ secured, sayHello, frames: batchFrames }) => {
      frames += batchFrames.length;
      await send(secured ? server.secured : server.plain, sayHello, batchFrames);
      expect(server.child.exitCode).toBeNull();
      expect(await calc.add(20, 22)).toBe(42);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: TIME_LIMIT_MS },
  );
  expect(frames).toBeLessThanOrEqual(RUNS * MAX_FRAMES_PER_RUN);
  expect(Date.now() - started).toBeLessThan(60_000);
  expect(server.child.exitCode).toBeNull();
  expect(bystander.connected).toBe(true);
}, 60_000);
