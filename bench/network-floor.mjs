// Helpers of the network benchmarks: start the peer processes (network-peers.mjs), and the bare floor
// — a client → relay process → echo process → back, over raw sockets of the same transport (TCP or TLS),
// carrying the same JSON lines farcall sends, with no farcall code anywhere on the path.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const PEERS = fileURLToPath(new URL('./network-peers.mjs', import.meta.url));

/** A temporary FARCALL_HOME; `remove()` deletes it. */
export function tempHome() {
  const home = mkdtempSync(join(tmpdir(), 'farcall-bench-net-'));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

/**
 * Forks a peer role and resolves with { child, message } once it reports. With FARCALL_BENCH_PROFILE=<dir>
 * the Manager and Service roles run under `node --cpu-prof`, writing their profiles to that folder when they exit
 * (run the benchmark itself with `node --cpu-prof` to profile the Client).
 */
export async function forkPeer(role, ...args) {
  const profile = process.env.FARCALL_BENCH_PROFILE;
  const execArgv =
    (role === 'manager' || role === 'service') && profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = fork(PEERS, [role, ...args.map(String)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${role} exited with ${code}`);
    }),
  ]);
  return { child, message };
}

/** Starts the floor: echo process + relay process. Resolves { port, stop }. */
export async function startFloor(useTls, home) {
  const mode = useTls ? 'tls' : 'plain';
  const echo = await forkPeer('echo', mode, home);
  const relay = await forkPeer('relay', mode, home, echo.message.port);
  return {
    port: relay.message.port,
    stop() {
      relay.child.kill();
      echo.child.kill();
    },
  };
}

/** Starts farcall's Manager and an Echo Service, each in its own process. Resolves { port, stop }. */
export async function startFarcall(useTls, home) {
  const mode = useTls ? 'tls' : 'plain';
  const manager = await forkPeer('manager', mode, home);
  const service = await forkPeer('service', mode, home, manager.message.port);
  return {
    port: manager.message.port,
    stop() {
      service.child.kill();
      manager.child.kill();
    },
  };
}

/**
 * `exchange(text, count)` writes `text` in one write and resolves when `count` more reply lines have come
 * back on `socket`. It counts line ends and parses nothing (that is the point of a floor).
 */
function countedExchange(socket) {
  let waiting = 0;
  let onDone = () => {};
  socket.on('data', (chunk) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) {
      if (--waiting === 0) onDone();
    }
  });
  return (text, count) =>
    new Promise((resolve) => {
      waiting = count;
      onDone = resolve;
      socket.write(text);
    });
}

/**
 * A raw line client of the floor: `send(line)` writes one line, `request(line)` resolves with the next
 * reply line, `burst(lines)` writes many and resolves when as many replies have come back.
 */
export async function floorClient(port, useTls) {
  const socket = useTls
    ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
    : net.connect({ host: '127.0.0.1', port });
  await once(socket, useTls ? 'secureConnect' : 'connect');
  socket.setNoDelay(true);
  const exchange = countedExchange(socket);
  const burst = (text, count) => exchange(count === 1 ? text : text.repeat(count), count);
  return {
    request: (line) => burst(line, 1),
    burst,
    close: () => socket.destroy(),
  };
}

/** A request line shaped like the ones farcall's client sends (same length). */
export function sampleRequestLine() {
  return `{"args": [1], "attribute": "echo", "error": false, "kwargs": {}, "service": "Echo", "uid": "${crypto.randomUUID()}"}\r\n`;
}

/**
 * Starts the floor of a Manager that carries the same peers (see 'bare-manager' in network-peers.mjs):
 * a bare line relay, and farcall's Echo Service connected to it. Resolves { port, pid, servicePid, stop }.
 */
export async function startBareManager(home) {
  const relay = await forkPeer('bare-manager');
  const service = await forkPeer('service', 'plain', home, relay.message.port);
  return {
    port: relay.message.port,
    pid: relay.child.pid,
    servicePid: service.child.pid,
    stop() {
      service.child.kill();
      relay.child.kill();
    },
  };
}

/**
 * A raw line Client of a Manager (farcall's or msl-network's): answers the Manager's identity request,
 * links to `service`, then `burst(count)` writes `count` request lines (distinct uids, built once) in one
 * write and resolves when as many reply lines have come back. It parses nothing after the link: with it in
 * the place of the TypeScript Client, what is measured is the Manager (and the Service), not the Client.
 */
export async function managerLineClient(port, service = 'Echo') {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.setNoDelay(true);
  let text = '';
  const nextLine = () =>
    new Promise((resolve) => {
      const onData = (chunk) => {
        text += chunk.toString('utf8');
        const nl = text.indexOf('\n');
        if (nl < 0) return;
        socket.off('data', onData);
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        resolve(line);
      };
      socket.on('data', onData);
    });
  await nextLine(); // the Manager's identity request
  socket.write(
    `${JSON.stringify({ error: false, requester: null, result: { type: 'client', name: 'LineClient', language: 'x', os: 'x' }, uid: '' })}\r\n`,
  );
  socket.write(
    `${JSON.stringify({ args: [service], attribute: 'link', error: false, kwargs: {}, service: 'Manager', uid: 'link' })}\r\n`,
  );
  const linked = JSON.parse(await nextLine());
  if (linked.error !== false) throw new Error(`link failed: ${linked.message}`);
  const exchange = countedExchange(socket);
  const texts = new Map();
  const linesOf = (count) => {
    let lines = texts.get(count);
    if (lines === undefined) {
      lines = Array.from(
        { length: count },
        (_, i) =>
          `{"args": [${i}], "attribute": "echo", "error": false, "kwargs": {}, "service": "${service}", "uid": "u${i}"}\r\n`,
      ).join('');
      texts.set(count, lines);
    }
    return lines;
  };
  return {
    burst: (count) => exchange(linesOf(count), count),
    close: () => socket.destroy(),
  };
}
