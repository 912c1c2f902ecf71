// The bare floor of ProcessSpawner and of loadlib (the 32-bit Node 18 runs it too): a child process that
// answers the bare requests of floor.mjs on the two-way pipe its parent gave it on fd 3, and exits when that
// pipe closes. No farcall code.
import * as net from 'node:net';
import { serveBareEcho } from './floor.mjs';

const pipe = new net.Socket({ fd: 3, readable: true, writable: true });
serveBareEcho(pipe);
pipe.on('close', () => process.exit(0));
