// The floor of the loadlib benchmarks, run by the 32-bit node: a bare length-prefixed echo on the
// child's fd-3 pipe (the transport Client64 uses), with no farcall code. Exits when the pipe closes.
// Node 18 (Debian's i386 node): plain JavaScript, node: modules only.
import { Socket } from 'node:net';

const pipe = new Socket({ fd: 3, readable: true, writable: true });
let chunks = [];
let buffered = 0;
let need = -1;

pipe.on('data', (chunk) => {
  chunks.push(chunk);
  buffered += chunk.length;
  for (;;) {
    if (need < 0) {
      if (buffered < 4) return;
      const head = take(4);
      need = head.readUInt32BE(0);
    }
    if (buffered < need) return;
    const body = take(need);
    need = -1;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    pipe.cork();
    pipe.write(header);
    if (body.length > 0) pipe.write(body);
    process.nextTick(() => pipe.uncork());
  }
});
pipe.on('end', () => process.exit(0));
pipe.on('error', () => process.exit(0));

/** The next n buffered bytes (one copy only when they span chunks). */
function take(n) {
  const first = chunks[0];
  let out;
  if (first.length >= n) {
    out = first.subarray(0, n);
    if (first.length === n) chunks.shift();
    else chunks[0] = first.subarray(n);
  } else {
    out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const c = chunks[0];
      const m = Math.min(c.length, n - offset);
      c.copy(out, offset, 0, m);
      offset += m;
      if (m === c.length) chunks.shift();
      else chunks[0] = c.subarray(m);
    }
  }
  buffered -= n;
  if (chunks.length === 0) chunks = [];
  return out;
}
