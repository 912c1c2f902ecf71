// The bare echo server of the floor (see floor.mjs), alone in a process: started by fork(), it sends its
// address to the parent over IPC and exits when the parent goes.
import { listenBareEcho } from './floor.mjs';

const address = await listenBareEcho(process.argv[2]);
process.send(address);
process.on('disconnect', () => process.exit(0));
