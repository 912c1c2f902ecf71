// The client process of examples/rpc/hooks.mjs: connects to the address it is given, calls, and leaves.
import { RPCClient } from 'farcall/rpc';

const client = await RPCClient.connect(process.argv[2]);
console.log('the client got', await client.get('calc').add(1, 2));
await client.close();
