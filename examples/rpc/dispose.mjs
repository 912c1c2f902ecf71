// farcall/rpc: disposing a proxy runs the remote object's Symbol.asyncDispose, then releases it
// (RPyC's remote context managers). In TypeScript: `await using session = await device.open()`.
// Run: node examples/rpc/dispose.mjs   (after npm install)
// For brevity the server and the client run in one process here.
import { RPCClient, RPCServer } from 'farcall/rpc';

class Session {
  read() {
    return 'data';
  }
  async [Symbol.asyncDispose]() {
    console.log('the session closed on the server');
  }
}

const server = await RPCServer.listen();
server.set('device', { open: () => new Session() });
const client = await RPCClient.connect(server.address);
try {
  const session = await client.get('device').open();
  try {
    console.log('read', await session.read());
  } finally {
    await session[Symbol.asyncDispose](); // what `await using` calls at the end of its block
  }
  console.log('disposed');
} finally {
  await client.close();
  await server.close();
}
