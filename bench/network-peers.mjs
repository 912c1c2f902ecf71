// The processes the network benchmarks run besides the client, one role per fork() (see
// network-floor.mjs): the bare floor's line echo server and relay, and farcall's Manager and Service.
// Each sends { port } (or { ready }) to its parent over IPC and exits when the parent goes.
import * as net from 'node:net';
import * as tls from 'node:tls';

const [role, ...args] = process.argv.slice(2);
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

/** TLS options of the floor's servers: the Manager's own key and certificate (created in `home`). */
async function serverTls(home) {
  const { loadOrCreateManagerCredentials } = await import('../dist/network/certificates.js');
  const credentials = loadOrCreateManagerCredentials({ home });
  return { cert: credentials.cert, key: credentials.key };
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

if (role === 'echo') {
  // A line echo server: writes every line back as it arrives (the floor's "Service").
  const [useTls, home] = args;
  const onSocket = (socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => socket.destroy());
  };
  const server =
    useTls === 'tls' ? tls.createServer(await serverTls(home), onSocket) : net.createServer(onSocket);
  process.send({ port: await listen(server) });
} else if (role === 'relay') {
  // A byte relay (the floor's "Manager"): each accepted connection is piped to the echo server.
  const [useTls, home, targetPort] = args;
  const onSocket = (socket) => {
    socket.setNoDelay(true);
    const upstream =
      useTls === 'tls'
        ? tls.connect({ host: '127.0.0.1', port: Number(targetPort), rejectUnauthorized: false })
        : net.connect({ host: '127.0.0.1', port: Number(targetPort) });
    upstream.setNoDelay(true);
    // Direct writes, no pipe(): the barest relay Node can do.
    socket.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  };
  const server =
    useTls === 'tls' ? tls.createServer(await serverTls(home), onSocket) : net.createServer(onSocket);
  process.send({ port: await listen(server) });
} else if (role === 'manager') {
  const [useTls, home] = args;
  const { startManager } = await import('../dist/network/index.js');
  const manager = await startManager({
    host: '127.0.0.1',
    port: 0,
    home,
    database: `${home}/manager.sqlite3`,
    disableTls: useTls !== 'tls',
    logLevel: 'silent',
  });
  process.send({ port: manager.port });
} else if (role === 'service') {
  const [useTls, home, port] = args;
  const { Service } = await import('../dist/network/index.js');
  class Echo extends Service {
    echo(...all) {
      return all;
    }
  }
  const service = new Echo();
  await service.start({
    host: '127.0.0.1',
    port: Number(port),
    disableTls: useTls !== 'tls',
    autoSave: true,
    home,
  });
  process.send({ ready: true });
} else {
  throw new Error(`unknown role ${role}`);
}
