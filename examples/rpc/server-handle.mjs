// farcall/rpc: client.server is the server itself (pyacq's client['self']): its names, ping, clock, close.
// Run: node examples/rpc/server-handle.mjs   (after npm install)
// For brevity the server and the client run in one process here.
import { RPCClient, RPCServer } from 'farcall/rpc';

const server = await RPCServer.listen({ allowRemoteClose: true }); // without it, close() is refused
server.set('scanner', { start: () => 'started' });
server.set('calc', { add: (a, b) => a + b });
const client = await RPCClient.connect(server.address);
const remote = client.server;
console.log('names', (await remote.names()).join(', '));
console.log('ping ms', (await remote.ping()).toFixed(3));
console.log('clock difference ms', Math.round((await remote.time()) - Date.now()));
console.log(await remote.get('scanner').start());
await remote.close();
console.log('disconnected:', (await client.disconnected)?.message ?? 'cleanly');
await server.close();
