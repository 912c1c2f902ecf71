// Our Client against a scripted Manager that plays the Manager's side of the msl-network captures:
// the Client must send the lines the Python client sent (modulo uids, host names, ports, language, os).
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, MSLNetworkError } from '../../src/errors.js';
import { kwargs } from '../../src/network/peers/call-arguments.js';
import { connect } from '../../src/network/peers/client.js';
import { readCapture, ScriptedManager } from './scripted-peer.js';

let peer: ScriptedManager | undefined;
afterEach(async () => {
  await peer?.close();
  peer = undefined;
});

async function scripted(capture: string, conn: string): Promise<ScriptedManager> {
  peer = new ScriptedManager(readCapture(capture, conn));
  await peer.listen();
  return peer;
}

describe('Client replaying capture A (no auth)', () => {
  it('sends the same lines as the Python client for identity, link, calls, errors, locks, notifications and leave', async () => {
    const manager = await scripted('A', 'c3');
    const client = await connect({
      name: 'CapClient',
      host: '127.0.0.1',
      port: manager.port,
      disableTls: true,
    });

    const identity = await client.identities();
    expect(Object.keys(identity.services)).toEqual(['Echo', 'Notifier']);

    const echo = await client.link('Echo');
    expect(echo.serviceAttributes).toHaveProperty('echo', '(*args, **kwargs)');
    expect(echo.serviceMaxClients).toBe(-1);
    expect(await echo.echo(1, 'two', kwargs({ x: 3.5 }))).toEqual([[1, 'two'], { x: 3.5 }]);
    expect(await echo.echo('async')).toEqual([['async'], {}]);
    await expect(echo._secret()).rejects.toThrow('PermissionError: Cannot request a private attribute');
    await expect(echo.does_not_exist()).rejects.toThrow(
      "AttributeError: 'Echo' object has no attribute 'does_not_exist'",
    );
    const missing = await client.link('Nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MSLNetworkError);
    expect((missing as MSLNetworkError).message).toMatch(/^KeyError: "the 'Nope' service does not exist/);
    expect((missing as MSLNetworkError).traceback[0]).toBe('Traceback (most recent call last):');

    expect(await echo.acquireLock()).toEqual(['CapClient[vm:40170]']);
    expect(await echo.releaseLock()).toEqual([]);

    const notifier = await client.link('Notifier');
    const notes: unknown[] = [];
    notifier.notificationHandler = (args, kw) => notes.push([args, kw]);
    expect(await notifier.ping(7)).toBe(true);
    expect(notes).toEqual([[['hello'], { n: 7 }]]);
    await expect(notifier.fail()).rejects.toThrow('ValueError: intentional failure');
    expect(await notifier.shutdownService()).toBe('bye');
    await echo.unlink();
    await client.disconnect();
    expect(client.isConnected()).toBe(false);

    await manager.done;
    expect(manager.mismatches).toEqual([]);
  });
});

describe('Client replaying capture B (login)', () => {
  it('logs in and is answered admin requests whose replies carry uid ""', async () => {
    const manager = await scripted('B', 'c1');
    const client = await connect({
      name: 'Admin',
      host: '127.0.0.1',
      port: manager.port,
      disableTls: true,
      username: 'admin',
      password: 's3cret',
    });
    expect(await client.adminRequest('users_table.usernames')).toEqual(['admin', 'bob']);
    expect(await client.adminRequest('port')).toBe(18755);
    await expect(client.adminRequest('nope.nothing')).rejects.toThrow(
      "AttributeError: 'Manager' object has no attribute 'nope'",
    );
    // shutdown_manager: the Manager closes the connection instead of answering.
    await expect(client.adminRequest('shutdown_manager')).rejects.toThrow(/closed/);
    await manager.done;
    expect(manager.mismatches).toEqual([]);
  });

  it('answers the login again for its first admin request and reports the refusal', async () => {
    const steps = readCapture('B', 'c2');
    peer = new ScriptedManager(steps);
    await peer.listen();
    const client = await connect({
      name: 'Bob',
      host: '127.0.0.1',
      port: peer.port,
      disableTls: true,
      username: 'bob',
      password: 'bob pw',
    });
    await expect(client.adminRequest('users_table.usernames')).rejects.toThrow(
      'ValueError: You must be an administrator to send this request to the Manager',
    );
    await client.disconnect();
    await peer.done;
    expect(peer.mismatches).toEqual([]);
  });

  it('rejects connect() with AuthenticationError for a wrong password', async () => {
    const manager = await scripted('B', 'c3');
    const error = await connect({
      host: '127.0.0.1',
      port: manager.port,
      disableTls: true,
      username: 'bob',
      password: 'wrong',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toContain('ValueError: Wrong login password');
  });

  it('rejects connect() with AuthenticationError for an unregistered user', async () => {
    const manager = await scripted('B', 'c4');
    const error = await connect({
      host: '127.0.0.1',
      port: manager.port,
      disableTls: true,
      username: 'mallory',
      password: 'x',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toContain('ValueError: Unregistered user');
  });
});

describe('Client replaying capture C (manager password)', () => {
  it('answers the Manager password request with passwordManager', async () => {
    const manager = await scripted('C', 'c4');
    const client = await connect({
      host: '127.0.0.1',
      port: manager.port,
      disableTls: true,
      passwordManager: 'abc 123',
    });
    const identity = await client.identities();
    expect(identity.port).toBe(18757);
    await client.disconnect();
    await manager.done;
    expect(manager.mismatches).toEqual([]);
  });

  it('says which option is missing when the Manager asks for a password it was not given', async () => {
    const manager = await scripted('C', 'c4');
    await expect(connect({ host: '127.0.0.1', port: manager.port, disableTls: true })).rejects.toThrow(
      /started with --auth-password\): pass passwordManager/,
    );
  });
});

describe('Client replaying capture E (edge cases)', () => {
  it('sends and receives NaN and Infinity as Python writes them', async () => {
    const manager = await scripted('E', 'c2');
    const client = await connect({ name: 'Q', host: '127.0.0.1', port: manager.port, disableTls: true });
    const echo = await client.link('Echo');
    const result = (await echo.echo(Number.NaN, Number.POSITIVE_INFINITY)) as unknown[][];
    expect(result[0][0]).toBeNaN();
    expect(result[0][1]).toBe(Number.POSITIVE_INFINITY);
    expect(await echo.acquireLock()).toEqual(['Q[vm:36822]']);
    expect(await echo.echo(1)).toEqual([[1], {}]);
    // The Python Manager answers a request to a vanished Service with uid "": still matched.
    await expect(echo.echo(2)).rejects.toThrow(/KeyError: "the 'Echo' Service is not connected/);
    await manager.done;
    expect(manager.mismatches).toEqual([]);
    await client.disconnect();
  });
});
