import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { resolveBuiltModule } from '../../src/internal/module-path.js';
import { release } from '../../src/rpc/proxy.js';
import type { RPCServerOptions } from '../../src/rpc/server.js';
import { connectClient, onCleanup, startServer, until } from './helpers.js';

class Sensor {
  reads = 0;
  read(): number {
    return ++this.reads;
  }
}

/** Starts the consumer server in a child process (the built package) and returns its address. */
async function startConsumerProcess(options: RPCServerOptions = {}): Promise<string> {
  const entry = resolveBuiltModule(import.meta.url, '../../src/rpc/index.js');
  const script = fileURLToPath(new URL('./fixtures/consumer-server.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [script, entry, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  onCleanup(() => {
    child.kill();
  });
  return new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.indexOf('\n');
      if (line >= 0) resolve(output.slice(0, line));
    });
    child.once('exit', (code) => reject(new Error(`the consumer process exited with ${code}`)));
  });
}

interface Consumer {
  hold(s: unknown): void;
  use(s: unknown): number;
  readAgain(): number;
  drop(): void;
}

test('by default a proxy forwarded to a third process is routed through the forwarder: nobody connects to the owner', async () => {
  const owner = await startServer();
  const sensor = new Sensor();
  owner.set('lab', { sensor: () => sensor });
  const fromOwner = await connectClient(owner.address as string);
  const consumerAddress = await startConsumerProcess();
  const toConsumer = await connectClient(consumerAddress);
  const borrowed = await fromOwner.get<{ sensor(): Sensor }>('lab').sensor();
  const consumer = toConsumer.get<Consumer>('consumer');

  expect(await consumer.use(borrowed)).toBe(1);
  expect(await consumer.readAgain()).toBe(2);
  // C's calls came through B: A still serves B alone, and counts only B's reference.
  expect(owner.connections.size).toBe(1);
  expect(owner.lentObjects).toBe(1);
  expect(sensor.reads).toBe(2);
});

test("with the third process's allow-list, it connects to the owner directly when it first uses the proxy, and the owner counts it", async () => {
  // Owner A: a server lending a sensor.
  const owner = await startServer();
  const sensor = new Sensor();
  owner.set('lab', { sensor: () => sensor });
  // B (this test) borrows the sensor from A, and hands it to C (a child process that allows A's address).
  const fromOwner = await connectClient(owner.address as string);
  const consumerAddress = await startConsumerProcess({ allowOwnerConnections: [owner.address as string] });
  const toConsumer = await connectClient(consumerAddress);
  const borrowed = await fromOwner.get<{ sensor(): Sensor }>('lab').sensor();
  const consumer = toConsumer.get<Consumer>('consumer');

  // Receiving the proxy opens no connection…
  await consumer.hold(borrowed);
  expect(owner.connections.size).toBe(1);
  // …using it does: C reached A over its own connection, A now serves two clients.
  expect(await consumer.use(borrowed)).toBe(1);
  expect(owner.connections.size).toBe(2);

  // B lets go of its proxy; A keeps the sensor alive for C.
  release(borrowed);
  await fromOwner.ping();
  expect(owner.lentObjects).toBe(1);
  expect(await consumer.readAgain()).toBe(2);

  // C lets go too: A forgets the sensor.
  await consumer.drop();
  await until(() => owner.lentObjects === 0);
  expect(owner.lentObjects).toBe(0);
  expect(sensor.reads).toBe(2);
});

test('a proxy of an owner that does not listen is routed through the process that forwards it', async () => {
  const consumerAddress = await startConsumerProcess();
  // S relays what its clients give it to C, over a client connection of its own.
  const relay = await startServer();
  relay.set('relay', {
    pass: async (object: unknown) => {
      const toConsumer = await connectClient(consumerAddress);
      return await toConsumer.get<{ use(s: unknown): number }>('consumer').use(object);
    },
  });
  // X (this client, which does not listen) lends its sensor to S, which hands it on to C.
  const x = await connectClient(relay.address as string);
  const sensor = new Sensor();
  expect(await x.get<{ pass(o: unknown): number }>('relay').pass(sensor)).toBe(1);
  expect(sensor.reads).toBe(1);
});
