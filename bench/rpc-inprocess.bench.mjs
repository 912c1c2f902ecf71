// farcall/rpc's own CPU per call, both sides in one process: `await calc.add(1, 2)` through
// RPCServer.serve and RPCClient.fromStream over a pair of in-memory duplex streams (no socket, no other
// process). Target: ≤ 5 µs. Beside it, for scale, the bare framed echo over the same kind of stream pair.
// Sampled in alternating blocks of 200 calls. To profile: node --cpu-prof bench/rpc-inprocess.bench.mjs.
import { Duplex } from 'node:stream';
import { RPCClient, RPCServer } from '../dist/rpc/index.js';
import { bareClient, serveBareEcho } from './floor.mjs';
import { alternatingBlocks, report } from './lib.mjs';

/** Two in-memory streams: what one writes, the other reads. */
function duplexPair() {
  const sides = [];
  for (let i = 0; i < 2; i++) {
    sides.push(
      new Duplex({
        read() {},
        write(chunk, _encoding, callback) {
          sides[1 - i].push(chunk);
          callback();
        },
        writev(chunks, callback) {
          for (const { chunk } of chunks) sides[1 - i].push(chunk);
          callback();
        },
        final(callback) {
          sides[1 - i].push(null);
          callback();
        },
      }),
    );
  }
  return sides;
}

class Calculator {
  add(a, b) {
    return a + b;
  }
}

const server = new RPCServer();
server.set('calc', new Calculator());
const [serverSide, clientSide] = duplexPair();
server.serve(serverSide, { peerName: 'in-process' });
const client = await RPCClient.fromStream(clientSide, 'in-process');
const calc = client.get('calc');

const [bareServerSide, bareClientSide] = duplexPair();
serveBareEcho(bareServerSide);
const bare = bareClient(bareClientSide);
const body = Buffer.alloc(16);

const add = () => calc.add(1, 2);
const echo = () => bare.request([body]);
for (let i = 0; i < 5000; i++) {
  await add();
  await echo();
}
const sampled = await alternatingBlocks({ floor: echo, farcall: add }, { blocks: 50, blockSize: 200 });
report({
  bench: 'rpc-inprocess',
  metric: 'await proxy.add(1, 2), in-memory stream pair',
  unit: 'µs',
  value: sampled.farcall.median,
  floor: sampled.floor.median,
  floorLabel: 'bare framed echo, in-memory stream pair',
  target: '≤ 5 µs',
  better: 'lower',
  pass: sampled.farcall.median <= 5,
});
await client.close();
await server.close();
process.exit(0);
