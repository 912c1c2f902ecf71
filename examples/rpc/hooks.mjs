// farcall/rpc: onConnect / onDisconnect hooks see each client come and go (RPyC's on_connect).
// Run: node examples/rpc/hooks.mjs   (after npm install)
// The client runs in a second process (workers/hooks-client.mjs), so its going away is real.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RPCServer } from 'farcall/rpc';

let gone;
const disconnected = new Promise((resolve) => {
  gone = resolve;
});
const server = await RPCServer.listen({
  onConnect: (peer) => console.log('connected:', peer.address),
  onDisconnect: (peer, reason) => {
    console.log('disconnected:', peer.address, '-', reason?.message ?? 'the server closed');
    gone();
  },
});
server.set('calc', { add: (a, b) => a + b });
const client = fileURLToPath(new URL('./workers/hooks-client.mjs', import.meta.url));
const { stdout } = await promisify(execFile)(process.execPath, [client, server.address]);
process.stdout.write(stdout);
await disconnected;
await server.close();
