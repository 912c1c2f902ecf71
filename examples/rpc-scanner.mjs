// farcall/rpc: use an object that lives in another process as if it were here.
// Run: node examples/rpc-scanner.mjs   (after npm install)
// For brevity the server and the client run in one process here; examples/rpc-spawner.mjs puts the
// object in a child process.
import { options, RPCClient, RPCServer, release } from 'farcall/rpc';

class Report {
  summary() {
    return 'all good';
  }
}

class Scanner {
  start(rate) {
    return `scanning at ${rate} Hz`;
  }
  get status() {
    return 'running';
  }
  onSample(callback) {
    setTimeout(() => callback(0.42), 10);
  }
  makeReport() {
    return new Report();
  }
}

const server = await RPCServer.listen(); // tcp://127.0.0.1:<free port>, loopback only
server.set('scanner', new Scanner());
const client = await RPCClient.connect(server.address);
try {
  const scanner = client.get('scanner'); // a proxy: no round trip yet
  console.log(await scanner.start(10)); // one request, one reply
  console.log(await scanner.status); // await a member to fetch its value
  const sample = new Promise((resolve) => scanner.onSample(resolve)); // callbacks travel by reference
  console.log('sample', await sample);
  const report = await scanner.makeReport(); // class instances come back as proxies
  console.log(await report.summary());
  release(report); // or `using report = …` in TypeScript; garbage collection releases it too
  console.log(await options(scanner, { timeout: 500 }).start(20)); // per-proxy options
} finally {
  await client.close();
  await server.close();
}
