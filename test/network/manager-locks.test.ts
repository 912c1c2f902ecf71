import { describe, expect, it } from 'vitest';
import { managerFixture } from './manager-fixture.js';
import { connectClient, connectService, type RawPeer, request, settle } from './raw-peer.js';

async function ask(client: RawPeer, attribute: string, args: unknown[], kwargs = {}, uid = attribute) {
  client.sendJson(request('Manager', attribute, args, kwargs, uid));
  for (;;) {
    const reply = await client.nextJson();
    if (reply.uid === uid) return reply;
  }
}

async function nameOf(client: RawPeer): Promise<string> {
  const clients = (await settle(client)).clients as Record<string, { name: string }>;
  return (
    Object.keys(clients).find((key) =>
      key.startsWith(`${(client as unknown as { label: string }).label}[`),
    ) ?? ''
  );
}

async function labelled(port: number, label: string): Promise<RawPeer> {
  const peer = await connectClient(port, label);
  Object.assign(peer, { label });
  return peer;
}

describe('max_clients', () => {
  it('refuses a link beyond max_clients, naming the linked clients, and allows it after an unlink', async () => {
    await using f = await managerFixture();
    await connectService(f.manager.port, 'Echo', {}, 1);
    const a = await labelled(f.manager.port, 'A');
    const b = await labelled(f.manager.port, 'B');
    const aName = await nameOf(a);
    expect((await ask(a, 'link', ['Echo'])).error).toBe(false);
    expect((await ask(a, 'link', ['Echo'], {}, 'again')).error).toBe(false);
    const refused = await ask(b, 'link', ['Echo']);
    expect(refused).toMatchObject({ error: true, uid: 'link' });
    // msl-network's sentence first (Python clients match on it), then the hint, then its list of clients.
    expect(refused.message).toBe(
      `PermissionError: The maximum number of Clients are already linked with 'Echo' (it accepts 1; try again ` +
        `when one unlinks)\nThe linked Clients are:\n  ${aName}`,
    );
    expect((await ask(a, 'unlink', ['Echo'])).result).toBe(true);
    expect((await ask(b, 'link', ['Echo'], {}, 'retry')).error).toBe(false);
  });

  it('refuses a request from a client that is not linked, with its uid', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const a = await labelled(f.manager.port, 'A');
    a.sendJson(request('Echo', 'echo', [1], {}, 'u9'));
    const refused = await a.nextJson();
    expect(refused).toMatchObject({ error: true, uid: 'u9' });
    expect(refused.message).toMatch(/^PermissionError: .* is not linked with the 'Echo' service/);
    expect(await service.silentFor(100)).toBe(true);
  });

  it('says which service is unknown when linking', async () => {
    await using f = await managerFixture();
    const a = await labelled(f.manager.port, 'A');
    const aName = await nameOf(a);
    expect((await ask(a, 'link', ['Nope'])).message).toBe(
      `KeyError: "the 'Nope' service does not exist, cannot link with ${aName}"`,
    );
  });
});

describe('locks', () => {
  it('grants an exclusive lock only to the only linked client; then nobody else may link or call', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const a = await labelled(f.manager.port, 'A');
    const b = await labelled(f.manager.port, 'B');
    const aName = await nameOf(a);
    await ask(a, 'link', ['Echo']);
    await ask(b, 'link', ['Echo']);
    const bName = await nameOf(b);
    const refused = await ask(a, 'acquire_lock', ['Echo'], { shared: false });
    expect(refused.error).toBe(true);
    expect(refused.message).toBe(
      `PermissionError: ${aName} cannot acquire an exclusive lock, there are 2 links with the 'Echo' service ` +
        `(ask for a shared lock, or wait until the others unlink)\nThe linked Clients are:\n  ` +
        [aName, bName].sort().join('\n  '),
    );
    await ask(b, 'unlink', ['Echo']);
    expect((await ask(a, 'acquire_lock', ['Echo'], { shared: false }, 'lock2')).result).toEqual([aName]);
    expect((await ask(b, 'link', ['Echo'], {}, 'relink')).message).toBe(
      "PermissionError: 'Echo' service is locked",
    );
    b.sendJson(request('Echo', 'echo', [], {}, 'sneak'));
    expect(await b.nextJson()).toMatchObject({
      error: true,
      uid: 'sneak',
      message: "PermissionError: 'Echo' service is locked",
    });
    expect(await service.silentFor(50)).toBe(true);
    // the holder still works
    a.sendJson(request('Echo', 'echo', [1], {}, 'mine'));
    expect((await service.nextJson()).uid).toBe('mine');
    expect((await ask(a, 'release_lock', ['Echo'])).result).toEqual([]);
    expect((await ask(b, 'link', ['Echo'], {}, 'after')).error).toBe(false);
  });

  it('lets linked clients keep working under a shared lock, but stops new links until all locks are released', async () => {
    await using f = await managerFixture();
    const service = await connectService(f.manager.port, 'Echo');
    const a = await labelled(f.manager.port, 'A');
    const b = await labelled(f.manager.port, 'B');
    const c = await labelled(f.manager.port, 'C');
    const aName = await nameOf(a);
    const bName = await nameOf(b);
    await ask(a, 'link', ['Echo']);
    await ask(b, 'link', ['Echo']);
    expect((await ask(a, 'acquire_lock', ['Echo'], { shared: true })).result).toEqual([aName, bName]);
    expect((await ask(b, 'acquire_lock', ['Echo'], { shared: true })).error).toBe(false);
    b.sendJson(request('Echo', 'echo', [], {}, 'b-works'));
    expect((await service.nextJson()).uid).toBe('b-works');
    expect((await ask(c, 'link', ['Echo'])).message).toBe("PermissionError: 'Echo' service is locked");
    expect((await ask(a, 'release_lock', ['Echo'])).result).toEqual([bName]);
    expect((await ask(c, 'link', ['Echo'], {}, 'still')).error).toBe(true);
    expect((await ask(b, 'release_lock', ['Echo'])).result).toEqual([]);
    expect((await ask(c, 'link', ['Echo'], {}, 'now')).error).toBe(false);
  });

  it('refuses a lock to a client that is not linked', async () => {
    await using f = await managerFixture();
    await connectService(f.manager.port, 'Echo');
    const a = await labelled(f.manager.port, 'A');
    const aName = await nameOf(a);
    const refused = await ask(a, 'acquire_lock', ['Echo'], { shared: true });
    expect(refused.message).toBe(
      `PermissionError: ${aName} cannot acquire a lock because it is not linked with the 'Echo' service; ` +
        "link with it first (a 'link' request to the Manager)",
    );
  });

  it('names an unknown service in lock and release as msl-network does', async () => {
    await using f = await managerFixture();
    const a = await labelled(f.manager.port, 'A');
    const aName = await nameOf(a);
    expect((await ask(a, 'acquire_lock', ['Invalid'], { shared: false })).message).toBe(
      `KeyError: "'Invalid' service does not exist, ${aName} cannot acquire a lock"`,
    );
    expect((await ask(a, 'release_lock', ['Invalid'], {}, 'release')).message).toBe(
      `KeyError: "'Invalid' service does not exist, ${aName} cannot release the lock"`,
    );
  });

  it('releases the locks of a client that unlinks or disconnects', async () => {
    await using f = await managerFixture();
    await connectService(f.manager.port, 'Echo');
    const a = await labelled(f.manager.port, 'A');
    const b = await labelled(f.manager.port, 'B');
    await ask(a, 'link', ['Echo']);
    await ask(a, 'acquire_lock', ['Echo'], { shared: false });
    await ask(a, 'unlink', ['Echo']);
    expect((await ask(b, 'link', ['Echo'])).error).toBe(false);
    await ask(b, 'acquire_lock', ['Echo'], { shared: false });
    b.close();
    await b.closedPromise;
    let reply: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      reply = await ask(a, 'link', ['Echo'], {}, `try${i}`);
      if (reply.error === false) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(reply.error).toBe(false);
  });
});

describe('forged link and lock requests', () => {
  it('answers a link, unlink or lock request without a service name with a TypeError and its uid', async () => {
    await using f = await managerFixture();
    await connectService(f.manager.port, 'Echo');
    const a = await labelled(f.manager.port, 'A');
    for (const attribute of ['link', 'unlink', 'acquire_lock', 'release_lock']) {
      for (const [i, args] of [[], [42], [null], [['Echo']], [{ service: 'Echo' }]].entries()) {
        const reply = await ask(a, attribute, args, {}, `${attribute}${i}`);
        expect(reply).toMatchObject({ error: true, uid: `${attribute}${i}` });
        expect(reply.message).toBe(
          `TypeError: ${attribute}() needs the name of a service (a string) as its first argument`,
        );
      }
    }
    // None of them linked or locked anything; the name as a keyword argument works, as in msl-network.
    expect(Object.keys((await settle(a)).services as object)).toEqual(['Echo']);
    a.sendJson(request('Echo', 'echo', [], {}, 'before'));
    expect((await a.nextJson()).message).toMatch(/is not linked with the 'Echo' service/);
    expect((await ask(a, 'link', [], { service: 'Echo' }, 'kw')).error).toBe(false);
    expect((await ask(a, 'acquire_lock', [], { service: 'Echo', shared: true }, 'kwlock')).result).toEqual([
      await nameOf(a),
    ]);
    expect((await ask(a, 'release_lock', [], { service: 'Echo' }, 'kwrelease')).result).toEqual([]);
  });

  it('unlinking a service that is not linked, or not connected, answers true and changes nothing', async () => {
    await using f = await managerFixture();
    await connectService(f.manager.port, 'Echo', {}, 1);
    const a = await labelled(f.manager.port, 'A');
    const b = await labelled(f.manager.port, 'B');
    expect((await ask(a, 'link', ['Echo'])).error).toBe(false);
    expect((await ask(b, 'unlink', ['Echo'])).result).toBe(true);
    expect((await ask(b, 'unlink', ['Nobody'], {}, 'nobody')).result).toBe(true);
    // A's link stands: B's unlink freed no place under max_clients 1.
    expect((await ask(b, 'link', ['Echo'], {}, 'blink')).message).toMatch(
      /^PermissionError: The maximum number/,
    );
  });
});
