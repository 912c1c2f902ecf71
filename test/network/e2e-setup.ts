// Shared setup of the end-to-end tests: a real Manager (real sockets, real SQLite file, real TLS) in a
// temporary FARCALL_HOME, and the Services and Clients a test starts, all closed after each test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manager } from '../../src/network/manager/manager.js';
import { type ManagerOptions, startManager } from '../../src/network/manager/start-manager.js';
import { type Client, type ConnectOptions, connect } from '../../src/network/peers/client.js';
import type { Service, ServiceStartOptions } from '../../src/network/peers/service.js';

export interface Stage {
  home: string;
  manager: Manager;
  /** Options that reach this Manager (host, port, TLS, certificate cache in `home`). */
  reach: ConnectOptions;
  connect(options?: ConnectOptions): Promise<Client>;
  start<S extends Service>(service: S, options?: ServiceStartOptions): Promise<S>;
  close(): Promise<void>;
}

/** Starts a Manager in a fresh FARCALL_HOME. */
export async function stage(options: ManagerOptions & { tls?: boolean } = {}): Promise<Stage> {
  const home = mkdtempSync(join(tmpdir(), 'farcall-net-'));
  const tls = options.tls ?? false;
  const manager = await startManager({
    host: '127.0.0.1',
    port: 0,
    home,
    database: join(home, 'manager.sqlite3'),
    disableTls: !tls,
    logLevel: 'silent',
    ...options,
  });
  const reach: ConnectOptions = {
    host: '127.0.0.1',
    port: manager.port,
    disableTls: !tls,
    autoSave: true,
    home,
  };
  const clients: Client[] = [];
  const services: Service[] = [];
  return {
    home,
    manager,
    reach,
    async connect(extra: ConnectOptions = {}) {
      const client = await connect({ ...reach, ...extra });
      clients.push(client);
      return client;
    },
    async start<S extends Service>(service: S, extra: ServiceStartOptions = {}) {
      services.push(service);
      await service.start({ ...reach, ...extra });
      return service;
    },
    async close() {
      await Promise.all(clients.map((c) => c.disconnect()));
      await Promise.all(services.map((s) => s.disconnect()));
      await manager.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
