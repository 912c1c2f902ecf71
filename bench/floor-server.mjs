// The bare echo server of the floor (see floor.mjs): echoes every length-prefixed frame. Started by fork();
// sends its address to the parent over IPC; exits when the parent goes.
import * as net from 'node:net';
import { readFrames } from './floor.mjs';

const address = process.argv[2];
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  readFrames(socket, (body) => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    socket.cork();
    socket.write(header);
    socket.write(body);
    process.nextTick(() => socket.uncork());
  });
});
const listening = address.startsWith('unix://')
  ? new Promise((resolve) => server.listen(address.slice(7), resolve))
  : new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
await listening;
const real = address.startsWith('unix://') ? address : `tcp://127.0.0.1:${server.address().port}`;
process.send(real);
process.on('disconnect', () => process.exit(0));
