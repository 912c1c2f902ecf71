// The server process of the rpc benchmarks: one process holding both an RPCServer (publishing `calc`) and
// the bare echo server of the floor, each on an address of the same kind, so the floor and farcall are
// measured between the same two processes over the same transport. Started by fork() with the two
// addresses; sends { rpc, bare } to the parent over IPC; exits when the parent goes.
import { RPCServer } from '../dist/rpc/index.js';
import { listenBareEcho } from './floor.mjs';

class Calculator {
  #ready = new Map();
  add(a, b) {
    return a + b;
  }
  echo(value) {
    return value;
  }
  /** The length of an array sent as an argument. */
  size(array) {
    return array.length;
  }
  /** A Float64Array of `length` elements, made once and returned each time (the result benchmark). */
  make(length) {
    let array = this.#ready.get(length);
    if (array === undefined) {
      array = new Float64Array(length).fill(1.25);
      this.#ready.set(length, array);
    }
    return array;
  }
}

const [rpcAddress, bareAddress] = process.argv.slice(2);
const server = await RPCServer.listen({ address: rpcAddress });
server.set('calc', new Calculator());
const bare = await listenBareEcho(bareAddress);
process.send({ rpc: server.address, bare });
process.on('disconnect', () => process.exit(0));
