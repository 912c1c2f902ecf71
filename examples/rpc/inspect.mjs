// farcall/rpc: console.log / util.inspect of a proxy shows what it stands for, without a request.
// Run: node examples/rpc/inspect.mjs   (after npm install)
// For brevity the server and the client run in one process here.
import { RPCClient, RPCServer } from 'farcall/rpc';

class Report {
  summary() {
    return 'all good';
  }
}

const server = await RPCServer.listen();
server.set('scanner', { makeReport: () => new Report() });
const client = await RPCClient.connect(server.address);
try {
  const scanner = client.get('scanner');
  console.log(scanner); // [ObjectProxy 'scanner' of tcp://127.0.0.1:…]
  const report = await scanner.makeReport();
  console.log(report); // [ObjectProxy Report #… of tcp://127.0.0.1:…]
  console.log(report.summary); // a deferred path: [ObjectProxy Report #… of … .summary]
} finally {
  await client.close();
  await server.close();
}
