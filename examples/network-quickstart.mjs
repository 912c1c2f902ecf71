// A Network Manager, a Service and a Client in one runnable file (TLS on, files in a temporary
// FARCALL_HOME). In real use each runs in its own program, often on different computers.
//   npm run build && node examples/network-quickstart.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, kwargs, Service, splitKwargs, startManager } from 'farcall/network';

class Thermometer extends Service {
  #celsius = 21.5;

  read(...all) {
    const [, { unit = 'C' }] = splitKwargs(all);
    const value = unit === 'F' ? (this.#celsius * 9) / 5 + 32 : this.#celsius;
    this.emitNotification('read', kwargs({ value, unit }));
    return value;
  }

  async settle(ms) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 'settled';
  }
}

const home = mkdtempSync(join(tmpdir(), 'farcall-example-'));
const manager = await startManager({ port: 0, home, logLevel: 'warning' });
const reach = { host: 'localhost', port: manager.port, home, autoSave: true };

const thermometer = new Thermometer({ maxClients: 5 });
await thermometer.start(reach);

const client = await connect({ ...reach, name: 'Lab PC' });
const link = await client.link('Thermometer');
link.notificationHandler = (args, kw) => console.log('notification:', args, kw);
console.log('attributes:', link.serviceAttributes);
console.log('celsius:', await link.read());
console.log('fahrenheit:', await link.read(kwargs({ unit: 'F' })));
console.log(await Promise.all([link.settle(50), link.settle(10)]));
console.log(await client.identities({ asString: true }));

await client.disconnect();
await thermometer.disconnect();
await manager.close();
rmSync(home, { recursive: true, force: true });
