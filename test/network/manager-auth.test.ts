import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManagerDatabase } from '../../src/network/manager/database.js';
import { localHostname } from '../../src/network/shared/certificates.js';
import { managerFixture } from './manager-fixture.js';
import { connectService, RawPeer, request } from './raw-peer.js';

const identity = (name: string) => ({ result: { type: 'client', name } });

async function handshakeWithPassword(port: number, password: string, localAddress?: string) {
  const peer = await RawPeer.connect({ port, localAddress });
  const asked = await peer.nextJson();
  // A locked-out address is refused before it is asked anything.
  if (asked.error === true) {
    peer.lines.unshift(JSON.stringify(asked));
    return peer;
  }
  expect(asked).toMatchObject({ attribute: 'password', uid: '' });
  expect((asked.args as string[])[0]).toMatch(/^Manager\[.+:\d+\]$/);
  peer.sendJson({ result: password });
  return peer;
}

async function login(port: number, username: string, password: string) {
  const peer = await RawPeer.connect({ port });
  expect(await peer.nextJson()).toMatchObject({ attribute: 'username' });
  peer.sendJson({ result: username });
  const next = await peer.nextJson();
  if (next.error) return { peer, error: next.message };
  expect(next).toMatchObject({ attribute: 'password', args: [username] });
  peer.sendJson({ result: password });
  const after = await peer.nextJson();
  if (after.error) return { peer, error: after.message };
  expect(after.attribute).toBe('identity');
  peer.sendJson(identity(username));
  return { peer, error: undefined };
}

describe('Manager password', () => {
  it('admits the right password (JSON or typed as text) and refuses a wrong one', async () => {
    await using f = await managerFixture({ authPassword: 'abc 123', failureDelay: 10 });
    const good = await handshakeWithPassword(f.manager.port, 'abc 123');
    expect((await good.nextJson()).attribute).toBe('identity');
    const typed = await RawPeer.connect({ port: f.manager.port });
    await typed.next();
    typed.send('abc 123');
    expect((await typed.nextJson()).attribute).toBe('identity');
    const bad = await handshakeWithPassword(f.manager.port, 'wrong');
    expect(await bad.nextJson()).toMatchObject({
      error: true,
      message: 'ValueError: Wrong Manager password',
      uid: '',
    });
    await bad.waitClosed();
  });

  it('1000 wrong passwords (from 127.0.0.2) neither break nor slow down a client being served, and lock the guesser out', async () => {
    await using f = await managerFixture({ authPassword: 'right', failureDelay: 50 });
    const service = await (async () => {
      const peer = await handshakeWithPassword(f.manager.port, 'right');
      await peer.next();
      peer.sendJson({ result: { type: 'service', name: 'Echo', attributes: {} } });
      return peer;
    })();
    const client = await handshakeWithPassword(f.manager.port, 'right');
    await client.next();
    client.sendJson(identity('Worker'));
    client.sendJson(request('Manager', 'link', ['Echo'], {}, 'l'));
    expect((await client.nextJson()).error).toBe(false);
    service.socket.on('data', () => {});
    let stop = false;
    const latencies: number[] = [];
    const worker = (async () => {
      for (let i = 0; !stop; i++) {
        const t0 = performance.now();
        client.sendJson(request('Echo', 'echo', [i], {}, `w${i}`));
        const forwarded = await service.nextJson();
        service.sendJson({ error: false, requester: forwarded.requester, result: i, uid: forwarded.uid });
        await client.nextJson();
        latencies.push(performance.now() - t0);
      }
    })();
    const refused: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          const peer = await handshakeWithPassword(f.manager.port, 'guess', '127.0.0.2');
          refused.push(String((await peer.nextJson(10_000)).message));
          await peer.waitClosed(10_000);
        }),
      );
    }
    stop = true;
    await worker;
    expect(refused).toHaveLength(1000);
    const lockedOut = refused.filter((m) =>
      /^PermissionError: too many failed logins from 127\.0\.0\.2; try again in \d+ s$/.test(m),
    );
    // The first 5 guesses are checked; then the address is locked out and refused without a check.
    expect(refused.filter((m) => m === 'ValueError: Wrong Manager password').length).toBeGreaterThanOrEqual(
      5,
    );
    expect(lockedOut.length).toBeGreaterThan(900);
    expect(lockedOut.length + refused.filter((m) => m === 'ValueError: Wrong Manager password').length).toBe(
      1000,
    );
    // Another address is not locked out.
    const other = await handshakeWithPassword(f.manager.port, 'right');
    expect((await other.nextJson()).attribute).toBe('identity');
    latencies.sort((a, b) => a - b);
    expect(latencies.length).toBeGreaterThan(20);
    // The median round trip of the honest client stays small while the guesses are refused.
    expect(latencies[latencies.length >> 1]).toBeLessThan(250);
  }, 60_000);
});

describe('login', () => {
  async function withUsers() {
    const f = await managerFixture({ authLogin: true, failureDelay: 10 });
    const db = new ManagerDatabase(f.manager.databasePath);
    await db.addUser('admin', 's3cret', { isAdmin: true });
    await db.addUser('bob', 'bob pw');
    return { f, db };
  }

  it('admits registered users with their password and refuses the rest with the Python texts', async () => {
    const { f, db } = await withUsers();
    await using _ = f;
    try {
      expect((await login(f.manager.port, 'bob', 'bob pw')).error).toBeUndefined();
      const wrong = await login(f.manager.port, 'bob', 'nope');
      expect(wrong.error).toBe('ValueError: Wrong login password');
      await wrong.peer.waitClosed();
      const unknown = await login(f.manager.port, 'mallory', 'x');
      expect(unknown.error).toBe('ValueError: Unregistered user');
      await unknown.peer.waitClosed();
    } finally {
      db.close();
    }
  });

  it('sees users added after the Manager started, without a restart', async () => {
    const { f, db } = await withUsers();
    await using _ = f;
    try {
      expect((await login(f.manager.port, 'carol', 'pw')).error).toBe('ValueError: Unregistered user');
      await db.addUser('carol', 'pw');
      expect((await login(f.manager.port, 'carol', 'pw')).error).toBeUndefined();
      db.removeUser('carol');
      expect((await login(f.manager.port, 'carol', 'pw')).error).toBe('ValueError: Unregistered user');
    } finally {
      db.close();
    }
  });

  it('an admin login makes admin requests answer without asking again', async () => {
    const { f, db } = await withUsers();
    await using _ = f;
    db.close();
    const { peer } = await login(f.manager.port, 'admin', 's3cret');
    peer.sendJson(request('Manager', 'users_table.usernames', [], {}, 'x'));
    expect(await peer.nextJson()).toMatchObject({ error: false, result: ['admin', 'bob'], uid: '' });
  });
});

describe('password guessing', () => {
  // One login from `localAddress`: the error it ends with, or undefined when it was admitted.
  async function tryLogin(port: number, username: string, password: string, localAddress: string) {
    const peer = await RawPeer.connect({ port, localAddress });
    try {
      for (;;) {
        const asked = await peer.nextJson(15_000);
        if (asked.error === true) return String(asked.message);
        if (asked.attribute === 'username') peer.sendJson({ result: username });
        else if (asked.attribute === 'password') peer.sendJson({ result: password });
        else if (asked.attribute === 'identity') return undefined;
      }
    } finally {
      peer.close();
    }
  }

  it('locks a guessing address and a guessed account out, visibly, while other people log in', async () => {
    await using f = await managerFixture({ authLogin: true, failureDelay: 10 });
    const db = new ManagerDatabase(f.manager.databasePath);
    await db.addUser('admin', 's3cret', { isAdmin: true });
    await db.addUser('bob', 'bob pw');
    db.close();
    const port = f.manager.port;
    // 60 guesses for admin from 127.0.0.2, 10 at a time, while bob (127.0.0.1) and admin's owner
    // (127.0.0.3, an address that never failed) log in.
    const attack = (async () => {
      const answers: string[] = [];
      for (let batch = 0; batch < 6; batch++) {
        const batchAnswers = await Promise.all(
          Array.from({ length: 10 }, (_, i) => tryLogin(port, 'admin', `guess ${batch}-${i}`, '127.0.0.2')),
        );
        answers.push(...batchAnswers.map(String));
      }
      return answers;
    })();
    const honest = (async () => {
      const times: number[] = [];
      for (const [user, password, address] of [
        ['bob', 'bob pw', '127.0.0.1'],
        ['admin', 's3cret', '127.0.0.3'],
        ['bob', 'bob pw', '127.0.0.1'],
      ]) {
        const t0 = performance.now();
        expect(await tryLogin(port, user, password, address)).toBeUndefined();
        times.push(performance.now() - t0);
      }
      return times;
    })();
    const [answers, times] = await Promise.all([attack, honest]);
    // A generous bound: with the guesser checked one at a time, a login costs one scrypt, not 60.
    for (const time of times) expect(time).toBeLessThan(10_000);
    expect(answers.filter((m) => m === 'ValueError: Wrong login password').length).toBeGreaterThanOrEqual(5);
    expect(
      answers.some((m) =>
        /^PermissionError: too many failed logins from 127\.0\.0\.2; try again in \d+ s$/.test(m),
      ),
    ).toBe(true);

    // One guess each from 10 more addresses: the account is locked, but only against the addresses
    // that failed on it. A new address gets one check, and after its failure it is locked out too.
    for (let i = 1; i <= 10; i++) {
      expect(await tryLogin(port, 'admin', 'spread guess', `127.0.1.${i}`)).toBe(
        'ValueError: Wrong login password',
      );
    }
    expect(await tryLogin(port, 'admin', 'spread guess', '127.0.1.1')).toMatch(
      /^PermissionError: too many failed logins for "admin" from 127\.0\.1\.1; try again in \d+ s$/,
    );
    expect(await tryLogin(port, 'admin', 'another guess', '127.0.0.4')).toBe(
      'ValueError: Wrong login password',
    );
    expect(await tryLogin(port, 'admin', 'again', '127.0.0.4')).toMatch(
      /^PermissionError: too many failed logins for "admin" from 127\.0\.0\.4; try again in \d+ s$/,
    );
    // Its owner, from an address that never failed, still gets in.
    expect(await tryLogin(port, 'admin', 's3cret', '127.0.0.5')).toBeUndefined();
    // Every failure and lock-out is in the connections log, with who and from where, never a password.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const log = new ManagerDatabase(f.manager.databasePath);
    const events = log.connections().map((row) => row.event);
    log.close();
    expect(events).toContain(
      'rejected: wrong login password for "admin" (failure 1 for this account) from 127.0.0.2 (failure 1 from this address)',
    );
    expect(events.some((e) => /^rejected: locked out for \d+ s after too many failed logins$/.test(e))).toBe(
      true,
    );
    expect(events.filter((e) => /guess|s3cret|bob pw/.test(e))).toEqual([]);
  }, 60_000);
});

describe('trusted hostnames', () => {
  it('admits this computer by default and re-reads the list for each connection', async () => {
    await using f = await managerFixture({ authHostname: true, failureDelay: 10 });
    const first = await RawPeer.connect({ port: f.manager.port });
    expect((await first.nextJson()).attribute).toBe('identity');
    const db = new ManagerDatabase(f.manager.databasePath);
    try {
      for (const name of [localHostname(), '127.0.0.1']) db.removeHostname(name);
      const refused = await RawPeer.connect({ port: f.manager.port });
      expect(await refused.nextJson()).toMatchObject({
        error: true,
        message: `ValueError: '${localHostname()}' is not a trusted hostname`,
      });
      await refused.waitClosed();
      db.addHostname('127.0.0.1');
      const again = await RawPeer.connect({ port: f.manager.port });
      expect((await again.nextJson()).attribute).toBe('identity');
    } finally {
      db.close();
    }
  });
});

describe('secrets', () => {
  it('never writes a password to the log or the database, even at debug level', async () => {
    const f = await managerFixture({ authLogin: true, logLevel: 'debug', failureDelay: 10 });
    const logFile = join(f.home, 'logs', 'manager.log');
    await f.manager.close();
    await using g = await managerFixture({
      authLogin: true,
      logLevel: 'debug',
      logFile,
      home: f.home,
      failureDelay: 10,
    });
    const db = new ManagerDatabase(g.manager.databasePath);
    await db.addUser('admin', 'TopSecret-123', { isAdmin: true });
    db.close();
    const ok = await login(g.manager.port, 'admin', 'TopSecret-123');
    await login(g.manager.port, 'admin', 'Wrong-Guess-456');
    ok.peer.sendJson(request('Manager', 'users_table.insert', ['dave', 'Another-Secret-789'], {}, 'i'));
    expect((await ok.peer.nextJson()).error).toBe(false);
    await g.manager.close();
    expect(existsSync(logFile)).toBe(true);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('connected as a client');
    for (const dir of [g.home]) {
      for (const file of readdirSync(dir, { recursive: true }) as string[]) {
        const path = join(dir, file);
        if (!existsSync(path) || !file.includes('.')) continue;
        const bytes = readFileSync(path);
        for (const secret of ['TopSecret-123', 'Wrong-Guess-456', 'Another-Secret-789']) {
          expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
        }
      }
    }
  });
});

describe('one authentication mode', () => {
  it('refuses to start with two modes', async () => {
    await expect(managerFixture({ authLogin: true, authPassword: 'x' })).rejects.toThrow(/Choose one way/);
  });

  it('refuses a port in use with the fix in the message', async () => {
    await using f = await managerFixture();
    await expect(managerFixture({ port: f.manager.port })).rejects.toThrow(/port \d+ is in use/);
  });

  it('a service must pass the same authentication', async () => {
    await using f = await managerFixture({ authPassword: 'pw', failureDelay: 10 });
    await expect(connectService(f.manager.port, 'S')).rejects.toThrow(/expected an identity request/);
  });
});
