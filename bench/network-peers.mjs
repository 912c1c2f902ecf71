// The processes the network benchmarks run besides the client, one role per fork() (see
// network-floor.mjs): the bare floor's line echo server and relay, and farcall's Manager and Service.
// Each sends { port } (or { ready }) to its parent over IPC and exits when the parent goes.
import * as net from 'node:net';
import * as tls from 'node:tls';

const [role, ...args] = process.argv.slice(2);
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0)); // exit normally, so that --cpu-prof writes its profile

/** TLS options of the floor's servers: the Manager's own key and certificate (created in `home`). */
async function serverTls(home) {
  const { loadOrCreateManagerCredentials } = await import('../dist/network/shared/certificates.js');
  const credentials = loadOrCreateManagerCredentials({ home });
  return { cert: credentials.cert, key: credentials.key };
}

// Cuts what `source` sends into lines and writes each one to `sink` as soon as it is complete.
function lineForwarder(source, sink) {
  let pending = null;
  source.on('data', (chunk) => {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      pending = pending === null ? chunk : Buffer.concat([pending, chunk]);
      return;
    }
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0 && nl <= last; nl = chunk.indexOf(10, nl + 1)) {
      const piece = chunk.subarray(start, nl + 1);
      if (pending !== null) {
        sink.write(Buffer.concat([pending, piece]));
        pending = null;
      } else sink.write(piece);
      start = nl + 1;
    }
    if (start < chunk.length) pending = Buffer.from(chunk.subarray(start));
  });
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
} else if (role === 'bare-manager') {
  // The floor of a Manager carrying the same peers: a relay that greets each peer as a Manager does
  // (asks its identity; answers a Client's `link`), then only passes lines on, each one as soon as it is
  // complete: Client → the Service, Service → the Client. One Service, one Client; plain TCP.
  // With 'splice' (the floor for msl-network's Python Service, which needs a `requester`), each Client line
  // has `, "requester": "Client[floor]"` put before its last `}`: the least a Manager must change in it.
  const splice = args[0] === 'splice';
  const requesterTail = Buffer.from(', "requester": "Client[floor]"}\r\n');
  const toService = (line) => {
    if (!splice) return service.write(line);
    let end = line.length - 1;
    while (end > 0 && line[end] !== 0x7d) end--;
    service.write(Buffer.concat([line.subarray(0, end), requesterTail]));
  };
  const greeting = `{"args": [], "attribute": "identity", "error": false, "kwargs": {}, "requester": "Manager[floor:0]", "uid": ""}\r\n`;
  let service;
  let summary;
  let client;
  const reply = (socket, result, uid) =>
    socket.write(`${JSON.stringify({ error: false, requester: 'floor', result, uid })}\r\n`);
  const onSocket = (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let stage = 'identity';
    // Until a peer is set up, its lines are parsed; after, they are only split and passed on.
    const onText = (chunk) => {
      buffered += chunk.toString('utf8');
      let nl = buffered.indexOf('\n');
      while (nl >= 0 && stage !== 'relay') {
        const message = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (stage === 'identity') {
          if (message.result.type === 'service') {
            service = socket;
            summary = {
              attributes: message.result.attributes,
              address: 'floor',
              language: 'x',
              os: 'x',
              max_clients: -1,
            };
            socket.off('data', onText);
            stage = 'relay';
            lineForwarder(socket, { write: (line) => client?.write(line) });
            process.send({ serviceReady: true });
            return;
          }
          stage = 'manager';
        } else if (message.service === 'Manager' && message.attribute === 'link') {
          reply(socket, summary, message.uid);
          client = socket;
          socket.off('data', onText);
          stage = 'relay';
          lineForwarder(socket, { write: toService });
          // What came in behind the link request goes through the forwarder like the rest.
          if (buffered.length > 0) socket.emit('data', Buffer.from(buffered));
          return;
        } else if (message.service === 'Manager') {
          reply(
            socket,
            {
              hostname: 'floor',
              port: 0,
              attributes: {},
              language: 'x',
              os: 'x',
              clients: {},
              services: { Echo: summary },
            },
            message.uid,
          );
        }
        nl = buffered.indexOf('\n');
      }
    };
    socket.on('data', onText);
    socket.write(greeting);
  };
  process.send({ port: await listen(net.createServer(onSocket)) });
} else if (role === 'manager') {
  const [useTls, home, log] = args;
  const { startManager } = await import('../dist/network/index.js');
  const manager = await startManager({
    host: '127.0.0.1',
    port: 0,
    home,
    database: `${home}/manager.sqlite3`,
    disableTls: useTls !== 'tls',
    logLevel: 'silent',
    // 'debug-file': what `farcall start` does by default (and msl-network's start does): every line at debug
    // level to a log file, the terminal quiet.
    ...(log === 'debug-file'
      ? { logFile: `${home}/manager.log`, logFileLevel: 'debug', logLevel: 'warning' }
      : {}),
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
