// The bare floor of the Wine benchmark, run by 32-bit WINDOWS Node.js under Wine: it connects to the TCP
// port on loopback given in argv[2] (as Client64's Wine server does; a Linux pipe does not work under
// Wine) and answers the bare requests of floor.mjs there, then exits when that socket closes. No farcall code.
import * as net from 'node:net';
import { serveBareEcho } from './floor.mjs';

const socket = net.connect({ host: '127.0.0.1', port: Number(process.argv[2]) }, () => {
  socket.setNoDelay(true);
  serveBareEcho(socket);
});
socket.on('close', () => process.exit(0));
