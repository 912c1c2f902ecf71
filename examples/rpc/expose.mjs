// farcall/rpc: expose(obj, names) lends a view of which a peer reaches only those members, whatever the
// server's policy (RPyC's restricted).
// Run: node examples/rpc/expose.mjs   (after npm install)
// For brevity the server and the client run in one process here.
import { AccessDeniedError } from 'farcall';
import { expose, RPCClient, RPCServer } from 'farcall/rpc';

class LogFile {
  size = 1024;
  read(offset, length) {
    return `bytes ${offset}..${offset + length}`;
  }
  truncate() {
    this.size = 0;
  }
}

const file = new LogFile();
const server = await RPCServer.listen({ policy: { allowAll: true } }); // even with everything allowed…
server.set('log', expose(file, ['read', 'size'])); // …a peer reaches read() and size, nothing else
const client = await RPCClient.connect(server.address);
try {
  const log = client.get('log');
  console.log(await log.read(0, 100));
  console.log('size', await log.size); // a data field, readable because it is listed
  try {
    await log.truncate();
  } catch (error) {
    console.log('truncate refused:', error instanceof AccessDeniedError);
  }
  console.log('size after', file.size);
} finally {
  await client.close();
  await server.close();
}
