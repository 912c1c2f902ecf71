// The `farcall` command as a real child process (from dist/: npm test builds it first).
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../../src/errors.js';
import { ManagerDatabase } from '../../src/network/manager/database.js';
import { connect } from '../../src/network/peers/client.js';
import {
  generateCertificate,
  generateKey,
  loadPrivateKey,
  localHostname,
} from '../../src/network/shared/certificates.js';
import { type RunningManager, runCli, startCliManager } from './cli-process.js';
import { connectClient, request } from './raw-peer.js';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

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
    // Named as msl-network names it: this computer's host name when no --host is given.
    expect(m.line).toBe(`Network Manager running on ${localHostname()}:${m.port} (TLS ENABLED)`);
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
      /Cannot specify multiple authentication methods: choose one of --auth-password, --auth-login and --auth-hostname/,
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

describe("farcall start with msl-network's flags", () => {
  it('takes the short flags -p -d -l -G -D -c -k -H, and logs the files it loaded before the ready line', async () => {
    const keyFile = join(home, 'k.key');
    const certFile = join(home, 'c.crt');
    const database = join(home, 'db', 'm.sqlite3');
    const logFile = join(home, 'm.log');
    generateKey({ path: keyFile, password: 'dummy pw!' });
    generateCertificate({ keyFile, keyFilePassword: 'dummy pw!', path: certFile });
    const m = await start([
      '-p',
      '0',
      '-d',
      database,
      '-l',
      logFile,
      '-G',
      '20',
      '-D',
      'dummy',
      'pw!',
      '-c',
      certFile,
      '-k',
      keyFile,
      '-H',
      '127.0.0.1',
    ]);
    expect(m.line).toBe(`Network Manager running on 127.0.0.1:${m.port} (TLS ENABLED)`);
    expect(existsSync(database)).toBe(true);
    await m.stop('SIGTERM');
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`loaded certificate ${escapeRegExp(certFile)}$`));
    expect(lines.some((line) => line.endsWith(`loaded the private key ${keyFile}`))).toBe(true);
    expect(lines.some((line) => line.endsWith(`loaded the database ${database}`))).toBe(true);
    expect(lines.some((line) => line.endsWith('not using authentication'))).toBe(true);
    const ready = lines.findIndex((line) => line.endsWith(m.line));
    expect(ready).toBeGreaterThan(0);
  });

  it('--host H without a certificate or key makes and uses certs/H.crt and keys/H.key', async () => {
    const m = await start(['--port', '0', '--host', 'localhost']);
    expect(m.line).toBe(`Network Manager running on localhost:${m.port} (TLS ENABLED)`);
    expect(existsSync(join(home, 'certs', 'localhost.crt'))).toBe(true);
    expect(existsSync(join(home, 'keys', 'localhost.key'))).toBe(true);
    const served = readFileSync(join(home, 'certs', 'localhost.crt'), 'utf8');
    const client = await connect({
      host: 'localhost',
      port: m.port,
      certFile: join(home, 'certs', 'localhost.crt'),
      home,
    });
    expect(client.tlsEnabled).toBe(true);
    await client.disconnect();
    expect(served).toContain('BEGIN CERTIFICATE');
  });

  it('joins a multi-word password, and reads --key-file-password and --auth-password from a file', async () => {
    const keyFile = join(home, 'k.key');
    generateKey({ path: keyFile, password: 'h e l l o' });
    const passwordFile = join(home, 'pw.txt');
    writeFileSync(passwordFile, 'h e l l o\nsecond line\n');
    // --key-file alone: the default certificate is made from this key, so the two match.
    const m = await start(['--port', '0', '-k', keyFile, '-D', passwordFile, '-P', 'a', 'b', 'c']);
    const client = await connect({
      host: '127.0.0.1',
      port: m.port,
      passwordManager: 'a b c',
      autoSave: true,
      assertHostname: false,
      home: mkdtempSync(join(tmpdir(), 'farcall-cli-client-')),
    });
    await client.disconnect();
    const cert = new X509Certificate(readFileSync(join(home, 'certs', `${localHostname()}.crt`)));
    expect(cert.checkPrivateKey(loadPrivateKey(keyFile, 'h e l l o'))).toBe(true);
  });

  it('--cert-file alone takes the key from inside the certificate file', async () => {
    const keyFile = join(home, 'k.key');
    const certFile = join(home, 'c.crt');
    generateKey({ path: keyFile });
    generateCertificate({ keyFile, path: certFile });
    const both = join(home, 'both.pem');
    writeFileSync(both, readFileSync(certFile, 'utf8') + readFileSync(keyFile, 'utf8'));
    const m = await start(['--port', '0', '--cert-file', both]);
    expect(m.tls).toBe(true);
    expectOneLineError(
      await runCli(['start', '--port', '0', '--cert-file', certFile], env),
      /holds no private key/,
    );
  });

  it("accepts --log-level INFO and 20, and refuses an unknown level with msl-network's sentence", async () => {
    for (const level of ['INFO', '20', 'warning']) {
      const m = await start(['--port', '0', '--disable-tls', '--log-level', level]);
      expect(await m.stop('SIGTERM')).toBe(0);
    }
    expectOneLineError(
      await runCli(['start', '--log-level', 'INVALID'], env),
      /Cannot set logging level to 'INVALID'/,
    );
  });

  it('refuses --auth-login with an empty users table, saying how to add a user', async () => {
    const result = await runCli(['start', '--port', '0', '--auth-login'], env);
    expectOneLineError(
      result,
      /The users table is empty, no one could log in: add an administrator first with 'farcall user add/,
    );
  });

  it('writes a debug-level log file in FARCALL_HOME/logs by default', async () => {
    const m = await start(['--port', '0', '--disable-tls', '--log-level', 'error']);
    await m.stop('SIGTERM');
    const files = readdirSync(join(home, 'logs'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^manager-.*\.log$/);
    const text = readFileSync(join(home, 'logs', files[0]), 'utf8');
    // The terminal showed only errors; the file has everything.
    expect(text).toContain('INFO    Network Manager running on');
  });

  it('--read-limit drops a longer message and keeps the peer', async () => {
    const m = await start(['--port', '0', '--disable-tls', '--read-limit', '1000']);
    const peer = await connectClient(m.port, 'A');
    peer.sendJson(request('Manager', 'identity', [], {}, 'first'));
    expect((await peer.nextJson()).uid).toBe('first');
    peer.send(
      `{"service": "Manager", "attribute": "identity", "args": ["${'x'.repeat(2000)}"], "kwargs": {}, "uid": "big"}`,
    );
    expect((await peer.nextJson()).message).toMatch(/read limit of 1000 bytes/);
    peer.sendJson(request('Manager', 'identity', [], {}, 'small'));
    expect((await peer.nextJson()).uid).toBe('small');
    peer.close();
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
