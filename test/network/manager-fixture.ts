// Starts a real Manager in a temporary FARCALL_HOME for a test, and removes both afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manager } from '../../src/network/manager/manager.js';
import { type ManagerOptions, startManager } from '../../src/network/manager/start-manager.js';

export interface ManagerFixture {
  manager: Manager;
  home: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A Manager on a free port, TLS off unless asked, in `options.home` or a new temporary home. */
export async function managerFixture(options: ManagerOptions = {}): Promise<ManagerFixture> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'farcall-manager-'));
  let manager: Manager;
  try {
    manager = await startManager({ port: 0, disableTls: true, logLevel: 'silent', ...options, home });
  } catch (error) {
    if (options.home === undefined) rmSync(home, { recursive: true, force: true });
    throw error;
  }
  return {
    manager,
    home,
    async [Symbol.asyncDispose]() {
      await manager.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
