// `farcall start` and its log, as a user sees it: the real bin in a child process, a real client over a
// real socket. The ready line once; --log-file also (not instead); a dated log file in FARCALL_HOME/logs
// by default (msl-network's name); --log-level debug shows connections, handshakes and requests; a TLS
// handshake that fails names the peer; the Manager password appears nowhere, at any level.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
// The built farcall/network, as a user's program imports it.
const network = (await import(
  new URL('../../dist/network/index.js', import.meta.url).href
)) as typeof import('../../src/network/index.js');

const PASSWORD = 'pw-SECRET-manager-7781';

interface Started {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

let home: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'farcall-start-logs-'));
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** Runs `farcall start <args>` until its ready line; keeps everything it prints. */
function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', '0', ...args], {
    env: { ...process.env, FARCALL_HOME: home, NODE_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`farcall start did not report ready: ${stderr}`)),
      15_000,
    );
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /^Network Manager running on .+:(\d+) \(TLS (?:ENABLED|DISABLED)\)$/m.exec(stdout);
      if (m === null) return;
      clearTimeout(timer);
      resolve({
        child,
        port: Number(m[1]),
        stdout: () => stdout,
        stderr: () => stderr,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    void exited.then(() => reject(new Error(`farcall start exited: ${stderr}`)));
  });
}

/** The one log file `farcall start` wrote in FARCALL_HOME/logs. */
function defaultLogFile(): string {
  const files = readdirSync(join(home, 'logs'));
  expect(files).toHaveLength(1);
  return join(home, 'logs', files[0]);
}

describe('farcall start prints', () => {
  it('its ready line once', async () => {
    const m = await start(['--disable-tls']);
    await m.stop();
    const ready = m.stdout().match(/Network Manager running on/g) ?? [];
    expect(ready).toHaveLength(1);
    expect(m.stdout()).toMatch(/^Network Manager running on .+:\d+ \(TLS DISABLED\)$/m);
  });
});

describe('farcall start --log-file', () => {
  it('also writes the log to that file: the terminal still shows it', async () => {
    const file = join(home, 'my.log');
    const m = await start(['--disable-tls', '--log-file', file]);
    await m.stop();
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/INFO +loaded the database/);
    expect(m.stdout()).toMatch(/INFO +loaded the database/);
    expect(readdirSync(home)).not.toContain('logs');
  });

  it('without it, keeps a log in FARCALL_HOME/logs named like msl-network (manager-YYYY-MM-DD-HH-MM-SS.log)', async () => {
    const m = await start(['--disable-tls', '--log-level', 'error']);
    await m.stop();
    const file = defaultLogFile();
    expect(file).toMatch(/[/\\]manager-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.log$/);
    // The terminal shows --log-level; the file has everything, debug included.
    expect(m.stdout()).not.toMatch(/INFO +loaded the database/);
    expect(readFileSync(file, 'utf8')).toMatch(/INFO +loaded the database/);
  });

  it('is named in the help, with the default folder', async () => {
    const help = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'start', '--help'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      child.on('close', () => resolve(text));
    });
    expect(help.replace(/\s+/g, ' ')).toMatch(/also write the log to this file/);
    expect(help.replace(/\s+/g, ' ')).toMatch(/FARCALL_HOME\/logs\/manager-YYYY-MM-DD-HH-MM-SS\.log/);
    expect(help.replace(/\s+/g, ' ')).toMatch(/--auth-password-file/);
    expect(help.replace(/\s+/g, ' ')).toMatch(/- to type it/);
  });
});

describe('farcall start with a log file that cannot be written', () => {
  it('(a full disk: /dev/full) says so once and keeps serving, at debug level, without the file', async () => {
    const m = await start(['--disable-tls', '--log-file', '/dev/full', '--log-level', 'info']);
    for (let i = 0; i < 3; i++) {
      const client = await network.connect({
        host: '127.0.0.1',
        port: m.port,
        disableTls: true,
        name: `c${i}`,
      });
      expect(await client.identities()).toBeTypeOf('object');
      await client.disconnect();
    }
    await m.stop();
    const said =
      m.stdout().match(/the log file \/dev\/full cannot be written \(.*ENOSPC.*\); logging to it stopped/g) ??
      [];
    expect(said).toHaveLength(1);
    expect(m.child.exitCode === 0 || m.child.signalCode === 'SIGTERM').toBe(true);
  });
});

describe('farcall start --auth-password', () => {
  it('- asks on a terminal; without one it fails with one line naming --auth-password-file', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [CLI, 'start', '--port', '0', '--disable-tls', '--auth-password', '-'],
        {
          env: { ...process.env, FARCALL_HOME: home },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      child.stdin.end();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      /^farcall: error: --auth-password -: there is no terminal to type the password on; use --auth-password-file\n$/,
    );
  });
});

describe('farcall start --log-level debug', () => {
  it('shows connections, handshakes and requests, and never the password (terminal and file)', async () => {
    const passwordFile = join(home, 'password.txt');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const m = await start(['--disable-tls', '--auth-password-file', passwordFile, '--log-level', 'debug']);
    const clientLines: string[] = [];
    const keep = (line: string): void => void clientLines.push(line);
    const client = await network.connect({
      host: '127.0.0.1',
      port: m.port,
      disableTls: true,
      passwordManager: PASSWORD,
      name: 'logged-client',
      logger: { debug: keep, info: keep, warn: keep, error: keep },
    });
    await client.identities();
    await client.disconnect();
    // A wrong password too: its refusal is logged, the password that was tried is not.
    const wrong = await network
      .connect({ host: '127.0.0.1', port: m.port, disableTls: true, passwordManager: `${PASSWORD}-wrong` })
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Error);
    await m.stop();

    const terminal = m.stdout();
    expect(terminal).toMatch(/DEBUG +/);
    expect(terminal).toMatch(/DEBUG +.*connection from 127\.0\.0\.1:\d+/);
    expect(terminal).toMatch(/DEBUG +.*handshake with 127\.0\.0\.1:\d+ .*ok/);
    expect(terminal).toMatch(/DEBUG +.*request .*identity.* from logged-client/i);
    const file = readFileSync(defaultLogFile(), 'utf8');
    expect(file).toMatch(/DEBUG +/);
    expect(clientLines.join('\n')).toMatch(/farcall:network .*connected to 127\.0\.0\.1:\d+/);

    for (const text of [terminal, m.stderr(), file, clientLines.join('\n')]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('SECRET');
    }
  });
});

describe('farcall start with TLS', () => {
  it('a peer whose TLS handshake fails is named by its address, never undefined:undefined', async () => {
    const m = await start(['--log-level', 'info']);
    // Plain bytes where a TLS ClientHello belongs, then gone at once.
    await new Promise<void>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port: m.port }, () => {
        socket.end('GET / HTTP/1.0\r\n\r\n');
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve());
    });
    await new Promise<void>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port: m.port }, () => {
        socket.write('\x16\x03\x01\x02\x00garbage');
        socket.resetAndDestroy();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve());
    });
    // The lines are written when the Manager notices: wait for both (bounded).
    for (let i = 0; i < 100 && (m.stdout().match(/TLS handshake with/g) ?? []).length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await m.stop();
    const terminal = m.stdout();
    // The first peer is named; the second may be gone before its address could be read: then it says so.
    expect(terminal).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed/);
    const lines = terminal.split('\n').filter((line) => line.includes('TLS handshake with'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      expect(line).toMatch(
        /TLS handshake with (?:127\.0\.0\.1:\d+|an unknown address \(it closed before its address could be read\)) failed: /,
      );
    }
    expect(terminal).not.toContain('undefined');
  });
});
