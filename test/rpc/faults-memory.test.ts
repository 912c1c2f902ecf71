// A peer that sends 100 000 requests and never reads the replies (§4 of the rpc issue). The server runs in
// its own process (ProcessSpawner), so its memory is its own; the test watches it through a probe.
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { Action, MessageKind, PROTOCOL_VERSION } from '../../src/rpc/messages.js';
import { ProcessSpawner } from '../../src/rpc/spawner.js';
import { Codec } from '../../src/wire/codec.js';
import { encodeFrameHeader, FrameDecoder } from '../../src/wire/frames.js';
import { connectTransport } from '../../src/wire/transports.js';
import { onCleanup, unixAddress } from './helpers.js';

interface Stats {
  rss: number;
  pendingWriteBytes: number;
  requestsServed: number;
  connections: number;
}

const REQUESTS = 100_000;
const REPLY_BYTES = 4096;
/** The server's default limit on replies waiting for a peer that does not read (FramedSocket). */
const WRITE_LIMIT = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

const frame = (codec: Codec, message: unknown[]): Buffer => {
  const body = codec.encode(message);
  return Buffer.concat([encodeFrameHeader(body.length), body]);
};

test('100 000 requests from a peer that never reads its replies: the server stops reading it, its memory stays bounded, it serves others meanwhile, and no reply is lost', async () => {
  const server = await ProcessSpawner.spawn({
    module: fileURLToPath(new URL('./fixtures/fault-server.mjs', import.meta.url)),
    name: 'fault-server',
    address: unixAddress(),
    stdout: null,
  });
  onCleanup(() => server.kill().then(() => undefined));
  const probe = server.get<{ stats(): Stats }>('probe');
  const calc = server.get<{ add(a: number, b: number): number }>('calc');
  const before = await probe.stats();

  // The flood: HELLO, then 100 000 requests for a 4 KiB reply each (400 MiB of replies), written at once.
  const codec = new Codec();
  const flood: Buffer[] = [frame(codec, [MessageKind.HELLO, PROTOCOL_VERSION, 'flooder', null, null])];
  for (let id = 1; id <= REQUESTS; id++)
    flood.push(frame(codec, [MessageKind.REQUEST, id, Action.CALL, 'calc', ['bytes'], [REPLY_BYTES]]));
  const attacker = await connectTransport(server.address as string);
  onCleanup(() => {
    attacker.destroy();
  });
  attacker.pause();
  attacker.write(Buffer.concat(flood));

  // Watch the server until it stops serving the flood (it stopped reading the attacker).
  let peak = before;
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const started = performance.now();
    expect(await calc.add(20, 22)).toBe(42); // a bystander is served throughout
    // Served, not starved: a generous bound (this machine is shared and loaded; speed lives in bench/).
    expect(performance.now() - started).toBeLessThan(5000);
    const now = await probe.stats();
    peak = {
      rss: Math.max(peak.rss, now.rss),
      pendingWriteBytes: Math.max(peak.pendingWriteBytes, now.pendingWriteBytes),
      requestsServed: now.requestsServed,
      connections: now.connections,
    };
    if (now.requestsServed !== last) {
      last = now.requestsServed;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 300 && last > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // It stopped: most requests are still unread, and what waits to be written stays near the limit.
  expect(peak.requestsServed).toBeGreaterThan(0);
  expect(peak.requestsServed).toBeLessThan(REQUESTS);
  expect(peak.pendingWriteBytes).toBeGreaterThan(WRITE_LIMIT / 2);
  expect(peak.pendingWriteBytes).toBeLessThan(WRITE_LIMIT + 4 * MiB);
  // 400 MiB of replies never piled up in the server: its memory grew by the limit (plus the garbage of the
  // replies already written), not by the flood.
  expect(peak.rss - before.rss).toBeLessThan(2 * WRITE_LIMIT + 64 * MiB);

  // When the attacker finally reads, every one of its 100 000 replies arrives, in order.
  const decoder = new FrameDecoder();
  let received = 0;
  let inOrder = true;
  let helloSeen = false;
  const allReplies = new Promise<void>((resolve) => {
    attacker.on('data', (chunk: Buffer) => {
      for (const body of decoder.push(chunk)) {
        const message = codec.decode(body) as unknown[];
        if (message[0] === MessageKind.HELLO) {
          helloSeen = true;
          continue;
        }
        received++;
        if (message[0] !== MessageKind.REPLY || message[1] !== received) inOrder = false;
        if (received === REQUESTS) resolve();
      }
    });
  });
  attacker.resume();
  await allReplies;
  expect(helloSeen).toBe(true);
  expect(inOrder).toBe(true);
  const after = await probe.stats();
  expect(after.requestsServed).toBe(REQUESTS);
  expect(after.pendingWriteBytes).toBe(0);
}, 60_000);
