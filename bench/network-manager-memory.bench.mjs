// Manager memory with 1000 idle clients (target: ≤ 150 MB RSS), beside the RSS of the same Manager
// idle, measured in the same run. The Manager runs in its own process so the clients' sockets and
// buffers do not count; the clients are raw sockets that answer the handshake and then stay idle.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report } from './lib.mjs';

const CLIENTS = 1000;
const TARGET_MB = 150;

if (process.argv[2] === 'manager') {
  // The child: a Manager that reports its RSS on request.
  const { startManager } = await import('../dist/network/manager/start-manager.js');
  const manager = await startManager({
    port: 0,
    disableTls: true,
    home: process.argv[3],
    logLevel: 'silent',
  });
  process.on('message', (message) => {
    if (message === 'rss') {
      globalThis.gc?.();
      globalThis.gc?.();
      process.send({ rss: process.memoryUsage().rss, connections: manager.connectionCount });
    } else if (message === 'stop') {
      manager.close().then(() => process.exit(0));
    }
  });
  process.send({ port: manager.port });
} else {
  const home = mkdtempSync(join(tmpdir(), 'farcall-bench-memory-'));
  const child = fork(fileURLToPath(import.meta.url), ['manager', home], { execArgv: ['--expose-gc'] });
  const messages = [];
  let wake;
  child.on('message', (message) => {
    messages.push(message);
    wake?.();
  });
  const next = async () => {
    while (messages.length === 0) await new Promise((resolve) => (wake = resolve));
    return messages.shift();
  };
  const rss = async () => {
    const samples = [];
    for (let i = 0; i < 5; i++) {
      child.send('rss');
      samples.push(await next());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { rss: median(samples.map((s) => s.rss)), connections: samples.at(-1).connections };
  };

  try {
    const { port } = await next();
    const idle = await rss();

    const sockets = [];
    const connectOne = (i) =>
      new Promise((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1' });
        let buffered = '';
        socket.on('data', (chunk) => {
          buffered += chunk;
          if (buffered.includes('"identity"')) {
            buffered = '';
            socket.write(
              `{"result": {"type": "client", "name": "Idle${i}", "language": "bench", "os": "bench"}}\r\n`,
            );
            resolve(socket);
          }
        });
        socket.on('error', reject);
        sockets.push(socket);
      });
    for (let start = 0; start < CLIENTS; start += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => connectOne(start + j)));
    }
    // Let the Manager finish the handshakes, then measure.
    let loaded;
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      loaded = await rss();
      if (loaded.connections === CLIENTS) break;
    }
    const mb = (bytes) => bytes / (1024 * 1024);
    report({
      bench: 'network-manager-memory',
      metric: `Manager RSS with ${loaded.connections} idle clients`,
      unit: 'MB',
      value: mb(loaded.rss),
      floor: mb(idle.rss),
      floorLabel: 'idle Manager',
      target: `≤ ${TARGET_MB} MB`,
      better: 'lower',
      pass: loaded.connections === CLIENTS && mb(loaded.rss) <= TARGET_MB,
    });
    report({
      bench: 'network-manager-memory',
      metric: 'memory per idle client',
      unit: 'KB',
      value: (loaded.rss - idle.rss) / 1024 / CLIENTS,
      better: 'lower',
    });
    for (const socket of sockets) socket.destroy();
  } finally {
    child.send('stop');
    await new Promise((resolve) => child.on('exit', resolve));
    rmSync(home, { recursive: true, force: true });
  }
}
