// Starts a real Manager in a temporary FARCALL_HOME for a test, and removes both afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Manager, type ManagerOptions, startManager } from '../../src/network/manager.js';

export interface ManagerFixture {
  manager: Manager;
  home: string;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function managerFixture(options: ManagerOptions = {}): Promise<ManagerFixture> {
  const home = mkdtempSync(join(tmpdir(), 'farcall-manager-'));
  const manager = await startManager({ port: 0, disableTls: true, home, logLevel: 'silent', ...options });
  return {
    manager,
    home,
    async [Symbol.asyncDispose]() {
      await manager.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
