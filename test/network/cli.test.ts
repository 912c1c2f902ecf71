// The `farcall` command as a real child process (from dist/: npm test builds it first).
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/errors.js';
import { connect } from '../../src/network/client.js';
import { ManagerDatabase } from '../../src/network/database.js';
import { type RunningManager, runCli, startCliManager } from './cli-process.js';

let home: string;
let env: Record<string, string>;
const running: RunningManager[] = [];
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'farcall-cli-'));
  env = { FARCALL_HOME: home };
});
afterEach(async () => {
  for (const m of running.splice(0)) await m.stop('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

async function start(args: string[]): Promise<RunningManager> {
  const m = await startCliManager(args, env);
  running.push(m);
  return m;
}

/** An error exit: non-zero, one line on stderr, no stack trace. */
function expectOneLineError(result: { code: number | null; stderr: string }, text: RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(text);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('farcall start', () => {
  it('works on a fresh machine: creates the database and a self-signed certificate, prints the line, stops on SIGTERM', async () => {
    const m = await start(['--port', '0']);
    expect(m.line).toMatch(/^Network Manager running on 127\.0\.0\.1:\d+ \(TLS ENABLED\)$/);
    expect(existsSync(join(home, 'manager.sqlite3'))).toBe(true);
    expect(readdirSync(join(home, 'certs')).some((f) => f.endsWith('.crt'))).toBe(true);
    expect(readdirSync(join(home, 'keys')).some((f) => f.endsWith('.key'))).toBe(true);
    const client = await connect({ host: '127.0.0.1', port: m.port, autoSave: true, home });
    expect(client.tlsEnabled).toBe(true);
    await client.disconnect();
    expect(await m.stop('SIGTERM')).toBe(0);
  });

  it('stops cleanly on SIGINT and says TLS DISABLED with --disable-tls', async () => {
    const m = await start(['--port', '0', '--disable-tls']);
    expect(m.line).toMatch(/\(TLS DISABLED\)$/);
    expect(await m.stop('SIGINT')).toBe(0);
  });

  it('exits non-zero with one line when the port is taken', async () => {
    const server: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const result = await runCli(['start', '--port', String(port), '--disable-tls'], env);
      expectOneLineError(result, /^farcall: error: .*/);
    } finally {
      server.close();
    }
  });

  it('rejects a bad port and two authentication modes at once', async () => {
    expectOneLineError(await runCli(['start', '--port', '99999'], env), /port number/);
    expectOneLineError(
      await runCli(['start', '--port', '0', '--auth-login', '--auth-hostname'], env),
      /Choose one of --auth-password, --auth-login and --auth-hostname/,
    );
  });

  it('warns that --auth-password is visible in the process list, and reads --auth-password-file without a warning', async () => {
    const visible = await start(['--port', '0', '--disable-tls', '--auth-password', 'on the line']);
    const reach = { host: '127.0.0.1', disableTls: true };
    const first = await connect({ ...reach, port: visible.port, passwordManager: 'on the line' });
    await first.disconnect();
    expect(visible.stderr()).toMatch(
      /Warning: --auth-password given on the command line is visible to every user of this computer in the process list .*--auth-password-file/,
    );
    const file = join(home, 'manager-password.txt');
    writeFileSync(file, 'from a file\nsecond line\n', { mode: 0o600 });
    const hidden = await start(['--port', '0', '--disable-tls', '--auth-password-file', file]);
    const second = await connect({ ...reach, port: hidden.port, passwordManager: 'from a file' });
    await second.disconnect();
    expect(hidden.stderr()).not.toMatch(/Warning/);
    expectOneLineError(
      await runCli(['start', '--port', '0', '--auth-password-file', join(home, 'missing.txt')], env),
      /--auth-password-file: cannot read/,
    );
    expectOneLineError(
      await runCli(['start', '--port', '0', '--auth-password', '-'], env),
      /--auth-password -: there is no terminal to type the password on; use --auth-password-file/,
    );
  });
});

describe('farcall user', () => {
  it('adds a user, and that user can then log in to a Manager started with --auth-login', async () => {
    const added = await runCli(['user', 'add', 'alice', '--password', 'pa ss', '--admin'], env);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain("Added user 'alice' (administrator)");
    const listed = await runCli(['user', 'list'], env);
    expect(listed.stdout.trim()).toBe('alice (admin)');
    const m = await start(['--port', '0', '--disable-tls', '--auth-login']);
    const reach = { host: '127.0.0.1', port: m.port, disableTls: true };
    const client = await connect({ ...reach, username: 'alice', password: 'pa ss' });
    expect(await client.adminRequest('users_table.usernames')).toEqual(['alice']);
    await client.disconnect();
    await expect(connect({ ...reach, username: 'alice', password: 'wrong' })).rejects.toThrow(
      AuthenticationError,
    );
  });

  it('updates and removes users; removing an unknown user fails with one line', async () => {
    expect((await runCli(['user', 'add', 'bob', '--password', 'x'], env)).code).toBe(0);
    expect((await runCli(['user', 'update', 'bob', '--admin'], env)).code).toBe(0);
    expect((await runCli(['user', 'list'], env)).stdout.trim()).toBe('bob (admin)');
    expect((await runCli(['user', 'remove', 'bob'], env)).code).toBe(0);
    expect((await runCli(['user', 'list'], env)).stdout.trim()).toBe('No users are registered');
    expectOneLineError(await runCli(['user', 'remove', 'bob'], env), /There is no user named 'bob'/);
  });

  it('refuses to ask for a password without a terminal', async () => {
    expectOneLineError(await runCli(['user', 'add', 'carol'], env), /--password/);
    expectOneLineError(await runCli(['user', 'add', 'carol', '--password', '-'], env), /--password-file/);
  });

  it('reads a password from --password-file, and warns when it is given on the command line', async () => {
    const file = join(home, 'pw.txt');
    writeFileSync(file, 'from file\n', { mode: 0o600 });
    const quiet = await runCli(['user', 'add', 'dave', '--password-file', file], env);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    const loud = await runCli(['user', 'add', 'erin', '--password', 'visible'], env);
    expect(loud.code).toBe(0);
    expect(loud.stderr).toMatch(
      /^Warning: --password given on the command line is visible .*--password-file/,
    );
    using db = new ManagerDatabase(join(home, 'manager.sqlite3'));
    expect(await db.verifyUser('dave', 'from file')).toMatchObject({ username: 'dave' });
    expect(await db.verifyUser('erin', 'visible')).toMatchObject({ username: 'erin' });
  });
});

describe('farcall hostname', () => {
  it('adds, lists and removes trusted hostnames', async () => {
    expect((await runCli(['hostname', 'add', 'lab-pc-7', '10.0.0.8'], env)).code).toBe(0);
    const list = (await runCli(['hostname', 'list'], env)).stdout.split('\n');
    expect(list).toEqual(expect.arrayContaining(['lab-pc-7', '10.0.0.8', 'localhost']));
    expect((await runCli(['hostname', 'remove', 'lab-pc-7'], env)).code).toBe(0);
    expect((await runCli(['hostname', 'list'], env)).stdout.split('\n')).not.toContain('lab-pc-7');
    expectOneLineError(await runCli(['hostname', 'remove', 'nowhere'], env), /not a trusted hostname/);
  });
});

describe('farcall keygen, certgen, certdump', () => {
  it('creates a key and a certificate and prints the certificate', async () => {
    const key = join(home, 'my.key');
    const cert = join(home, 'my.crt');
    expect((await runCli(['keygen', key], env)).code).toBe(0);
    const made = await runCli(['certgen', cert, '--key-file', key], env);
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    const dump = await runCli(['certdump', cert], env);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain('Certificate:');
    expectOneLineError(await runCli(['certdump', join(home, 'missing.crt')], env), /does not exist/);
  });
});

describe('farcall delete', () => {
  it('asks (and refuses without a terminal) unless --yes, then removes the files', async () => {
    expect((await runCli(['keygen'], env)).code).toBe(0);
    expectOneLineError(await runCli(['delete'], env), /--yes/);
    expect(existsSync(join(home, 'keys'))).toBe(true);
    const deleted = await runCli(['delete', '--yes'], env);
    expect(deleted.code).toBe(0);
    expect(existsSync(join(home, 'keys'))).toBe(false);
  });
});

describe('usage errors', () => {
  it('exit non-zero', async () => {
    expect((await runCli(['no-such-command'], env)).code).not.toBe(0);
    expect((await runCli(['start', '--no-such-flag'], env)).code).not.toBe(0);
  });
});
