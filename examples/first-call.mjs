// The first thing to run after `npm install farcall`: node examples/first-call.mjs
import { RPCClient, RPCServer } from 'farcall/rpc';

class Thermometer {
  read() {
    return 21.5;
  }
}
const server = await RPCServer.listen(); // tcp://127.0.0.1:<a free port>, loopback only
server.set('thermometer', new Thermometer());
const client = await RPCClient.connect(server.address);
console.log(await client.get('thermometer').read()); // 21.5, over a real socket
await client.close();
await server.close();
