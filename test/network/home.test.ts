import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  certificatePath,
  certsDir,
  databasePath,
  defaultLogFile,
  farcallHome,
  keyPath,
  keysDir,
  logsDir,
} from '../../src/network/shared/home.js';

const saved = process.env.FARCALL_HOME;
afterEach(() => {
  if (saved === undefined) delete process.env.FARCALL_HOME;
  else process.env.FARCALL_HOME = saved;
});

describe('FARCALL_HOME', () => {
  it('defaults to ~/.farcall and follows $FARCALL_HOME, an explicit home winning', () => {
    delete process.env.FARCALL_HOME;
    expect(farcallHome()).toBe(join(homedir(), '.farcall'));
    process.env.FARCALL_HOME = '/srv/farcall';
    expect(farcallHome()).toBe('/srv/farcall');
    expect(farcallHome('/opt/x')).toBe('/opt/x');
  });

  it('lays out the database, certs, keys and logs, creating folders only when asked', () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-home-'));
    try {
      expect(databasePath(home)).toBe(join(home, 'manager.sqlite3'));
      expect(certsDir(home)).toBe(join(home, 'certs'));
      expect(existsSync(join(home, 'certs'))).toBe(false);
      certsDir(home, { create: true });
      keysDir(home, { create: true });
      logsDir(home, { create: true });
      for (const name of ['certs', 'keys', 'logs']) expect(existsSync(join(home, name))).toBe(true);
      expect(certificatePath('vm', home)).toBe(join(home, 'certs', 'vm.crt'));
      expect(keyPath('vm', home)).toBe(join(home, 'keys', 'vm.key'));
      // msl-network's name: manager-%Y-%m-%d-%H-%M-%S.log, local time.
      expect(defaultLogFile(home, {}, new Date(2026, 0, 2, 3, 4, 5))).toBe(
        join(home, 'logs', 'manager-2026-01-02-03-04-05.log'),
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
