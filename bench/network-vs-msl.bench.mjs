// farcall's Manager against msl-network's (Python) Manager, with the same peers, in one run, TLS off:
// - one request at a time from the same TypeScript Client to the same TypeScript Echo Service, through
//   each Manager and through the floor: a bare relay in the Manager's place that greets the two peers
//   and then only writes each line on as soon as it is complete (two bare hops), sampled in
//   alternating blocks;
// - 2000 requests in flight from that Client, through each Manager and the floor, with each process's CPU
//   time during its bursts (from /proc): each Manager's CPU per request, the TS peers', and the rate the
//   three processes' CPU allows on this machine's cores (they share them: the rate is bounded by the sum);
//   sampled twice, in alternating rounds: with every process on any core, and with each Manager on a core
//   of its own (Linux, taskset), its peers on the others;
// - 2000 requests in flight from a raw line Client (prebuilt lines, replies only counted) to the same
//   TS Service through each Manager: the Managers' own capacity, without the TS Client's CPU;
// - a Python Client and Python Service (msl-network's own) through each Manager and through the bare
//   relay (splicing the `requester` their Service needs): the floor any Manager has with those peers.
// Targets: round trip ≤ 0.8 × msl-network's and ≤ 1.3 × the floor; 2000 in flight ≥ 5 × msl-network's
// (on any core, and with each Manager on a core of its own);
// Python peers no slower through ours than through msl-network's.
//
// msl-network's Manager and the Python peers need its source (never committed here):
//   git clone https://github.com/MSLNZ/msl-network /tmp/msl-network
//   MSL_NETWORK_SRC=/tmp/msl-network npm run bench -- network-vs-msl
// and Debian's python3 with python3-cryptography (PYTHON=... for another interpreter). Without
// MSL_NETWORK_SRC the msl-network columns are skipped (said on stderr) and the rest still runs.
// msl-network's Manager listens on every interface unless told otherwise: it is started with --host 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { connect } from '../dist/network/index.js';
import { cpuTimeUs, median, nowUs, report } from './lib.mjs';
import { forkPeer, managerLineClient, startBareManager, tempHome } from './network-floor.mjs';

const BLOCK = 250; // round trips per block; blocks alternate between the paths
const BLOCKS = 9; // blocks per path (a multiple of the 3 paths: each starts as many blocks)
// Round trips per path before sampling: a steady state, as a Manager that has run for a while is in. V8
// optimises a function only after enough calls (about a thousand for those called once per message), so a
// short warm-up samples farcall's Manager while it is still being compiled; Python has no such stage.
const WARM_UP = Number(process.env.WARM_UP ?? 3000);
const IN_FLIGHT = 2000;
// Bursts per path before sampling, for the same reason as WARM_UP: a burst runs code that one request at
// a time never reaches (a read of many lines, the gathered writes), which V8 optimises only after it has
// run a while. Measured with one warm-up burst, the three processes' CPU per request was 12.5–14.3 µs
// against 7.4–8.2 µs with ten (alternating runs of the same build).
const BURST_WARM_UP = Number(process.env.BURST_WARM_UP ?? 10);
const BURST_ROUNDS = 15; // a multiple of the 3 paths: each starts as many rounds
const LINE_ROUNDS = 10; // 2 paths: each starts as many rounds
const PYTHON_BLOCK = 200;
// Python's peers wake a thread per call, and their round trips vary far more than the TS peers': 30 blocks
// per path (about 13 s in all) rather than 9 narrow each median, though not the run-to-run spread (a whole
// run's distribution through one path can sit 250 µs above another run's; see the README).
const PYTHON_BLOCKS = 30;

const mslSource = process.env.MSL_NETWORK_SRC;
const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const haveMsl = mslSource !== undefined && existsSync(join(mslSource, 'msl', 'network', 'manager.py'));
if (!haveMsl) {
  process.stderr.write(
    "msl-network's columns skipped: set MSL_NETWORK_SRC to a folder with its source " +
      '(git clone https://github.com/MSLNZ/msl-network /tmp/msl-network)\n',
  );
}

/** `list` rotated left by `by`: each block or round starts with another path (no position favoured). */
function rotated(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

// Where the processes run during the bursts. ANY_CORE: wherever the kernel puts them. OWN_CORE: each
// Manager (farcall's, msl-network's, the bare relay) alone on the last core, its Client (this process)
// and its Service on the others: the Manager has a core to itself, as on a computer whose Clients and
// Services run elsewhere. With three busy processes on two cores the kernel often wakes a peer on the
// Manager's core while the other core idles (measured at 2000 in flight through farcall's Manager: the
// machine 23–28% idle, against 19% with the Manager on a core of its own); a Manager that is not busy all
// the time loses the most to that. Both are sampled, in alternating rounds.
const ANY_CORE = 'any core';
const OWN_CORE = 'own core';
const cores = availableParallelism();
const canPlace = process.platform === 'linux' && cores >= 2 && hasTaskset();
if (!canPlace) {
  process.stderr.write(
    "the 'each Manager on a core of its own' rows skipped: they need Linux, two cores and taskset (util-linux)\n",
  );
}
const EVERY_CORE = `0-${cores - 1}`;
const MANAGER_CORE = String(cores - 1);
const PEER_CORES = cores > 2 ? `0-${cores - 2}` : '0';

function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Sets the cores of every thread of process `pid` (a list such as `0-1`). */
function setCores(pid, list) {
  if (pid !== undefined) execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}

/** Puts a path's Manager, Service and Client (this process) where `where` says (on every core: ANY_CORE). */
function place(path, where) {
  const own = where === OWN_CORE;
  setCores(path.manager.pid, own ? MANAGER_CORE : EVERY_CORE);
  setCores(path.servicePid, own ? PEER_CORES : EVERY_CORE);
  setCores(process.pid, own ? PEER_CORES : EVERY_CORE);
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, what) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function pythonEnv(home) {
  return { ...process.env, PYTHONPATH: mslSource, MSL_NETWORK_HOME: join(home, 'msl-home') };
}

/** msl-network's Manager (Python), loopback only, TLS off: its log file (-l) at debug, as its start always writes it, the terminal at warning. Resolves { port, stop }. */
async function startMslManager(home) {
  const port = await freePort();
  const child = spawn(
    python,
    ['-c', 'from msl.network import cli; cli.main()', 'start', '--host', '127.0.0.1', '-p', String(port)]
      .concat(['--disable-tls', '-d', join(home, 'msl.sqlite3'), '-l', join(home, 'msl.log')])
      .concat(['-G', 'WARNING']),
    { env: pythonEnv(home), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, child, "msl-network's Manager");
  return { port, pid: child.pid, stop: () => child.kill() };
}

/**
 * farcall's Manager in its own process, TLS off, logging as msl-network's above does: every line at debug
 * level to a log file (what `farcall start` does by default), the terminal at warning. Resolves { port, stop }.
 */
async function startOurManager(home) {
  const manager = await forkPeer('manager', 'plain', home, 'debug-file');
  return { port: manager.message.port, pid: manager.child.pid, stop: () => manager.child.kill() };
}

async function startTsService(home, port) {
  const service = await forkPeer('service', 'plain', home, port);
  return { pid: service.child.pid, stop: () => service.child.kill() };
}

// The Python peers: msl-network's own Service and Client (our script, their library).
const PY_SERVICE = `
import sys
from msl.network import Service
class Echo(Service):
    def echo(self, *args, **kwargs):
        return [list(args), kwargs]
Echo().start(host='127.0.0.1', port=int(sys.argv[1]), disable_tls=True)
`;
const PY_CLIENT = `
import json, sys, time
from msl.network import connect
block, blocks = int(sys.argv[1]), int(sys.argv[2])
ports = [int(p) for p in sys.argv[4:]]
links = []
for port in ports:
    for attempt in range(100):
        try:
            cxn = connect(host='127.0.0.1', port=port, disable_tls=True)
            links.append(cxn.link('Echo'))
            break
        except Exception:
            time.sleep(0.1)
for link in links:
    for _ in range(int(sys.argv[3])):
        link.echo(1)
samples = [[] for _ in ports]
for b in range(blocks):
    # Each block starts with another path, so that no path always follows the same one.
    for k in range(len(links)):
        i = (k + b) % len(links)
        link = links[i]
        for _ in range(block):
            t0 = time.perf_counter()
            link.echo(1)
            samples[i].append((time.perf_counter() - t0) * 1e6)
print(json.dumps(samples))
`;

function runPython(home, script, args, { capture = false } = {}) {
  const file = join(home, `${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(file, script);
  const child = spawn(python, [file, ...args.map(String)], {
    env: pythonEnv(home),
    stdio: ['ignore', capture ? 'pipe' : 'ignore', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  const done = new Promise((resolve, reject) =>
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`python exited with ${code}`)),
    ),
  );
  done.catch(() => {}); // a Service is stopped by a signal: only the Client's outcome is awaited
  return { child, done, stop: () => child.kill() };
}

async function waitForService(port) {
  const client = await connect({ host: '127.0.0.1', port, disableTls: true, name: 'probe' });
  try {
    for (let i = 0; i < 300; i++) {
      if ('Echo' in (await client.identities()).services) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the Echo service did not appear');
  } finally {
    await client.disconnect();
  }
}

const { home, remove } = tempHome();
const stops = [];
try {
  const ours = await startOurManager(home);
  stops.push(ours.stop);
  const msl = haveMsl ? await startMslManager(home) : undefined;
  if (msl) stops.push(msl.stop);
  const floor = await startBareManager(home);
  stops.push(floor.stop);

  // ---- the same TypeScript Client and Service through each ----------------------------------------
  const paths = [{ name: 'farcall', manager: ours }];
  if (msl) paths.push({ name: 'msl-network', manager: msl });
  paths.push({ name: 'floor', manager: floor, hasService: true, servicePid: floor.servicePid });
  for (const path of paths) {
    if (!path.hasService) {
      const service = await startTsService(home, path.manager.port);
      stops.push(service.stop);
      path.servicePid = service.pid;
    }
    path.client = await connect({ host: '127.0.0.1', port: path.manager.port, disableTls: true });
    path.echo = await path.client.link('Echo');
    path.once = () => path.echo.echo(1);
    path.burst = () => Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => path.echo.echo(i)));
  }

  for (const path of paths) for (let i = 0; i < WARM_UP; i++) await path.once();
  const samples = new Map(paths.map((p) => [p.name, []]));
  for (let b = 0; b < BLOCKS; b++) {
    for (const path of rotated(paths, b)) {
      const list = samples.get(path.name);
      for (let i = 0; i < BLOCK; i++) {
        const t0 = nowUs();
        await path.once();
        list.push(nowUs() - t0);
      }
    }
  }
  const rt = Object.fromEntries([...samples].map(([name, list]) => [name, median(list)]));
  report({
    bench: 'network-vs-msl',
    metric: 'round trip, TS peers, one at a time (median)',
    unit: 'µs',
    value: rt.farcall,
    floor: rt.floor,
    floorLabel: 'two bare hops',
    target: '≤ 1.3× floor',
    better: 'lower',
    pass: rt.farcall <= 1.3 * rt.floor,
  });
  if (msl) {
    report({
      bench: 'network-vs-msl',
      metric: "round trip, TS peers, msl-network's Manager (median)",
      unit: 'µs',
      value: rt['msl-network'],
      floor: rt.floor,
      floorLabel: 'two bare hops',
    });
    report({
      bench: 'network-vs-msl',
      metric: "round trip, TS peers: the bare relay's ÷ msl-network's (any Manager's floor)",
      unit: '×',
      value: rt.floor / rt['msl-network'],
      better: 'lower',
    });
    report({
      bench: 'network-vs-msl',
      metric: "round trip, TS peers: farcall's ÷ msl-network's",
      unit: '×',
      value: rt.farcall / rt['msl-network'],
      target: '≤ 0.8',
      better: 'lower',
      pass: rt.farcall <= 0.8 * rt['msl-network'],
    });
  }

  for (const path of paths) for (let i = 0; i < BURST_WARM_UP; i++) await path.burst();
  const placements = canPlace ? [ANY_CORE, OWN_CORE] : [ANY_CORE];
  const rates = new Map(placements.map((where) => [where, new Map(paths.map((p) => [p.name, []]))]));
  // The CPU each process of a path used during its sampled bursts, per placement (the other paths'
  // processes sit idle meanwhile).
  const cpuOf = new Map(
    placements.map((where) => [
      where,
      new Map(paths.map((p) => [p.name, { manager: 0, service: 0, client: 0, wallUs: 0 }])),
    ]),
  );
  const cpuNow = (path) => {
    const own = process.cpuUsage();
    return {
      manager: cpuTimeUs(path.manager.pid) ?? Number.NaN,
      service: path.servicePid === undefined ? Number.NaN : (cpuTimeUs(path.servicePid) ?? Number.NaN),
      client: own.user + own.system,
    };
  };
  for (let r = 0; r < BURST_ROUNDS; r++) {
    for (const where of rotated(placements, r)) {
      for (const path of rotated(paths, r)) {
        if (where === OWN_CORE) place(path, OWN_CORE);
        await path.burst(); // not sampled: the processes settle on their cores
        const before = cpuNow(path);
        const t0 = nowUs();
        await path.burst();
        const took = nowUs() - t0;
        rates
          .get(where)
          .get(path.name)
          .push(IN_FLIGHT / (took / 1e6));
        const after = cpuNow(path);
        const used = cpuOf.get(where).get(path.name);
        used.wallUs += took;
        for (const key of ['manager', 'service', 'client']) used[key] += after[key] - before[key];
        if (where === OWN_CORE) place(path, ANY_CORE);
      }
    }
  }
  const perRequest = (name, key, where = ANY_CORE) =>
    cpuOf.get(where).get(name)[key] / (BURST_ROUNDS * IN_FLIGHT);
  const medians = (where) =>
    Object.fromEntries([...rates.get(where)].map(([name, list]) => [name, median(list)]));
  const rate = medians(ANY_CORE);
  report({
    bench: 'network-vs-msl',
    metric: `${IN_FLIGHT} in flight, TS peers`,
    unit: 'req/s',
    value: rate.farcall,
    floor: rate.floor,
    floorLabel: 'two bare hops',
    better: 'higher',
  });
  if (msl) {
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight, TS peers, msl-network's Manager`,
      unit: 'req/s',
      value: rate['msl-network'],
      floor: rate.floor,
      floorLabel: 'two bare hops',
      better: 'higher',
    });
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight: farcall's ÷ msl-network's`,
      unit: '×',
      value: rate.farcall / rate['msl-network'],
      target: '≥ 5',
      better: 'higher',
      pass: rate.farcall >= 5 * rate['msl-network'],
    });
    // The bare relay in the Manager's place (no routing at all, but a write per line: under a burst it is
    // no ceiling; the CPU-bound ceiling below is).
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight: the bare relay's ÷ msl-network's`,
      unit: '×',
      value: rate.floor / rate['msl-network'],
      better: 'higher',
    });
  }
  if (canPlace) {
    const own = medians(OWN_CORE);
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight, TS peers, each Manager on a core of its own`,
      unit: 'req/s',
      value: own.farcall,
      floor: own.floor,
      floorLabel: 'two bare hops',
      better: 'higher',
    });
    if (msl) {
      report({
        bench: 'network-vs-msl',
        metric: `${IN_FLIGHT} in flight, TS peers, msl-network's Manager on a core of its own`,
        unit: 'req/s',
        value: own['msl-network'],
        floor: own.floor,
        floorLabel: 'two bare hops',
        better: 'higher',
      });
      report({
        bench: 'network-vs-msl',
        metric: `${IN_FLIGHT} in flight, each Manager on a core of its own: farcall's ÷ msl-network's`,
        unit: '×',
        value: own.farcall / own['msl-network'],
        target: '≥ 5',
        better: 'higher',
        pass: own.farcall >= 5 * own['msl-network'],
      });
    }
    // The Client and the Service then share the other cores: the rate their CPU allows there (every one
    // of those cores busy all the time) says whether they, rather than the Manager, bound the rate above.
    const peersCpu = perRequest('farcall', 'client', OWN_CORE) + perRequest('farcall', 'service', OWN_CORE);
    if (Number.isFinite(peersCpu)) {
      report({
        bench: 'network-vs-msl',
        metric: `${IN_FLIGHT} in flight, each Manager on a core of its own: the TS Client's + Service's CPU per request`,
        unit: 'µs',
        value: peersCpu,
        floor: perRequest('farcall', 'manager', OWN_CORE),
        floorLabel: "farcall's Manager",
        better: 'lower',
      });
      report({
        bench: 'network-vs-msl',
        metric: `${IN_FLIGHT} in flight, each Manager on a core of its own: the rate the peers' CPU allows on ${cores - 1} core${cores > 2 ? 's' : ''}`,
        unit: 'req/s',
        value: ((cores - 1) * 1e6) / peersCpu,
        // Against the mean rate of the same bursts (the CPU is their total; the rates above are medians).
        floor: (BURST_ROUNDS * IN_FLIGHT) / (cpuOf.get(OWN_CORE).get('farcall').wallUs / 1e6),
        floorLabel: "farcall's mean rate",
        better: 'higher',
      });
    }
  }
  // CPU per request, from the kernel's counters of each process during its own bursts: what each Manager
  // costs, whatever the number of cores. On a machine with fewer cores than busy processes (Client,
  // Manager, Service) the rate above is bounded by their sum, not by the Manager alone.
  const ourManagerCpu = perRequest('farcall', 'manager');
  const mslManagerCpu = msl ? perRequest('msl-network', 'manager') : Number.NaN;
  const clientCpu = perRequest('farcall', 'client');
  const serviceCpu = perRequest('farcall', 'service');
  if (Number.isFinite(ourManagerCpu) && Number.isFinite(serviceCpu)) {
    const withMsl = Number.isFinite(mslManagerCpu);
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight, TS peers: the Manager's CPU per request`,
      unit: 'µs',
      value: ourManagerCpu,
      ...(withMsl ? { floor: mslManagerCpu, floorLabel: "msl-network's Manager" } : {}),
      better: 'lower',
    });
    if (withMsl) {
      report({
        bench: 'network-vs-msl',
        metric: `${IN_FLIGHT} in flight: msl-network's Manager's CPU ÷ farcall's (per request)`,
        unit: '×',
        value: mslManagerCpu / ourManagerCpu,
        better: 'higher',
      });
    }
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight through farcall's: the TS Client's + Service's CPU per request`,
      unit: 'µs',
      value: clientCpu + serviceCpu,
      floor: ourManagerCpu,
      floorLabel: "farcall's Manager",
      better: 'lower',
    });
    // The rate the three processes' CPU allows on this machine's cores (all of them busy all the time).
    const ceiling = (cores * 1e6) / (clientCpu + serviceCpu + ourManagerCpu);
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight: the CPU-bound ceiling on ${cores} cores`,
      unit: 'req/s',
      value: ceiling,
      floor: rate.farcall,
      floorLabel: "farcall's rate",
      better: 'higher',
    });
    if (msl) {
      report({
        bench: 'network-vs-msl',
        metric: `${IN_FLIGHT} in flight: the CPU-bound ceiling on ${cores} cores ÷ msl-network's rate`,
        unit: '×',
        value: ceiling / rate['msl-network'],
        better: 'higher',
      });
    }
  }
  for (const path of paths) await path.client?.disconnect();

  // ---- 2000 in flight from a raw line Client (the Managers' own capacity) ------------------------
  // The same TypeScript Echo Service behind each Manager, but in the Client's place a raw socket that
  // writes 2000 prebuilt request lines at once and counts the reply lines: the TS Client's own CPU (the
  // ceiling above) is out of the measurement, the Managers' is what is left.
  if (msl) {
    const lineClients = [];
    for (const path of paths.filter((p) => p.name !== 'floor')) {
      lineClients.push({ name: path.name, client: await managerLineClient(path.manager.port) });
    }
    for (const { client } of lineClients) for (let i = 0; i < 3; i++) await client.burst(IN_FLIGHT);
    const lineRates = new Map(lineClients.map((c) => [c.name, []]));
    for (let r = 0; r < LINE_ROUNDS; r++) {
      for (const { name, client } of rotated(lineClients, r)) {
        const t0 = nowUs();
        await client.burst(IN_FLIGHT);
        lineRates.get(name).push(IN_FLIGHT / ((nowUs() - t0) / 1e6));
      }
    }
    for (const { client } of lineClients) client.close();
    const lineRate = Object.fromEntries([...lineRates].map(([name, list]) => [name, median(list)]));
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight, raw line Client, TS Service`,
      unit: 'req/s',
      value: lineRate.farcall,
      floor: lineRate['msl-network'],
      floorLabel: "msl-network's Manager",
      better: 'higher',
    });
    report({
      bench: 'network-vs-msl',
      metric: `${IN_FLIGHT} in flight, raw line Client: farcall's ÷ msl-network's (the Managers' own)`,
      unit: '×',
      value: lineRate.farcall / lineRate['msl-network'],
      target: '≥ 5',
      better: 'higher',
      pass: lineRate.farcall >= 5 * lineRate['msl-network'],
    });
  }

  // ---- msl-network's Python Client and Service through each --------------------------------------
  if (msl) {
    // A second Manager pair with only Python peers (the TS Echo services above keep their names).
    const ours2 = await startOurManager(home);
    stops.push(ours2.stop);
    const msl2 = await startMslManager(home);
    stops.push(msl2.stop);
    // The floor for Python peers: the bare relay, splicing the `requester` msl-network's Service needs.
    const relay = await forkPeer('bare-manager', 'splice');
    stops.push(() => relay.child.kill());
    const relayServed = once(relay.child, 'message');
    for (const port of [ours2.port, msl2.port, relay.message.port]) {
      const service = runPython(home, PY_SERVICE, [port]);
      stops.push(service.stop);
      if (port === relay.message.port) await relayServed;
      else await waitForService(port);
    }
    const client = runPython(
      home,
      PY_CLIENT,
      [PYTHON_BLOCK, PYTHON_BLOCKS, WARM_UP, ours2.port, msl2.port, relay.message.port],
      { capture: true },
    );
    const [viaOurs, viaMsl, viaRelay] = JSON.parse(await client.done).map(median);
    report({
      bench: 'network-vs-msl',
      metric: "round trip, Python peers: the bare relay's ÷ msl-network's (any Manager's floor)",
      unit: '×',
      value: viaRelay / viaMsl,
      better: 'lower',
    });
    report({
      bench: 'network-vs-msl',
      metric: 'round trip, Python peers, one at a time (median)',
      unit: 'µs',
      value: viaOurs,
      floor: viaMsl,
      floorLabel: "msl-network's Manager",
      target: "≤ 1× msl-network's",
      better: 'lower',
      pass: viaOurs <= viaMsl,
    });
  }
} finally {
  for (const stop of stops.reverse()) stop();
  remove();
}
