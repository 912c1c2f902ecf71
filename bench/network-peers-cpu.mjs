#!/usr/bin/env node
// CPU per request of farcall's TypeScript peers alone, each against a stand-in Manager: a small line
// server that answers the handshake and then echoes a Client's requests (or drives a Service with
// bursts of requests), cheap enough that the peer's own CPU is what is measured. Process CPU time is
// far less noisy than wall time on a shared machine; compare before/after in alternating runs.
//   npm run build && node bench/network-peers-cpu.mjs client   # one at a time, then 2000 in flight
//   node bench/network-peers-cpu.mjs service
// R (bursts, default 60) and N (round trips one at a time, default 3000) are read from the environment.
// Not part of `npm run bench`: a tool for work on src/network/peers/.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [role, mode] = process.argv.slice(2);
const IN_FLIGHT = 2000;
const REQUESTER = 'Client[stand-in-host:45678]';

if (role === 'stand-in') standIn(mode);
else if (role === 'client' || role === 'service') await measure(role);
else {
  console.error('usage: node bench/network-peers-cpu.mjs client|service');
  process.exit(2);
}

// The stand-in Manager (a child process): `mode` is the peer it serves.
function standIn(peer) {
  const identity =
    '{"args": [], "attribute": "identity", "error": false, "kwargs": {}, "requester": "Manager[stand-in:1]", "uid": ""}\r\n';
  let service;
  let replies = 0;
  let wanted = 0;
  let reached;
  let uid = 0;
  const request = (i) =>
    `{"args": [${i}], "attribute": "echo", "error": false, "kwargs": {}, "service": "Echo", "uid": "standin${(uid++).toString(36)}", "requester": "${REQUESTER}"}\r\n`;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let identified = false;
    let rest = '';
    socket.write(identity);
    socket.on('data', (chunk) => {
      const text = rest + chunk.toString();
      const last = text.lastIndexOf('\n');
      rest = text.slice(last + 1);
      let out = '';
      for (const line of last < 0 ? [] : text.slice(0, last).split('\n')) {
        if (!identified) {
          identified = true; // the identity reply
          continue;
        }
        if (peer === 'service') {
          replies++;
          continue;
        }
        const at = line.lastIndexOf('"uid": "');
        const id = line.slice(at + 8, line.lastIndexOf('"'));
        if (line.includes('"attribute": "link"')) {
          out += `{"error": false, "requester": "${REQUESTER}", "result": {"attributes": {"echo": "(*args)"}, "address": "h:1", "language": "x", "os": "x", "max_clients": -1}, "uid": "${id}"}\r\n`;
        } else if (line.includes('"__disconnect__"')) {
          socket.end();
        } else {
          const args = line.slice('{"args": '.length, line.indexOf(', "attribute": '));
          out += `{"error": false, "requester": "${REQUESTER}", "result": ${args}, "uid": "${id}"}\r\n`;
        }
      }
      if (out !== '') socket.write(out);
      if (peer === 'service' && reached !== undefined && replies >= wanted) reached();
    });
    if (peer === 'service') service = socket;
  });
  process.on('message', async (message) => {
    // { burst: n }: n requests in one write; { one: n }: n requests one at a time. Answers { done }.
    const count = message.burst ?? message.one;
    const rounds = message.burst !== undefined ? [count] : Array(count).fill(1);
    for (const size of rounds) {
      wanted = replies + size;
      const done = new Promise((resolve) => {
        reached = resolve;
      });
      let out = '';
      for (let i = 0; i < size; i++) out += request(i);
      service.write(out);
      await done;
    }
    process.send({ done: true });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

// CPU time of a process in µs (user + system), from /proc (Linux).
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function measure(peer) {
  const rounds = Number(process.env.R ?? 60);
  const roundTrips = Number(process.env.N ?? 3000);
  const self = fileURLToPath(import.meta.url);
  const standInChild = fork(self, ['stand-in', peer]);
  const [{ port }] = await once(standInChild, 'message');
  const home = mkdtempSync(join(tmpdir(), 'farcall-bench-peers-'));
  try {
    if (peer === 'client') {
      const { connect } = await import('../dist/network/index.js');
      const client = await connect({ host: '127.0.0.1', port, disableTls: true });
      const echo = await client.link('Echo');
      for (let i = 0; i < 1000; i++) await echo.echo(i);
      let start = process.cpuUsage();
      for (let i = 0; i < roundTrips; i++) await echo.echo(i);
      let used = process.cpuUsage(start);
      const oneCpu = (used.user + used.system) / roundTrips;
      const burst = () => Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => echo.echo(i)));
      for (let i = 0; i < 5; i++) await burst();
      start = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < rounds; i++) await burst();
      used = process.cpuUsage(start);
      const n = rounds * IN_FLIGHT;
      console.log(
        `Client: one at a time ${oneCpu.toFixed(1)} µs CPU per round trip; ${IN_FLIGHT} in flight ` +
          `${((used.user + used.system) / n).toFixed(2)} µs CPU per request (${(n / ((performance.now() - t0) / 1000)).toFixed(0)} req/s)`,
      );
      await client.disconnect();
    } else {
      const service = fork(fileURLToPath(new URL('./network-peers.mjs', import.meta.url)), [
        'service',
        'plain',
        home,
        String(port),
      ]);
      await once(service, 'message');
      const ask = async (message) => {
        standInChild.send(message);
        for (;;) {
          const [answer] = await once(standInChild, 'message');
          if (answer.done) return;
        }
      };
      await ask({ one: 1000 });
      let before = cpuOf(service.pid);
      await ask({ one: roundTrips });
      const oneCpu = (cpuOf(service.pid) - before) / roundTrips;
      for (let i = 0; i < 5; i++) await ask({ burst: IN_FLIGHT });
      before = cpuOf(service.pid);
      const t0 = performance.now();
      for (let i = 0; i < rounds; i++) await ask({ burst: IN_FLIGHT });
      const n = rounds * IN_FLIGHT;
      console.log(
        `Service: one at a time ${oneCpu.toFixed(1)} µs CPU per round trip; ${IN_FLIGHT} in flight ` +
          `${((cpuOf(service.pid) - before) / n).toFixed(2)} µs CPU per request (${(n / ((performance.now() - t0) / 1000)).toFixed(0)} req/s)`,
      );
      service.kill();
      await once(service, 'exit');
    }
  } finally {
    standInChild.kill();
    rmSync(home, { recursive: true, force: true });
  }
  process.exit(0);
}
