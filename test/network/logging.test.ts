// Debug logging of farcall/network: the Manager, a Service and a Client log connections, handshakes and
// requests through a `logger` option or NODE_DEBUG=farcall:network, and never the Manager password, a
// login password or a request's arguments.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, ManagerDatabase, Service, startManager } from '../../src/network/index.js';
import { recorder } from '../support/log-recorder.js';

const PASSWORD = 'pw-SECRET-network-31';
const ARGUMENT = 'arg-SECRET-network-32';
const LOGIN_PASSWORD = 'login-SECRET-network-33';

class Vault extends Service {
  open(secret: string): number {
    return secret.length;
  }
  fail(secret: string): never {
    throw new RangeError(`no ${secret}`);
  }
}

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

describe('a logger option', () => {
  it('on the Manager, a Service and a Client: connections, handshakes, requests; no password or argument', async () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-net-log-'));
    homes.push(home);
    const managerLog = recorder();
    const serviceLog = recorder();
    const clientLog = recorder();
    const manager = await startManager({
      port: 0,
      disableTls: true,
      authPassword: PASSWORD,
      home,
      logLevel: 'silent',
      logger: managerLog.logger,
    });
    const reach = {
      host: '127.0.0.1',
      port: manager.port,
      disableTls: true,
      passwordManager: PASSWORD,
      home,
    };
    const vault = new Vault();
    await vault.start({ ...reach, logger: serviceLog.logger });
    const client = await connect({ ...reach, name: 'vault-user', logger: clientLog.logger });
    const link = await client.link<Vault>('Vault');
    expect(await link.open(ARGUMENT)).toBe(ARGUMENT.length);
    await expect(link.fail(ARGUMENT)).rejects.toThrow(/RangeError/);
    const wrong = await connect({
      ...reach,
      passwordManager: `${PASSWORD}-wrong`,
      logger: clientLog.logger,
    }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Error);
    await client.disconnect();
    await vault.disconnect();
    await manager.close();

    const m = managerLog.records.join('\n');
    expect(m).toMatch(
      /^debug farcall:network connection from 127\.0\.0\.1:\d+ \(plain TCP, authentication: password\)$/m,
    );
    expect(m).toMatch(
      /^debug farcall:network handshake with 127\.0\.0\.1:\d+ ok: Vault\[.*\] is a service$/m,
    );
    expect(m).toMatch(
      /^debug farcall:network request 'Vault'\.open \(uid '[\w-]+', \d+ bytes\) from vault-user\[/m,
    );
    expect(m).toMatch(
      /^debug farcall:network reply from 'Vault' to vault-user\[.*\] \(uid '[\w-]+', \d+ bytes\)$/m,
    );
    expect(m).toMatch(/^debug farcall:network error reply from 'Vault' to vault-user/m);
    expect(m).toMatch(/^warn farcall:network .*rejected: wrong Manager password/m);
    expect(m).toMatch(/^info farcall:network Network Manager running on/m);

    const s = serviceLog.records.join('\n');
    expect(s).toMatch(
      /^debug farcall:network connected to 127\.0\.0\.1:\d+ \(plain TCP\) from local port \d+$/m,
    );
    expect(s).toMatch(
      /^debug farcall:network handshake with the Manager at 127\.0\.0\.1:\d+ ok: the 'Vault' Service is accepted$/m,
    );
    expect(s).toMatch(
      /^debug farcall:network request open \(uid [\w-]+, 1 args, 0 kwargs\) from vault-user\[/m,
    );
    expect(s).toMatch(/^debug farcall:network reply \(uid [\w-]+, \d+ B\) to vault-user\[/m);
    expect(s).toMatch(/^debug farcall:network error reply \(uid [\w-]+\) to vault-user\[.*\]: RangeError$/m);

    const c = clientLog.records.join('\n');
    expect(c).toMatch(
      /^debug farcall:network handshake with Manager\[.*\] ok: connected as client 'vault-user'$/m,
    );
    expect(c).toMatch(/^debug farcall:network request Vault\.open \(uid [\w-]+, \d+ B\) sent to Manager\[/m);
    expect(c).toMatch(/^debug farcall:network request Vault\.open \(uid [\w-]+\) answered in \d+\.\d\d ms$/m);
    expect(c).toMatch(
      /^debug farcall:network request Vault\.fail \(uid [\w-]+\) failed in \d+\.\d\d ms: MSLNetworkError$/m,
    );
    expect(c).toMatch(
      /^debug farcall:network handshake with the Manager at 127\.0\.0\.1:\d+ failed: .*Wrong Manager password/m,
    );

    for (const text of [m, s, c]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('SECRET');
    }
  });
});

describe("the Manager's log file at debug level", () => {
  // The Manager builds these lines after the messages of a chunk are forwarded (off the reply's path):
  // each must still be written, once, in the order the messages passed.
  it('has every forwarded request and reply of 300 pipelined calls, each request before its reply', async () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-net-log-'));
    homes.push(home);
    const logFile = join(home, 'manager.log');
    const manager = await startManager({
      port: 0,
      disableTls: true,
      home,
      logLevel: 'silent',
      logFile,
      logFileLevel: 'debug',
    });
    const reach = { host: '127.0.0.1', port: manager.port, disableTls: true, home };
    const vault = new Vault();
    await vault.start(reach);
    const client = await connect({ ...reach, name: 'piper' });
    const link = await client.link<Vault>('Vault');
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => link.open('x'.repeat(i))));
    expect(results).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await client.disconnect();
    await vault.disconnect();
    await manager.close();

    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0);
    const stamps = lines.map((line) => Date.parse(line.slice(0, line.indexOf(' '))));
    expect(stamps.every((t, i) => Number.isFinite(t) && (i === 0 || t >= stamps[i - 1]))).toBe(true);
    const requested = new Map<string, number>();
    const replied = new Map<string, number>();
    lines.forEach((line, at) => {
      const request = /DEBUG +request 'Vault'\.open \(uid '([^']+)', \d+ bytes\) from piper\[/.exec(line);
      if (request) requested.set(request[1], at);
      const reply = /DEBUG +reply from 'Vault' to piper\[.*\] \(uid '([^']+)', \d+ bytes\)$/.exec(line);
      if (reply) replied.set(reply[1], at);
    });
    expect(requested.size).toBe(300);
    expect(replied.size).toBe(300);
    for (const [uid, at] of requested) expect(replied.get(uid)).toBeGreaterThan(at);
  });
});

describe('a login (--auth-login)', () => {
  it('logs who logged in and who failed, never the login password, at every level', async () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-net-log-'));
    homes.push(home);
    const database = join(home, 'users.sqlite3');
    const users = new ManagerDatabase(database);
    await users.addUser('alice', LOGIN_PASSWORD, { isAdmin: true });
    users.close();
    const managerLog = recorder();
    const clientLog = recorder();
    const manager = await startManager({
      port: 0,
      disableTls: true,
      authLogin: true,
      database,
      home,
      logLevel: 'silent',
      failureDelay: 0,
      logger: managerLog.logger,
    });
    const reach = { host: '127.0.0.1', port: manager.port, disableTls: true, home, logger: clientLog.logger };
    const client = await connect({ ...reach, username: 'alice', password: LOGIN_PASSWORD });
    expect(await client.adminRequest('users_table.usernames')).toEqual(['alice']);
    await client.disconnect();
    const wrong = await connect({ ...reach, username: 'alice', password: `${LOGIN_PASSWORD}-wrong` }).catch(
      (e: unknown) => e,
    );
    expect(wrong).toBeInstanceOf(Error);
    await manager.close();
    const all = [...managerLog.records, ...clientLog.records].join('\n');
    expect(all).toMatch(/rejected: wrong login password for "alice"/);
    expect(all).toMatch(/request 'Manager'\.users_table\.usernames/);
    expect(all).not.toContain(LOGIN_PASSWORD);
    expect(all).not.toContain('SECRET');
  });
});

describe('NODE_DEBUG=farcall:network', () => {
  it('prints the Manager, Service and Client lines to stderr, with no password or argument', () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-net-log-'));
    homes.push(home);
    const result = spawnSync(
      process.execPath,
      [
        fileURLToPath(new URL('./fixtures/logging-network.mjs', import.meta.url)),
        new URL('../../dist/network/index.js', import.meta.url).href,
        home,
      ],
      { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'farcall:network' } },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${'arg-SECRET-net-2'.length}\n`);
    expect(result.stderr).toMatch(/^FARCALL:NETWORK \d+: connection from 127\.0\.0\.1:\d+/m);
    expect(result.stderr).toMatch(/^FARCALL:NETWORK \d+: request 'Vault'\.open /m);
    expect(result.stderr).toMatch(/^FARCALL:NETWORK \d+: request open \(uid /m);
    expect(result.stderr).toMatch(/^FARCALL:NETWORK \d+: request Vault\.open \(uid [\w-]+\) answered in/m);
    expect(result.stderr).not.toContain('SECRET');
  });
});
