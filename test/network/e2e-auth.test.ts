// Logins (users in a real SQLite file), the Manager password and admin requests, end to end.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, MSLNetworkError } from '../../src/errors.js';
import { ManagerDatabase } from '../../src/network/manager/database.js';
import { kwargs, splitKwargs } from '../../src/network/peers/call-arguments.js';
import { Service } from '../../src/network/peers/service.js';
import { type Stage, stage } from './e2e-setup.js';

class Echo extends Service {
  echo(...all: unknown[]) {
    return splitKwargs(all);
  }
}

let current: Stage | undefined;
let folder: string | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = undefined;
});

async function withUsers(): Promise<string> {
  folder = mkdtempSync(join(tmpdir(), 'farcall-db-'));
  const path = join(folder, 'users.sqlite3');
  const db = new ManagerDatabase(path);
  await db.addUser('admin', 's3cret', { isAdmin: true });
  await db.addUser('bob', 'bob pw');
  db.close();
  return path;
}

describe('--auth-login', () => {
  it('lets a registered user in, and answers an administrator’s admin requests', async () => {
    current = await stage({ authLogin: true, database: await withUsers(), failureDelay: 0 });
    const admin = await current.connect({ name: 'Admin', username: 'admin', password: 's3cret' });
    expect(await admin.adminRequest('users_table.usernames')).toEqual(['admin', 'bob']);
    expect(await admin.adminRequest('port')).toBe(current.manager.port);
    await admin.adminRequest('users_table.insert', 'carol', 'pw', kwargs({ is_admin: false }));
    expect(await admin.adminRequest('users_table.usernames')).toEqual(['admin', 'bob', 'carol']);
    // a user added through the Manager can log in at once
    const carol = await current.connect({ username: 'carol', password: 'pw' });
    expect(carol.isConnected()).toBe(true);
  });

  it('refuses a non-administrator’s admin request with the protocol’s text', async () => {
    current = await stage({ authLogin: true, database: await withUsers(), failureDelay: 0 });
    const bob = await current.connect({ username: 'bob', password: 'bob pw' });
    await expect(bob.adminRequest('users_table.usernames')).rejects.toThrow(
      'ValueError: You must be an administrator to send this request to the Manager',
    );
    // and bob stays connected and served
    await current.start(new Echo(), { username: 'bob', password: 'bob pw' });
    const echo = await bob.link('Echo');
    expect(await echo.echo(1)).toEqual([[1], {}]);
  });

  it('rejects a wrong password and an unknown user with AuthenticationError', async () => {
    current = await stage({ authLogin: true, database: await withUsers(), failureDelay: 0 });
    const wrong = await current.connect({ username: 'bob', password: 'nope' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    expect((wrong as Error).message).toContain('ValueError: Wrong login password');
    const unknown = await current.connect({ username: 'mallory', password: 'x' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(AuthenticationError);
    expect((unknown as Error).message).toContain('ValueError: Unregistered user');
  });

  it('tells a client without credentials which options to pass', async () => {
    current = await stage({ authLogin: true, database: await withUsers(), failureDelay: 0 });
    await expect(current.connect()).rejects.toThrow(/--auth-login\): pass username and password/);
  });

  it('asks for missing credentials through credentialPrompt, and reuses them for the admin login', async () => {
    current = await stage({ authLogin: true, database: await withUsers(), failureDelay: 0 });
    const asked: string[] = [];
    const answers: Record<string, string> = { username: 'admin', password: 's3cret' };
    const client = await current.connect({
      credentialPrompt: async (field, question) => {
        asked.push(`${field}: ${question}`);
        return answers[field];
      },
    });
    expect(asked).toEqual([
      `username: Enter a username for ${client.managerName} > `,
      'password: Enter the password for admin > ',
    ]);
    expect(await client.adminRequest('users_table.usernames')).toEqual(['admin', 'bob']);
    expect(asked).toHaveLength(2);
  });

  it('a Service logs in too', async () => {
    current = await stage({ authLogin: true, database: await withUsers(), failureDelay: 0 });
    await current.start(new Echo(), { username: 'bob', password: 'bob pw' });
    const client = await current.connect({ username: 'admin', password: 's3cret' });
    expect(Object.keys((await client.identities()).services)).toEqual(['Echo']);
  });
});

describe('an admin request on a Manager without --auth-login', () => {
  it('says that admin requests need a login, without claiming the Manager was started with --auth-login', async () => {
    current = await stage({ database: await withUsers(), failureDelay: 0 });
    const client = await current.connect();
    const error = await client.adminRequest('port').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toMatch(/^An admin request needs an administrator's login/);
    expect((error as Error).message).not.toContain('--auth-login');
    // The connection keeps working, and with credentials the request is answered.
    expect(Object.keys((await client.identities()).clients)).toHaveLength(1);
    const admin = await current.connect({ username: 'admin', password: 's3cret' });
    expect(await admin.adminRequest('port')).toBe(current.manager.port);
  });
});

describe('--auth-password', () => {
  it('admits Clients and Services that know the Manager password', async () => {
    current = await stage({ authPassword: 'abc 123', failureDelay: 0 });
    await current.start(new Echo(), { passwordManager: 'abc 123' });
    const client = await current.connect({ passwordManager: 'abc 123' });
    const echo = await client.link('Echo');
    expect(await echo.echo('in')).toEqual([['in'], {}]);
    const error = await current.connect({ passwordManager: 'wrong' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toContain('ValueError: Wrong Manager password');
  });
});

describe('Service.start()', () => {
  it('refuses to start a Service that is starting or running', async () => {
    current = await stage();
    const echo = new Echo();
    const first = current.start(echo);
    await expect(echo.start(current.reach)).rejects.toThrow('RuntimeError: The Service has already started');
    await first;
    await expect(echo.start(current.reach)).rejects.toThrow('RuntimeError: The Service has already started');
  });
});

describe('a Service with a name already taken', () => {
  it('is refused by start() with the NameError', async () => {
    current = await stage();
    await current.start(new Echo());
    const error = await current.start(new Echo()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MSLNetworkError);
    expect((error as Error).message).toContain(
      "NameError: A 'Echo' service is already running on the Manager",
    );
  });
});
