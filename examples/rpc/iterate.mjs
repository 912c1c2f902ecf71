// farcall/rpc: for await over a remote async generator; break stops the generator on its owner.
// Run: node examples/rpc/iterate.mjs   (after npm install)
// For brevity the server and the client run in one process here.
import { RPCClient, RPCServer } from 'farcall/rpc';

class Sensor {
  async *samples() {
    try {
      for (let i = 0; ; i++) yield 20 + i / 10; // endless: the consumer decides when to stop
    } finally {
      console.log('the generator stopped on the server');
    }
  }
}

const server = await RPCServer.listen();
server.set('sensor', new Sensor());
const client = await RPCClient.connect(server.address);
try {
  // The owner runs at most a window of items (16 by default) ahead of this loop.
  for await (const value of client.get('sensor').samples()) {
    console.log('sample', value);
    if (value >= 20.2) break; // runs the generator's finally on the server
  }
  console.log('loop done');
} finally {
  await client.close();
  await server.close();
}
