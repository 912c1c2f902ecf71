import { describe, expect, it } from 'vitest';
import { ManagerDatabase } from '../../src/network/manager/database.js';
import { managerFixture } from './manager-fixture.js';
import { connectClient, RawPeer, request } from './raw-peer.js';

// Sends an admin request; answers the Manager's username/password questions if it asks.
async function admin(peer: RawPeer, attribute: string, args: unknown[] = [], credentials?: [string, string]) {
  peer.sendJson(request('Manager', attribute, args, {}, 'adm'));
  for (;;) {
    const message = await peer.nextJson();
    if (message.attribute === 'username' && credentials) peer.sendJson({ result: credentials[0] });
    else if (message.attribute === 'password' && credentials) peer.sendJson({ result: credentials[1] });
    else return message;
  }
}

async function setup() {
  const f = await managerFixture({ failureDelay: 10 });
  const db = new ManagerDatabase(f.manager.databasePath);
  await db.addUser('admin', 's3cret', { isAdmin: true });
  await db.addUser('bob', 'bob pw');
  db.close();
  return f;
}

describe('admin requests', () => {
  it('ask a non-admin peer to log in on the same socket, then answer with uid ""', async () => {
    await using f = await setup();
    const peer = await connectClient(f.manager.port, 'Admin');
    const reply = await admin(peer, 'users_table.usernames', [], ['admin', 's3cret']);
    expect(reply).toMatchObject({ error: false, result: ['admin', 'bob'], uid: '' });
    // Now an administrator: no second login.
    expect(await admin(peer, 'port')).toMatchObject({ result: f.manager.port });
  });

  it('refuse a registered user who is not an administrator, with the Python text', async () => {
    await using f = await setup();
    const peer = await connectClient(f.manager.port, 'Bob');
    expect(await admin(peer, 'users_table.usernames', [], ['bob', 'bob pw'])).toMatchObject({
      error: true,
      message: 'ValueError: You must be an administrator to send this request to the Manager',
      uid: '',
    });
    expect(await admin(peer, 'port', [], ['bob', 'wrong'])).toMatchObject({
      message: 'ValueError: Wrong login password',
    });
  });

  it('reach only the allow-list, never private state by dotted path', async () => {
    await using f = await setup();
    const peer = await connectClient(f.manager.port, 'Admin');
    await admin(peer, 'port', [], ['admin', 's3cret']);
    for (const [attribute, message] of [
      ['nope.nothing', "AttributeError: 'Manager' object has no attribute 'nope'"],
      ['_database', "AttributeError: 'Manager' object has no attribute '_database'"],
      ['constructor', "AttributeError: 'Manager' object has no attribute 'constructor'"],
      ['__proto__', "AttributeError: 'Manager' object has no attribute '__proto__'"],
      ['users_table.constructor', "AttributeError: 'UsersTable' object has no attribute 'constructor'"],
      ['users_table.records', "AttributeError: 'UsersTable' object has no attribute 'records'"],
      ['hasOwnProperty', "AttributeError: 'Manager' object has no attribute 'hasOwnProperty'"],
    ]) {
      expect(await admin(peer, attribute), attribute).toMatchObject({ error: true, message });
    }
  });

  it('manage users and hostnames, and read the connections log', async () => {
    await using f = await setup();
    const peer = await connectClient(f.manager.port, 'Admin');
    await admin(peer, 'port', [], ['admin', 's3cret']);
    expect((await admin(peer, 'users_table.insert', ['carol', 'pw', true])).error).toBe(false);
    expect((await admin(peer, 'users_table.users')).result).toEqual([
      ['admin', true],
      ['bob', false],
      ['carol', true],
    ]);
    expect((await admin(peer, 'users_table.insert', ['carol', 'pw'])).message).toMatch(
      /^ValueError: A user named 'carol' already exists/,
    );
    expect((await admin(peer, 'users_table.delete', ['carol'])).error).toBe(false);
    expect((await admin(peer, 'users_table.is_user_registered', ['carol'])).result).toBe(false);
    expect((await admin(peer, 'hostnames_table.insert', ['lab-pc'])).error).toBe(false);
    expect((await admin(peer, 'hostnames_table.hostnames')).result).toContain('lab-pc');
    expect((await admin(peer, 'users_table.insert', [])).message).toMatch(
      /^TypeError: missing required argument: 'username'/,
    );
    // msl-network's row: (pid, datetime, ip_address, domain, port, message).
    const log = (await admin(peer, 'connections_table.connections')).result as unknown[][];
    const mine = log.filter((row) => row[4] === peer.socket.localPort);
    expect(mine.map((row) => [row[2], row[3], row[5]])).toEqual([
      ['127.0.0.1', 'localhost', 'new connection request'],
      ['127.0.0.1', 'localhost', 'connected as a client'],
    ]);
    expect(mine[0][1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const identity = (await admin(peer, 'identities')).result as Record<string, unknown>;
    expect(Object.keys(identity.clients as object)).toHaveLength(1);
  });

  it("answer msl-network's read-only attributes login, hostnames and is_password_valid; never password", async () => {
    await using f = await setup();
    const peer = await connectClient(f.manager.port, 'Admin');
    await admin(peer, 'port', [], ['admin', 's3cret']);
    expect((await admin(peer, 'login')).result).toBeNull(); // not started with --auth-login
    expect((await admin(peer, 'hostnames')).result).toBeNull(); // not started with --auth-hostname
    expect((await admin(peer, 'users_table.is_password_valid', ['admin', 's3cret'])).result).toBe(true);
    expect((await admin(peer, 'users_table.is_password_valid', ['admin', 'nope'])).result).toBe(false);
    expect(await admin(peer, 'password')).toMatchObject({
      error: true,
      message: "AttributeError: 'Manager' object has no attribute 'password'",
    });
    await f.manager.close();
    await using g = await managerFixture({ authLogin: true, failureDelay: 10, home: f.home });
    const other = await RawPeer.connect({ port: g.manager.port });
    // The login of the handshake (an admin): then `login` answers true at once.
    for (const [question, answer] of [
      ['username', 'admin'],
      ['password', 's3cret'],
      ['identity', { type: 'client', name: 'Admin' }],
    ] as const) {
      expect((await other.nextJson()).attribute).toBe(question);
      other.sendJson({ error: false, requester: null, result: answer, uid: '' });
    }
    expect((await admin(other, 'login')).result).toBe(true);
  });

  it('keep the order of a client replies while an admin login is in progress', async () => {
    await using f = await setup();
    const peer = await connectClient(f.manager.port, 'Admin');
    peer.sendJson(request('Manager', 'port', [], {}, 'adm'));
    expect((await peer.nextJson()).attribute).toBe('username');
    // A request sent before the login is finished waits behind the admin request.
    peer.sendJson(request('Manager', 'identity', [], {}, 'after'));
    peer.sendJson({ result: 'admin' });
    expect((await peer.nextJson()).attribute).toBe('password');
    peer.sendJson({ result: 's3cret' });
    expect(await peer.nextJson()).toMatchObject({ result: f.manager.port, uid: '' });
    expect(await peer.nextJson()).toMatchObject({ uid: 'after', error: false });
  });

  it('shutdown_manager stops the Manager and closes every connection', async () => {
    await using f = await setup();
    const other = await connectClient(f.manager.port, 'Other');
    const peer = await connectClient(f.manager.port, 'Admin');
    await admin(peer, 'port', [], ['admin', 's3cret']);
    peer.sendJson(request('Manager', 'shutdown_manager', [], {}, 'bye'));
    await f.manager.closed;
    await peer.waitClosed();
    await other.waitClosed();
  });
});
