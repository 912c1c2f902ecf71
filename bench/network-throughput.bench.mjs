// Many requests in flight through the Manager: 2000 from one client, and 2000 spread over 100 clients,
// Client(s) here, Manager and Service each in their own process, TLS off. Targets: ≥ 20 000 requests/s.
// Floor: the same number of JSON lines in flight through a bare relay process and a bare echo process.
import { connect } from '../dist/network/index.js';
import { median, nowUs, report } from './lib.mjs';
import { floorClient, sampleRequestLine, startFarcall, startFloor, tempHome } from './network-floor.mjs';

const IN_FLIGHT = 2000;
const ROUNDS = 12;
const CLIENTS = 100;

/** Requests per second of each round of `run()` (which completes `perRound` requests). */
async function rates(run, perRound, rounds = ROUNDS) {
  for (let i = 0; i < 2; i++) await run(); // warm up
  const out = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = nowUs();
    await run();
    out.push(perRound / ((nowUs() - t0) / 1e6));
  }
  return out;
}

const { home, remove } = tempHome();
const floor = await startFloor(false, home);
const farcall = await startFarcall(false, home);
try {
  const raw = await floorClient(floor.port, false);
  const line = sampleRequestLine();
  const floorRate = median(await rates(() => raw.burst(line, IN_FLIGHT), IN_FLIGHT));
  raw.close();

  const reach = { host: '127.0.0.1', port: farcall.port, disableTls: true };
  const client = await connect(reach);
  const echo = await client.link('Echo');
  const one = median(
    await rates(() => Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => echo.echo(i))), IN_FLIGHT),
  );
  report({
    bench: 'network-throughput',
    metric: `${IN_FLIGHT} in flight, 1 client`,
    unit: 'req/s',
    value: one,
    floor: floorRate,
    floorLabel: 'two bare hops',
    target: '≥ 20000 req/s',
    better: 'higher',
    pass: one >= 20_000,
  });
  await client.disconnect();

  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => connect({ ...reach, name: `C${i}` })),
  );
  const links = await Promise.all(clients.map((c) => c.link('Echo')));
  const perClient = IN_FLIGHT / CLIENTS;
  const many = median(
    await rates(
      () =>
        Promise.all(
          links.map((link) => Promise.all(Array.from({ length: perClient }, (_, i) => link.echo(i)))),
        ),
      IN_FLIGHT,
    ),
  );
  report({
    bench: 'network-throughput',
    metric: `${IN_FLIGHT} in flight over ${CLIENTS} clients`,
    unit: 'req/s',
    value: many,
    floor: floorRate,
    floorLabel: 'two bare hops',
    target: '≥ 20000 req/s',
    better: 'higher',
    pass: many >= 20_000,
  });
  await Promise.all(clients.map((c) => c.disconnect()));
} finally {
  farcall.stop();
  floor.stop();
  remove();
}
