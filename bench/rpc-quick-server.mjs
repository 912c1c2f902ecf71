// The rpc server of bench/rpc-quick.bench.mjs, in its own process: publishes `calc` (add, echo, size).
// Started by fork(); sends its address to the parent over IPC; exits when the parent goes.
import { RPCServer } from '../dist/rpc/index.js';

class Calculator {
  add(a, b) {
    return a + b;
  }
  echo(value) {
    return value;
  }
  size(array) {
    return array.length;
  }
}

const server = await RPCServer.listen({ address: process.argv[2] });
server.set('calc', new Calculator());
process.send(server.address);
process.on('disconnect', () => process.exit(0));
